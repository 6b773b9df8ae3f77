import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { chain, drive, rerun, setup, state } from "../../../test/support/batch-lane-fixtures.ts";
import { ModelError } from "../../base/errors/errors.ts";
import type { BatchFormat } from "../../models/batch-provider.ts";
import { MemoryCallCache } from "../store/call-cache.ts";

describe("BatchLane rounds", () => {
  test("each step becomes one batch round; identical requests go in once; answers land in the cache", async () => {
    const s = await setup();
    const { results } = await drive(s, ["a", "b", "a"], 3);
    assert.deepEqual(results.get(0), ["echo a", "echo echo a!", "echo echo echo a!!"]);
    assert.deepEqual(results.get(2), results.get(0));
    assert.deepEqual(results.get(1), ["echo b", "echo echo b!", "echo echo echo b!!"]);
    assert.equal(s.api.creates, 3, "one batch per step");
    assert.equal(s.lane.roundsRun, 3);
    const rounds = (await state(s)).rounds;
    assert.deepEqual(
      rounds.map((r) => r.parts.map((p) => [p.file, p.lines, p.status, p.imported])),
      [[["round-1.jsonl", 2, "completed", true]], [["round-2.jsonl", 2, "completed", true]], [["round-3.jsonl", 2, "completed", true]]],
    );
    const line = JSON.parse(readFileSync(join(s.dir, "round-1.jsonl"), "utf8").split("\n")[0]!);
    assert.deepEqual(Object.keys(line), ["custom_id", "method", "url", "body"]);
    assert.equal(line.method, "POST");
    assert.equal(line.url, "/v1/chat/completions");
    assert.deepEqual(line.body, { model: "m", messages: [{ role: "user", content: "a" }], temperature: 0.7 });
    const cached = await s.cache.get(line.custom_id);
    assert.deepEqual(cached, {
      text: "echo a",
      finishReason: "stop",
      usage: { inputTokens: 4, outputTokens: 2 },
      latencyMs: 0,
      model: "m-2024",
    });
    assert.equal(s.cache.entries.get(line.custom_id)?.meta.endpoint, "openai-compatible:http://fake/v1#m");
  });

  test("a request the batch answered with an error fails its item with that error; the others go on", async () => {
    const s = await setup();
    const { results } = await drive(s, ["ok", "FAIL"], 2);
    assert.deepEqual(results.get(0), ["echo ok", "echo echo ok!"]);
    const error = results.get(1);
    assert.ok(error instanceof ModelError, String(error));
    assert.match(error.message, /batch request failed \(400\): refused/);
    assert.equal(s.api.creates, 2);
  });

  test("a line that fails transiently goes into the next round again, up to twice", async () => {
    const s = await setup();
    s.api.flakyTimes = 2;
    const { results } = await drive(s, ["FLAKY"], 1);
    assert.deepEqual(results.get(0), ["echo FLAKY"]);
    assert.equal(s.api.creates, 3);
    const t = await setup();
    t.api.flakyTimes = 3;
    const failed = (await drive(t, ["FLAKY"], 1)).results.get(0);
    assert.ok(failed instanceof ModelError && failed.kind === "server", String(failed));
    assert.equal(t.api.creates, 3);
  });

  test("a batch that fails as a whole stops with its reasons; the next run submits the round again", async () => {
    const s = await setup();
    s.api.failNext = "line 1: model_not_found: no such model";
    await assert.rejects(drive(s, ["a"], 1), /batch batch-\d+ \(round 1, round-1.jsonl\) failed: line 1: model_not_found/);
    const again = await rerun(s);
    const { results } = await drive(again, ["a"], 1);
    assert.deepEqual(results.get(0), ["echo a"]);
    assert.equal(s.api.creates, 2);
    assert.deepEqual(
      (await state(s)).rounds.map((r) => r.round),
      [1, 2],
    );
  });

  test("a file larger than the limits is split, one batch per part", async () => {
    const s = await setup({ maxLinesPerFile: 2 });
    const { results } = await drive(s, ["a", "b", "c"], 1);
    assert.equal(results.size, 3);
    assert.deepEqual(
      (await state(s)).rounds[0]!.parts.map((p) => [p.file, p.lines]),
      [
        ["round-1-1.jsonl", 2],
        ["round-1-2.jsonl", 1],
      ],
    );
    assert.equal(s.api.creates, 2);
  });
});

