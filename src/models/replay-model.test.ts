import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ModelError } from "../base/errors/errors.ts";
import { entriesFromReferenceRow, loadReplayFile, normalizeText, ReplayBook, ReplayModel } from "./replay-model.ts";

test("normalizeText drops chat-template tokens, the Prometheus wrapper, # and whitespace", () => {
  const llama3 =
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n### U<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  assert.equal(normalizeText(llama3), "SU");
  assert.equal(normalizeText("<s>[INST] S [/INST]</s> [INST] ## U [/INST]</s> "), "SU");
  assert.equal(normalizeText("User: rate this \n\nAssistant: "), "ratethis");
});

test("a request matches by its full text, else by its last user message; repeats come in recorded order", async () => {
  const book = new ReplayBook([
    { prompt: "<s>[INST] sys [/INST]</s> [INST] q [/INST]</s>", response: "first" },
    {
      prompt: [
        { role: "system", content: "sys" },
        { role: "user", content: "q" },
      ],
      response: "second",
    },
    { prompt: "bare user", response: "third" },
  ]);
  const model = new ReplayModel(book, "m");
  const ask = (messages: { role: "system" | "user"; content: string }[]) => model.generate({ messages });
  assert.equal(
    (
      await ask([
        { role: "system", content: "sys" },
        { role: "user", content: "q" },
      ])
    ).text,
    "first",
  );
  assert.equal(
    (
      await ask([
        { role: "system", content: "sys" },
        { role: "user", content: "q" },
      ])
    ).text,
    "second",
  );
  assert.equal(
    (
      await ask([
        { role: "system", content: "a system prompt that was not recorded" },
        { role: "user", content: "bare user" },
      ])
    ).text,
    "third",
  );
  await assert.rejects(ask([{ role: "user", content: "q" }]), (e: unknown) => e instanceof ModelError && e.kind === "not-found");
  assert.deepEqual([book.stats.answered, book.stats.unmatched], [3, 1]);
});

test("reference rows and call logs become recordings in call order", () => {
  const entries = entriesFromReferenceRow({
    principle_raw_prompt: "g",
    principle_raw: "p0",
    principles_critique_iter_1_prompt: "c1",
    principles_critique_iter_1: "[RESULT] 2",
    principle_refined_iter_1_prompt: "r1",
    principle_refined_iter_1: "p1",
    principles_critique_iter_2_prompt: "c2",
    principles_critique_iter_2: "[RESULT] 5",
    init_response_prompt: "i",
    init_response: "a0",
  });
  assert.deepEqual(
    entries.map((e) => e.response),
    ["p0", "[RESULT] 2", "p1", "[RESULT] 5", "a0"],
  );
  const file = join(mkdtempSync(join(tmpdir(), "spri-replay-")), "calls.jsonl");
  writeFileSync(
    file,
    `${JSON.stringify({ request: { input: "x" }, response: "y" })}\n\n${JSON.stringify({ request: { messages: [{ role: "user", content: "m" }] }, response: "n" })}\n`,
  );
  assert.deepEqual(
    loadReplayFile(file).map((e) => e.response),
    ["y", "n"],
  );
});
