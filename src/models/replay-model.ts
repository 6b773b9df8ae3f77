/**
 * Answering model calls from recorded traces. A request matches a recording when both are equal
 * after chat-template tokens, `#` and all whitespace are removed (recordings of raw-text backends
 * hold rendered templates; ours hold messages). A request whose full text has no recording falls
 * back to its last user message, because the reference stored some prompts without their system
 * part. Identical requests are answered in recorded order.
 */
import { readFileSync } from "node:fs";
import { ConfigError, ModelError } from "../base/errors/errors.ts";
import type { ChatMessage, GenerateRequest, GenerateResult, LanguageModel } from "./language-model.ts";

/** A recorded prompt: rendered text, or a message list. */
export type RecordedPrompt = string | readonly ChatMessage[];

const TEMPLATE_TOKENS: readonly RegExp[] = [
  /<\|start_header_id\|>\s*(system|user|assistant)\s*<\|end_header_id\|>/g,
  /<\|(begin_of_text|end_of_text|eot_id|system|user|assistant|im_start|im_end|end)\|>/g,
  /<<\/?SYS>>/g,
  /\[\/?INST\]/g,
  /<\/?s>/g,
];

/** The comparison form: template tokens, `#` and whitespace removed. */
export function normalizeText(text: string): string {
  let out = text;
  for (const token of TEMPLATE_TOKENS) out = out.replace(token, "");
  // The Prometheus wrapper `User: … \n\nAssistant: ` around critic prompts.
  out = out.replace(/^\s*User:/, "").replace(/Assistant:\s*$/, "");
  return out.replace(/[#\s]/g, "");
}

export function normalizePrompt(prompt: RecordedPrompt): string {
  return typeof prompt === "string" ? normalizeText(prompt) : normalizeText(prompt.map((m) => m.content).join("\n"));
}

export interface ReplayEntry {
  prompt: RecordedPrompt;
  response: string;
  /** Free-form provenance, e.g. `row 3 principle_raw`. */
  source?: string;
}

export interface ReplayStats {
  answered: number;
  unmatched: number;
  /** Normalized keys of the requests that matched nothing (first 20). */
  unmatchedSamples: string[];
}

export class ReplayBook {
  private readonly queues = new Map<string, ReplayEntry[]>();
  readonly stats: ReplayStats = { answered: 0, unmatched: 0, unmatchedSamples: [] };

  constructor(entries: Iterable<ReplayEntry> = []) {
    for (const entry of entries) this.add(entry);
  }

  add(entry: ReplayEntry): void {
    const key = normalizePrompt(entry.prompt);
    const queue = this.queues.get(key);
    if (queue) queue.push(entry);
    else this.queues.set(key, [entry]);
  }

  get size(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  /** The recording for these messages, consumed; undefined when none is left. */
  take(messages: readonly ChatMessage[]): ReplayEntry | undefined {
    const lastUser = [...messages].reverse().find((m) => m.role === "user");
    const keys = [normalizePrompt(messages)];
    if (lastUser) keys.push(normalizeText(lastUser.content));
    for (const key of keys) {
      const entry = this.queues.get(key)?.shift();
      if (entry) {
        this.stats.answered++;
        return entry;
      }
    }
    this.stats.unmatched++;
    if (this.stats.unmatchedSamples.length < 20) this.stats.unmatchedSamples.push(keys[0]!.slice(0, 200));
    return undefined;
  }
}

/** A LanguageModel answering from a ReplayBook; an unrecorded request is a `not-found` ModelError. */
export class ReplayModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities = { constrainedOutput: false };
  private readonly book: ReplayBook;

  constructor(book: ReplayBook, modelId = "replay") {
    this.book = book;
    this.modelId = modelId;
    this.id = `replay#${modelId}`;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const entry = this.book.take(request.messages);
    if (!entry) {
      throw new ModelError("no recorded answer for this request", {
        kind: "not-found",
        endpoint: this.id,
        hint: "the request differs from every recording (after removing template tokens, # and whitespace)",
      });
    }
    return { text: entry.response, finishReason: "stop", usage: { inputTokens: 0, outputTokens: 0 }, latencyMs: 0, model: this.modelId };
  }
}

/**
 * Loads recordings from a JSONL file of either shape: spri call records (`request.messages`,
 * `response`) or the reference harness's call logs (`request.input` or `request.messages`, `response`).
 */
export function loadReplayFile(path: string): ReplayEntry[] {
  const entries: ReplayEntry[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, index) => {
      if (line.trim() === "") return;
      let row: { request?: { input?: string; messages?: ChatMessage[] }; response?: string | null };
      try {
        row = JSON.parse(line);
      } catch (error) {
        throw new ConfigError(`malformed JSON in the replay file`, { file: path, line: index + 1, cause: error });
      }
      const prompt = row.request?.messages ?? row.request?.input;
      if (prompt === undefined || typeof row.response !== "string") return;
      entries.push({ prompt, response: row.response, source: `${path}:${index + 1}` });
    });
  return entries;
}

/** Pairs of (prompt field, output field) in a reference output row (spec §4.3), in call order. */
export function entriesFromReferenceRow(row: Record<string, unknown>, source = "row"): ReplayEntry[] {
  const entries: ReplayEntry[] = [];
  const pair = (promptField: string, outputField: string) => {
    const prompt = row[promptField];
    const output = row[outputField];
    if ((typeof prompt === "string" || Array.isArray(prompt)) && typeof output === "string") {
      entries.push({ prompt: prompt as RecordedPrompt, response: output, source: `${source} ${outputField}` });
    }
  };
  const loop = (critique: string, refined: string) => {
    for (let k = 1; row[`${critique}${k}`] !== undefined; k++) {
      pair(`${critique}${k}_prompt`, `${critique}${k}`);
      pair(`${refined}${k}_prompt`, `${refined}${k}`);
    }
  };
  pair("principle_raw_prompt", "principle_raw");
  loop("principles_critique_iter_", "principle_refined_iter_");
  pair("init_response_prompt", "init_response");
  loop("response_critique_iter_", "response_refined_iter_");
  return entries;
}
