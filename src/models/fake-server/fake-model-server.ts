/**
 * A real HTTP server on 127.0.0.1 (a free port) that plays a model provider, for tests and
 * benchmarks: what it answers comes from a pluggable `Responder` (fixed text, rules of a
 * `ScriptedModel` through `answerWith`, a replay book through `replayResponder`, the Batch API
 * through `startFakeBatchServer`, or any function). Exported as `spri/test`.
 *
 * Around the responder it plays what a provider does to load: a fixed latency before each answer,
 * and a cap on requests in flight (one over it is refused on arrival, before its body is read,
 * with 429 and `Retry-After`). It keeps every request (unless told not to, for long benchmarks)
 * and counts what it served.
 *
 *   const server = await startFakeModelServer({ respond: answerWith(new ScriptedModel({ rules })) });
 *   ... new OpenAICompatibleModel({ baseURL: `${server.url}/v1`, ... }) ...
 *   server.requests[0].body  // the parsed JSON the client sent
 *   await server.close();
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type FakeReply, openaiError, type RecordedRequest, type Responder, textReply } from "./fake-replies.ts";
import { messageOf } from "../../base/util/message-of.ts";

/** The load a provider puts on its callers; `configure` changes it between benchmark runs. */
export interface FakeServerLoad {
  /** Milliseconds every answer waits; 0 answers at once (no timer at all). */
  latencyMs: number;
  /** Requests answered at once at most; 0 for no cap. */
  maxInFlight: number;
}

export interface FakeModelServerOptions extends Partial<FakeServerLoad> {
  /** Answers each request; default: "ok" as an OpenAI chat completion or an Anthropic message. */
  respond?: Responder;
  /** The address to listen on (default 127.0.0.1; a test host's address in a network namespace test). */
  host?: string;
  /** The `Retry-After` of a request refused for the in-flight cap (default 0). */
  retryAfterSeconds?: number;
  /** Answer one request at a time, in arrival order (a replay book answers repeats in recorded order). */
  serial?: boolean;
  /** Keep every request in `requests` (default true; a benchmark of many calls turns it off). */
  keepRequests?: boolean;
  /** How long an idle kept-alive connection stays open, in ms (Node's default when unset). */
  keepAliveMs?: number;
}

export interface FakeServerStats {
  /** Every request received, refused ones included. */
  requests: number;
  /** Requests answered with a 2xx: the calls a provider would bill. */
  served: number;
  /** Requests refused with 429 for going over the in-flight cap. */
  refused: number;
  /** Answered requests whose exact body had been answered before (a call paid twice). */
  duplicates: number;
  /** Most requests in flight at once, as the server saw them. */
  peakInFlight: number;
  /** Request body bytes received. */
  bytesIn: number;
  /**
   * ms (performance.now of the server's process) of the first request's arrival and of the last
   * request's end (its answer written out, or its client gone); null before any. The window between
   * holds every moment a request was in flight.
   */
  firstAt: number | null;
  lastAt: number | null;
  /**
   * Requests in flight, summed over time (request-ms) from `firstAt`: ÷ (lastAt − firstAt) is the
   * mean in flight; per fifth of that window, where a client falls short of its cap (ramp, steady
   * state or tail).
   */
  inFlightMs: number;
  /** `inFlightMs` in buckets of `inFlightBucketMs` from `firstAt`. */
  inFlightBuckets: number[];
  inFlightBucketMs: number;
}

const IN_FLIGHT_BUCKET_MS = 250;

