/**
 * The benchmark's OpenAI-compatible server, run as its own process (forked by server-handle.ts) so
 * its work never shares an event loop, or a CPU slice, with the client being measured.
 *
 * Every request waits a fixed latency, then gets a scripted answer (responder.ts). A request that
 * arrives while `maxInFlight` others are being answered is refused at once with 429 and
 * `Retry-After: 0`, like a provider's concurrency cap. The parent drives it over IPC:
 * `configure` (latency, cap; resets the counters) and `stats`.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type ChatBody, replyFor } from "./responder.ts";

export interface ServerConfig {
  latencyMs: number;
  /** Requests answered at once at most; 0 for no cap. (A number IPC can carry: JSON has no Infinity.) */
  maxInFlight: number;
}

export interface ServerStats {
  /** Every request received, refused ones included. */
  requests: number;
  /** Requests answered 200: the calls a provider would bill. */
  served: number;
  /** Requests refused with 429 for going over the in-flight cap. */
  refused: number;
  /** Served requests whose exact body had been served before (a call paid twice). */
  duplicates: number;
  /** Most requests in flight at once, as the server saw them. */
  peakInFlight: number;
  /** Request body bytes received. */
  bytesIn: number;
  /** ms (performance.now of this process) of the first request and of the last answer sent; null before any. */
  firstAt: number | null;
  lastAt: number | null;
}

export type ServerCommand = { id: number; cmd: "configure"; config: ServerConfig } | { id: number; cmd: "stats" };
export type ServerMessage = { type: "ready"; port: number } | { type: "reply"; id: number; stats: ServerStats };

const RATE_LIMITED = JSON.stringify({
  error: { message: "too many requests in flight", type: "rate_limit_error", code: "rate_limit_exceeded", param: null },
});
const BAD_REQUEST = JSON.stringify({ error: { message: "the body is not JSON", type: "invalid_request_error", code: null, param: null } });

let config: ServerConfig = { latencyMs: 0, maxInFlight: 0 };
let inFlight = 0;
let stats = emptyStats();
/** Hashes of served bodies, to count calls paid twice. */
let seenBodies = new Set<string>();

function emptyStats(): ServerStats {
  return { requests: 0, served: 0, refused: 0, duplicates: 0, peakInFlight: 0, bytesIn: 0, firstAt: null, lastAt: null };
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  inFlight++;
  // A request stops counting once answered (send), or when its client goes away unanswered.
  let counted = true;
  const release = () => {
    if (counted) inFlight--;
    counted = false;
  };
  res.once("finish", release);
  res.once("close", release);
  stats.requests++;
  stats.firstAt ??= performance.now();
  stats.peakInFlight = Math.max(stats.peakInFlight, inFlight);
  // Decided on arrival (headers), before the body: a provider refuses before doing any work.
  const refuse = config.maxInFlight > 0 && inFlight > config.maxInFlight;
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    stats.bytesIn += raw.length;
    if (refuse) {
      stats.refused++;
      send(res, 429, RATE_LIMITED, { "retry-after": "0" });
      return;
    }
    const body = parse(raw);
    if (!body) {
      send(res, 400, BAD_REQUEST);
      return;
    }
    countDuplicate(raw);
    const answer = () => {
      stats.served++;
      send(res, 200, replyFor(body));
    };
    // 0 ms means instant: no timer at all (a 0 ms timer still waits for the timers phase).
    if (config.latencyMs > 0) setTimeout(answer, config.latencyMs);
    else answer();
  });
}

function countDuplicate(raw: Buffer): void {
  const hash = createHash("sha1").update(raw).digest("base64");
  if (seenBodies.has(hash)) stats.duplicates++;
  else seenBodies.add(hash);
}

function parse(raw: Buffer): ChatBody | undefined {
  try {
    return JSON.parse(raw.toString("utf8")) as ChatBody;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, payload: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
  stats.lastAt = performance.now();
}

function onCommand(message: ServerCommand): void {
  if (message.cmd === "configure") {
    config = message.config;
    stats = emptyStats();
    seenBodies = new Set();
  }
  const reply: ServerMessage = { type: "reply", id: message.id, stats: { ...stats } };
  process.send?.(reply);
}

function main(): void {
  if (!process.send) throw new Error("bench/server.ts runs as a child of bench/run.ts (forked with IPC)");
  const server = createServer(handle);
  // Clients keep connections open between calls; don't let the server close idle ones mid-run.
  server.keepAliveTimeout = 60_000;
  process.on("message", (message) => onCommand(message as ServerCommand));
  // The parent going away (even by kill -9) closes the IPC channel: exit with it.
  process.on("disconnect", () => process.exit(0));
  server.listen(0, "127.0.0.1", () => {
    const ready: ServerMessage = { type: "ready", port: (server.address() as AddressInfo).port };
    process.send?.(ready);
  });
}

main();
