/**
 * End-to-end replay of the Task 2 (BiGGen Bench) judge baselines of the reference call logs
 * (`../shared/spri-reference-traces/task2-biggenbench/{baseline-*,ablation-5-*}`: oracle gold rubrics,
 * vanilla, self-refine, MT-Bench, FLASK, seed principles as rubrics; × gpt-4o-mini (OpenAI chat) and
 * llama-3-1-70b-instruct (BAM raw text)): the built CLI runs `spri judge --rubrics <source> --compat
 * reference` with the paper's prompt files and inline strings against a real OpenAI-compatible HTTP
 * server that answers each request with the logged answer to the same prompt, and its records are
 * compared with the reference script's output rows, keyed by (id, model_name).
 *
 * Checked per configuration: no unmatched request, every logged call made (total = the log's line
 * count), per row the recorded number of calls (1, or 6 for self-refine), the reference's fields in
 * its order, and per row every output text and score equal to the recorded one after
 * `normalizeText`, then byte for byte. Every request, rendered as the reference renders it (OpenAI
 * messages, or llama-3's template, spec §2), is byte-identical to the logged one; so is every
 * `X-prompt` field, except that the reference's BAM self-refine stored the iteration-0 prompt in every
 * `-prompt` field, where spri stores what it sent (compared with the logged request instead).
 *
 * Identical requests from different rows. The reference's BAM self-refine refines all rows
 * iteration by iteration (batches), and each refinement sends only the previous judgement, so two
 * rows can send byte-identical requests (the llama log has 2 such pairs, from rows in different
 * iterations). Those are exchangeable samples of one prompt; which row got which depends only on the
 * batch order. spri, like every per-row runner, goes row by row, so a first-in-first-out book would
 * hand the two recordings over in the other order. The book here therefore prefers, among the
 * recordings of an identical request, the one of the row it answered last (the row spri is working
 * on, at `--concurrency 1`); the test below counts those pairs in the log.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ChatMessage } from "../../src/models/language-model.ts";
import { ReplayBook, type ReplayEntry, loadReplayFile, normalizePrompt, normalizeText } from "../../src/models/replay-model.ts";
import {
  SHARED,
  SPRI_PUBLIC,
  logLineOf,
  useScratchDir,
  assertShared,
  failureReport,
  firstDifference,
  readJsonl,
  runCli,
} from "../support/replay-compare.ts";
import { openaiText, startFakeModelServer, startReplayServer } from "../../src/test.ts";

const TRACES = join(SHARED, "spri-reference-traces", "task2-biggenbench");
const JUDGE_PROMPTS = join(SPRI_PUBLIC, "[task2]-BiGGenBench", "prompts");
const INLINE_PROMPTS = join(SHARED, "spri-public-inline");
const MODELS = { "gpt-4o-mini": "gpt-4o-mini", "llama-3-1-70b-instruct": "meta-llama/llama-3-1-70b-instruct" } as const;

const selfRefineFields = Array.from({ length: 6 }, (_, i) => `[self-refine]-iteration-${i}`);
const BASELINES = [
  { config: "baseline-0-oracle_gold_rubrics", source: "oracle", fields: ["[direct_eval]"] },
  { config: "baseline-1-vanilla", source: "vanilla", fields: ["[vanilla]"] },
  { config: "baseline-2-self_refine", source: "self-refine", fields: selfRefineFields },
  { config: "baseline-3-MT_Bench", source: "mt-bench", fields: ["[baseline]-vanilla-MT_Bench"] },
  { config: "baseline-4-flask", source: "flask", fields: ["[baseline]-flask"] },
  { config: "ablation-5-seed_principles_as_rubrics", source: "seed-principles", fields: ["[baseline]-[seed_principles_as_rubrics]"] },
] as const;
const CONFIGS = BASELINES.flatMap((b) => Object.entries(MODELS).map(([suffix, model]) => ({ ...b, name: `${b.config}-${suffix}`, model })));

const rowKey = (row: Record<string, unknown>) => `${String(row.id)}/${String(row.model_name)}`;

/** The reference's `strip("\n#").strip()`. */
function pyClean(text: string): string {
  return text.replace(/^[\n#]+|[\n#]+$/g, "").trim();
}

/** How the reference sent a request: the OpenAI message list, or llama-3's rendered template (spec §2). */
function rendered(model: string, messages: readonly ChatMessage[]): string {
  if (model.includes("gpt")) return JSON.stringify(messages);
  const [s, u] = messages;
  if (messages.length === 2 && s?.role === "system" && u?.role === "user" && model.includes("llama-3")) {
    return `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n${s.content}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${u.content}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
  }
  return `(no reference rendering for ${model} with roles ${messages.map((m) => m.role).join("+")})`;
}
function loggedRequest(line: Record<string, unknown> | undefined): string {
  const request = line?.request as { input?: string; messages?: unknown } | undefined;
  return request?.input ?? JSON.stringify(request?.messages);
}

interface Label {
  row: string;
  /** Index into the row's output fields (the self-refine iteration). */
  field: number;
}

/**
 * Which row and output field each logged call belongs to. The logs list calls in the reference's
 * order: one per row in input order, or, for self-refine, row by row (GPT: 6 calls a row) or
 * iteration by iteration (BAM batches). The order is the one under which every call's cleaned answer
 * is the recorded output of its row and field.
 */
function labelCalls(log: Record<string, unknown>[], rows: Record<string, unknown>[], fields: readonly string[]): Label[] {
  const n = rows.length;
  const orders: ((i: number) => { row: number; field: number })[] = [
    (i) => ({ row: Math.floor(i / fields.length), field: i % fields.length }),
    (i) => ({ row: i % n, field: Math.floor(i / n) }),
  ];
  for (const order of orders) {
    const labels = log.map((_, i) => order(i));
    const fits = labels.every(({ row, field }, i) => {
      const stored = rows[row]?.[fields[field]!];
      const response = String(log[i]!.response);
      return stored === pyClean(response) || stored === response.trim();
    });
    if (fits) return labels.map(({ row, field }) => ({ row: rowKey(rows[row]!), field }));
  }
  throw new Error("the call log's order matches neither row by row nor iteration by iteration");
}

/**
 * A replay book that, among the recordings of one request, prefers the one of the row it answered
 * last (see the module comment); otherwise first in, first out, like ReplayBook.
 */
class RowAwareBook extends ReplayBook {
  private readonly byKey = new Map<string, { entry: ReplayEntry; row: string }[]>();
  private lastRow: string | undefined;
  private count = 0;

  constructor(entries: readonly { entry: ReplayEntry; row: string }[]) {
    super();
    for (const labelled of entries) {
      const key = normalizePrompt(labelled.entry.prompt);
      this.byKey.set(key, [...(this.byKey.get(key) ?? []), labelled]);
      this.count++;
    }
  }

  override get size(): number {
    return this.count;
  }

  override take(messages: readonly ChatMessage[]): ReplayEntry | undefined {
    const lastUser = [...messages].reverse().find((m) => m.role === "user");
    const keys = [normalizePrompt(messages), ...(lastUser ? [normalizeText(lastUser.content)] : [])];
    for (const key of keys) {
      const queue = this.byKey.get(key);
      if (!queue || queue.length === 0) continue;
      const at = Math.max(
        0,
        queue.findIndex((labelled) => labelled.row === this.lastRow),
      );
      const [taken] = queue.splice(at, 1);
      this.lastRow = taken!.row;
      this.count--;
      this.stats.answered++;
      return taken!.entry;
    }
    this.stats.unmatched++;
    return undefined;
  }
}

function clip(text: string, n = 160): string {
  return text.length <= n ? text : `${text.slice(0, n)}…`;
}

const scratch = useScratchDir("spri-replay-task2-baselines-", TRACES, JUDGE_PROMPTS, INLINE_PROMPTS);

function cliArgs(source: string, model: string, url: string, input: string, output: string, compat: "reference" | "default"): string[] {
  return [
    "judge",
    "--rubrics",
    source,
    "--compat",
    compat,
    "--prompts",
    JUDGE_PROMPTS,
    "--prompts",
    INLINE_PROMPTS,
    "--base-model",
    model,
    "--base-url",
    url,
    "--concurrency",
    "1",
    "--input",
    input,
    "--output",
    output,
  ];
}

describe("replay of the Task 2 (BiGGen Bench) judge baseline reference call logs", { concurrency: true }, () => {
  for (const config of CONFIGS) {
    test(`${config.name} (--rubrics ${config.source})`, async (t) => {
      const callsFile = join(TRACES, `${config.name}.calls.jsonl`);
      const inputFile = join(TRACES, `${config.name}.input.jsonl`);
      const expectedFile = join(TRACES, `${config.name}.jsonl`);
      assertShared(callsFile, inputFile, expectedFile);

      const log = readJsonl(callsFile);
      assert.deepEqual([...new Set(log.map((line) => String(line.model)))], [config.model], `${config.name}: the log's model ids`);
      const expected = readJsonl(expectedFile);
      const labels = labelCalls(log, expected, config.fields);
      const entries = loadReplayFile(callsFile).map((entry, i) => ({
        ...entry,
        source: `row ${labels[i]!.row} ${config.fields[labels[i]!.field]} (${entry.source})`,
      }));
      assert.equal(entries.length, log.length, `${config.name}: every logged call is a recording`);

      const server = await startReplayServer({
        [config.model]: new RowAwareBook(entries.map((entry, i) => ({ entry, row: labels[i]!.row }))),
      });
      try {
        const cwd = mkdtempSync(join(scratch(), `${config.name}-`));
        const output = join(cwd, `${config.name}.output.jsonl`);
        const result = await runCli(cliArgs(config.source, config.model, server.url, inputFile, output, "reference"), { cwd });

        assert.equal(
          server.stats.unmatched,
          0,
          `${config.name}: unmatched requests\n${failureReport(result, server.unmatched, entries, server.requests)}`,
        );
        assert.equal(result.code, 0, `${config.name}: ${failureReport(result, server.unmatched, entries, server.requests)}`);
        assert.equal(server.stats.rejected, 0, `${config.name}: the server rejected ${server.stats.rejected} request(s)`);
        assert.equal(server.stats.answered, server.stats.requests, `${config.name}: every request is answered from the log`);
        assert.equal(
          server.stats.requests,
          log.length,
          `${config.name}: spri made ${server.stats.requests} calls, the log holds ${log.length}`,
        );

        const produced = new Map(readJsonl(output).map((row) => [rowKey(row), row]));
        assert.equal(produced.size, expected.length, `${config.name}: one output record per input row`);

        // Calls per row, and which field each answered.
        const perRow = new Map<string, number>();
        const answered = new Map<string, ReplayEntry>();
        for (const request of server.requests) {
          const line = logLineOf(request.entry);
          const label = labels[line - 1];
          const owner = label?.row ?? "(no row)";
          perRow.set(owner, (perRow.get(owner) ?? 0) + 1);
          if (label) answered.set(`${label.row}\u0000${label.field}`, request.entry!);
        }

        const problems: string[] = [];
        const inexact: string[] = [];
        for (const row of expected) {
          const key = rowKey(row);
          if ((perRow.get(key) ?? 0) !== config.fields.length)
            problems.push(`row ${key}: ${perRow.get(key) ?? 0} calls, recorded ${config.fields.length}`);
          const mine = produced.get(key);
          if (!mine) {
            problems.push(`row ${key}: no output record`);
            continue;
          }
          const wantKeys = Object.keys(row);
          const gotKeys = Object.keys(mine).filter((k) => !k.startsWith("spri_"));
          if (JSON.stringify(gotKeys) !== JSON.stringify(wantKeys))
            problems.push(`row ${key}: fields ${JSON.stringify(gotKeys.slice(-6))}…, recorded ${JSON.stringify(wantKeys.slice(-6))}…`);
          for (const [index, field] of config.fields.entries()) {
            const want = row[field];
            const got = mine[field];
            if (typeof want !== "string" || typeof got !== "string" || normalizeText(want) !== normalizeText(got)) {
              problems.push(`row ${key} ${field}: expected ${clip(JSON.stringify(want))}, got ${clip(JSON.stringify(got))}`);
            } else if (want !== got) inexact.push(`row ${key} ${field}: ${firstDifference(got, want)}`);
            if (mine[`${field}-score`] !== row[`${field}-score`])
              problems.push(
                `row ${key} ${field}-score: expected ${JSON.stringify(row[`${field}-score`])}, got ${JSON.stringify(mine[`${field}-score`])}`,
              );
            // The prompt field: spri stores the messages sent; rendered, they are the reference's field, or
            // (the BAM self-refine's iterations 1-5, whose field repeats iteration 0's) the logged request.
            const sent = Array.isArray(mine[`${field}-prompt`])
              ? rendered(config.model, mine[`${field}-prompt`] as ChatMessage[])
              : "(not messages)";
            const storedBug = config.source === "self-refine" && !config.model.includes("gpt") && index > 0;
            const wantPrompt = storedBug
              ? loggedRequest(log[logLineOf(answered.get(`${key}\u0000${index}`)) - 1])
              : typeof row[`${field}-prompt`] === "string"
                ? String(row[`${field}-prompt`])
                : JSON.stringify(row[`${field}-prompt`]);
            if (sent !== wantPrompt) inexact.push(`row ${key} ${field}-prompt: ${firstDifference(sent, wantPrompt)}`);
          }
          for (const field of Object.keys(row)) {
            if (field.endsWith("-prompt") || config.fields.includes(field as never)) continue;
            if (JSON.stringify(mine[field]) !== JSON.stringify(row[field]))
              inexact.push(
                `row ${key} ${field}: ${firstDifference(JSON.stringify(mine[field]) ?? "undefined", JSON.stringify(row[field]))}`,
              );
          }
        }
        if (perRow.has("(no row)")) problems.push(`${perRow.get("(no row)")} request(s) answered by calls no output row recorded`);
        assert.deepEqual(problems, [], `${config.name}: ${problems.length} mismatch(es)\n${problems.slice(0, 20).join("\n")}`);

        // Byte level: each request, rendered as the reference renders it, equals the logged one.
        for (const request of server.requests) {
          const line = logLineOf(request.entry);
          const sent = rendered(request.model, request.messages);
          const want = loggedRequest(log[line - 1]);
          if (sent !== want) inexact.push(`request #${request.index} (log line ${line}): ${firstDifference(sent, want)}`);
        }
        assert.deepEqual(inexact, [], `${config.name}: ${inexact.length} byte-level difference(s)\n${inexact.slice(0, 10).join("\n")}`);
        t.diagnostic(
          `${expected.length}/${expected.length} rows matched; ${server.stats.requests} requests, 0 unmatched; requests, outputs and scores byte-identical`,
        );
      } finally {
        await server.close();
      }
    });
  }

  test("the BAM self-refine log holds identical requests of different rows, in iteration order (why the book is row-aware)", (t) => {
    const name = "baseline-2-self_refine-llama-3-1-70b-instruct";
    const log = readJsonl(join(TRACES, `${name}.calls.jsonl`));
    const rows = readJsonl(join(TRACES, `${name}.jsonl`));
    const labels = labelCalls(log, rows, selfRefineFields);
    const byRequest = new Map<string, number[]>();
    log.forEach((line, i) => byRequest.set(loggedRequest(line), [...(byRequest.get(loggedRequest(line)) ?? []), i]));
    // Pairs whose log order (iteration by iteration) differs from row-by-row order, with different answers.
    const rowIndex = new Map(rows.map((row, i) => [rowKey(row), i]));
    const crossed: string[] = [];
    for (const lines of byRequest.values()) {
      for (const a of lines) {
        for (const b of lines) {
          if (a >= b) continue;
          const [la, lb] = [labels[a]!, labels[b]!];
          if (rowIndex.get(la.row)! > rowIndex.get(lb.row)! && log[a]!.response !== log[b]!.response)
            crossed.push(`lines ${a + 1}/${b + 1}: ${la.row} iteration ${la.field} and ${lb.row} iteration ${lb.field}`);
        }
      }
    }
    t.diagnostic(crossed.join("; "));
    assert.equal(crossed.length, 2, crossed.join("\n"));
  });

  test("seed principles without --compat reference: a principle per instance, not the reference's single principle for every row", async () => {
    const name = "ablation-5-seed_principles_as_rubrics-gpt-4o-mini";
    const server = await startFakeModelServer(() => openaiText("<feedback>Fine.</feedback><score>3</score>"));
    try {
      const cwd = mkdtempSync(join(scratch(), `${name}-default-`));
      const output = join(cwd, "out.jsonl");
      const result = await runCli(
        cliArgs("seed-principles", "gpt-4o-mini", `${server.url}/v1`, join(TRACES, `${name}.input.jsonl`), output, "default"),
        { cwd },
      );
      assert.equal(result.code, 0, result.stderr);
      // Which of the paper's principles (read from its file) each record was graded with.
      const principles = readFileSync(join(JUDGE_PROMPTS, "SEED_PRINCIPLE_RUBRICS.jsonl"), "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => String((JSON.parse(l) as { principle: string }).principle));
      const principleOf = (record: Record<string, unknown>) => {
        const prompt = JSON.stringify(record["[baseline]-[seed_principles_as_rubrics]-prompt"]);
        const found = principles.filter((p) => prompt.includes(JSON.stringify(p).slice(1, -1)));
        assert.equal(found.length, 1, `one principle in ${String(record.id)}'s prompt`);
        return principles.indexOf(found[0]!);
      };
      assert.ok(
        readJsonl(join(TRACES, `${name}.jsonl`)).every((row) => principleOf(row) === 3),
        "the reference: index 3 for every row",
      );
      const records = readJsonl(output);
      assert.equal(records.length, 24);
      const byInstance = new Map<string, Set<number>>();
      for (const record of records)
        byInstance.set(String(record.id), (byInstance.get(String(record.id)) ?? new Set()).add(principleOf(record)));
      assert.ok(
        [...byInstance.values()].every((set) => set.size === 1),
        "the responses to one instance share a principle",
      );
      const used = new Set([...byInstance.values()].flatMap((set) => [...set]));
      assert.ok(used.size > 1, "instances are graded with different principles");
    } finally {
      await server.close();
    }
  });
});
