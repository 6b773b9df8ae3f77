/**
 * The embedding source of `spri discover cluster`, chosen from flags and environment (flag > env >
 * default) and built here, where adapters may be named: an OpenAI-compatible `/embeddings` endpoint,
 * a local GGUF through node-llama-cpp (imported only for GGUF models), or a vectors file.
 */
import { ConfigError } from "../base/errors/errors.ts";
import { checkInputFile } from "../io/input-reader.ts";
import type { LanguageModel } from "../models/language-model.ts";

export type EmbeddingSource = "openai" | "gguf" | "file";
export const EMBEDDING_SOURCES: readonly EmbeddingSource[] = ["openai", "gguf", "file"];

/** Where vectors come from: a model (openai, gguf) or a vectors file. */
export type EmbedderSpec =
  | { source: "openai"; model: string; baseURL?: string; apiKey?: string; timeoutMs?: number; batchSize?: number; maxRetries?: number }
  | { source: "gguf"; model: string; threads?: number; batchSize?: number }
  | { source: "file"; file: string };

/** The embedding flags of `spri discover cluster`, parsed. */
export interface EmbedderFlags {
  embeddings?: EmbeddingSource;
  embeddingModel?: string;
  embeddingUrl?: string;
  vectors?: string;
  batchSize?: number;
}

/** A GGUF path or a Hugging Face URI: embedded in-process rather than over HTTP. */
const LOCAL_MODEL = /(\.gguf$|^hf:|^huggingface:)/i;

/** Chooses the embedding source from the flags and environment (see `spri discover cluster --help`). */
export function resolveEmbedderSpec(flags: EmbedderFlags, env: NodeJS.ProcessEnv): EmbedderSpec {
  const model = flags.embeddingModel ?? (env.SPRI_EMBEDDING_MODEL || undefined);
  const url = flags.embeddingUrl ?? (env.SPRI_EMBEDDING_URL || undefined);
  const { vectors, batchSize } = flags;
  const source = flags.embeddings ?? (vectors !== undefined ? "file" : model !== undefined && LOCAL_MODEL.test(model) ? "gguf" : "openai");
  if (vectors !== undefined && source !== "file") throw new ConfigError(`--vectors is only read with --embeddings file (not ${source})`);
  switch (source) {
    case "file":
      if (vectors === undefined)
        throw new ConfigError("--embeddings file needs --vectors FILE", { hint: 'a JSONL file of {"text", "vector"} lines' });
      checkInputFile(vectors);
      return { source, file: vectors };
    case "gguf":
      if (model === undefined) {
        throw new ConfigError("--embeddings gguf needs --embedding-model /path/model.gguf (or an hf: URI)", {
          hint: "e.g. an all-MiniLM-L6-v2 GGUF",
        });
      }
      return { source, model, batchSize };
    case "openai": {
      const baseURL = url ?? (env.OPENAI_BASE_URL || undefined);
      if (model === undefined && baseURL !== undefined && !/api\.openai\.com/.test(baseURL)) {
        throw new ConfigError(`${baseURL} serves embeddings, but no embedding model is named`, {
          hint: "pass --embedding-model <id> (the id the server serves)",
        });
      }
      return { source, model: model ?? "text-embedding-3-small", baseURL, apiKey: env.OPENAI_API_KEY || undefined, batchSize };
    }
  }
}

/** The embedding sources served by a model (every source but a vectors file). */
export type ModelEmbedderSpec = Exclude<EmbedderSpec, { source: "file" }>;

/** The model behind an openai or gguf source; the llama.cpp adapter is imported only for GGUF models. */
export async function createEmbeddingModel(spec: ModelEmbedderSpec): Promise<LanguageModel> {
  if (spec.source === "gguf") {
    const { LlamaCppModel } = await import("../models/llama-cpp.ts");
    return LlamaCppModel.load({ model: spec.model, threads: spec.threads, contextSize: 512 });
  }
  if (spec.baseURL === undefined && spec.apiKey === undefined) {
    throw new ConfigError(`no API key for the OpenAI embedding model "${spec.model}"`, {
      hint: "set OPENAI_API_KEY, or point --embedding-url at an OpenAI-compatible server, or use --embeddings gguf|file",
    });
  }
  const { OpenAICompatibleModel } = await import("../models/openai-compatible.ts");
  return new OpenAICompatibleModel({
    model: spec.model,
    embeddingModel: spec.model,
    baseURL: spec.baseURL,
    apiKey: spec.apiKey,
    timeoutMs: spec.timeoutMs,
    maxRetries: spec.maxRetries ?? 2,
  });
}
