/**
 * One JSON POST on undici's dispatcher API: the hot path of OpenAI-compatible chat completions.
 *
 * Why not `fetch` and the official SDK here: at 64 calls in flight the runner is CPU-bound, and a
 * measure on this project's bench server (100 ms latency, 64 in flight, one process) gave
 * 0.2 ms of CPU a call for `undici.request`, 0.6 ms for `fetch` (WHATWG streams, Request and
 * Response objects) and 0.9 ms for the SDK over fetch (header building, eager debug-log
 * formatting). undici is Node's own HTTP client, kept by Node's core team; the SDK remains
 * available (`httpClient: "openai-sdk"`) and serves embeddings and the Batch API.
 *
 * Contract: resolves with the status, headers and body text of any answer, error statuses
 * included (the caller classifies them); rejects only with a `TransportError` saying whether the
 * call timed out, was aborted by the caller's signal, failed on the network, or answered more
 * than `maxBodyBytes`.
 */
import { createRequire } from "node:module";
import type { Agent as AgentType, Dispatcher, EnvHttpProxyAgent as EnvHttpProxyAgentType } from "undici";
import { onAbort } from "../base/util/abort.ts";
import { formatMiB } from "../base/util/format-mib.ts";
import { messageOf } from "../base/util/message-of.ts";

/** The two parts of undici this module uses. */
interface Undici {
  Agent: typeof AgentType;
  EnvHttpProxyAgent: typeof EnvHttpProxyAgentType;
}

/**
 * undici's entry point loads all of undici (fetch, WebSocket, caches, mocks: ~180 ms of CPU at every
 * start); the client alone takes a quarter of that. undici ships no `exports` map, so its modules
 * can be loaded directly; should a release move them, the entry point serves. Loaded with the
 * first dispatcher, not with this module: a process that makes no HTTP calls (`spri run --no-work`,
 * `spri status`, the viewer) never pays for it (~70 ms of CPU, node:http2 included).
 */
function loadUndici(): Undici {
  if (undici) return undici;
  const require = createRequire(import.meta.url);
  try {
    undici = {
      Agent: require("undici/lib/dispatcher/agent.js") as typeof AgentType,
      EnvHttpProxyAgent: require("undici/lib/dispatcher/env-http-proxy-agent.js") as typeof EnvHttpProxyAgentType,
    };
  } catch {
    const entry = require("undici") as typeof import("undici");
    undici = { Agent: entry.Agent, EnvHttpProxyAgent: entry.EnvHttpProxyAgent };
  }
  return undici;
}

let undici: Undici | undefined;

export type HttpHeaders = Record<string, string | string[] | undefined>;

export interface HttpAnswer {
  status: number;
  headers: HttpHeaders;
  text: string;
}

export interface PostOptions {
  headers: Record<string, string>;
  /** Whole-call limit (connect, wait, body), in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Default: one process-wide dispatcher (see `sharedDispatcher`). */
  dispatcher?: Dispatcher;
  /** The most body bytes read; a larger answer rejects with failure "too-large". Default: no cap. */
  maxBodyBytes?: number;
}

/** `too-large`: the answer's body passed `maxBodyBytes` (it was not read further). */
export type TransportFailure = "timeout" | "aborted" | "network" | "too-large";

export class TransportError extends Error {
  readonly failure: TransportFailure;

  constructor(failure: TransportFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransportError";
    this.failure = failure;
  }
}

const KEEP_ALIVE_MS = 30_000;
/** A proxy cannot reach this machine's own servers, so these never go through one. */
const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

/**
 * A dispatcher that honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY (either case) as users behind a
 * proxy expect, and never proxies loopback (a local vLLM or Ollama stays direct even when NO_PROXY
 * forgets it). Without a proxy variable it is a plain keep-alive pool.
 */
export function createDispatcher(env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const httpProxy = env.http_proxy || env.HTTP_PROXY || undefined;
  const httpsProxy = env.https_proxy || env.HTTPS_PROXY || undefined;
  const noProxy = env.no_proxy || env.NO_PROXY || "";
  const { Agent, EnvHttpProxyAgent } = loadUndici();
  if ((!httpProxy && !httpsProxy) || noProxy.trim() === "*") return new Agent({ keepAliveTimeout: KEEP_ALIVE_MS });
  return new EnvHttpProxyAgent({
    keepAliveTimeout: KEEP_ALIVE_MS,
    httpProxy,
    // As curl does: an https URL uses HTTPS_PROXY, else HTTP_PROXY.
    httpsProxy: httpsProxy ?? httpProxy,
    noProxy: [noProxy, ...LOOPBACK].filter(Boolean).join(","),
    // As curl does: plain http URLs are forwarded (absolute-URI requests); https ones tunnel (CONNECT).
    proxyTunnel: false,
  });
}

let shared: Dispatcher | undefined;

/** One dispatcher for the process, so models on one server share its keep-alive connections. */
function sharedDispatcher(): Dispatcher {
  shared ??= createDispatcher();
  return shared;
}

const targets = new Map<string, { origin: string; path: string }>();

