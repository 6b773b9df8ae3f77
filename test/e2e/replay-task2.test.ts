/**
 * End-to-end replay of the six Task 2 (BiGGen Bench, LLM-as-a-judge) SPRI configurations of the
 * reference call logs (`../shared/spri-reference-traces/task2-biggenbench/spri-*`: no seeds, the 6
 * default principles, 3 gold rubrics per capability; × gpt-4o-mini and llama-3-1-70b-instruct, critic
 * prometheus-8x7b-v2): the built CLI runs `spri judge --rubrics spri --compat reference` with the
 * paper's prompt files and inline strings against a real OpenAI-compatible HTTP server that answers
 * each request with the logged answer to the same prompt, and its records are compared with the
 * reference's output rows, keyed by (id, model_name): two rows share each paired id.
 *
 * Checked per configuration: no unmatched request, every logged call made (total = the log's line
 * count), per row the recorded number of calls, and per row `principle_final`, `response_final`,
 * `response_final-[score]`, `iteration_principle`, `iteration_response` equal after removing template
 * tokens, `#` and whitespace (`normalizeText`). Beyond that: every request, rendered as the reference
 * renders it (spec §2), is byte-identical to the logged one, and so is every output field the
 * reference wrote (its `_prompt` fields aside, whose form is transport-specific).
 *
 * The run uses the call cache (no --no-cache): the two rows of one id send the same rubric prompt and
 * must each get their own recorded rubric, which the judge's per-row sample indices guarantee.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ChatMessage } from "../../src/models/language-model.ts";
import {
  type ReplayEntry,
  entriesFromReferenceRow,
  loadReplayFile,
  normalizePrompt,
  normalizeText,
} from "../../src/models/replay-model.ts";
import {
  SHARED,
  SPRI_PUBLIC,
  booksByModel,
  logLineOf,
  useScratchDir,
  assertShared,
  countPromptFields,
  failureReport,
  firstDifference,
  readJsonl,
  runCli,
} from "../support/replay-compare.ts";
import { startReplayServer } from "../../src/test.ts";

const TRACES = join(SHARED, "spri-reference-traces", "task2-biggenbench");
const TASK2 = join(SPRI_PUBLIC, "[task2]-BiGGenBench");
const RUBRIC_PROMPTS = join(TASK2, "prompts-[rubric]");
const JUDGE_PROMPTS = join(TASK2, "prompts");
const INLINE_PROMPTS = join(SHARED, "spri-public-inline");
const SEED_PRINCIPLES = join(SPRI_PUBLIC, "seeds", "seed-principles-6.jsonl");
const SEED_RUBRICS = join(SPRI_PUBLIC, "seeds", "seed-rubrics-[2024_11_28]-[reference_free]-[3_for_each_capacity].jsonl");
const CRITIC = "kaist-ai/prometheus-8x7b-v2";
const MODELS = { "gpt-4o-mini": "gpt-4o-mini", "llama-3-1-70b-instruct": "meta-llama/llama-3-1-70b-instruct" } as const;
const SEEDINGS = [
  { name: "no_seeds", args: [] as string[] },
  { name: "6_default_principles", args: ["--seeds", SEED_PRINCIPLES] },
  { name: "3_oracles_each_capacity", args: ["--seeds", SEED_RUBRICS, "--seeds-per-domain"] },
];
const CONFIGS = SEEDINGS.flatMap((seeding) =>
  Object.entries(MODELS).map(([suffix, model]) => ({ name: `spri-${seeding.name}-${suffix}`, baseModel: model, seedArgs: seeding.args })),
);

/** The compared fields of a judge record. */
const COMPARED = ["principle_final", "response_final", "response_final-[score]", "iteration_principle", "iteration_response"] as const;

const rowKey = (row: Record<string, unknown>) => `${String(row.id)}/${String(row.model_name)}`;

