/**
 * The benchmark's model server, run as its own process (forked by server-handle.ts) so its work
 * never shares an event loop, or a CPU slice, with the client being measured.
 *
 * The server is the library's fake model server (spri/test): every request waits a fixed latency,
 * then gets a scripted answer (responder.ts); a request that arrives while `maxInFlight` others are
 * being answered is refused at once with 429 and `Retry-After: 0`, like a provider's concurrency
 * cap. It keeps no requests (a run sends hundreds of thousands). The parent drives it over IPC:
 * `configure` (latency, cap; resets the counters) and `stats`.
 */
import { type FakeModelServer, type FakeServerLoad, type FakeServerStats, startFakeModelServer } from "../src/test.ts";
import { benchResponder } from "./responder.ts";

/** Latency and cap; a cap of 0 is none (a number IPC can carry: JSON has no Infinity). */
export type ServerConfig = FakeServerLoad;
export type ServerStats = FakeServerStats;
export type ServerCommand = { id: number; cmd: "configure"; config: ServerConfig } | { id: number; cmd: "stats" };
export type ServerMessage = { type: "ready"; port: number } | { type: "reply"; id: number; stats: ServerStats };

function onCommand(server: FakeModelServer, message: ServerCommand): void {
  if (message.cmd === "configure") server.configure(message.config);
  const reply: ServerMessage = { type: "reply", id: message.id, stats: server.stats };
  process.send?.(reply);
}

async function main(): Promise<void> {
  if (!process.send) throw new Error("bench/server.ts runs as a child of bench/run.ts (forked with IPC)");
  // Clients keep connections open between calls; don't let the server close idle ones mid-run.
  const server = await startFakeModelServer({ respond: benchResponder, keepRequests: false, keepAliveMs: 60_000 });
  process.on("message", (message) => onCommand(server, message as ServerCommand));
  // The parent going away (even by kill -9) closes the IPC channel: exit with it.
  process.on("disconnect", () => process.exit(0));
  const ready: ServerMessage = { type: "ready", port: server.port };
  process.send(ready);
}

await main();
