import assert from "node:assert/strict";
import { test } from "node:test";
import { makeTrainer } from "./train.ts";

test("discover train: the manual trainer's next steps name the store without its password", async () => {
  const trainer = makeTrainer({ trainer: "manual" } as Parameters<typeof makeTrainer>[0], "postgres://spri:secret@db.example/runs");
  const job = { name: "mstep", baseModel: "m0", train: "/tmp/t.jsonl", format: "trl", outputDir: "/tmp/model", seed: 0 };
  const outcome = await trainer.train(job, { state: { load: async () => undefined, save: async () => undefined } });
  assert.equal(outcome.status, "waiting");
  const steps = outcome.status === "waiting" ? outcome.nextSteps.join("\n") : "";
  assert.match(steps, /--store postgres:\/\/spri:\[redacted\]@db\.example\/runs/);
  assert.doesNotMatch(steps, /secret/);
});
