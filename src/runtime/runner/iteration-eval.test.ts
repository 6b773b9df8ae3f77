import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { iterDir, iterFile } from "../../algorithms/discovery/iterations.ts";
import { InputError } from "../../base/errors/errors.ts";
import { initIterations, readState } from "./discovery-iterations.ts";
import { prepareEvalInput, recordIterationEval } from "./iteration-eval.ts";

const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
const readJsonl = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function setUp(): Promise<{ dir: string; heldout: string }> {
  const root = mkdtempSync(join(tmpdir(), "spri-iteration-eval-"));
  const data = join(root, "data.jsonl");
  writeFileSync(data, jsonl(Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, prompt: `p${i}`, gold: `g${i}` }))));
  const dir = join(root, "run");
  await initIterations({ dir, input: data, slices: 3 });
  const heldout = join(root, "heldout.jsonl");
  // The second row has no id: its line number stands in, and is written into the joined input.
  writeFileSync(
    heldout,
    jsonl([
      { id: "h1", prompt: "hp1", gold: "hg1" },
      { prompt: "hp2", gold: "hg2" },
    ]),
  );
  return { dir, heldout };
}

/** An evaluation output as the runner writes it (finish order, input fields kept). */
function writeEval(dir: string, iter: number, rows: Record<string, unknown>[]): void {
  mkdirSync(iterDir(dir, iter), { recursive: true });
  writeFileSync(iterFile(dir, iter, "eval"), jsonl(rows));
}

test("prepareEvalInput: iteration 1 has no baselines; later ones join the previous and the base answers by id", async () => {
  const { dir, heldout } = await setUp();
  const first = await prepareEvalInput(dir, 1, heldout);
  assert.deepEqual(first, { file: iterFile(dir, 1, "evalInput"), items: 2, withPrevious: 0, withBase: 0 });
  assert.deepEqual(readJsonl(first.file), [
    { id: "h1", prompt: "hp1", gold: "hg1" },
    { prompt: "hp2", gold: "hg2", id: "2" },
  ]);

  // Iteration 2 before iteration 1 was evaluated: an error that says what to run.
  await assert.rejects(prepareEvalInput(dir, 2, heldout), (e: InputError) => /iterate eval --dir .* --iter 1/.test(e.hint ?? ""));

  writeEval(dir, 1, [
    { id: "2", prompt: "hp2", eval_answer: "base answer 2" },
    { id: "h1", prompt: "hp1", eval_answer: "base answer 1" },
  ]);
  writeEval(dir, 2, [{ id: "h1", prompt: "hp1", eval_answer: "m1 answer 1" }]);
  const third = await prepareEvalInput(dir, 3, heldout);
  assert.deepEqual({ ...third, file: undefined }, { file: undefined, items: 2, withPrevious: 1, withBase: 2 });
  assert.deepEqual(
    readJsonl(third.file).map((r) => [r.id, r.eval_previous_answer ?? null, r.eval_base_answer]),
    [
      ["h1", "m1 answer 1", "base answer 1"],
      ["2", null, "base answer 2"],
    ],
  );
});

test("recordIterationEval: the summary of the evaluation records lands in the state, beside the mining statistics", async () => {
  const { dir, heldout } = await setUp();
  writeEval(dir, 2, [
    { id: "a", eval_answer: "x", eval_rougeL: { f1: 0.5 }, eval_vs_previous: { preference: 1, baseline: "y" }, eval_vs_base: null },
    { id: "b", eval_answer: "x", eval_rougeL: { f1: 0.3 }, eval_vs_previous: { preference: 0.5, baseline: "y" }, eval_vs_base: null },
  ]);
  const state = await recordIterationEval(dir, 2, { heldout });
  const stored = readState(dir).iterations[1]!.eval!;
  assert.deepEqual(state.iterations[1]!.eval, stored);
  assert.equal(stored.n, 2);
  assert.equal(stored.rougeL, 0.4);
  assert.equal(stored.vsPrevious!.winRate, 75);
  assert.equal(stored.vsBase, null);
  assert.equal(stored.heldout, heldout);
});
