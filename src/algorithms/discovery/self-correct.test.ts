import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import type { GenerateRequest } from "../../models/language-model.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { DISCOVERY_PROMPTS } from "../../io/prompts/builtin-discovery.ts";
import { DEFAULT_SELF_CORRECT_SAMPLING, parseSelection, selfCorrect, selfCorrectAlgorithm, shownPrinciples } from "./self-correct.ts";

const CONSTITUTION = {
  principles: [
    { id: "c0", text: "Be concrete: give exact steps.", size: 3 },
    { id: "c1", text: "Be safe: warn about risks.", size: 5 },
    { id: "c2", text: "Be brief: cut filler.", size: 1 },
  ],
};
const context = { itemId: "x" };
const text = (r: GenerateRequest) => r.messages.map((m) => m.content).join("\n");

function model(selection: string): ScriptedModel {
  return new ScriptedModel({
    rules: [
      { when: "Pick the one principle above", reply: selection },
      { when: "List at most 5 concrete ways", reply: "No warning about the hot water." },
      { when: "Rewrite the response so it follows", reply: "Careful: the water is hot. Steep for two minutes." },
      { when: () => true, reply: "Steep for two minutes." },
    ],
  });
}

const options = { mode: "constitution" as const, constitution: CONSTITUTION, sampling: DEFAULT_SELF_CORRECT_SAMPLING };

test("constitution mode: picks a principle, revises when the model says so, records which and whether", async () => {
  const m = model("Principle: 2\nRevise: yes");
  const { fields, calls } = await selfCorrect({ id: "x", question: "How do I make tea?", row: {} }, m, options, context);
  assert.equal(fields.init_response, "Steep for two minutes.");
  assert.equal(fields.response_final, "Careful: the water is hot. Steep for two minutes.");
  assert.equal(fields.self_correct_applied, true);
  assert.equal(fields.self_correct_principle_id, "c1");
  assert.equal(fields.self_correct_principle, "Be safe: warn about risks.");
  assert.equal(fields.self_correct_critique, "No warning about the hot water.");
  assert.deepEqual(
    calls.map((c) => c.step),
    ["self-correct.answer", "self-correct.select", "self-correct.critique", "self-correct.refine"],
  );
  const select = m.requests.find((r) => text(r).includes("Pick the one principle"))!;
  assert.match(text(select), /1\. Be concrete: give exact steps\.\n2\. Be safe: warn about risks\.\n3\. Be brief: cut filler\./);
  assert.equal(select.sampling!.temperature, 0);
});

test("constitution mode: no revision, none relevant, out of range, unreadable", async () => {
  const run = (answer: string) => selfCorrect({ id: "x", question: "q", row: {} }, model(answer), options, context);
  const follows = await run("Principle: 1\nRevise: no");
  assert.deepEqual(
    [follows.fields.self_correct_applied, follows.fields.self_correct_principle_id, follows.fields.response_final],
    [false, "c0", "Steep for two minutes."],
  );
  assert.match(follows.fields.self_correct_reason, /already follows/);
  assert.equal(follows.calls.length, 2);
  const none = await run("Principle: none\nRevise: no");
  assert.deepEqual([none.fields.self_correct_applied, none.fields.self_correct_principle_id], [false, null]);
  assert.match(none.fields.self_correct_reason, /no principle is relevant/);
  assert.match((await run("Principle: 9\nRevise: yes")).fields.self_correct_reason, /not among the 3 shown/);
  assert.match((await run("I cannot decide.")).fields.self_correct_reason, /could not read a principle/);
});

test("constitution mode: an existing response is used instead of answering", async () => {
  const m = model("Principle: 3\nRevise: yes");
  const { fields, calls } = await selfCorrect(
    { id: "x", question: "q", row: { answer: "A long rambling answer." } },
    m,
    { ...options, responseField: "answer" },
    context,
  );
  assert.equal(fields.init_response, "A long rambling answer.");
  assert.equal(calls[0]!.step, "self-correct.select");
  await assert.rejects(selfCorrect({ id: "x", question: "q", row: {} }, m, { ...options, responseField: "answer" }, context), InputError);
});

