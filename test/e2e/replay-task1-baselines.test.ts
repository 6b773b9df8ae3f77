/**
 * End-to-end replay of the paper's released task-1 baseline outputs
 * (`[task1]-reappraisal/outputs-[RESORT]/{INDV,ITER}/<mode>/unique_resort_eval_data/<model>.jsonl`,
 * the RESORT pipeline's rows for gpt-4o-mini and llama-3-8b-instruct): the built CLI runs
 * `--task resort-…` over the released inputs (`source_data/unique_resort_eval_data.json`) with the
 * pipeline directory as its prompt pack, against a real OpenAI-compatible HTTP server that answers
 * each request with the released answer to the same prompt.
 *
 * What the released rows record of each call: for GPT models `str(chat_history)` just after the
 * call (Python's repr of the message list, the answer appended as the assistant's turn); for the
 * others BAM's `input_text` (the Llama-3 chat template rendered, ending with the assistant header).
 * Each request spri sent, rendered the same way, must equal the released prompt byte for byte; so
 * must every output field, `response_final` included, and the number of calls.
 *
 * `+cons_principle_instruct` is `+cons` with another guidance file, given as a second pack
 * directory placed first. The released outputs hold no `+appr` or `+appr_+cons` rows: those modes
 * are covered by src/presets/tasks/baselines/resort.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { literalEval } from "../../src/algorithms/judge/literal-eval.ts";
import { toJs } from "../../src/algorithms/judge/py-value.ts";
import type { ChatMessage } from "../../src/models/language-model.ts";
import { ReplayBook, type ReplayEntry } from "../../src/models/replay-model.ts";
import { startReplayServer } from "../../src/test.ts";
import { pyRepr } from "../../src/base/util/python.ts";
import { SPRI_PUBLIC, assertShared, failureReport, firstDifference, readJsonl, runCli, useScratchDir } from "../support/replay-compare.ts";

const TASK1 = join(SPRI_PUBLIC, "[task1]-reappraisal");
const PIPELINE = join(TASK1, "RESORT_pipeline");
const PRINCIPLE_INSTRUCT = join(PIPELINE, "prompts", "reappraisal_guidance-[principle_instruct_seeds]");
const INPUT = join(TASK1, "source_data", "unique_resort_eval_data.json");

const CONFIGS = [
  { folder: "INDV/vanilla", task: "resort-vanilla", packs: [PIPELINE] },
  { folder: "INDV/+cons", task: "resort-cons", packs: [PIPELINE] },
  { folder: "INDV/+cons_principle_instruct", task: "resort-cons", packs: [PRINCIPLE_INSTRUCT, PIPELINE] },
  { folder: "ITER/self-refine", task: "resort-self-refine", packs: [PIPELINE] },
  { folder: "ITER/+cons", task: "resort-iter-cons", packs: [PIPELINE] },
  { folder: "ITER/+cons_principle_instruct", task: "resort-iter-cons", packs: [PRINCIPLE_INSTRUCT, PIPELINE] },
] as const;
const MODELS = [
  { file: "gpt-4o-mini", id: "gpt-4o-mini" },
  { file: "llama-3-8b-instruct", id: "meta-llama/llama-3-8b-instruct" },
] as const;

/** A released row's calls in call order: (prompt field, output field), as the pipeline writes them. */
function callFields(row: Record<string, unknown>): { prompt: string; output: string }[] {
  const keys = Object.keys(row);
  return keys.filter((key) => /prompt/.test(key)).map((prompt) => ({ prompt, output: keys[keys.indexOf(prompt) + 1]! }));
}

