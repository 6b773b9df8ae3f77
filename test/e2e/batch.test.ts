/**
 * `spri run --batch` end to end, against a local fake of the OpenAI Files and Batches APIs whose
 * batch lines are answered by the scripted SPRI backend (6 calls per item): one batch round per
 * step, nothing sent outside batches, the same records as an online run, nothing submitted twice
 * after a re-run or a kill -9 while polling (the lane's state is in the run store, no state file);
 * and the offline path (`--batch-offline`, results of `vllm run-batch` imported with `--batch-results`).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LANE_ARTIFACT, type LaneState } from "../../src/runtime/runner/batch-state.ts";
import { openStore } from "../../src/runtime/store/open-store.ts";
import type { RunStore } from "../../src/runtime/store/run-store.ts";
import { type FakeBatchServer, startFakeBatchServer, startFakeModelServer } from "../../src/test.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";
import { CALLS_PER_ITEM, scriptedBackend } from "../support/scripted-backend.ts";

const ITEMS = 10;

function workdir(name: string): { dir: string; input: string; output: string } {
  const dir = mkdtempSync(join(tmpdir(), `spri-batch-${name}-`));
  const input = join(dir, "items.jsonl");
  writeFileSync(
    input,
    Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `Question number ${i}?` })).join("\n") + "\n",
  );
  return { dir, input, output: join(dir, "out.jsonl") };
}

function readJsonl(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The lane's state as the run store in `dir` holds it: the only run's `batch-lane` artifact. */
async function laneState(store: RunStore): Promise<LaneState | undefined> {
  const run = (await store.listRuns())[0];
  return run ? ((await store.getArtifact(run.id, LANE_ARTIFACT)) as LaneState | undefined) : undefined;
}

/** `laneState` of the default store of a command run in `dir` (`spri.db`). */
async function storedLaneState(dir: string): Promise<LaneState | undefined> {
  const store = await openStore(join(dir, "spri.db"));
  try {
    return await laneState(store);
  } finally {
    await store.close();
  }
}

/** The lane keeps no state beside its request files (older versions wrote a state.json). */
function assertNoStateFile(output: string): void {
  assert.deepEqual(
    readdirSync(`${output}.batch`).filter((name) => name.startsWith("state")),
    [],
  );
}

function batchArgs(server: { url: string }, input: string, output: string, extra: string[] = []): string[] {
  return [
    "run",
    "--input",
    input,
    "--output",
    output,
    "--base-url",
    `${server.url}/v1`,
    "--base-model",
    "m",
    "--critic-model",
    "c",
    "--batch",
    "--batch-poll",
    "0.02",
    ...extra,
  ];
}

function withoutUsage(record: Record<string, unknown>): Record<string, unknown> {
  const { spri_usage: _usage, ...rest } = record;
  return rest;
}

