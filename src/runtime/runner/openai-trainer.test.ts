import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startFakeFineTuningServer } from "../../models/fake-server/fake-fine-tuning-api.ts";
import { openaiText } from "../../models/fake-server/fake-replies.ts";
import { OpenAIFineTuningApi } from "../../models/openai-fine-tuning.ts";
import type { TrainerState, TrainingProgress } from "../../models/trainer.ts";
import { OpenAITrainer } from "./openai-trainer.ts";

function memoryState(): TrainerState & { value?: Record<string, unknown> } {
  const state: TrainerState & { value?: Record<string, unknown> } = {
    load: async () => state.value,
    save: async (value) => void (state.value = structuredClone(value)),
  };
  return state;
}

function files(): { train: string; validation: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "spri-openai-trainer-"));
  const train = join(dir, "train.jsonl");
  const validation = join(dir, "train.valid.jsonl");
  writeFileSync(train, '{"messages":[]}\n{"messages":[]}\n');
  writeFileSync(validation, '{"messages":[]}\n');
  return { train, validation, dir };
}

test("openai trainer: uploads both files, creates the job on the base model, reports events, returns fine_tuned_model and its cost", async (t) => {
  const server = await startFakeFineTuningServer({
    answer: () => openaiText("base"),
    fineTuned: () => openaiText("tuned"),
    pollsRunning: 2,
  });
  t.after(() => server.close());
  const { train, validation, dir } = files();
  const trainer = new OpenAITrainer({ api: new OpenAIFineTuningApi({ baseURL: `${server.url}/v1` }), pollSeconds: 0, trainingPrice: 3 });
  const progress: TrainingProgress[] = [];
  const state = memoryState();
  const job = { name: "iter-1", baseModel: "gpt-4o-mini", train, validation, format: "openai.chat.weighted", outputDir: dir, seed: 3 };
  const outcome = await trainer.train(job, { state, progress: (e) => progress.push(e) });
  const [ftJob] = [...server.jobs.values()];
  assert.equal(server.files.size, 2);
  assert.equal(ftJob!.model, "gpt-4o-mini");
  assert.equal(ftJob!.validation_file !== null, true);
  assert.equal(ftJob!.seed, 3);
  assert.deepEqual(outcome, { status: "trained", model: ftJob!.fine_tuned_model, job: ftJob!.id, trainedTokens: 2000, costUsd: 0.006 });
  assert.ok(progress.some((e) => e.stage === "train" && e.step === 2 && e.totalSteps === 2));
  assert.ok(progress.some((e) => e.message === "The job has successfully completed"));

  // The saved state answers a re-run: no upload, no job, the same model.
  const before = server.log.length;
  const again = await trainer.train(job, { state });
  assert.deepEqual(again, outcome);
  assert.deepEqual(
    server.log.slice(before).filter((line) => line.startsWith("POST")),
    [],
  );
});

test("openai trainer: a crash after the job was created but before its id was saved finds that job instead of creating another", async (t) => {
  const server = await startFakeFineTuningServer({ answer: () => openaiText("base"), fineTuned: () => openaiText("tuned") });
  t.after(() => server.close());
  const { train, dir } = files();
  const api = new OpenAIFineTuningApi({ baseURL: `${server.url}/v1` });
  const state = memoryState();
  const job = { name: "iter-1", baseModel: "m", train, format: "openai.chat.weighted", outputDir: dir, seed: 0 };
  // The first process saved the upload and created the job, then died before saving the job id.
  const fileId = await api.uploadFile(train);
  const { sha256File } = await import("../../io/sha256-file.ts");
  state.value = { version: 1, trainingFile: { id: fileId, sha256: await sha256File(train) } };
  const first = await api.createJob({ model: "m", trainingFile: fileId });
  const outcome = await new OpenAITrainer({ api, pollSeconds: 0 }).train(job, { state });
  assert.equal(server.jobs.size, 1);
  assert.equal(server.files.size, 1);
  assert.equal(outcome.status === "trained" && outcome.job, first.id);
  assert.equal(outcome.status === "trained" && outcome.costUsd, undefined);
});
