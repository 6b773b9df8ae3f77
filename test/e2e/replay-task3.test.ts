/**
 * End-to-end replay of the four Task 3 (SFT data) SPRI configurations of the reference call logs
 * (`../shared/spri-reference-traces/task3-sft/`): the built CLI runs `--task sft --compat reference`
 * against a real OpenAI-compatible HTTP server that answers each request with the logged answer to
 * the same prompt, and its records are compared with the reference script's output rows.
 *
 * Checked per configuration: no unmatched request, every logged call made (total = the log's line
 * count), per row the recorded number of calls, and per row `principle_final`, `response_final`,
 * `iteration_principle`, `iteration_response` equal after removing template tokens, `#` and
 * whitespace (`normalizeText`).
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
  finalMismatches,
  firstDifference,
  readJsonl,
  runCli,
} from "../support/replay-compare.ts";
import { startReplayServer } from "../../src/test.ts";

const TRACES = join(SHARED, "spri-reference-traces", "task3-sft");
const SFT_PROMPTS = join(SPRI_PUBLIC, "[task3]-sft", "prompts-[sft]");
const SEED_PRINCIPLES = join(SPRI_PUBLIC, "seeds", "seed-principles-6.jsonl");
const CRITIC = "kaist-ai/prometheus-8x7b-v2";

interface Config {
  name: string;
  baseModel: string;
  seeds?: string;
}

const CONFIGS: Config[] = [
  { name: "spri-seed_none-gpt-4o-mini", baseModel: "gpt-4o-mini" },
  { name: "spri-seed_none-mixtral-8x7b-instruct-v01", baseModel: "mistralai/mixtral-8x7b-instruct-v01" },
  { name: "spri-seed_principles6-gpt-4o-mini", baseModel: "gpt-4o-mini", seeds: SEED_PRINCIPLES },
  { name: "spri-seed_principles6-mixtral-8x7b-instruct-v01", baseModel: "mistralai/mixtral-8x7b-instruct-v01", seeds: SEED_PRINCIPLES },
];

/**
 * Labels each logged call with the row it belongs to, found through the (prompt, output) pairs of
 * the reference's output rows: a call belongs to the row that recorded its answer under a prompt
 * equal to the call's (the whole request, or its user message for the GPT refinements, whose stored
 * prompt is the bare user string).
 */
function labelCalls(calls: ReplayEntry[], rows: Record<string, unknown>[]): ReplayEntry[] {
  const owners = new Map<string, string[]>();
  for (const row of rows) {
    for (const pair of entriesFromReferenceRow(row)) {
      const key = `${normalizePrompt(pair.prompt)}\u0000${pair.response}`;
      owners.set(key, [...(owners.get(key) ?? []), String(row.id)]);
    }
  }
  return calls.map((call) => {
    const prompt = call.prompt;
    const keys = [normalizePrompt(prompt)];
    if (Array.isArray(prompt)) {
      const user = [...prompt].reverse().find((m) => m.role === "user");
      if (user) keys.push(normalizeText(user.content));
    }
    for (const key of keys) {
      // The reference stores outputs cleaned; the log holds them raw.
      for (const response of new Set([call.response, call.response.trim(), pyClean(call.response)])) {
        const owner = owners.get(`${key}\u0000${response}`)?.shift();
        if (owner !== undefined) return { ...call, source: `row ${owner} (${call.source})` };
      }
    }
    return call;
  });
}

/**
 * How the reference renders a raw-text (BAM) request (spec §2): the critic's Prometheus wrapper, or
 * Mixtral's `[INST]` template (in these logs without the trailing space of the Task 1 traces).
 */
