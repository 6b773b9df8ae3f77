/**
 * End-to-end replay of the six released Task 1 (cognitive reappraisal) SPRI traces through the built
 * CLI: `spri run --task reappraisal --compat reference` talks to a real OpenAI-compatible HTTP server
 * that answers only with what the paper's models answered to the very same prompt. Spec §7.1 gives
 * the prompt directory and seeds of each run, §9 the replay method.
 *
 * Checked per trace: no request was unknown to the recordings (every call spri makes, the paper
 * made), every recording was used, each item made exactly the recorded number of calls, and each
 * item's finals and iteration counts equal the recorded ones (whitespace removed: the recorded finals
 * of raw-text models are unstripped, while refinements are recorded stripped).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ReplayBook, type ReplayEntry, entriesFromReferenceRow } from "../../src/models/replay-model.ts";
import {
  SPRI_PUBLIC,
  useScratchDir,
  assertShared,
  countPromptFields,
  failureReport,
  finalMismatches,
  readJsonl,
  runCli,
  withoutWhitespace,
} from "../support/replay-compare.ts";
import { startReplayServer } from "../../src/test.ts";

const TASK1 = join(SPRI_PUBLIC, "[task1]-reappraisal");
const SFT_PROMPTS = join(SPRI_PUBLIC, "[task3]-sft", "prompts-[sft]");
const REAPPRAISAL_PROMPTS = join(TASK1, "prompts-[reappraisal]");
const CRITIC = "kaist-ai/prometheus-8x7b-v2";

/** The input fields of a Task 1 row (= source_data/unique_resort_eval_data.json). */
const SOURCE_FIELDS = [
  "Reddit ID",
  "Reddit Post",
  "appraisal_dimension_id",
  "appraisal_dimension",
  "appraisal_dimension_aim",
  "constitution",
  "standards",
];

interface Run {
  seed: string;
  prompts: string;
  seeds?: string;
  perDomain?: boolean;
}

/** Spec §7.1. */
const RUNS: Run[] = [
  { seed: "none", prompts: SFT_PROMPTS },
  { seed: "default_principles", prompts: SFT_PROMPTS, seeds: join(SPRI_PUBLIC, "seeds", "seed-principles-6.jsonl") },
  {
    seed: "1_RESORT_constitutions_per_dimension",
    prompts: REAPPRAISAL_PROMPTS,
    seeds: join(SPRI_PUBLIC, "seeds", "seed-reappraisal_constitutions-6.jsonl"),
    perDomain: true,
  },
];

/** Trace directory → base model id. Ids without "gpt" take the reference's raw-text path. */
const MODELS = [
  { dir: "gpt-4o-mini", id: "gpt-4o-mini" },
  { dir: "llama-3-8b-instruct", id: "meta-llama/llama-3-8b-instruct" },
];

const TRACE_FILE = "[resort_human_eval_30]-generated_refined_responses.jsonl";

/** The row index a book entry came from (sources are `row <i> <output field>`). */
function rowOf(entry: ReplayEntry | undefined): number | undefined {
  const match = /^row (\d+) /.exec(entry?.source ?? "");
  return match ? Number(match[1]) : undefined;
}

const scratch = useScratchDir("spri-replay-task1-", TASK1, SFT_PROMPTS, REAPPRAISAL_PROMPTS);

describe("replay of the released Task 1 SPRI traces", { concurrency: true }, () => {
  for (const run of RUNS) {
    for (const model of MODELS) {
      const name = `seed=${run.seed} / ${model.dir}`;
      test(name, async (t) => {
        const trace = join(TASK1, `outputs-[seed=${run.seed}]`, model.dir, TRACE_FILE);
        assertShared(trace, run.prompts, ...(run.seeds ? [run.seeds] : []));
        const rows = readJsonl(trace);
        assert.equal(rows.length, 30, `${trace} should hold 30 rows`);

        // Critic prompts go to the critic's book, the rest to the base model's.
        const entries = rows.flatMap((row, i) => entriesFromReferenceRow(row, `row ${i}`));
        const isCritique = (e: ReplayEntry) => /critique_iter_\d+$/.test(e.source ?? "");
        const server = await startReplayServer({
          [model.id]: new ReplayBook(entries.filter((e) => !isCritique(e))),
          [CRITIC]: new ReplayBook(entries.filter(isCritique)),
        });
        try {
          const slug = `${run.seed}-${model.dir}`;
          const input = join(scratch(), `${slug}.input.jsonl`);
          const output = join(scratch(), `${slug}.output.jsonl`);
          writeFileSync(
            input,
            rows.map((row) => JSON.stringify(Object.fromEntries(SOURCE_FIELDS.map((f) => [f, row[f]])))).join("\n") + "\n",
          );

          const args = ["run", "--task", "reappraisal", "--compat", "reference", "--input", input, "--prompts", run.prompts];
          if (run.seeds) args.push("--seeds", run.seeds);
          if (run.perDomain) args.push("--seeds-per-domain");
          args.push("--base-url", server.url, "--base-model", model.id, "--critic-url", server.url, "--critic-model", CRITIC);
          args.push("--concurrency", "1", "--output", output);
          const result = await runCli(args, { cwd: scratch() });

          assert.equal(
            server.stats.unmatched,
            0,
            `${name}: unmatched requests\n${failureReport(result, server.unmatched, entries, server.requests)}`,
          );
          assert.equal(result.code, 0, `${name}: ${failureReport(result, server.unmatched, entries, server.requests)}`);
          assert.equal(server.stats.rejected, 0, `${name}: the server rejected ${server.stats.rejected} request(s)`);
          assert.equal(server.stats.answered, server.stats.requests, `${name}: every request is answered from the book`);
          assert.equal(
            server.stats.requests,
            entries.length,
            `${name}: spri made ${server.stats.requests} calls, the paper ${entries.length}`,
          );

          // Calls per item, as the server saw them (concurrency 1: items run one after another).
          const perRow = new Array<number>(rows.length).fill(0);
          let previous = 0;
          for (const request of server.requests) {
            const row = rowOf(request.entry);
            assert.ok(row !== undefined, `${name}: request #${request.index} answered by an unlabelled recording`);
            assert.ok(row >= previous, `${name}: request #${request.index} answered from item ${row} after item ${previous} had started`);
            previous = row;
            perRow[row]!++;
          }

          const produced = readJsonl(output);
          assert.equal(produced.length, rows.length, `${name}: one output record per input row`);
          const problems: string[] = [];
          rows.forEach((row, i) => {
            const recorded = countPromptFields(row);
            if (perRow[i] !== recorded) problems.push(`item ${i} (${String(row["Reddit ID"])}): ${perRow[i]} calls, recorded ${recorded}`);
            const own = countPromptFields(produced[i]!);
            if (own !== recorded) problems.push(`item ${i}: the output record holds ${own} prompt fields, recorded ${recorded}`);
            problems.push(...finalMismatches(`item ${i} (${String(row["Reddit ID"])})`, row, produced[i], withoutWhitespace));
          });
          assert.deepEqual(problems, [], `${name}: ${problems.length} mismatch(es)\n${problems.join("\n")}`);
          t.diagnostic(
            `${rows.length}/${rows.length} items matched; ${server.stats.requests} requests, ${server.stats.unmatched} unmatched`,
          );
        } finally {
          await server.close();
        }
      });
    }
  }
});