export interface FakeModelServer {
  /** `http://<host>:<port>`, no trailing slash and no `/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order (none when `keepRequests` is false). */
  readonly requests: RecordedRequest[];
  /** A copy of the counters. */
  readonly stats: FakeServerStats;
  /** Bytes written by `stream` replies so far. */
  readonly streamedBytes: number;
  /** Emits `request` (a RecordedRequest) once each request's body is in, before it is answered. */
  readonly events: EventEmitter;
  /** Replace the responder for later requests. */
  setResponder(respond: Responder): void;
  /** Set latency and cap, and reset every counter. */
  configure(load: FakeServerLoad): void;
  /** Destroys open connections (hanging requests included) and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/** Counters, and the hashes of answered bodies (to count calls paid twice). */
class Tally {
  readonly stats: FakeServerStats = {
    requests: 0,
    served: 0,
    refused: 0,
    duplicates: 0,
    peakInFlight: 0,
    bytesIn: 0,
    firstAt: null,
    lastAt: null,
    inFlightMs: 0,
    inFlightBuckets: [],
    inFlightBucketMs: IN_FLIGHT_BUCKET_MS,
  };
  private readonly seen = new Set<string>();
  private changedAt = 0;
  private level = 0;

  /** The number in flight changes to `inFlight` now. */
  inFlightIs(inFlight: number): void {
    const now = performance.now();
    const first = this.stats.firstAt;
    if (first !== null) {
      // Split the elapsed span over the buckets it covers.
      let from = this.changedAt;
      for (let bucket = Math.floor((from - first) / IN_FLIGHT_BUCKET_MS); from < now; bucket++) {
        const end = Math.min(now, first + (bucket + 1) * IN_FLIGHT_BUCKET_MS);
        if (end <= from) continue;
        const area = this.level * (end - from);
        this.stats.inFlightMs += area;
        this.stats.inFlightBuckets[bucket] = (this.stats.inFlightBuckets[bucket] ?? 0) + area;
        from = end;
      }
    }
    this.changedAt = now;
    this.level = inFlight;
  }

  arrived(inFlight: number): void {
    this.stats.requests++;
    if (this.stats.firstAt === null) {
      this.stats.firstAt = performance.now();
      this.changedAt = this.stats.firstAt;
    }
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, inFlight);
  }

  answering(rawBody: string): void {
    const hash = createHash("sha1").update(rawBody).digest("base64");
    if (this.seen.has(hash)) this.stats.duplicates++;
    else this.seen.add(hash);
  }

  sent(status: number): void {
    if (status >= 200 && status < 300) this.stats.served++;
  }

  /** A request stopped counting: `inFlight` are left. */
  left(inFlight: number): void {
    this.inFlightIs(inFlight);
    this.stats.lastAt = this.changedAt;
  }
}