function renderBam(model: string, messages: readonly ChatMessage[]): string {
  const system = messages.filter((m) => m.role === "system").map((m) => m.content);
  const user = messages.filter((m) => m.role === "user").map((m) => m.content);
  if (messages.length === 1 && user.length === 1 && model === CRITIC) return `User: ${user[0]} \n\nAssistant: `;
  if (messages.length === 2 && system.length === 1 && user.length === 1 && model.includes("mixtral")) {
    return `<s>[INST] ${system[0]} [/INST]</s> [INST] ${user[0]} [/INST]</s>`;
  }
  return `(no reference rendering for ${model} with roles ${messages.map((m) => m.role).join("+")})`;
}

/** The reference's `strip("\n#").strip()`. */
function pyClean(text: string): string {
  return text.replace(/^[\n#]+|[\n#]+$/g, "").trim();
}

const scratch = useScratchDir("spri-replay-task3-", TRACES, SFT_PROMPTS, SEED_PRINCIPLES);

describe("replay of the Task 3 SPRI reference call logs", { concurrency: true }, () => {
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
        const args = ["run", "--task", "sft", "--compat", "reference", "--prompts", SFT_PROMPTS];
        if (config.seeds) args.push("--seeds", config.seeds);
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

        // Calls per row, as the server saw them.
        const perRow = new Map<string, number>();
        for (const request of server.requests) {
          const owner = /^row (\S+) /.exec(request.entry?.source ?? "")?.[1] ?? "(no row)";
          perRow.set(owner, (perRow.get(owner) ?? 0) + 1);
        }

        const produced = new Map(readJsonl(output).map((row) => [String(row.id), row]));
        assert.equal(produced.size, expected.length, `${config.name}: one output record per input row`);
        const problems: string[] = [];
        if (perRow.has("(no row)")) problems.push(`${perRow.get("(no row)")} request(s) answered by calls no output row recorded`);
        for (const row of expected) {
          const id = String(row.id);
          const recorded = countPromptFields(row);
          if ((perRow.get(id) ?? 0) !== recorded) problems.push(`row ${id}: ${perRow.get(id) ?? 0} calls, recorded ${recorded}`);
          const mine = produced.get(id);
          if (mine && countPromptFields(mine) !== recorded)
            problems.push(`row ${id}: the output record holds ${countPromptFields(mine)} prompt fields, recorded ${recorded}`);
          problems.push(...finalMismatches(`row ${id}`, row, mine, normalizeText));
        }
        assert.deepEqual(problems, [], `${config.name}: ${problems.length} mismatch(es)\n${problems.join("\n")}`);

        // Beyond the normalized comparison: the logs hold the raw answers, so under --compat reference
        // every request is byte-identical to the logged one (rendered as the reference renders it,
        // spec §2) and the finals are byte-identical too. This is what sees the raw-refinement and
        // output-strip switches, which normalization hides.
        const inexact: string[] = [];
        for (const request of server.requests) {
          const line = logLineOf(request.entry);
          const logged = log[line - 1]?.request as { input?: string; messages?: unknown } | undefined;
          const sent = logged?.input !== undefined ? renderBam(request.model, request.messages) : JSON.stringify(request.messages);
          const want = logged?.input !== undefined ? logged.input : JSON.stringify(logged?.messages);
          if (sent !== want) inexact.push(`request #${request.index} (log line ${line}): ${firstDifference(sent, String(want))}`);
        }
        for (const row of expected) {
          const mine = produced.get(String(row.id));
          // Every output field the reference wrote (all but its prompt fields, whose form is transport-specific).
          for (const field of Object.keys(row)) {
            if (field.endsWith("_prompt")) continue;
            if (mine?.[field] !== row[field])
              inexact.push(`row ${String(row.id)} ${field}: ${firstDifference(String(mine?.[field]), String(row[field]))}`);
          }
        }
        assert.deepEqual(inexact, [], `${config.name}: ${inexact.length} byte-level difference(s)\n${inexact.slice(0, 10).join("\n")}`);
        t.diagnostic(
          `${expected.length}/${expected.length} rows matched; ${server.stats.requests} requests, ${server.stats.unmatched} unmatched; prompts and finals byte-identical`,
        );
      } finally {
        await server.close();
      }
    });
  }
});
