import assert from "node:assert/strict";
import { test } from "node:test";
import { type Critique, refineUntilAccepted } from "./refine-loop.ts";

function scripted(scores: (number | null)[]) {
  const seen: string[] = [];
  return {
    seen,
    steps: {
      critique: async (text: string, k: number): Promise<Critique> => {
        seen.push(`critique ${k}: ${text}`);
        return { text: `c${k}`, score: scores[k - 1] ?? null, feedback: `fb${k}`, messages: [] };
      },
      refine: async (text: string, feedback: string, k: number) => {
        seen.push(`refine ${k}: ${text} / ${feedback}`);
        return { text: `v${k}`, running: ` v${k} `, messages: [] };
      },
    },
  };
}

const limits = { threshold: 4, maxCritiques: 4 };

test("stops as soon as the score reaches τ", async () => {
  const { steps, seen } = scripted([2, 4]);
  const outcome = await refineUntilAccepted("v0", steps, limits);
  assert.equal(outcome.stop, "accepted");
  assert.equal(outcome.iterations.length, 2);
  assert.equal(outcome.final, " v1 ");
  assert.deepEqual(seen, ["critique 1: v0", "refine 1: v0 / fb1", "critique 2:  v1 "]);
});

test("at most n_max critiques and n_max - 1 refinements; the last version is final, not the best", async () => {
  const { steps } = scripted([3, 1, 1, 2]);
  const outcome = await refineUntilAccepted("v0", steps, limits);
  assert.equal(outcome.stop, "max-critiques");
  assert.equal(outcome.iterations.length, 4);
  assert.equal(outcome.iterations.filter((it) => it.refinement).length, 3);
  assert.equal(outcome.final, " v3 ");
});

test("an unscored critique ends the loop and keeps the text", async () => {
  const { steps } = scripted([2, null]);
  const outcome = await refineUntilAccepted("v0", steps, limits);
  assert.equal(outcome.stop, "unscored");
  assert.equal(outcome.iterations.length, 2);
  assert.equal(outcome.iterations[1]!.refinement, undefined);
  assert.equal(outcome.final, " v1 ");
});

test("τ = 5 and n_max = 1 are respected", async () => {
  const outcome = await refineUntilAccepted("v0", scripted([4]).steps, { threshold: 5, maxCritiques: 1 });
  assert.equal(outcome.stop, "max-critiques");
  assert.equal(outcome.final, "v0");
});
