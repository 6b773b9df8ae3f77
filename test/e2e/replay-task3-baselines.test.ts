/**
 * End-to-end replay of the ten Task 3 baseline configurations of the reference call logs
 * (`../shared/spri-reference-traces/task3-sft/baseline-0N-*`: five baselines × mixtral-8x7b-instruct
 * and llama-3-70b-instruct): the built CLI runs `--task baseline-… --compat reference` with the
 * reference's prompt strings (`--prompts spri-public-inline --prompts "spri-public/[task3]-sft"`)
 * against a real OpenAI-compatible HTTP server that answers each request with the logged answer to
 * the same prompt, and its records are compared with the reference script's output rows.
 *
 * Checked per configuration: no unmatched request, every logged call made (total = the log's line
 * count), and per row (by id) the same fields in the same order, each equal to the recorded value
 * after removing template tokens, `#` and whitespace (`normalizeText`; our `_prompt` fields hold the
 * messages, the reference's the rendered BAM string). Beyond that, each request rendered with the
 * model's BAM template (spec §2) is byte-identical to the logged one, and so is every output text.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ChatMessage } from "../../src/models/language-model.ts";
import { ReplayBook, loadReplayFile, normalizePrompt, normalizeText } from "../../src/models/replay-model.ts";
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
import { startReplayServer } from "../../src/test.ts";

const TRACES = join(SHARED, "spri-reference-traces", "task3-sft");
const INLINE_PROMPTS = join(SHARED, "spri-public-inline");
const SFT_DIR = join(SPRI_PUBLIC, "[task3]-sft");

const BASELINES = [
  { config: "baseline-01-direct", task: "baseline-direct" },
  { config: "baseline-02-self_instruct", task: "baseline-self-instruct" },
  { config: "baseline-03-self_align", task: "baseline-self-align" },
  { config: "baseline-04-self_refine", task: "baseline-self-refine" },
  { config: "baseline-05-seed_principles", task: "baseline-seed-principles" },
] as const;
const MODELS = ["mixtral-8x7b-instruct-v01", "llama-3-70b-instruct"] as const;

const CONFIGS = BASELINES.flatMap((b) => MODELS.map((m) => ({ name: `${b.config}-${m}`, task: b.task })));

/** `bam_chat_agent.format_input(system, user)` for the two models (spec §2; these logs have no trailing space). */
function renderBam(model: string, messages: readonly ChatMessage[]): string {
  const [s, u] = messages;
  if (messages.length !== 2 || s?.role !== "system" || u?.role !== "user")
    return `(not [system, user]: ${messages.map((m) => m.role).join("+")})`;
  if (model.includes("mixtral")) return `<s>[INST] ${s.content} [/INST]</s> [INST] ${u.content} [/INST]</s>`;
  if (model.includes("llama-3")) {
    return `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n${s.content}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${u.content}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
  }
  return `(no reference rendering for ${model})`;
}

function clip(text: string, n = 160): string {
  return text.length <= n ? text : `${text.slice(0, n)}…`;
}

function cliArgs(task: string, model: string, url: string, input: string, output: string, compat: "reference" | "default"): string[] {
  return [
    "run",
    "--task",
    task,
    "--compat",
    compat,
    "--prompts",
    INLINE_PROMPTS,
    "--prompts",
    SFT_DIR,
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

const scratch = useScratchDir("spri-replay-task3-baselines-", TRACES, INLINE_PROMPTS, SFT_DIR);

describe("replay of the Task 3 baseline reference call logs", { concurrency: true }, () => {
  for (const config of CONFIGS) {
    test(config.name, async (t) => {
      const callsFile = join(TRACES, `${config.name}.calls.jsonl`);
      const inputFile = join(TRACES, `${config.name}.input.jsonl`);
      const expectedFile = join(TRACES, `${config.name}.jsonl`);
      assertShared(callsFile, inputFile, expectedFile);

      const log = readJsonl(callsFile);
      const models = [...new Set(log.map((line) => String(line.model)))];
      assert.equal(models.length, 1, `${config.name}: one model in the log (${models.join(", ")})`);
      const model = models[0]!;
      const expected = readJsonl(expectedFile);
      const entries = loadReplayFile(callsFile);
      assert.equal(entries.length, log.length, `${config.name}: every logged call is a recording`);

      // A book keyed by the model id, so a request for any other model is unmatched.
      const server = await startReplayServer({ [model]: new ReplayBook(entries) });
      try {
        // A working directory of its own: nothing (run store, call cache) is shared with other runs.
        const cwd = mkdtempSync(join(scratch(), `${config.name}-`));
        const output = join(cwd, `${config.name}.output.jsonl`);
        const result = await runCli(cliArgs(config.task, model, server.url, inputFile, output, "reference"), { cwd });

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

        const produced = new Map(readJsonl(output).map((row) => [String(row.id), row]));
        assert.equal(produced.size, expected.length, `${config.name}: one output record per input row`);

        // Normalized comparison of every field, in the reference's order.
        const problems: string[] = [];
        const inexact: string[] = [];
        for (const row of expected) {
          const id = String(row.id);
          const mine = produced.get(id);
          if (!mine) {
            problems.push(`row ${id}: no output record`);
            continue;
          }
          const wantKeys = Object.keys(row);
          // The reference's fields in its order; spri's own additions (`spri_*`, e.g. usage) come after them.
          const gotKeys = Object.keys(mine).filter((key) => !key.startsWith("spri_"));
          if (JSON.stringify(wantKeys) !== JSON.stringify(gotKeys))
            problems.push(`row ${id}: fields ${JSON.stringify(gotKeys)}, recorded ${JSON.stringify(wantKeys)}`);
          for (const key of wantKeys) {
            const want = row[key];
            const got = mine[key];
            if (key.endsWith("_prompt")) {
              const ok = typeof want === "string" && Array.isArray(got) && normalizePrompt(got as ChatMessage[]) === normalizeText(want);
              if (!ok) problems.push(`row ${id} ${key}: expected ${clip(JSON.stringify(want))}, got ${clip(JSON.stringify(got))}`);
              else if (renderBam(model, got as ChatMessage[]) !== want)
                inexact.push(`row ${id} ${key}: ${firstDifference(renderBam(model, got as ChatMessage[]), want)}`);
            } else if (typeof want === "string") {
              if (typeof got !== "string" || normalizeText(got) !== normalizeText(want))
                problems.push(`row ${id} ${key}: expected ${clip(JSON.stringify(want))}, got ${clip(JSON.stringify(got))}`);
              else if (got !== want) inexact.push(`row ${id} ${key}: ${firstDifference(got, want)}`);
            } else if (JSON.stringify(got) !== JSON.stringify(want)) {
              problems.push(`row ${id} ${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
            }
          }
        }
        assert.deepEqual(problems, [], `${config.name}: ${problems.length} mismatch(es)\n${problems.slice(0, 20).join("\n")}`);

        // Byte level: each request, rendered as the reference renders it, equals the logged input.
        for (const request of server.requests) {
          const line = logLineOf(request.entry);
          const logged = (log[line - 1]?.request as { input?: string } | undefined)?.input;
          const sent = renderBam(request.model, request.messages);
          if (sent !== logged) inexact.push(`request #${request.index} (log line ${line}): ${firstDifference(sent, String(logged))}`);
        }
        assert.deepEqual(inexact, [], `${config.name}: ${inexact.length} byte-level difference(s)\n${inexact.slice(0, 10).join("\n")}`);
        t.diagnostic(
          `${expected.length}/${expected.length} rows matched; ${server.stats.requests} requests, ${server.stats.unmatched} unmatched; prompts and outputs byte-identical`,
        );
      } finally {
        await server.close();
      }
    });
  }

  test("self-refine without --compat reference judges the latest response, so it leaves the reference's calls at the first turn-2 feedback", async () => {
    const name = "baseline-04-self_refine-mixtral-8x7b-instruct-v01";
    const callsFile = join(TRACES, `${name}.calls.jsonl`);
    const log = readJsonl(callsFile);
    const model = String(log[0]!.model);
    const server = await startReplayServer({ [model]: new ReplayBook(loadReplayFile(callsFile)) });
    try {
      const cwd = mkdtempSync(join(scratch(), `${name}-default-`));
      const output = join(cwd, `${name}.default.output.jsonl`);
      const result = await runCli(
        cliArgs("baseline-self-refine", model, server.url, join(TRACES, `${name}.input.jsonl`), output, "default"),
        { cwd },
      );
      assert.notEqual(result.code, 0, "the replay cannot answer the default run");
      const first = server.unmatched[0];
      assert.ok(first, "an unmatched request");
      // The first row that is refined at all: its turn-2 feedback shows turn 1, which the log never judged.
      const row = readJsonl(join(TRACES, `${name}.jsonl`)).find((r) => r["feedback-[turn_2]"] !== undefined)!;
      const user = first.messages[1]!.content;
      assert.match(first.messages[0]!.content, /On a scale of 1 to 5/);
      assert.ok(user.startsWith(`### Question: ${String(row.user_input)}`), clip(user));
      assert.ok(user.includes(`### Response: ${String(row["self-refine_response-[turn_1]"])}`), clip(user, 600));
      assert.equal(first.index, 3, "turn 0, feedback 1 and refinement 1 of that row were answered first");
    } finally {
      await server.close();
    }
  });
});
