import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type TestContext, test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { startFakeModelServer } from "../../models/fake-server/fake-model-server.ts";
import { openaiText } from "../../models/fake-server/fake-replies.ts";
import { fakeVllmLora } from "../../models/fake-server/fake-vllm-lora.ts";
import type { TrainerState } from "../../models/trainer.ts";
import {
  adapterName,
  CommandTrainer,
  fillTemplate,
  shellQuote,
  TrainingCommandError,
  TrainingInterruptedError,
} from "./command-trainer.ts";
import { bootId, newAttempt, startCommand, stillRuns, stopCommand, thisOrigin } from "./training-command.ts";
import { processAlive } from "../../base/util/process-alive.ts";

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

/** A fake vLLM that loads LoRA adapters, on port 0 and closed after the test, and a fresh directory. */
async function loraSetup(t: TestContext) {
  const vllm = fakeVllmLora(() => openaiText("base answer"));
  const server = await startFakeModelServer({ respond: vllm.respond });
  t.after(() => server.close());
  return { vllm, server, dir: mkdtempSync(join(tmpdir(), "spri-command-trainer-")) };
}

test("command trainer: runs the script on the exported file, hot-loads its adapter into vLLM and waits until it answers differently", async (t) => {
  const { vllm, server, dir } = await loraSetup(t);
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
  const name = adapterName({}, job);
  assert.match(name, /^spri-iter-1-[0-9a-f]{8}$/);
  assert.deepEqual(outcome, { status: "trained", model: name, baseUrl: `${server.url}/v1`, job: join(dir, "out") });
  assert.equal(vllm.adapters.get(name), join(dir, "out"));
  const load = server.requests.find((r) => r.path === "/v1/load_lora_adapter");
  assert.deepEqual(load?.body, { lora_name: name, lora_path: join(dir, "out") });
  const probe = server.requests.filter((r) => r.path === "/v1/chat/completions").at(-1);
  assert.equal((probe?.body as { model: string }).model, name);
  assert.equal(readFileSync(join(dir, "out", "answer.txt"), "utf8"), "tuned from base/m0 on 3 examples");

  // A re-run after the command finished does not train again; the adapter this job loaded is fine.
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
  const { server, dir } = await loraSetup(t);
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

/** A trainer of TRAIN_SCRIPT in `dir`, serving through vLLM at `url` as `name` (per job when `perJob`). */
function loraTrainer(dir: string, url: string, serve: { name?: string; perJob?: boolean } = {}): CommandTrainer {
  const script = join(dir, "train.cjs");
  writeFileSync(script, TRAIN_SCRIPT);
  return new CommandTrainer({
    command: `${JSON.stringify(process.execPath)} ${JSON.stringify(script)} {train} {output} {model}`,
    serve: { kind: "vllm-lora", baseUrl: url, ...serve },
    servePollSeconds: 0,
    output: quiet(),
  });
}

function loraJob(dir: string, name: string, examples: number) {
  const train = join(dir, `${name}.jsonl`);
  writeFileSync(train, '{"a":1}\n'.repeat(examples));
  return { name, baseModel: "m0", train, format: "trl", outputDir: join(dir, name, "model"), seed: 0 };
}

test("command trainer: a given adapter name is made per job when asked (the loop), so each iteration serves its own adapter", async (t) => {
  const { vllm, server, dir } = await loraSetup(t);
  const trainer = loraTrainer(dir, `${server.url}/v1`, { name: "X", perJob: true });
  const first = await trainer.train(loraJob(dir, "iter-1", 1), { state: memoryState() });
  const second = await trainer.train(loraJob(dir, "iter-2", 2), { state: memoryState() });
  assert.deepEqual([first.status === "trained" && first.model, second.status === "trained" && second.model], ["X-iter-1", "X-iter-2"]);
  assert.equal(vllm.adapters.get("X-iter-2"), join(dir, "iter-2", "model"));
});

test("command trainer: two runs' jobs of the same name get distinct default adapters on one vLLM", async (t) => {
  const { vllm, server } = await loraSetup(t);
  const runs = [1, 2].map(() => mkdtempSync(join(tmpdir(), "spri-command-trainer-")));
  const outcomes = [];
  for (const dir of runs)
    outcomes.push(await loraTrainer(dir, `${server.url}/v1`).train(loraJob(dir, "iter-1", 1), { state: memoryState() }));
  const models = outcomes.map((o) => (o.status === "trained" ? o.model : ""));
  assert.notEqual(models[0], models[1]);
  for (const [i, model] of models.entries()) {
    assert.match(model, /^spri-iter-1-[0-9a-f]{8}$/);
    assert.equal(vllm.adapters.get(model), join(runs[i]!, "iter-1", "model"));
  }
});

test("command trainer: an adapter name vLLM already has, not loaded by this job, is refused with the name and what to do", async (t) => {
  const { vllm, server, dir } = await loraSetup(t);
  mkdirSync(join(dir, "someone-else"));
  writeFileSync(join(dir, "someone-else", "answer.txt"), "another model");
  vllm.adapters.set("X", join(dir, "someone-else"));
  const trainer = loraTrainer(dir, `${server.url}/v1`, { name: "X" });
  await assert.rejects(
    trainer.train(loraJob(dir, "mstep", 1), { state: memoryState() }),
    (error: unknown) =>
      error instanceof Error &&
      /adapter X/.test(error.message) &&
      /already/.test(error.message) &&
      /--served-model/.test(String((error as { hint?: string }).hint)),
  );
  assert.equal(vllm.adapters.get("X"), join(dir, "someone-else"));
});

test("command trainer: a serve command's previous server (process group) is stopped before the next one starts", async (t) => {
  const server = await startFakeModelServer({ respond: () => openaiText("ok") });
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), "spri-command-trainer-"));
  const fifo = (name: string) => join(dir, `${name}.fifo`);
  for (const name of ["iter-1", "iter-2"]) execFileSync("mkfifo", [fifo(name)]);
  // The "server" of job <name> holds <name>.fifo open for writing: its reader ends once the group is gone.
  const hold = `require("node:fs").openSync(require("node:path").join(${JSON.stringify(dir)}, process.argv[1] + ".fifo"), "w"); setInterval(() => {}, 60000);`;
  const trainer = new CommandTrainer({
    command: `${JSON.stringify(process.execPath)} -e "require('node:fs').mkdirSync(process.argv[1], { recursive: true })" {output}`,
    serve: { kind: "command", command: `${JSON.stringify(process.execPath)} -e ${shellQuote(hold)} {name}`, baseUrl: `${server.url}/v1` },
    servePollSeconds: 0,
    output: quiet(),
  });
  // Each reader opens once its server has opened the fifo, and ends once that server's group is gone.
  const readers = ["iter-1", "iter-2"].map((name) => createReadStream(fifo(name)).resume());
  const [opened, ended] = [readers.map((r) => once(r, "open")), readers.map((r) => once(r, "end"))];
  t.after(() => trainer.stopServer());
  await trainer.train(loraJob(dir, "iter-1", 1), { state: memoryState() });
  await opened[0];
  await trainer.train(loraJob(dir, "iter-2", 1), { state: memoryState() });
  await ended[0];
  await opened[1];
  await trainer.stopServer();
  await ended[1];
});

