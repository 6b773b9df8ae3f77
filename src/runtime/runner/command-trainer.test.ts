import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { startFakeModelServer } from "../../models/fake-server/fake-model-server.ts";
import { openaiText } from "../../models/fake-server/fake-replies.ts";
import { fakeVllmLora } from "../../models/fake-server/fake-vllm-lora.ts";
import type { TrainerState } from "../../models/trainer.ts";
import { CommandTrainer, fillTemplate, TrainingCommandError, TrainingInterruptedError } from "./command-trainer.ts";
import { newAttempt } from "./training-command.ts";

/** A "trainer": counts the training lines and writes an adapter that says so. */
const TRAIN_SCRIPT = `
const { mkdirSync, readFileSync, writeFileSync } = require("node:fs");
const [train, output, model] = process.argv.slice(2);
const n = readFileSync(train, "utf8").trim().split("\\n").length;
mkdirSync(output, { recursive: true });
writeFileSync(output + "/answer.txt", "tuned from " + model + " on " + n + " examples");
`;

function memoryState(): TrainerState {
  let value: Record<string, unknown> | undefined;
  return { load: async () => value, save: async (next) => void (value = next) };
}

const quiet = () => new Writable({ write: (_chunk, _encoding, done) => done() });

test("command trainer: runs the script on the exported file, hot-loads its adapter into vLLM and waits until it answers differently", async (t) => {
  const vllm = fakeVllmLora(() => openaiText("base answer"));
  const server = await startFakeModelServer({ respond: vllm.respond });
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), "spri-command-trainer-"));
  const script = join(dir, "train.cjs");
  writeFileSync(script, TRAIN_SCRIPT);
  const train = join(dir, "sft dir's.jsonl");
  writeFileSync(train, '{"a":1}\n{"a":2}\n{"a":3}\n');
  const trainer = new CommandTrainer({
    command: `${JSON.stringify(process.execPath)} ${JSON.stringify(script)} {train} {output} {model}`,
    serve: { kind: "vllm-lora", baseUrl: `${server.url}/v1` },
    servePollSeconds: 0,
    output: quiet(),
  });
  const state = memoryState();
  const job = { name: "iter-1", baseModel: "base/m0", train, format: "trl", outputDir: join(dir, "out"), seed: 0 };
  const outcome = await trainer.train(job, { state });
  assert.deepEqual(outcome, { status: "trained", model: "spri-iter-1", baseUrl: `${server.url}/v1`, job: join(dir, "out") });
  assert.equal(vllm.adapters.get("spri-iter-1"), join(dir, "out"));
  const load = server.requests.find((r) => r.path === "/v1/load_lora_adapter");
  assert.deepEqual(load?.body, { lora_name: "spri-iter-1", lora_path: join(dir, "out") });
  const probe = server.requests.filter((r) => r.path === "/v1/chat/completions").at(-1);
  assert.equal((probe?.body as { model: string }).model, "spri-iter-1");
  assert.equal(readFileSync(join(dir, "out", "answer.txt"), "utf8"), "tuned from base/m0 on 3 examples");

  // A re-run after the command finished does not train again; the adapter already loaded is fine.
  writeFileSync(script, "process.exit(9)");
  assert.deepEqual(await trainer.train(job, { state }), outcome);
});

test("command trainer: a failing command is a TrainingCommandError with its exit code; unknown placeholders are refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-command-trainer-"));
  const trainer = new CommandTrainer({
    command: `${JSON.stringify(process.execPath)} -e "process.exit(3)"`,
    serve: { kind: "vllm-lora", baseUrl: "http://127.0.0.1:9/v1" },
    output: quiet(),
  });
  const job = { name: "x", baseModel: "m", train: join(dir, "t.jsonl"), format: "trl", outputDir: join(dir, "out"), seed: 0 };
  await assert.rejects(
    trainer.train(job, { state: memoryState() }),
    (error: unknown) => error instanceof TrainingCommandError && /code 3/.test(error.message),
  );
  assert.throws(
    () => fillTemplate("train {data}", { train: "", validation: "", output: "", model: "", name: "", format: "" }),
    ConfigError,
  );
  assert.equal(
    fillTemplate("t {train} {validation}", { train: "a'b c", validation: "", output: "", model: "", name: "", format: "" }),
    `t 'a'\\''b c' ''`,
  );
});

test("command trainer: an earlier attempt gone without an exit status (killed with its process group) is run again as a new attempt", async (t) => {
  const vllm = fakeVllmLora(() => openaiText("base answer"));
  const server = await startFakeModelServer({ respond: vllm.respond });
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), "spri-command-trainer-"));
  const script = join(dir, "train.cjs");
  writeFileSync(script, TRAIN_SCRIPT);
  const train = join(dir, "train.jsonl");
  writeFileSync(train, '{"a":1}\n');
  // A process that has ended: its pid names no process group any more.
  const gone = spawn(process.execPath, ["-e", ""]);
  await once(gone, "exit");
  const state = memoryState();
  await state.save({ version: 1, attempt: { ...newAttempt(dir, 1), pid: gone.pid } });
  const progress: string[] = [];
  const trainer = new CommandTrainer({
    command: `${JSON.stringify(process.execPath)} ${JSON.stringify(script)} {train} {output} {model}`,
    serve: { kind: "vllm-lora", baseUrl: `${server.url}/v1` },
    servePollSeconds: 0,
    pollSeconds: 0.01,
    output: quiet(),
  });
  const job = { name: "iter-1", baseModel: "m0", train, format: "trl", outputDir: join(dir, "out"), seed: 0 };
  const outcome = await trainer.train(job, { state, progress: (e) => progress.push(e.message) });
  assert.equal(outcome.status, "trained");
  assert.match(progress.join("\n"), /started earlier .* no longer runs and left no exit status; running it again/);
  const saved = (await state.load()) as { trained: boolean; attempt: { n: number; exit: string } };
  assert.deepEqual([saved.trained, saved.attempt.n], [true, 2]);
  assert.equal(readFileSync(saved.attempt.exit, "utf8"), "0");
});

test("command trainer: an abort stops the command's whole process group and says so", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-command-trainer-"));
  // The command (under the wrapper's shells) holds a fifo open for writing for a minute: the test's
  // reader sees the end of it once every process of the group is gone.
  const fifo = join(dir, "held.fifo");
  execFileSync("mkfifo", [fifo]);
  const script = `require("node:fs").openSync(${JSON.stringify(fifo)}, "w"); setTimeout(() => {}, 60000);`;
  const trainer = new CommandTrainer({
    command: `${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}`,
    serve: { kind: "vllm-lora", baseUrl: "http://127.0.0.1:9/v1" },
    output: quiet(),
  });
  const controller = new AbortController();
  const job = { name: "x", baseModel: "m", train: join(dir, "t.jsonl"), format: "trl", outputDir: join(dir, "out"), seed: 0 };
  const training = trainer.train(job, { state: memoryState(), signal: controller.signal });
  const held = createReadStream(fifo);
  held.once("open", () => controller.abort());
  const ended = once(held.resume(), "end");
  await assert.rejects(training, TrainingInterruptedError);
  await ended;
});
