import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startFakeFineTuningServer } from "../../src/models/fake-server/fake-fine-tuning-api.ts";
import { openaiText } from "../../src/models/fake-server/fake-replies.ts";
import { runCli } from "../support/cli.ts";

function minedFile(dir: string): string {
  const file = join(dir, "mined.jsonl");
  const record = (i: number) => ({
    id: `q${i}`,
    prompt: `question ${i}`,
    y1: `first ${i}`,
    accepted: true,
    best: { z: `Principle ${i}.`, critique: "c", y2: `refined ${i}` },
  });
  writeFileSync(file, Array.from({ length: 30 }, (_, i) => JSON.stringify(record(i))).join("\n") + "\n");
  return file;
}

test("discover train --trainer openai: killed with -9 while the job runs, the re-run follows the same job without uploading again, and the fine-tuned model answers differently", async (t) => {
  const server = await startFakeFineTuningServer({
    answer: () => openaiText("base answer"),
    fineTuned: () => openaiText("fine-tuned answer"),
  });
  t.after(() => server.close());
  server.hold = true;
  const dir = mkdtempSync(join(tmpdir(), "spri-discover-train-"));
  const args = [
    "discover",
    "train",
    "--input",
    minedFile(dir),
    "--trainer",
    "openai",
    "--base-model",
    "gpt-4o-mini",
    "--dir",
    join(dir, "iter-1"),
    "--name",
    "iter-1",
    "--store",
    join(dir, "runs.db"),
    "--fine-tuning-url",
    `${server.url}/v1`,
    "--training-price",
    "3",
    "--poll-interval",
    "0.01",
    "--json",
  ];
  const env = { OPENAI_API_KEY: "sk-secret-key" };
  const killed = await runCli(args, { env, cwd: dir, signal: { name: "SIGKILL", when: once(server.events, "job-created") } });
  assert.equal(killed.code, null);
  assert.equal(server.jobs.size, 1);
  const uploads = server.log.filter((line) => line === "POST /v1/files").length;
  assert.equal(uploads, 2, "training and validation files");

  server.hold = false;
  const rerun = await runCli(args, { env, cwd: dir });
  assert.equal(rerun.code, 0, rerun.stderr);
  const [job] = [...server.jobs.values()];
  const outcome = JSON.parse(rerun.stdout) as { status: string; model: string; job: string; costUsd: number };
  assert.equal(outcome.status, "trained");
  assert.equal(outcome.job, job!.id);
  assert.equal(outcome.model, job!.fine_tuned_model);
  assert.ok(outcome.costUsd > 0);
  assert.equal(server.jobs.size, 1, "no second job");
  assert.equal(server.log.filter((line) => line === "POST /v1/files").length, uploads, "no second upload");
  assert.doesNotMatch(rerun.stderr + rerun.stdout, /sk-secret-key/);

  const ask = async (model: string) => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    return ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
  };
  assert.equal(await ask("gpt-4o-mini"), "base answer");
  assert.equal(await ask(outcome.model), "fine-tuned answer");

  // Finished: the same command answers from the store, training nothing.
  const before = server.log.length;
  const third = await runCli(args, { env, cwd: dir });
  assert.equal(JSON.parse(third.stdout).model, outcome.model);
  assert.equal(server.log.length, before);
});

test("discover train --trainer manual prints the next steps; discover resume --model completes the run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-discover-manual-"));
  const store = join(dir, "runs.db");
  const args = [
    "discover",
    "train",
    "--input",
    minedFile(dir),
    "--trainer",
    "manual",
    "--base-model",
    "m0",
    "--dir",
    join(dir, "iter-1"),
    "--store",
    store,
  ];
  const waiting = await runCli(args, { cwd: dir });
  assert.equal(waiting.code, 0, waiting.stderr);
  assert.match(waiting.stderr, /trl sft --config .*mstep\.request\.json\.trl\.yaml/);
  assert.match(waiting.stderr, new RegExp(`spri discover resume --store ${store.replace(/[.]/g, "\\.")} --model <served model id>`));
  const resumed = await runCli(["discover", "resume", "--model", "m1", "--base-url", "http://127.0.0.1:1/v1", "--store", store, "--json"], {
    cwd: dir,
  });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).model, "m1");
  const again = await runCli([...args, "--json"], { cwd: dir });
  assert.deepEqual(JSON.parse(again.stdout).model, "m1");
});