/** The reference's `strip("\n#").strip()`. */
function pyClean(text: string): string {
  return text.replace(/^[\n#]+|[\n#]+$/g, "").trim();
}

/**
 * Labels each logged call with the row it belongs to, through the (prompt, output) pairs of the
 * reference's output rows (the whole request, or its user message for the GPT refinements, whose
 * stored prompt is the bare user string).
 */
function labelCalls(calls: ReplayEntry[], rows: Record<string, unknown>[]): ReplayEntry[] {
  const owners = new Map<string, string[]>();
  for (const row of rows) {
    for (const pair of entriesFromReferenceRow(row)) {
      const key = `${normalizePrompt(pair.prompt)}\u0000${pair.response}`;
      owners.set(key, [...(owners.get(key) ?? []), rowKey(row)]);
    }
  }
  return calls.map((call) => {
    const keys = [normalizePrompt(call.prompt)];
    if (Array.isArray(call.prompt)) {
      const user = [...call.prompt].reverse().find((m) => m.role === "user");
      if (user) keys.push(normalizeText(user.content));
    }
    for (const key of keys) {
      for (const response of new Set([call.response, call.response.trim(), pyClean(call.response)])) {
        const owner = owners.get(`${key}\u0000${response}`)?.shift();
        if (owner !== undefined) return { ...call, source: `row ${owner} (${call.source})` };
      }
    }
    return call;
  });
}

/** How the reference renders a raw-text (BAM) request (spec §2): Prometheus's wrapper or llama-3's template. */
function renderBam(model: string, messages: readonly ChatMessage[]): string {
  if (messages.length === 1 && messages[0]!.role === "user" && model === CRITIC) return `User: ${messages[0]!.content} \n\nAssistant: `;
  const [s, u] = messages;
  if (messages.length === 2 && s?.role === "system" && u?.role === "user" && model.includes("llama-3")) {
    return `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n${s.content}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${u.content}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
  }
  return `(no reference rendering for ${model} with roles ${messages.map((m) => m.role).join("+")})`;
}

function clip(text: string, n = 160): string {
  return text.length <= n ? text : `${text.slice(0, n)}…`;
}

const scratch = useScratchDir("spri-replay-task2-", TRACES, RUBRIC_PROMPTS, JUDGE_PROMPTS, INLINE_PROMPTS, SEED_PRINCIPLES, SEED_RUBRICS);

describe("replay of the Task 2 (BiGGen Bench) SPRI judge reference call logs", { concurrency: true }, () => {
  for (const config of CONFIGS) {
    test(config.name, async (t) => {
      const callsFile = join(TRACES, `${config.name}.calls.jsonl`);
      const inputFile = join(TRACES, `${config.name}.input.jsonl`);
      const expectedFile = join(TRACES, `${config.name}.jsonl`);
      assertShared(callsFile, inputFile, expectedFile);

      const log = readJsonl(callsFile);
      const models = new Set(log.map((line) => String(line.model)));
      assert.deepEqual([...models].sort(), [config.baseModel, CRITIC].sort(), `${config.name}: the log's model ids`);
      const expected = readJsonl(expectedFile);

      // One book per model, so critic prompts can only be answered by critic recordings.
      const entries = labelCalls(loadReplayFile(callsFile), expected);
      assert.equal(entries.length, log.length, `${config.name}: every logged call is a recording`);
      const books = booksByModel(entries, log);
      const server = await startReplayServer(books);
      try {
        const output = join(scratch(), `${config.name}.output.jsonl`);
        const args = ["judge", "--rubrics", "spri", "--compat", "reference"];
        args.push("--prompts", RUBRIC_PROMPTS, "--prompts", JUDGE_PROMPTS, "--prompts", INLINE_PROMPTS, ...config.seedArgs);
        args.push("--base-model", config.baseModel, "--critic-model", CRITIC, "--base-url", server.url, "--critic-url", server.url);
        args.push("--concurrency", "1", "--input", inputFile, "--output", output);
        const result = await runCli(args, { cwd: scratch() });

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

        const perRow = new Map<string, number>();
        for (const request of server.requests) {
          const owner = /^row (\S+) /.exec(request.entry?.source ?? "")?.[1] ?? "(no row)";
          perRow.set(owner, (perRow.get(owner) ?? 0) + 1);
        }
        const produced = new Map(readJsonl(output).map((row) => [rowKey(row), row]));
        assert.equal(produced.size, expected.length, `${config.name}: one output record per input row`);

        const problems: string[] = [];
        if (perRow.has("(no row)")) problems.push(`${perRow.get("(no row)")} request(s) answered by calls no output row recorded`);
        for (const row of expected) {
          const key = rowKey(row);
          const recorded = countPromptFields(row);
          if ((perRow.get(key) ?? 0) !== recorded) problems.push(`row ${key}: ${perRow.get(key) ?? 0} calls, recorded ${recorded}`);
          const mine = produced.get(key);
          if (!mine) {
            problems.push(`row ${key}: no output record`);
            continue;
          }
          if (mine.id !== row.id) problems.push(`row ${key}: the record's id is ${JSON.stringify(mine.id)}, not the input's`);
          for (const field of COMPARED) {
            const want = row[field];
            const got = mine[field];
            const same = typeof want === "string" && typeof got === "string" ? normalizeText(want) === normalizeText(got) : want === got;
            if (!same) problems.push(`row ${key} ${field}: expected ${clip(JSON.stringify(want))}, got ${clip(JSON.stringify(got))}`);
          }
        }
        assert.deepEqual(problems, [], `${config.name}: ${problems.length} mismatch(es)\n${problems.join("\n")}`);

        // Byte level: requests rendered as the reference renders them, and every output field.
        const inexact: string[] = [];
        for (const request of server.requests) {
          const line = logLineOf(request.entry);
          const logged = log[line - 1]?.request as { input?: string; messages?: unknown } | undefined;
          const sent = logged?.input !== undefined ? renderBam(request.model, request.messages) : JSON.stringify(request.messages);
          const want = logged?.input !== undefined ? logged.input : JSON.stringify(logged?.messages);
          if (sent !== want) inexact.push(`request #${request.index} (log line ${line}): ${firstDifference(sent, String(want))}`);
        }
        for (const row of expected) {
          const mine = produced.get(rowKey(row));
          for (const field of Object.keys(row)) {
            if (field.endsWith("_prompt")) continue;
            const same = JSON.stringify(mine?.[field]) === JSON.stringify(row[field]);
            if (!same)
              inexact.push(
                `row ${rowKey(row)} ${field}: ${firstDifference(JSON.stringify(mine?.[field]) ?? "undefined", JSON.stringify(row[field]))}`,
              );
          }
        }
        assert.deepEqual(inexact, [], `${config.name}: ${inexact.length} byte-level difference(s)\n${inexact.slice(0, 10).join("\n")}`);
        t.diagnostic(
          `${expected.length}/${expected.length} rows matched; ${server.stats.requests} requests, ${server.stats.unmatched} unmatched; requests and outputs byte-identical`,
        );
      } finally {
        await server.close();
      }
    });
  }
});
