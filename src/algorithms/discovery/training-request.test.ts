import assert from "node:assert/strict";
import { test } from "node:test";
import { SUGGESTED_HPARAMS, trainingRequest, trlConfigYaml } from "./training-request.ts";

const summary = { output: "/runs/iter-1/sft.jsonl", format: "trl" as const, exported: 2, sha256: "ab12" };

test("trainingRequest: paths relative to the request, a TRL config beside it named by the request", () => {
  const files = trainingRequest({
    request: { file: "/runs/iter-1/mstep.request.json", baseModel: "base/model", iter: 1, seed: 7 },
    summary,
    trainFormat: "trl.conversational.prompt_completion",
    constitutionFile: "/runs/iter-1/constitution.json",
  });
  const { body } = files.request;
  assert.equal(files.request.file, "/runs/iter-1/mstep.request.json");
  assert.deepEqual(body.train, [{ file: "sft.jsonl", format: "trl.conversational.prompt_completion", n: 2, sha256: "ab12" }]);
  assert.equal(body.constitution, "constitution.json");
  assert.equal(body.lossOn, "completion");
  assert.equal(body.seed, 7);
  assert.equal(body.suggestedHparams, SUGGESTED_HPARAMS);
  assert.equal(body.trlConfig, "mstep.request.json.trl.yaml");
  assert.equal(body.exampleCommand, "trl sft --config mstep.request.json.trl.yaml");
  assert.equal(files.trlConfig?.file, "/runs/iter-1/mstep.request.json.trl.yaml");
  assert.equal(
    files.trlConfig?.text,
    trlConfigYaml({ model: "base/model", data: [{ file: "sft.jsonl", fileType: "jsonl" }], seed: 7, outputDir: "out/mstep-iter1" }),
  );
});

test("trainingRequest: the openai format trains on weighted messages and gets no TRL config", () => {
  const files = trainingRequest({
    request: { file: "/runs/req.json", baseModel: "m" },
    summary: { ...summary, format: "openai" },
    trainFormat: "openai.chat.weighted",
  });
  assert.equal(files.trlConfig, undefined);
  assert.equal(files.request.body.lossOn, "weighted-messages");
  assert.equal(files.request.body.iter, null);
  assert.equal(files.request.body.constitution, null);
  assert.equal(files.request.body.train[0]!.file, "iter-1/sft.jsonl");
});

test("trlConfigYaml writes floats PyYAML reads as floats", () => {
  assert.equal(trlConfigYaml({ model: "m", data: [{ file: "d.jsonl", fileType: "jsonl" }] }).includes("learning_rate: 1.0e-5"), true);
});

test("trainingRequest: a Parquet export gets a TRL config that loads it as Parquet, not JSON", () => {
  const files = trainingRequest({
    request: { file: "/runs/iter-1/mstep.request.json", baseModel: "m", iter: 1 },
    summary: { ...summary, output: "/runs/iter-1/sft.parquet", fileType: "parquet" },
    trainFormat: "trl.conversational.prompt_completion",
  });
  const yaml = files.trlConfig!.text;
  assert.match(yaml, /^ {2}- path: parquet$/m);
  assert.doesNotMatch(yaml, /path: json/);
  assert.match(yaml, /^ {4}data_files: "sft.parquet"$/m);
});

test("trainingRequest: --restart-from-base trains the initial model on every iteration's data, not only this one's", () => {
  const files = trainingRequest({
    request: {
      file: "/runs/iter-2/mstep.request.json",
      baseModel: "base/M0",
      iter: 2,
      restartFromBase: true,
      previous: [
        { file: "/runs/iter-1/sft.jsonl", format: "trl.conversational.prompt_completion", n: 5, sha256: "cd34", fileType: "jsonl" },
      ],
    },
    summary: { ...summary, output: "/runs/iter-2/sft.jsonl", fileType: "jsonl" },
    trainFormat: "trl.conversational.prompt_completion",
  });
  const { body } = files.request;
  assert.equal(body.restartFromBase, true);
  assert.deepEqual(body.initFrom, { model: "base/M0" });
  assert.deepEqual(
    body.train.map((t) => [t.file, t.n]),
    [
      ["../iter-1/sft.jsonl", 5],
      ["sft.jsonl", 2],
    ],
  );
  const yaml = files.trlConfig!.text;
  assert.match(yaml, /^model_name_or_path: "base\/M0"$/m);
  assert.match(yaml, /data_files: "\.\.\/iter-1\/sft\.jsonl"/);
  assert.match(yaml, /data_files: "sft\.jsonl"/);
});
