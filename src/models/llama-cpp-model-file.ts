/**
 * Where a local GGUF model comes from (llama-cpp.ts): a path on this machine, or a remote URI
 * (`hf:user/repo:quant`, `https://…`) that node-llama-cpp downloads into the models directory on
 * first use and keeps there.
 *
 * Contracts:
 * - Every failure to find or fetch the model is a ConfigError whose hint says how to point spri at
 *   a model (MODEL_HINT); a failed download is a ModelDownloadError carrying its parts.
 * - Locations are logged only through `displayLocation`: URLs lose credentials and query strings.
 */
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../base/errors/errors.ts";
import { messageOf } from "../base/util/message-of.ts";

/** Where the model is, and how to fetch it when it is remote. */
export interface ModelLocation {
  /** A path to a `.gguf` file, or a URI node-llama-cpp can download (`hf:user/repo:quant`, `https://…`). */
  model: string;
  /** Where downloaded models are kept; default `$SPRI_MODELS_DIR`, else `~/.cache/spri/models`. */
  modelsDir?: string;
  /** Bounds resolving (and downloading) a remote model; unbounded by default because models are large. */
  downloadTimeoutMs?: number;
  onDownloadProgress?: (status: { totalSize: number; downloadedSize: number }) => void;
}

/** How to point spri at a model instead, for the hints of every failure to open one. */
export const MODEL_HINT =
  "point at a local model with SPRI_MODEL=/path/model.gguf (or --base-model /path/model.gguf), " +
  "or at a server with --base-url http://127.0.0.1:8000/v1 --base-model <id> (or set OPENAI_API_KEY)";

export function isRemoteModel(model: string): boolean {
  return /^(hf:|huggingface:|https?:\/\/)/i.test(model);
}

/** The model location as safe to log: URLs lose credentials and query strings. */
export function displayLocation(model: string): string {
  if (!isRemoteModel(model)) return path.resolve(model);
  if (!/^https?:/i.test(model)) return model;
  const url = new URL(model);
  url.username = "";
  url.password = "";
  url.search = "";
  return url.toString();
}

export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPRI_MODELS_DIR) return env.SPRI_MODELS_DIR;
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(cache, "spri", "models");
}

export type ResolveModelFile = (
  uri: string,
  options: { directory: string; cli: boolean; signal?: AbortSignal; onProgress?: ModelLocation["onDownloadProgress"] },
) => Promise<string>;

/**
 * Turns `options.model` into a local file path. Local paths are resolved against the working
 * directory (node-llama-cpp would resolve them against the models directory); remote URIs are
 * downloaded into the models directory on first use. Exported with an injectable resolver so the
 * error mapping can be tested without a network.
 */
export async function resolveModelPath(options: ModelLocation, resolveModelFile: ResolveModelFile): Promise<string> {
  if (!isRemoteModel(options.model)) return checkLocalFile(path.resolve(options.model));
  const directory = options.modelsDir ?? defaultModelsDir();
  // A referenced timer, unlike AbortSignal.timeout, keeps the process alive until the bound fires.
  const deadline = options.downloadTimeoutMs === undefined ? undefined : new AbortController();
  const timer = deadline && setTimeout(() => deadline.abort(new Error("download timed out")), options.downloadTimeoutMs);
  const signal = deadline?.signal;
  try {
    const resolving = resolveModelFile(options.model, { directory, cli: false, signal, onProgress: options.onDownloadProgress });
    return await (signal ? raceAbort(resolving, signal) : resolving);
  } catch (error) {
    const reason = signal?.aborted ? `no answer within ${options.downloadTimeoutMs} ms` : downloadFailure(error);
    throw new ModelDownloadError(options.model, downloadHost(options.model), reason, directory, error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A remote model could not be downloaded. Carries the pieces a caller needs to explain it in its
 * own terms (spri's default model, tried because nothing else was set up, is explained so).
 */
export class ModelDownloadError extends ConfigError {
  readonly model: string;
  readonly host: string;
  readonly reason: string;
  /** Where the model is kept once downloaded. */
  readonly directory: string;

  constructor(model: string, host: string, reason: string, directory: string, cause: unknown) {
    super(`could not download the model "${model}" from ${host}: ${reason}`, {
      cause,
      field: "model",
      hint: `download it where ${host} can be reached (it is then kept in ${directory}), or ${MODEL_HINT}`,
    });
    this.model = model;
    this.host = host;
    this.reason = reason;
    this.directory = directory;
  }
}

/** Where a remote model comes from: its URL's host, or the Hugging Face endpoint (HF_ENDPOINT, which node-llama-cpp honours). */
function downloadHost(model: string): string {
  if (/^https?:/i.test(model)) return new URL(model).host;
  const endpoint = process.env.HF_ENDPOINT;
  return endpoint ? endpoint.replace(/\/+$/, "") : "huggingface.co";
}

/**
 * Why a download failed, in words: node-llama-cpp folds the network error into its message as
 * text ("TypeError: fetch failed"), which says nothing to a user.
 */
function downloadFailure(error: unknown): string {
  const text = messageOf(error);
  if (/fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH|socket hang up/i.test(text)) {
    return "the server cannot be reached (no network, or a firewall or proxy in the way)";
  }
  return text.replace(/^Failed to fetch manifest for [^:]*:\s*/, "");
}

async function checkLocalFile(file: string): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (info?.isFile()) return file;
  throw new ConfigError(`no model file at ${file}`, {
    file,
    hint: `check the path, use an hf: URI such as hf:bartowski/SmolLM2-1.7B-Instruct-GGUF:Q4_K_M, or ${MODEL_HINT}`,
  });
}

/** Settles as soon as `signal` aborts, even if `promise` ignores the signal. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