describe("spri run --batch against a fake Batch API", () => {
  let server: FakeBatchServer;
  before(async () => {
    server = await startFakeBatchServer({ answer: scriptedBackend(), pollsInProgress: 1 });
  });
  after(async () => server.close());

  test("one batch round per step, nothing outside batches, the records of an online run; a re-run submits nothing", async () => {
    const { dir, input, output } = workdir("online");
    const result = await runCli([...batchArgs(server, input, output), "--json"], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as {
      outcome: string;
      done: number;
      batch: { rounds: number };
      spend: { calls: number; cacheHits: number; inputTokens: number };
    };
    assert.equal(summary.outcome, "completed");
    assert.equal(summary.done, ITEMS);
    assert.equal(summary.batch.rounds, CALLS_PER_ITEM);
    assert.equal(summary.spend.calls, ITEMS * CALLS_PER_ITEM);
    assert.equal(summary.spend.cacheHits, 0, "batch answers are paid calls, not cache hits");

    const records = readJsonl(output);
    assert.deepEqual(records.map((r) => r.id).sort(), Array.from({ length: ITEMS }, (_, i) => `q${i}`).sort(), "every item once");
    for (const r of records)
      assert.deepEqual(r.spri_usage, { calls: 6, cached_calls: 0, input_tokens: 60, output_tokens: 30, cost_usd: null });
    assert.equal(server.batches.size, CALLS_PER_ITEM, "rounds = the most calls an item makes");
    assert.equal(server.chatCompletions, 0, "no call outside a batch");
    for (const batch of server.batches.values()) {
      assert.equal(batch.endpoint, "/v1/chat/completions");
      assert.equal(batch.completion_window, "24h");
      assert.equal(batch.request_counts.total, ITEMS);
    }
    const state = (await storedLaneState(dir))!;
    assertNoStateFile(output);
    assert.deepEqual(
      state.rounds.map((r) => [r.round, r.parts.length, r.parts[0]!.status, r.parts[0]!.imported]),
      Array.from({ length: 6 }, (_, i) => [i + 1, 1, "completed", true]),
    );

    // The same items online, against the same scripted backend, give the same records.
    const online = await startFakeModelServer(scriptedBackend());
    try {
      const onlineDir = join(dir, "online");
      mkdirSync(onlineDir);
      const onlineOutput = join(onlineDir, "out.jsonl");
      const direct = await runCli(
        ["run", "--input", input, "--output", onlineOutput, "--base-url", `${online.url}/v1`, "--base-model", "m", "--critic-model", "c"],
        { cwd: onlineDir },
      );
      assert.equal(direct.code, 0, direct.stderr);
      const byId = new Map(readJsonl(onlineOutput).map((r) => [r.id, withoutUsage(r)]));
      for (const r of records) assert.deepEqual(withoutUsage(r), byId.get(r.id), `item ${String(r.id)}`);
    } finally {
      await online.close();
    }

    const uploads = server.files.size;
    const rerun = await runCli([...batchArgs(server, input, output), "--json"], { cwd: dir });
    assert.equal(rerun.code, 0, rerun.stderr);
    const again = JSON.parse(rerun.stdout) as { done: number; skipped: number; batch: { rounds: number } };
    assert.deepEqual([again.done, again.skipped, again.batch.rounds], [0, ITEMS, 0]);
    assert.equal(server.batches.size, CALLS_PER_ITEM, "no new batch");
    assert.equal(server.files.size, uploads, "no new upload");
    assert.equal(readJsonl(output).length, ITEMS);
  });

  test("kill -9 while a round's batch is polled: the re-run polls the same batch and submits it never again", async () => {
    const fresh = await startFakeBatchServer({ answer: scriptedBackend(), pollsInProgress: 1 });
    try {
      const { dir, input, output } = workdir("kill");
      fresh.holdFrom = 3;
      const args = batchArgs(fresh, input, output);
      const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "spri.js"), ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: "ignore",
      });
      const exited = new Promise((resolve) => child.on("exit", resolve));
      const deadline = Date.now() + 20_000;
      const db = join(dir, "spri.db");
      while (!existsSync(db)) {
        if (child.exitCode !== null) throw new Error("the run ended before it made its store");
        if (Date.now() > deadline) throw new Error("the run never made its store");
        await new Promise((r) => setTimeout(r, 10));
      }
      // The test reads the lane's state from the store while the run writes it (SQLite in WAL mode).
      const store = await openStore(db);
      try {
        let held: string | undefined;
        while (!held) {
          if (child.exitCode !== null) throw new Error("the run ended before it could be killed");
          if (Date.now() > deadline) throw new Error("round 3 was never submitted");
          const part = (await laneState(store))?.rounds.find((r) => r.round === 3)?.parts[0];
          if (part?.batchId && fresh.batches.get(part.batchId)?.status === "in_progress") held = part.batchId;
          else await new Promise((r) => setTimeout(r, 10));
        }
        child.kill("SIGKILL");
        await exited;
        assert.equal(fresh.batches.size, 3);
        assert.equal(readJsonl(output).length, 0);
        assertNoStateFile(output);

        fresh.holdFrom = undefined;
        const result = await runCli(args, { cwd: dir });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, new RegExp(`resuming 1 batch\\(es\\) submitted earlier: ${held} \\(round 3\\)`));
        assert.equal(fresh.batches.size, CALLS_PER_ITEM, "round 3 was not submitted again");
        const round3 = (await laneState(store))!.rounds.find((r) => r.round === 3)!.parts[0]!;
        assert.deepEqual([round3.batchId, round3.status, round3.imported], [held, "completed", true]);
        assertNoStateFile(output);
      } finally {
        await store.close();
      }
      const ids = readJsonl(output).map((r) => r.id);
      assert.equal(ids.length, ITEMS);
      assert.equal(new Set(ids).size, ITEMS);
      assert.equal(fresh.chatCompletions, 0);
    } finally {
      await fresh.close();
    }
  });

  test("--batch needs OpenAI-compatible models and the cache", async () => {
    const { dir, input, output } = workdir("config");
    const anthropic = await runCli(["run", "--input", input, "--output", output, "--base-model", "claude-haiku-4-5", "--batch"], {
      cwd: dir,
      env: { ANTHROPIC_API_KEY: "sk-ant-test-0000000000" },
    });
    assert.equal(anthropic.code, 2, anthropic.stderr);
    assert.match(anthropic.stderr, /--batch works with OpenAI-compatible models only/);
    const noCache = await runCli([...batchArgs(server, input, output), "--no-cache"], { cwd: dir });
    assert.equal(noCache.code, 2, noCache.stderr);
    assert.match(noCache.stderr, /--batch needs the call cache/);
    assert.equal(existsSync(`${output}.partial`), false, "nothing written");
  });
});

