/**
 * Helpers for the end-to-end replays: locating the reference material and the built CLI, running the
 * CLI as a child process, counting recorded calls, and explaining an unmatched request by the nearest
 * recorded prompt.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { after, before } from "node:test";
import { join } from "node:path";
import type { ChatMessage } from "../../src/models/language-model.ts";
import { normalizePrompt, normalizeText, ReplayBook, type ReplayEntry } from "../../src/models/replay-model.ts";
import type { ReceivedRequest } from "../../src/test.ts";

import { REPO_ROOT, SHARED } from "./cli.ts";

export { REPO_ROOT, SHARED };
export const SPRI_PUBLIC = join(SHARED, "spri-public");
export const CLI = join(REPO_ROOT, "bin", "spri.js");

/** Fails with a clear message when the CLI has not been built. */
export function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, "dist", "surfaces", "cli", "main.js"))) {
    throw new Error(`dist/ is missing: build the CLI first (npx tsc -p tsconfig.build.json, or npm test, which builds before testing)`);
  }
}

/** Whether the reference material is present (the tests fail, not skip, when it is not). */
export function assertShared(...paths: string[]): void {
  for (const path of paths) {
    if (!existsSync(path)) throw new Error(`reference material missing: ${path} (expected ${SHARED} beside the repository)`);
  }
}

export function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

import { type CliResult, runCli } from "./cli.ts";

export { type CliResult, runCli };

/** Prompt fields of the reference record layout (spec §4.3); one per model call. */
const PROMPT_FIELD =
  /^(principle_raw|init_response|principles_critique_iter_\d+|principle_refined_iter_\d+|response_critique_iter_\d+|response_refined_iter_\d+)_prompt$/;

/** Model calls a record stands for: its non-null prompt fields (spec §8). */
export function countPromptFields(row: Record<string, unknown>): number {
  return Object.entries(row).filter(([key, value]) => PROMPT_FIELD.test(key) && value !== null && value !== undefined).length;
}

/** The compared fields of a SPRI record. */
export const FINAL_FIELDS = ["principle_final", "response_final", "iteration_principle", "iteration_response"] as const;

/**
 * Mismatches between a recorded and a produced record on FINAL_FIELDS, texts compared after
 * `normalize`, numbers as is. Each mismatch names the item and field.
 */
export function finalMismatches(
  label: string,
  expected: Record<string, unknown>,
  actual: Record<string, unknown> | undefined,
  normalize: (text: string) => string,
): string[] {
  if (!actual) return [`${label}: no output record`];
  const out: string[] = [];
  for (const field of FINAL_FIELDS) {
    const want = expected[field];
    const got = actual[field];
    const same = typeof want === "string" && typeof got === "string" ? normalize(want) === normalize(got) : want === got;
    if (!same) out.push(`${label} ${field}: expected ${clip(JSON.stringify(want))}, got ${clip(JSON.stringify(got))}`);
  }
  return out;
}

/** Whitespace removed (the task-1 comparison; the recorded finals of raw-text models are unstripped). */
export function withoutWhitespace(text: string): string {
  return text.replace(/\s/g, "");
}

function clip(text: string | undefined, n = 160): string {
  if (text === undefined) return "undefined";
  return text.length <= n ? text : `${text.slice(0, n)}…`;
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function lastUser(messages: readonly ChatMessage[]): string | undefined {
  return [...messages].reverse().find((m) => m.role === "user")?.content;
}

/**
 * Explains an unmatched request: the recorded prompt sharing the longest normalized prefix with it
 * (its full text or its last user message), and both texts around the first difference. Keys are
 * normalized (template tokens, `#` and whitespace removed), as the ReplayBook compares them.
 */
export function describeUnmatched(request: ReceivedRequest, entries: readonly ReplayEntry[]): string {
  const keys = [normalizePrompt(request.messages)];
  const user = lastUser(request.messages);
  if (user !== undefined) keys.push(normalizeText(user));
  let best: { entry: ReplayEntry; key: string; recorded: string; prefix: number } | undefined;
  for (const entry of entries) {
    const recorded = normalizePrompt(entry.prompt);
    for (const key of keys) {
      const prefix = commonPrefix(key, recorded);
      if (!best || prefix > best.prefix) best = { entry, key, recorded, prefix };
    }
  }
  const head = `request #${request.index} (model ${request.model}, ${request.messages.length} messages, roles ${request.messages.map((m) => m.role).join("+")})`;
  if (!best) return `${head}: the book is empty`;
  if (best.key === best.recorded) {
    return `${head}: equals the recording ${best.entry.source ?? "?"}, but every recording of that prompt was already used (spri repeated a call the reference made fewer times)`;
  }
  const at = best.prefix;
  const around = (text: string) => `…${text.slice(Math.max(0, at - 120), at)}⟦${text.slice(at, at + 160)}⟧`;
  return [
    `${head}: nearest recording ${best.entry.source ?? "?"} agrees on the first ${at} of ${best.key.length} (request) / ${best.recorded.length} (recording) normalized chars`,
    `  request:   ${around(best.key)}`,
    `  recording: ${around(best.recorded)}`,
    `  request messages: ${clip(JSON.stringify(request.messages), 600)}`,
  ].join("\n");
}

/** A CLI failure with the server's view of what went wrong. */
export function failureReport(
  result: CliResult,
  unmatched: readonly ReceivedRequest[],
  entries: readonly ReplayEntry[],
  requests: readonly ReceivedRequest[] = [],
): string {
  const parts = [`spri exited with ${result.code}`, `stderr: ${result.stderr.trim().slice(-2000)}`];
  const first = unmatched[0];
  if (first) {
    parts.push(`${unmatched.length} unmatched request(s); the first:`, describeUnmatched(first, entries));
    const previous = requests[first.index - 1]?.entry?.source;
    if (previous) parts.push(`  the request before it was answered by ${previous}`);
  }
  return parts.join("\n");
}

/** Both texts from a little before their first difference, for byte-level mismatch messages. */
export function firstDifference(actual: string, expected: string, width = 120): string {
  const at = commonPrefix(actual, expected);
  const from = Math.max(0, at - 40);
  const show = (text: string) =>
    `${from > 0 ? "…" : ""}${JSON.stringify(text.slice(from, at + width))}${at + width < text.length ? "…" : ""}`;
  return `differ at char ${at} (lengths ${actual.length} / ${expected.length}): got ${show(actual)}, want ${show(expected)}`;
}

/**
 * Registers the hooks every replay file needs: the CLI is built, the reference material is there,
 * and a scratch directory exists for the run (removed afterwards). Returns the directory's getter.
 */
export function useScratchDir(prefix: string, ...sharedPaths: string[]): () => string {
  let dir = "";
  before(() => {
    assertBuilt();
    assertShared(...sharedPaths);
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** The line in its call log that a recording came from (`loadReplayFile` sources end in `:<line>`). */
export function logLineOf(entry: ReplayEntry | undefined): number {
  return Number(/:(\d+)\)?$/.exec(entry?.source ?? "")?.[1]);
}

/** One book per model of the log, so a model's prompts are answered only by its own recordings. */
export function booksByModel(entries: readonly ReplayEntry[], log: readonly Record<string, unknown>[]): Record<string, ReplayBook> {
  const models = new Set(log.map((line) => String(line.model)));
  return Object.fromEntries([...models].map((m) => [m, new ReplayBook(entries.filter((e) => String(log[logLineOf(e) - 1]!.model) === m))]));
}
