/**
 * The practical ceiling for (a): plain `fetch` with exactly `concurrency` requests always in flight
 * (each worker sends its next request as soon as its last answer is read), nothing else. Same
 * server, same HTTP stack as the SDK spri uses (Node's fetch), a body of the same shape and size.
 */

export interface BareResult {
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

export async function bareClient(url: string, total: number, concurrency: number, body: string): Promise<BareResult> {
  let sent = 0;
  let ok = 0;
  let refused = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer not-needed" }, body });
      // Parse the answer, as any real client (spri included) must.
      await response.json();
      if (response.ok) ok++;
      else if (response.status === 429) refused++;
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { requests: sent, ok, refused, seconds, callsPerSecond: sent / seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}