describe("spri run --batch-offline (files for vllm run-batch)", () => {
  test("writes round-1.jsonl in the OpenAI batch format; --batch-results continues round by round to the end", async () => {
    const { dir, input, output } = workdir("offline");
    const args = [
      "run",
      "--input",
      input,
      "--output",
      output,
      "--base-url",
      "http://127.0.0.1:9/v1",
      "--base-model",
      "m",
      "--critic-model",
      "c",
      "--batch-offline",
    ];
    const first = await runCli(args, { cwd: dir });
    assert.equal(first.code, 4, first.stderr);
    const roundFile = join(`${output}.batch`, "round-1.jsonl");
    const resultsFile = join(`${output}.batch`, "round-1.results.jsonl");
    assert.ok(first.stderr.includes(`vllm run-batch -i ${roundFile} -o ${resultsFile} --model m`), first.stderr);
    assert.ok(first.stderr.includes(`--batch-offline --batch-results ${resultsFile}`), first.stderr);

    const lines = readJsonl(roundFile);
    assert.equal(lines.length, ITEMS);
    for (const line of lines) {
      assert.deepEqual(Object.keys(line).sort(), ["body", "custom_id", "method", "url"]);
      assert.match(String(line.custom_id), /^[0-9a-f]{64}$/);
      assert.equal(line.method, "POST");
      assert.equal(line.url, "/v1/chat/completions");
      const body = line.body as Record<string, unknown>;
      assert.equal(body.model, "m");
      // The paper's default top_k is not sent: only a --top-k the user sets goes to a server.
      assert.deepEqual(Object.keys(body).sort(), ["max_tokens", "messages", "model", "temperature", "top_p"]);
      assert.deepEqual([body.temperature, body.top_p, body.max_tokens], [0.7, 0.95, 2048]);
      assert.ok(Array.isArray(body.messages) && body.messages.length > 0);
    }
    assert.equal(new Set(lines.map((l) => l.custom_id)).size, ITEMS);

    // Play vllm run-batch: answer every line with the scripted backend, in vLLM's output format;
    // the first round answers q3 with an error.
    const answer = scriptedBackend();
    let round = 1;
    let last = first;
    for (; last.code === 4 && round <= 10; round++) {
      const requests = readJsonl(join(`${output}.batch`, `round-${round}.jsonl`));
      const results: string[] = [];
      for (const request of requests) {
        const body = request.body as { messages: { content: string }[] };
        if (round === 1 && body.messages.some((m) => m.content.includes("Question number 3?"))) {
          results.push(
            JSON.stringify({
              id: "vllm-x",
              custom_id: request.custom_id,
              response: { status_code: 400, request_id: "vllm-batch-x", body: null },
              error: "model crashed",
            }),
          );
          continue;
        }
        const reply = await answer({ method: "POST", path: "/v1/chat/completions", headers: {}, body, rawBody: "" });
        assert.equal(reply.kind, "json");
        results.push(
          JSON.stringify({
            id: `vllm-${round}`,
            custom_id: request.custom_id,
            response: { status_code: 200, request_id: `vllm-batch-${round}`, body: reply.kind === "json" ? reply.body : null },
            error: null,
          }),
        );
      }
      const file = join(`${output}.batch`, `round-${round}.results.jsonl`);
      writeFileSync(file, `${results.join("\n")}\n`);
      last = await runCli([...args, "--batch-results", file], { cwd: dir });
      if (round === 1) {
        assert.equal(last.code, 4, last.stderr);
        const rejects = readJsonl(`${output}.rejects.jsonl`);
        assert.deepEqual(
          rejects.map((r) => r.id),
          ["q3"],
        );
        assert.match(String(rejects[0]!.reason), /batch request failed \(400\): model crashed/);
      }
    }
    assert.equal(last.code, 0, last.stderr);
    // q3's first answer (round 1) failed it in the second command, and the third command asked again
    // (round 3): it ends two rounds after the others.
    assert.equal(round - 1, CALLS_PER_ITEM + 2);
    const ids = readJsonl(output).map((r) => r.id);
    assert.equal(ids.length, ITEMS);
    assert.equal(new Set(ids).size, ITEMS);
    assert.deepEqual(readJsonl(`${output}.rejects.jsonl`), []);
    assertNoStateFile(output);
    const rounds = (await storedLaneState(dir))!.rounds;
    assert.equal(rounds.length, CALLS_PER_ITEM + 2);
    assert.ok(
      rounds.every((r) => r.parts.every((p) => p.imported && p.resultsFile === join(`${output}.batch`, `round-${r.round}.results.jsonl`))),
      "every round imported from its results file",
    );
  });
});
