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

/** The three parts of undici this module uses. */
interface Undici {
  Agent: typeof AgentType;
  EnvHttpProxyAgent: typeof EnvHttpProxyAgentType;
  /** `Dispatcher.request`, called with the dispatcher as `this`. */
  request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
}

/**
 * undici's entry point loads all of undici (fetch, WebSocket, caches, mocks: ~180 ms of CPU at every
 * start); the client and the request API alone take a quarter of that. undici ships no `exports`
 * map, so its modules can be loaded directly; should a release move them, the entry point serves.
 */
function loadUndici(): Undici {
  const require = createRequire(import.meta.url);
  try {
    return {
      Agent: require("undici/lib/dispatcher/agent.js") as typeof AgentType,
      EnvHttpProxyAgent: require("undici/lib/dispatcher/env-http-proxy-agent.js") as typeof EnvHttpProxyAgentType,
      request: require("undici/lib/api/api-request.js") as Undici["request"],
    };
  } catch {
    const undici = require("undici") as typeof import("undici");
    return {
      Agent: undici.Agent,
      EnvHttpProxyAgent: undici.EnvHttpProxyAgent,
      request(options) {
        return this.request(options);
      },
    };
  }
}

const undici = loadUndici();

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
  if ((!httpProxy && !httpsProxy) || noProxy.trim() === "*") return new undici.Agent({ keepAliveTimeout: KEEP_ALIVE_MS });
  return new undici.EnvHttpProxyAgent({
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

export async function postJson(url: string, body: string, options: PostOptions): Promise<HttpAnswer> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) throw new TransportError("aborted", "aborted before it was sent");

  // One controller for both ways a call ends early; `why` records which one fired first.
  const controller = new AbortController();
  let why: TransportFailure | undefined;
  const stop = (failure: TransportFailure) => {
    why ??= failure;
    controller.abort();
  };
  const timer = setTimeout(() => stop("timeout"), timeoutMs);
  // The caller's signal is usually the run's, shared by every call in flight: onAbort keeps that cheap.
  const unsubscribe = signal ? onAbort(signal, () => stop("aborted")) : undefined;
  try {
    const { origin, path } = target(url);
    const response = await undici.request.call(options.dispatcher ?? sharedDispatcher(), {
      origin,
      path,
      method: "POST",
      headers: options.headers,
      body,
      signal: controller.signal,
      // undici's own idle limits (300 s) must not cut a call the caller allowed longer.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await readBody(response, options.maxBodyBytes);
    return { status: response.statusCode, headers: response.headers, text };
  } catch (error) {
    if (error instanceof TransportError) throw error;
    if (why === "timeout") throw new TransportError("timeout", `no answer within ${timeoutMs} ms`, { cause: error });
    if (why === "aborted") throw new TransportError("aborted", "aborted by the caller", { cause: error });
    const code = (error as { code?: unknown })?.code;
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
      throw new TransportError("timeout", `no answer within ${timeoutMs} ms`, { cause: error });
    }
    const detail = error instanceof Error ? error.message || String(code ?? error.name) : String(error);
    throw new TransportError("network", detail, { cause: error });
  } finally {
    clearTimeout(timer);
    unsubscribe?.();
  }
}

/**
 * The body as text, refused past `maxBytes`: at once when the Content-Length says so (undici holds
 * a server to it), else as soon as the chunks read add up to more. Either way the body is
 * destroyed, which closes the connection instead of draining it.
 */
async function readBody(response: Dispatcher.ResponseData, maxBytes: number | undefined): Promise<string> {
  if (maxBytes === undefined) return response.body.text();
  const tooLarge = () => {
    response.body.destroy();
    return new TransportError("too-large", `the answer is larger than ${formatMiB(maxBytes)}`);
  };
  const announced = Number(headerOf(response.headers, "content-length") ?? Number.NaN);
  if (announced > maxBytes) throw tooLarge();
  if (announced <= maxBytes) return response.body.text();
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, seen).toString("utf8");
}

/** A header's first value, for undici's plain-object headers. */
export function headerOf(headers: HttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
