/**
 * The practical ceiling for (a): a bare client with exactly `concurrency` requests always in
 * flight (each worker sends its next request as soon as its last answer is read), nothing else;
 * same server, a body of the same shape and size. Two stacks are measured and the faster counts:
 * Node's `fetch`, and undici's `request` (the stack spri's default client uses, and the leaner one).
 */
import { request } from "undici";
import { createDispatcher } from "../src/models/http-post.ts";

export type BareStack = "fetch" | "undici";

export interface BareResult {
  stack: BareStack;
  requests: number;
  ok: number;
  refused: number;
  seconds: number;
  callsPerSecond: number;
  /** CPU time this process spent meanwhile (nothing else runs in it during the measure). */
  cpuSeconds: number;
}

/** A chat request like spri's (system + user message, sampling fields), padded to about `bytes`. */
export function chatBody(bytes: number): string {
  const base = {
    model: "m",
    messages: [
      { role: "system", content: "You answer questions by following a given set of principles closely." },
      { role: "user", content: "" },
    ],
    temperature: 0.7,
    top_p: 0.95,
    top_k: 50,
    max_tokens: 2048,
  };
  const padding = Math.max(0, bytes - JSON.stringify(base).length);
  base.messages[1]!.content = "x".repeat(padding);
  return JSON.stringify(base);
}

const HEADERS = { "content-type": "application/json", authorization: "Bearer not-needed" };

/** One POST on `stack`: the status, after parsing the answer as any real client (spri included) must. */
function poster(stack: BareStack): (url: string, body: string) => Promise<number> {
  if (stack === "fetch") {
    return async (url, body) => {
      const response = await fetch(url, { method: "POST", headers: HEADERS, body });
      await response.json();
      return response.status;
    };
  }
  // spri's own connection pool, as configured for a machine without proxy variables.
  const dispatcher = createDispatcher({});
  return async (url, body) => {
    const response = await request(url, { method: "POST", headers: HEADERS, body, dispatcher });
    JSON.parse(await response.body.text());
    return response.statusCode;
  };
}

export async function bareClient(stack: BareStack, url: string, total: number, concurrency: number, body: string): Promise<BareResult> {
  const post = poster(stack);
  let sent = 0;
  let ok = 0;
  let refused = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      const status = await post(url, body);
      if (status >= 200 && status < 300) ok++;
      else if (status === 429) refused++;
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { stack, requests: sent, ok, refused, seconds, callsPerSecond: sent / seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}
