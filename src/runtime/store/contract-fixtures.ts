/**
 * Shared pieces of the store contract suites (`store-contract.ts`, `work-queue-contract.ts`): test
 * runs and calls, a way to open stores that is closed after the suite, and `waitFor`, which polls a
 * condition instead of sleeping for a time that races the clock.
 */
import { after } from "node:test";
import type { GenerateResult } from "../../models/language-model.ts";
import { type NewRun, type RunStore, type StoredCall, runKey } from "./run-store.ts";

/**
 * Opens a store: `open()` on a new, empty database; `open(store)` another store (its own
 * connections) on the same database as `store`, as a second process would.
 */
export type OpenStore<S extends RunStore> = (sameDatabaseAs?: S) => Promise<S>;

/** `open`, with every store it opened closed after the suite. */
export function tracked<S extends RunStore>(open: OpenStore<S>): OpenStore<S> {
  const opened: S[] = [];
  after(async () => {
    for (const store of opened) await store.close();
  });
  return async (like) => {
    const store = await open(like);
    opened.push(store);
    return store;
  };
}

export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  const settings = { task: "spri", maxIterations: 3, temperature: 0 };
  return {
    key: runKey({ task: "spri", settings, inputPath: "data/in.jsonl" }),
    task: "spri",
    settings,
    inputPath: "data/in.jsonl",
    outputPath: "out.jsonl",
    baseModel: "openai-compatible#http://localhost:8000/v1#llama",
    criticModel: "anthropic#claude",
    ...overrides,
  };
}

export function call(runId: string, itemId: string, overrides: Partial<StoredCall> = {}): StoredCall {
  return {
    runId,
    itemId,
    step: "principle.generate",
    iteration: 0,
    attempt: 0,
    role: "base",
    model: "llama",
    endpoint: "openai-compatible#http://localhost:8000/v1#llama",
    request: {
      messages: [
        { role: "system", content: "You write principles." },
        { role: "user", content: `Question ${itemId}` },
      ],
      sampling: { temperature: 0.7, maxTokens: 256, stop: ["###"] },
      schema: "principles",
    },
    response: `principles for ${itemId}`,
    usage: { inputTokens: 100, outputTokens: 20 },
    latencyMs: 12.5,
    finishReason: "stop",
    cacheHit: false,
    startedAt: "2025-01-01T00:00:00.000Z",
    ...overrides,
  };
}

/** A model answer as the call cache stores it, with `text`. */
export function cachedAnswer(text: string): GenerateResult {
  return { text, finishReason: "stop", usage: { inputTokens: 3, outputTokens: 4 }, latencyMs: 12, model: "m" };
}

/** Resolves once `condition()` holds, polling every few milliseconds; fails after `timeoutMs`. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
