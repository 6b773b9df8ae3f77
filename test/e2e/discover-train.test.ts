import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startFakeFineTuningServer } from "../../src/models/fake-server/fake-fine-tuning-api.ts";
import { openaiText } from "../../src/models/fake-server/fake-replies.ts";
import { startFakeModelServer } from "../../src/models/fake-server/fake-model-server.ts";
import { fakeVllmLora } from "../../src/models/fake-server/fake-vllm-lora.ts";
import { runCli } from "../support/cli.ts";
import { adapterName } from "../../src/runtime/runner/command-trainer.ts";

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

/**
 * A "training command" that notes each start (with its pid) in `starts`, blocks on its first start
 * until the test closes the fifo `gate` (the test learns it runs when its own open of the fifo
 * returns), then writes an adapter that fake vLLM serves.
 */
const BLOCKING_TRAINER = `
const { appendFileSync, mkdirSync, readFileSync, writeFileSync } = require("node:fs");
const [starts, gate, output] = process.argv.slice(2);
appendFileSync(starts, "started " + process.pid + "\\n");
if (readFileSync(starts, "utf8").trim().split("\\n").length === 1) readFileSync(gate);
mkdirSync(output, { recursive: true });
writeFileSync(output + "/answer.txt", "tuned answer");
`;

async function commandTrainerSetup(t: { after: (fn: () => unknown) => void }) {
  const vllm = fakeVllmLora(() => openaiText("base answer"));
  const server = await startFakeModelServer({ respond: vllm.respond });
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), "spri-discover-train-command-"));
  const script = join(dir, "train.cjs");
  writeFileSync(script, BLOCKING_TRAINER);
  const starts = join(dir, "starts.txt");
  const gate = join(dir, "gate.fifo");
  execFileSync("mkfifo", [gate]);
  // The script waits on the gate only on its first start; opening the gate for writing returns once it reads.
  const gateOpened = open(gate, "w");
  t.after(async () => (await gateOpened).close());
  const args = [
    ...["discover", "train", "--input", minedFile(dir), "--trainer", "command", "--base-model", "m0"],
    ...["--dir", join(dir, "iter-1"), "--name", "iter-1", "--store", join(dir, "runs.db"), "--poll-interval", "0.05"],
    ...[
      "--command",
      `${JSON.stringify(process.execPath)} ${JSON.stringify(script)} ${JSON.stringify(starts)} ${JSON.stringify(gate)} {output}`,
    ],
    ...["--serve", "vllm-lora", "--serve-url", `${server.url}/v1`],
  ];
  const startsOf = () =>
    readFileSync(starts, "utf8")
      .trim()
      .split("\n")
      .map((line) => Number(line.split(" ")[1]));
  const loads = () => server.requests.filter((r) => r.path === "/v1/load_lora_adapter").length;
  return { dir, args, gateOpened, startsOf, loads, vllm };
}

test("discover train --trainer command: killed with -9 while the command trains, the re-run waits for that command and hot-loads its adapter once", async (t) => {
  const { dir, args, gateOpened, startsOf, loads, vllm } = await commandTrainerSetup(t);
  const killed = await runCli(args, { cwd: dir, signal: { name: "SIGKILL", when: gateOpened } });
  assert.equal(killed.code, null);
  assert.equal(startsOf().length, 1);

  // The re-run finds the command still running: it waits (the gate opens once it says so), then serves.
  let saidWaiting = () => {};
  const waiting = new Promise<void>((resolve) => (saidWaiting = resolve));
  const rerun = runCli(args, { cwd: dir, onStderr: (text) => /still runs/.test(text) && saidWaiting() });
  await Promise.race([waiting, rerun]);
  await (await gateOpened).close();
  const result = await rerun;
  assert.match(result.stderr, /still runs/);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /trained spri-iter-1-[0-9a-f]{8} at http/);
  assert.equal(startsOf().length, 1, "the command ran once");
  assert.equal(loads(), 1, "the adapter was loaded once");
  const adapter = adapterName({}, { name: "iter-1", outputDir: join(dir, "iter-1", "model") });
  assert.equal(vllm.adapters.get(adapter), join(dir, "iter-1", "model"));

  const again = await runCli([...args, "--json"], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).model, adapter);
  assert.deepEqual([startsOf().length, loads()], [1, 1]);
});

test("discover train --trainer command: killed with -9 together with its command, the re-run runs the command again from the start", async (t) => {
  const { dir, args, gateOpened, startsOf, loads } = await commandTrainerSetup(t);
  const killed = await runCli(args, { cwd: dir, signal: { name: "SIGKILL", when: gateOpened } });
  assert.equal(killed.code, null);
  process.kill(startsOf()[0]!, "SIGKILL");

  const result = await runCli(args, { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /started earlier .*(ended with|no longer runs)/);
  assert.match(result.stderr, /trained spri-iter-1-[0-9a-f]{8} at http/);
  assert.equal(startsOf().length, 2, "started again once");
  assert.equal(loads(), 1);
});