/** A URL's origin and path (with its query), parsed once per URL: a run posts to one or two. */
function target(url: string): { origin: string; path: string } {
  let found = targets.get(url);
  if (!found) {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new TransportError("network", `not an http(s) URL: ${url}`);
    found = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    if (targets.size < 64) targets.set(url, found);
  }
  return found;
}

/**
 * The POST as one `Dispatcher.dispatch` with a handler that gathers the body's chunks: no Readable
 * body stream, no per-call AbortController. At 64 calls in flight `undici.request` spent about a
 * tenth of its CPU on the stream's machinery (push, nextTick, endReadable) for bodies we read whole.
 */
export function postJson(url: string, body: string, options: PostOptions): Promise<HttpAnswer> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) return Promise.reject(new TransportError("aborted", "aborted before it was sent"));
  let origin: string;
  let path: string;
  let dispatcher: Dispatcher;
  try {
    ({ origin, path } = target(url));
    // Before any timer or listener is set: the first call loads undici (or reads a proxy variable).
    dispatcher = options.dispatcher ?? sharedDispatcher();
  } catch (error) {
    return Promise.reject(error instanceof TransportError ? error : new TransportError("network", messageOf(error), { cause: error }));
  }
  return new Promise<HttpAnswer>((resolve, reject) => {
    const call = new PostCall(options.maxBodyBytes, resolve, reject, timeoutMs);
    call.timer = setTimeout(() => call.stop("timeout"), timeoutMs);
    // The caller's signal is usually the run's, shared by every call in flight: onAbort keeps that cheap.
    if (signal) call.unsubscribe = onAbort(signal, () => call.stop("aborted"));
    try {
      dispatcher.dispatch(
        {
          origin,
          path,
          method: "POST",
          headers: options.headers,
          body,
          // undici's own idle limits (300 s) must not cut a call the caller allowed longer.
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        call,
      );
    } catch (error) {
      // A dispatcher that throws instead of calling onResponseError (undici's own never do).
      call.onResponseError(undefined, error instanceof Error ? error : new Error(String(error)));
    }
  });
}

/** One call's dispatch handler (undici's `onRequestStart` … `onResponseEnd` hooks) and its settling. */
class PostCall implements Dispatcher.DispatchHandler {
  timer: NodeJS.Timeout | undefined;
  unsubscribe: (() => void) | undefined;
  /** Which of our own limits ended the call early, first one wins. */
  private why: TransportFailure | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: HttpHeaders = {};
  private chunks: Buffer[] = [];
  private seen = 0;
  private settled = false;

  private readonly maxBytes: number | undefined;
  private readonly resolve: (answer: HttpAnswer) => void;
  private readonly reject: (error: unknown) => void;
  private readonly timeoutMs: number;

  constructor(maxBytes: number | undefined, resolve: (answer: HttpAnswer) => void, reject: (error: unknown) => void, timeoutMs: number) {
    this.maxBytes = maxBytes;
    this.resolve = resolve;
    this.reject = reject;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Ends the call early (timeout or the caller's signal). A request still queued for a connection
   * is settled at once and aborted when undici starts it.
   */
  stop(failure: TransportFailure): void {
    if (this.settled) return;
    this.why ??= failure;
    const reason = new Error(failure);
    if (this.controller) return this.controller.abort(reason);
    this.settle();
    this.reject(this.transportError(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.why !== undefined) controller.abort(new Error(this.why));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: HttpHeaders): void {
    // 1xx answers (100 Continue) come before the real one.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    const announced = Number(headerOf(headers, "content-length") ?? Number.NaN);
    if (this.maxBytes !== undefined && announced > this.maxBytes) this.tooLarge(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.seen += chunk.length;
    if (this.maxBytes !== undefined && this.seen > this.maxBytes) return this.tooLarge(controller);
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    const { chunks } = this;
    const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, this.seen).toString("utf8");
    this.settle();
    this.resolve({ status: this.status, headers: this.headers, text });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.settled) return;
    this.settle();
    this.reject(this.transportError(error));
  }

  /** Refuses the answer; aborting closes the connection instead of draining it. */
  private tooLarge(controller: Dispatcher.DispatchController): void {
    const error = new TransportError("too-large", `the answer is larger than ${formatMiB(this.maxBytes!)}`);
    this.settle();
    this.reject(error);
    controller.abort(error);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    this.chunks = [];
  }

  private transportError(error: Error): TransportError {
    if (error instanceof TransportError) return error;
    const { timeoutMs } = this;
    if (this.why === "timeout") return new TransportError("timeout", `no answer within ${timeoutMs} ms`, { cause: error });
    if (this.why === "aborted") return new TransportError("aborted", "aborted by the caller", { cause: error });
    const code = (error as { code?: unknown })?.code;
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
      return new TransportError("timeout", `no answer within ${timeoutMs} ms`, { cause: error });
    }
    const detail = error instanceof Error ? error.message || String(code ?? error.name) : String(error);
    return new TransportError("network", detail, { cause: error });
  }
}

/** A header's first value, for undici's plain-object headers. */
export function headerOf(headers: HttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