export async function startFakeModelServer(options: FakeModelServerOptions | Responder = {}): Promise<FakeModelServer> {
  const settings: FakeModelServerOptions = typeof options === "function" ? { respond: options } : options;
  const host = settings.host ?? "127.0.0.1";
  const refusal = openaiError(429, "too many requests in flight", {
    type: "rate_limit_error",
    code: "rate_limit_exceeded",
    headers: { "retry-after": String(settings.retryAfterSeconds ?? 0) },
  });
  let respond = settings.respond ?? textReply("ok");
  let load: FakeServerLoad = { latencyMs: settings.latencyMs ?? 0, maxInFlight: settings.maxInFlight ?? 0 };
  let tally = new Tally();
  let inFlight = 0;
  const requests: RecordedRequest[] = [];
  const events = new EventEmitter();
  const streamed = { bytes: 0 };
  let queue: Promise<void> = Promise.resolve();

  const reply = (res: ServerResponse, answer: FakeReply) => {
    const status = send(res, answer, streamed);
    if (status !== undefined) tally.sent(status);
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, refuse: boolean, body: Promise<Buffer>) => {
    const bytes = await body;
    tally.stats.bytesIn += bytes.length;
    const rawBody = bytes.toString("utf8");
    const recorded = recordOf(req, rawBody);
    if (settings.keepRequests !== false) requests.push(recorded);
    events.emit("request", recorded);
    if (refuse) {
      tally.stats.refused++;
      return reply(res, refusal);
    }
    if (recorded.body !== undefined) tally.answering(rawBody);
    if (load.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, load.latencyMs));
    reply(
      res,
      await Promise.resolve()
        .then(() => respond(recorded))
        .catch(thrown),
    );
  };

  const server = createServer((req, res) => {
    inFlight++;
    // A request stops counting once answered, or when its client goes away unanswered.
    let counted = true;
    const release = () => {
      if (counted) tally.left(--inFlight);
      counted = false;
    };
    res.once("finish", release);
    res.once("close", release);
    tally.arrived(inFlight);
    tally.inFlightIs(inFlight);
    // Decided on arrival, before the body: a provider refuses before doing any work.
    const refuse = load.maxInFlight > 0 && inFlight > load.maxInFlight;
    const body = readBody(req);
    body.catch(() => undefined);
    const turn = () => answer(req, res, refuse, body).catch(() => void res.destroy());
    if (settings.serial) queue = queue.then(turn);
    else void turn();
  });
  if (settings.keepAliveMs !== undefined) server.keepAliveTimeout = settings.keepAliveMs;
  await listen(server, host);
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    events,
    get stats() {
      return { ...tally.stats, inFlightBuckets: [...tally.stats.inFlightBuckets] };
    },
    get streamedBytes() {
      return streamed.bytes;
    },
    setResponder(next) {
      respond = next;
    },
    configure(next) {
      load = { ...next };
      tally = new Tally();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function thrown(error: unknown): FakeReply {
  return openaiError(500, `fake model server: the responder threw: ${messageOf(error)}`, {
    type: "server_error",
  });
}

function listen(server: ReturnType<typeof createServer>, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * Reads the body at once, whatever the turn: in serial mode a request waits for the ones before it
 * while its body is already in.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function recordOf(req: IncomingMessage, rawBody: string): RecordedRequest {
  const target = req.url ?? "/";
  const query = target.indexOf("?");
  return {
    method: req.method ?? "",
    path: query < 0 ? target : target.slice(0, query),
    query: query < 0 ? "" : target.slice(query + 1),
    headers: req.headers,
    body: parseJson(rawBody),
    rawBody,
    remoteAddress: req.socket.remoteAddress ?? "",
  };
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends one reply; the status sent, or undefined for a reset or a hang. */
function send(res: ServerResponse, reply: FakeReply, streamed: { bytes: number }): number | undefined {
  switch (reply.kind) {
    case "stream":
      stream(res, reply.chunk, reply.bytes ?? Number.POSITIVE_INFINITY, streamed);
      return 200;
    case "reset":
      res.socket?.destroy();
      return undefined;
    case "hang":
      return undefined;
    case "cut":
      res.writeHead(reply.status, { "content-type": "application/octet-stream", "content-length": reply.body.length, ...reply.headers });
      res.write(reply.body.subarray(0, reply.sendBytes), () => res.destroy());
      return reply.status;
    case "raw":
      res.writeHead(reply.status, {
        "content-type": reply.contentType,
        "content-length": Buffer.byteLength(reply.body),
        ...reply.headers,
      });
      res.end(reply.body);
      return reply.status;
    case "json": {
      const payload = JSON.stringify(reply.body);
      res.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...reply.headers });
      res.end(payload);
      return reply.status;
    }
  }
}

/** Writes `chunk` while the socket drains, until `bytes` are out or the client has gone. */
function stream(res: ServerResponse, chunk: string, bytes: number, streamed: { bytes: number }): void {
  res.writeHead(200, { "content-type": "application/json" });
  const data = Buffer.from(chunk);
  let left = bytes;
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const piece = left >= data.length ? data : data.subarray(0, left);
      left -= piece.length;
      streamed.bytes += piece.length;
      if (!res.write(piece)) return void res.once("drain", pump);
    }
    if (left <= 0) res.end();
  };
  res.on("error", () => undefined);
  pump();
}