test("command trainer: an attempt saved without its pid (spri killed right after starting it) is waited for, not run beside", async (t) => {
  const { server, dir } = await loraSetup(t);
  const job = loraJob(dir, "iter-1", 3);
  const [started, go] = ["started.fifo", "go.fifo"].map((f) => join(dir, f)) as [string, string];
  execFileSync("mkfifo", [started, go]);
  // Attempt 1, as a killed spri left it: started by the wrapper, saved without pid. It says it runs
  // (opens `started`), waits for `go`, then writes the adapter.
  const script = join(dir, "train.cjs");
  writeFileSync(script, TRAIN_SCRIPT);
  const first = `${JSON.stringify(process.execPath)} -e ${shellQuote(`require("node:fs").openSync(${JSON.stringify(started)}, "w"); require("node:fs").readFileSync(${JSON.stringify(go)});`)} && ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} ${shellQuote(job.train)} ${shellQuote(job.outputDir)} m0`;
  const attempt = newAttempt(dir, 1);
  const running = once(createReadStream(started).resume(), "open");
  startCommand(first, attempt).unref();
  await running;
  t.after(() => stopCommand({ ...attempt, pid: Number(readFileSync(`${attempt.exit}.pid`, "utf8")) }));
  const state = memoryState();
  await state.save({ version: 1, attempt });
  // A second attempt would fail: only the first one may finish the job.
  const trainer = new CommandTrainer({
    command: `${JSON.stringify(process.execPath)} -e "process.exit(7)"`,
    serve: { kind: "vllm-lora", baseUrl: `${server.url}/v1` },
    servePollSeconds: 0,
    pollSeconds: 0.01,
    output: quiet(),
  });
  const outcome = await trainer.train(job, {
    state,
    progress: (e) => {
      if (/still runs; waiting/.test(e.message)) writeFileSync(go, "go");
    },
  });
  assert.equal(outcome.status, "trained");
  assert.equal(((await state.load()) as { attempt: { n: number } }).attempt.n, 1);
  assert.equal(readFileSync(join(job.outputDir, "answer.txt"), "utf8"), "tuned from m0 on 3 examples");
});