describe("BatchLane crash safety", () => {
  test("a batch submitted before a crash is polled again, not submitted again", async () => {
    const s = await setup();
    s.api.hold = true;
    const stop = new AbortController();
    const polling = drive(s, ["a", "b"], 2, stop.signal);
    while (s.api.creates === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    const { flushed } = await polling;
    assert.equal(flushed?.kind, "interrupted");
    const submitted = (await state(s)).rounds[0]!.parts[0]!;
    assert.equal(submitted.status, "in_progress");
    assert.ok(submitted.batchId);

    s.api.hold = false;
    const again = await rerun(s);
    const { results } = await drive(again, ["a", "b"], 2);
    assert.deepEqual(results.get(1), ["echo b", "echo echo b!"]);
    assert.equal(s.api.creates, 2, "round 1 once, round 2 once");
    assert.equal(s.api.uploads, 2);
    assert.deepEqual(
      (await state(s)).rounds.map((r) => [r.round, r.parts[0]!.batchId]),
      [
        [1, submitted.batchId],
        [2, (await state(s)).rounds[1]!.parts[0]!.batchId],
      ],
    );
  });

  test("a batch created whose id was never saved is found by its input file, not created twice", async () => {
    const s = await setup();
    s.api.loseNextCreate = true;
    await assert.rejects(drive(s, ["a"], 1), /connection reset/);
    const part = (await state(s)).rounds[0]!.parts[0]!;
    assert.equal(part.status, "uploaded");
    assert.equal(part.batchId, undefined);
    assert.equal(s.api.creates, 1);

    const again = await rerun(s);
    const { results } = await drive(again, ["a"], 1);
    assert.deepEqual(results.get(0), ["echo a"]);
    assert.equal(s.api.creates, 1, "the lost batch was found and used");
    assert.equal(s.api.uploads, 1, "the uploaded file was reused");
  });
});

describe("BatchLane offline", () => {
  test("writes the round's file and stops; a results file continues with the next round", async () => {
    const s = await setup({ offline: true });
    const first = await drive(s, ["a", "b"], 2);
    assert.equal(first.flushed?.kind, "offline");
    if (first.flushed?.kind !== "offline") return;
    assert.deepEqual(
      first.flushed.parts.map((p) => [p.file, p.results, p.model, p.lines]),
      [[join(s.dir, "round-1.jsonl"), join(s.dir, "round-1.results.jsonl"), "m", 2]],
    );
    assert.equal(s.api.uploads + s.api.creates, 0, "offline never submits");

    // Run it "with vLLM": a string error for b, an answer for a.
    const lines = readFileSync(join(s.dir, "round-1.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { custom_id: string; body: { messages: { content: string }[] } });
    const results = lines.map((l) =>
      l.body.messages[0]!.content === "a"
        ? {
            id: "vllm-1",
            custom_id: l.custom_id,
            response: {
              status_code: 200,
              request_id: "r",
              body: {
                model: "m",
                choices: [{ message: { content: "echo a" }, finish_reason: "stop" }],
                usage: { prompt_tokens: 1, completion_tokens: 1 },
              },
            },
            error: null,
          }
        : { id: "vllm-2", custom_id: l.custom_id, response: { status_code: 400, request_id: "r" }, error: "model crashed" },
    );
    const resultsFile = join(s.dir, "round-1.results.jsonl");
    writeFileSync(resultsFile, results.map((r) => JSON.stringify(r)).join("\n"));

    const again = await rerun(s, { offline: true, resultsFiles: [resultsFile] });
    const second = await drive(again, ["a", "b"], 2);
    assert.equal(second.flushed?.kind, "offline");
    assert.equal(second.flushed?.round, 2);
    const b = second.results.get(1);
    assert.ok(b instanceof ModelError && /model crashed/.test(b.message));
    assert.equal(readFileSync(join(s.dir, "round-2.jsonl"), "utf8").trim().split("\n").length, 1, "only a goes on");
    assert.deepEqual((await state(s)).rounds[0]!.parts[0]!.resultsFile, resultsFile);
  });

  test("a results file that answers none of the rounds' requests is refused", async () => {
    const s = await setup({ offline: true });
    await drive(s, ["a"], 1);
    const stray = join(s.dir, "stray.jsonl");
    writeFileSync(
      stray,
      JSON.stringify({
        custom_id: "not-ours",
        response: { status_code: 200, body: { choices: [{ message: { content: "x" } }] } },
        error: null,
      }),
    );
    const again = await rerun(s, { cache: new MemoryCallCache(), offline: true, resultsFiles: [stray] });
    await assert.rejects(again.lane.start(), /none of the 1 results answers a request/);
    await assert.rejects(
      (await rerun(s, { cache: new MemoryCallCache(), offline: true, resultsFiles: [join(s.dir, "missing.jsonl")] })).lane.start(),
      /does not exist/,
    );
  });

  test("re-running before the results come rewrites the same round", async () => {
    const s = await setup({ offline: true });
    await drive(s, ["a"], 1);
    const again = await rerun(s, { offline: true });
    const { flushed } = await drive(again, ["a"], 1);
    assert.equal(flushed?.round, 1);
    assert.equal((await state(s)).rounds.length, 1);
    assert.equal(existsSync(join(s.dir, "round-2.jsonl")), false);
  });
});

describe("BatchLane accounting", () => {
  test("an answer from this output's batches counts as paid once, on the pass that finishes; pending passes give it back", async () => {
    const s = await setup();
    await drive(s, ["a"], 2);
    // A later pass (as after a crash) over the same item: both answers are hits from the batches.
    const fresh = await rerun(s);
    await fresh.lane.start();
    const pending = fresh.lane.itemModels({ base: fresh.model });
    const first = await pending.models.base.generate({ messages: [{ role: "user", content: "a" }], sampling: { temperature: 0.7 } });
    assert.equal(first.cached, false, "paid: it came from a batch");
    pending.settle(false);

    const final = fresh.lane.itemModels({ base: fresh.model });
    const texts = await chain(final.models.base, "a", 2);
    assert.deepEqual(texts, ["echo a", "echo echo a!"]);
    final.settle(true);
    const other = fresh.lane.itemModels({ base: fresh.model });
    const again = await other.models.base.generate({ messages: [{ role: "user", content: "a" }], sampling: { temperature: 0.7 } });
    assert.equal(again.cached, true, "a second item sharing the request gets it from the cache");
  });
});

/**
 * A provider format unlike OpenAI's: `<key>\t<last message>` request lines, `<key>\t<answer>`
 * result lines (a `!` answer is an error). The lane must write, read back and import only through it.
 */
const TAB_FORMAT: BatchFormat = {
  maxLines: 1,
  maxBytes: 1024,
  requestLine: (key, body) => `${key}\t${(body.messages as { content: string }[]).at(-1)!.content}`,
  requestKeyOf: (line) => line.split("\t")[0],
  parseResults: (text) =>
    text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const [customId, answer] = line.split("\t") as [string, string];
        if (answer === "!") return { customId, ok: false, notRun: false, error: new ModelError("refused", { kind: "bad-request" }) };
        const result = {
          text: answer,
          finishReason: "stop" as const,
          usage: { inputTokens: 1, outputTokens: 1 },
          latencyMs: 0,
          model: "m",
        };
        return { customId, ok: true, result };
      }),
};

describe("BatchLane: the provider's batch format is injected", () => {
  test("request files, their limits, the keys read back and the results imported all go through the given format", async () => {
    const s = await setup({ offline: true, format: TAB_FORMAT });
    const first = await drive(s, ["a", "b"], 1);
    assert.equal(first.flushed?.kind, "offline");
    if (first.flushed?.kind !== "offline") return;
    assert.equal(first.flushed.parts.length, 2, "the format's maxLines (1) splits the round");
    const lines = first.flushed.parts.map((part) => readFileSync(part.file, "utf8").trim());
    assert.deepEqual(lines.map((line) => line.split("\t")[1]).sort(), ["a", "b"]);

    const resultsFile = join(s.dir, "answers.tsv");
    writeFileSync(resultsFile, lines.map((line) => `${line.split("\t")[0]}\t${line.endsWith("\tb") ? "!" : "tab answer"}`).join("\n"));
    const again = await rerun(s, { offline: true, format: TAB_FORMAT, resultsFiles: [resultsFile] });
    const second = await drive(again, ["a", "b"], 1);
    assert.equal(second.flushed, undefined, "nothing left to collect");
    assert.deepEqual(second.results.get(0), ["tab answer"]);
    assert.ok(second.results.get(1) instanceof ModelError);
    assert.ok((await state(s)).rounds[0]!.parts.every((part) => part.imported && part.resultsFile === resultsFile));
  });
});
