/**
 * Samples and the call cache, end to end against a real local server whose answers vary as a model's
 * do above temperature 0: items that ask the same question are separate draws, `--samples N` runs
 * the algorithm N times per item, each (item, sample) lands exactly once (also when workers do the
 * items), and re-running pays nothing. At temperature 0 identical requests share one answer.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openStore } from "../../src/runtime/store/open-store.ts";
import { runCli } from "../support/cli.ts";
import { type FakeModelServer, startFakeModelServer } from "../../src/test.ts";
import { CALLS_PER_ITEM, scriptedBackend } from "../support/scripted-backend.ts";
import { until } from "../support/shared-run.ts";

type Record = { [field: string]: unknown };

function readRecords(path: string): Record[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record);
}

describe("samples: each draw is its own, also with the cache on", () => {
  let server: FakeModelServer;
  let dir: string;
  let model: string[];
  before(async () => {
    server = await startFakeModelServer(scriptedBackend({ vary: true }));
    dir = mkdtempSync(join(tmpdir(), "spri-samples-"));
    model = ["--base-url", `${server.url}/v1`, "--base-model", "m", "--critic-model", "c"];
  });
  after(async () => server.close());

  /** `n` items asking one question of the file's own (the backend scores a question's first principles lower). */
  const sameQuestion = (name: string, n: number): string => {
    const input = join(dir, name);
    writeFileSync(
      input,
      `${Array.from({ length: n }, () => JSON.stringify({ prompt: `How do I tell my team I need a break (${name})?` })).join("\n")}\n`,
    );
    return input;
  };

  test("20 items asking the same question at temperature 0.7 get 20 different responses; a second run finds them all in the cache", async () => {
    const input = sameQuestion("same.jsonl", 20);
    const output = join(dir, "same-out.jsonl");
    const result = await runCli(["run", "--input", input, "--output", output, "--temperature", "0.7", ...model], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const finals = readRecords(output).map((r) => r.response_final);
    assert.equal(finals.length, 20);
    assert.equal(new Set(finals).size, 20, `distinct responses: ${new Set(finals).size}`);

    const served = server.requests.length;
    const again = await runCli(["run", "--input", input, "--output", join(dir, "same-again.jsonl"), "--temperature", "0.7", ...model], {
      cwd: dir,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(server.requests.length, served, "every item found its own answers");
    assert.deepEqual(
      readRecords(join(dir, "same-again.jsonl"))
        .map((r) => r.response_final)
        .sort(),
      [...finals].sort(),
    );
  });

  test("at temperature 0 identical requests share one answer", async () => {
    const input = sameQuestion("greedy.jsonl", 3);
    const output = join(dir, "greedy-out.jsonl");
    const served = server.requests.length;
    const result = await runCli(["run", "--input", input, "--output", output, "--temperature", "0", ...model], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(new Set(readRecords(output).map((r) => r.response_final)).size, 1);
    assert.equal(server.requests.length - served, CALLS_PER_ITEM, "one item's calls, shared by all three");
  });

  test("--samples 3: three records per item with spri_sample, each once; a re-run pays nothing", async () => {
    const input = join(dir, "two.jsonl");
    writeFileSync(input, `${JSON.stringify({ id: "a", prompt: "Question a?" })}\n${JSON.stringify({ id: "b", prompt: "Question b?" })}\n`);
    const output = join(dir, "two-out.jsonl");
    const args = ["run", "--input", input, "--output", output, "--samples", "3", "--json", ...model];
    const served = server.requests.length;
    const result = await runCli(args, { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const records = readRecords(output);
    assert.deepEqual(records.map((r) => `${String(r.id)}/${String(r.spri_sample)}`).sort(), ["a/0", "a/1", "a/2", "b/0", "b/1", "b/2"]);
    assert.equal(new Set(records.map((r) => r.response_final)).size, 6);
    // The backend accepts a question's principles at once after its first critique: samples 1 and 2 skip a refinement round.
    const calls = 2 * (CALLS_PER_ITEM + 2 * (CALLS_PER_ITEM - 2));
    assert.equal(server.requests.length - served, calls);

    const again = await runCli(args, { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { skipped: number }).skipped, 6);
    assert.equal(server.requests.length - served, calls, "a finished run re-run makes no calls");
    assert.equal(readRecords(output).length, 6);

    const estimate = await runCli(
      ["run", "--input", input, "--output", join(dir, "two-estimate.jsonl"), "--samples", "3", "--dry-run", "--json", ...model],
      { cwd: dir },
    );
    assert.equal(estimate.code, 0, estimate.stderr);
    assert.equal((JSON.parse(estimate.stdout) as { items: number }).items, 6, "the estimate counts every (item, sample)");
  });

  test("align --samples 2 --json: one record per sample, each its own draw", async () => {
    const result = await runCli(["align", "How do I ask for a raise?", "--samples", "2", "--json", ...model], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as { samples: { record: Record; calls: unknown[] }[] };
    assert.deepEqual(
      out.samples.map((s) => s.record.spri_sample),
      [0, 1],
    );
    assert.notEqual(out.samples[0]!.record.response_final, out.samples[1]!.record.response_final);
    assert.ok(out.samples.every((s) => s.calls.length > 0));
  });

  test("--samples 0 is refused before any call, naming the flag", async () => {
    const served = server.requests.length;
    const result = await runCli(["align", "q", "--samples", "0", ...model], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--samples must be a whole number of runs per item, at least 1/);
    assert.equal(server.requests.length, served);
  });

  test("--samples with a worker doing the items: each (item, sample) once, exported once", async () => {
    const input = join(dir, "shared.jsonl");
    writeFileSync(input, `${["x", "y", "z"].map((id) => JSON.stringify({ id, prompt: `Shared question ${id}?` })).join("\n")}\n`);
    const output = join(dir, "shared-out.jsonl");
    const db = join(dir, "shared.db");
    const store = await openStore(db);
    try {
      const run = runCli(["run", "--input", input, "--output", output, "--store", db, "--no-work", "--samples", "2", ...model], {
        cwd: dir,
      });
      await until(async () => (await store.listRuns())[0]?.inputComplete === true, "the run to be enqueued");
      const worker = await runCli(["worker", "--store", db, "--drain"], { cwd: dir });
      assert.equal(worker.code, 0, worker.stderr);
      const enqueued = await run;
      assert.equal(enqueued.code, 0, enqueued.stderr);
      const records = readRecords(output);
      assert.deepEqual(records.map((r) => `${String(r.id)}/${String(r.spri_sample)}`).sort(), ["x/0", "x/1", "y/0", "y/1", "z/0", "z/1"]);
      const exported = await runCli(
        ["export", "--input", output, "--format", "messages", "--output", join(dir, "shared-train.jsonl"), "--no-card"],
        { cwd: dir },
      );
      assert.equal(exported.code, 0, exported.stderr);
      assert.equal(readRecords(join(dir, "shared-train.jsonl")).length, 6);
    } finally {
      await store.close();
    }
  });
});