test("command trainer: the serve URL's password never reaches the progress lines or the error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-command-trainer-"));
  const progress: string[] = [];
  const trainer = loraTrainer(dir, "http://user:secret@127.0.0.1:9/v1");
  const failed = await trainer
    .train(loraJob(dir, "iter-1", 1), { state: memoryState(), progress: (e) => progress.push(e.message) })
    .catch((e: unknown) => e);
  assert.ok(failed instanceof Error);
  assert.match(progress.join("\n"), /user:\[redacted\]@127\.0\.0\.1:9/);
  assert.doesNotMatch(`${progress.join("\n")}\n${failed.message}\n${JSON.stringify(failed)}`, /secret/);
});

test("training command: an attempt recorded in an earlier boot of the host is not running, whatever now holds its process group", async (t) => {
  // A live process group of our own stands for the process that took the number after a reboot.
  const holder = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });
  t.after(() => holder.kill("SIGKILL"));
  await once(holder, "spawn");
  const dir = mkdtempSync(join(tmpdir(), "spri-command-boot-"));
  const attempt = { ...newAttempt(dir, 1), pid: holder.pid! };
  assert.equal(stillRuns(attempt), true, "this boot: the group is alive");
  if (bootId() === undefined) return t.skip("no boot id on this system");
  assert.equal(stillRuns({ ...attempt, boot: "another boot" }), false);
});

test("command trainer: a server recorded in an earlier boot of the host is left alone; one recorded in this boot is stopped", async (t) => {
  // A live process group of our own stands for the process that took the number after a reboot.
  const holder = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });
  t.after(() => holder.kill("SIGKILL"));
  await once(holder, "spawn");
  const pgid = holder.pid!;
  const trainer = new CommandTrainer({
    command: "true",
    serve: { kind: "command", command: "true", baseUrl: "http://127.0.0.1:9/v1" },
    output: quiet(),
  });
  if (bootId() !== undefined) {
    await trainer.stopServer({ pid: pgid, ...thisOrigin(), boot: "another boot" });
    assert.equal(processAlive(-pgid), true, "a group recorded in another boot is not stopped");
  }
  const exited = once(holder, "exit");
  await trainer.stopServer({ pid: pgid, ...thisOrigin() });
  await exited;
  assert.equal(processAlive(-pgid), false);
});