/** What the pipeline records of a request that got `answer`. */
function recorded(model: string, messages: readonly ChatMessage[], answer: string): string {
  const turns = [...messages, { role: "assistant", content: answer }];
  if (model.includes("gpt")) return pyRepr(turns.map((m) => ({ role: m.role, content: m.content })));
  const header = (role: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n`;
  return `<|begin_of_text|>${messages.map((m) => `${header(m.role)}${m.content}<|eot_id|>`).join("")}${header("assistant")}`;
}

/** The messages a released prompt shows (a GPT repr parsed, its answer dropped); a rendered template as is. */
function bookPrompt(model: string, prompt: string): string | ChatMessage[] {
  if (!model.includes("gpt")) return prompt;
  const turns = toJs(literalEval(prompt)) as ChatMessage[];
  return turns.slice(0, -1);
}

const scratch = useScratchDir("spri-replay-task1-baselines-", TASK1, PIPELINE, INPUT);

// One configuration at a time: twelve CLI runs at once starve the other replays on a loaded machine.
describe("replay of the released task-1 baseline outputs (RESORT pipeline)", () => {
  for (const config of CONFIGS) {
    for (const model of MODELS) {
      const name = `${config.folder} / ${model.file}`;
      test(name, async (t) => {
        const released = join(TASK1, "outputs-[RESORT]", config.folder, "unique_resort_eval_data", `${model.file}.jsonl`);
        assertShared(released);
        const rows = readJsonl(released);
        const entries: ReplayEntry[] = rows.flatMap((row, i) =>
          callFields(row).map(({ prompt, output }) => ({
            prompt: bookPrompt(model.id, String(row[prompt])),
            response: String(row[output]),
            source: `row ${i} ${prompt}`,
          })),
        );
        const server = await startReplayServer({ [model.id]: new ReplayBook(entries) });
        try {
          const cwd = mkdtempSync(join(scratch(), `${config.task}-${model.file}-`));
          const output = join(cwd, "out.jsonl");
          const args = ["run", "--task", config.task, ...config.packs.flatMap((dir) => ["--prompts", dir]), "--input", INPUT];
          args.push("--base-url", server.url, "--base-model", model.id, "--temperature", "0.7", "--max-new-tokens", "512");
          args.push("--seed", "42", "--concurrency", "1", "--output", output);
          // An iterative run makes 180 calls; the limit is a guard against a hung child, not a measure.
          const result = await runCli(args, { cwd, timeoutMs: 300_000 });
          const report = () => failureReport(result, server.unmatched, entries, server.requests);
          assert.equal(server.stats.unmatched, 0, `${name}: unmatched requests\n${report()}`);
          assert.equal(result.code, 0, `${name}: ${report()}`);
          assert.equal(
            server.stats.requests,
            entries.length,
            `${name}: spri made ${server.stats.requests} calls, the pipeline ${entries.length}`,
          );

          // Byte level: every request, recorded as the pipeline records it, is the released prompt.
          const problems: string[] = [];
          for (const request of server.requests) {
            const [, row, field] = /^row (\d+) (.+)$/.exec(request.entry!.source!)!;
            const want = String(rows[Number(row)]![field!]);
            const got = recorded(model.id, request.messages, request.entry!.response);
            if (got !== want) problems.push(`row ${row} ${field}: ${firstDifference(got, want)}`);
          }
          // The records: the pipeline's fields in its order, outputs as released, prompts rendering to the released ones.
          // Records by (post id, dimension): a released file need not keep the input's order.
          const key = (row: Record<string, unknown>) => `${String(row["Reddit ID"])}/${String(row.appraisal_dimension_id)}`;
          const produced = new Map(readJsonl(output).map((record) => [key(record), record]));
          assert.equal(produced.size, rows.length, `${name}: one record per input row`);
          rows.forEach((row, i) => {
            const mine = produced.get(key(row));
            if (!mine) return void problems.push(`row ${i}: no record for ${key(row)}`);
            // spri's own additions: `spri_*`, and `id` (the line number, as the input rows have none).
            const ownKeys = Object.keys(mine).filter((key) => !key.startsWith("spri_") && key !== "id");
            if (JSON.stringify(ownKeys) !== JSON.stringify(Object.keys(row)))
              problems.push(`row ${i}: fields ${JSON.stringify(ownKeys)}, released ${JSON.stringify(Object.keys(row))}`);
            for (const { prompt, output: out } of callFields(row)) {
              if (mine[out] !== row[out]) problems.push(`row ${i} ${out}: ${firstDifference(String(mine[out]), String(row[out]))}`);
              const messages = mine[prompt] as ChatMessage[];
              const rendered = Array.isArray(messages) ? recorded(model.id, messages, String(row[out])) : String(messages);
              if (rendered !== row[prompt]) problems.push(`row ${i} ${prompt}: ${firstDifference(rendered, String(row[prompt]))}`);
            }
            if (mine.response_final !== row.response_final) problems.push(`row ${i} response_final differs`);
          });
          assert.deepEqual(problems, [], `${name}: ${problems.length} difference(s)\n${problems.slice(0, 10).join("\n")}`);
          t.diagnostic(`${rows.length} rows, ${server.stats.requests} requests: prompts, outputs and finals byte-identical`);
        } finally {
          await server.close();
        }
      });
    }
  }
});