test("trained mode: the SFT trigger after y1; the revised block is the final response, else y1 stands", async () => {
  const trained = new ScriptedModel({
    rules: [
      {
        when: (r) => r.messages.length === 3,
        reply: "[Principle] Be safe: warn about risks.\n[Critique] No warning.\n[Revised response]\nCareful, it is hot.",
      },
      { when: () => true, reply: "Steep it." },
    ],
  });
  const { fields } = await selfCorrect(
    { id: "x", question: "q", row: {} },
    trained,
    { mode: "trained", sampling: DEFAULT_SELF_CORRECT_SAMPLING },
    context,
  );
  assert.deepEqual(trained.requests[1]!.messages, [
    { role: "user", content: "q" },
    { role: "assistant", content: "Steep it." },
    { role: "user", content: DISCOVERY_PROMPTS.selfCorrectTrigger },
  ]);
  assert.deepEqual(
    [fields.self_correct_applied, fields.self_correct_principle, fields.self_correct_critique, fields.response_final],
    [true, "Be safe: warn about risks.", "No warning.", "Careful, it is hot."],
  );

  const content = new ScriptedModel({ fallback: () => "My answer is good as it is." });
  const kept = await selfCorrect(
    { id: "x", question: "q", row: {} },
    content,
    { mode: "trained", sampling: DEFAULT_SELF_CORRECT_SAMPLING },
    context,
  );
  assert.deepEqual([kept.fields.self_correct_applied, kept.fields.response_final], [false, "My answer is good as it is."]);
});

test("parseSelection and shownPrinciples", () => {
  assert.deepEqual(parseSelection("Principle: 2\nRevise: yes"), { index: 2, revise: true });
  assert.deepEqual(parseSelection("**Principle:** 3\n**Revise:** No"), { index: 3, revise: false });
  assert.deepEqual(parseSelection("Principle: none"), { index: null, revise: null });
  // The largest clusters, kept in file order.
  assert.deepEqual(
    shownPrinciples(CONSTITUTION, 2).map((p) => p.id),
    ["c0", "c1"],
  );
  assert.equal(shownPrinciples(CONSTITUTION).length, 3);
  assert.throws(() => selfCorrectAlgorithm({ ...options, constitution: { principles: [] } }), InputError);
  assert.equal(selfCorrectAlgorithm(options).name, "discovery/self-correct-constitution");
});

test("a constitution file is read as SPRI seeds: one `### Principles:` block per principle, in file order", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { formatFewShot, loadSeeds } = await import("../../presets/tasks/seeds.ts");
  const dir = mkdtempSync(join(tmpdir(), "spri-constitution-seeds-"));
  const file = join(dir, "constitution.json");
  const constitution = {
    format: "spri-constitution",
    version: 1,
    principles: CONSTITUTION.principles.map((p) => ({ ...p, members: [] })),
    source: {},
  };
  writeFileSync(file, JSON.stringify(constitution, null, 2));
  const seeds = loadSeeds(file);
  assert.equal(seeds.kind, "constitution");
  assert.deepEqual(
    seeds.seeds.map((s) => s.principle),
    CONSTITUTION.principles.map((p) => p.text),
  );
  assert.equal(
    formatFewShot(seeds.kind, seeds.seeds),
    "### Principles: Be concrete: give exact steps.\n\n### Principles: Be safe: warn about risks.\n\n### Principles: Be brief: cut filler.\n\n",
  );
  writeFileSync(file, JSON.stringify({ ...constitution, principles: [] }));
  assert.throws(() => loadSeeds(file), InputError);
  writeFileSync(file, JSON.stringify({ ...constitution, version: 2 }));
  assert.throws(() => loadSeeds(file), /spri-constitution v1/);
  // Ordinary one-line JSONL seeds still load as before.
  writeFileSync(file, JSON.stringify({ question: "q", principle: "p" }));
  assert.equal(loadSeeds(file).kind, "principle");
});
