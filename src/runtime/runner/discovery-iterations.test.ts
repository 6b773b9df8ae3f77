import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { formatStatus, iterFile } from "../../algorithms/discovery/iterations.ts";
import type { ConstitutionLike } from "../../algorithms/discovery/label-map.ts";
import { initIterations, readState, recordIteration, setIterationModel } from "./discovery-iterations.ts";

function dataset(n: number): { dir: string; input: string } {
  const dir = mkdtempSync(join(tmpdir(), "spri-iterations-"));
  const input = join(dir, "data.jsonl");
  writeFileSync(
    input,
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `prompt ${i}`, gold: `gold ${i}` })).join("\n") + "\n",
  );
  return { dir, input };
}

const ids = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { id: string }).id);
const readConstitution = (file: string) => JSON.parse(readFileSync(file, "utf8")) as ConstitutionLike;

test("init: disjoint, deterministic slices covering the dataset, in input order inside a slice", async () => {
  const { dir, input } = dataset(11);
  const state = await initIterations({ dir: join(dir, "a"), input, slices: 3, seed: "s" });
  assert.deepEqual(
    state.iterations.map((e) => e.slice.size),
    [4, 4, 3],
  );
  const slices = [1, 2, 3].map((t) => ids(iterFile(join(dir, "a"), t, "prompts")));
  const all = slices.flat();
  assert.equal(new Set(all).size, 11);
  for (const slice of slices)
    assert.deepEqual(
      slice,
      [...slice].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))),
    );
  // Same ids and seed, same split; another seed, another split.
  await initIterations({ dir: join(dir, "b"), input, slices: 3, seed: "s" });
  assert.deepEqual(
    [1, 2, 3].map((t) => ids(iterFile(join(dir, "b"), t, "prompts"))),
    slices,
  );
  await initIterations({ dir: join(dir, "c"), input, slices: 3, seed: "other" });
  assert.notDeepEqual(
    [1, 2, 3].map((t) => ids(iterFile(join(dir, "c"), t, "prompts"))),
    slices,
  );
  // An existing state is not overwritten without --force.
  await assert.rejects(initIterations({ dir: join(dir, "a"), input, slices: 2 }), InputError);
  const sized = await initIterations({ dir: join(dir, "d"), input, sizes: [6, 2] });
  assert.equal(sized.split.unused, 3);
});

test("record: discovery rate counts accepted principles that are not near-duplicates of earlier constitutions", async () => {
  const { dir, input } = dataset(8);
  const root = join(dir, "run");
  await initIterations({ dir: root, input, slices: 2, model: { baseModel: "m0", baseUrl: "http://m0/v1" } });
  setIterationModel(root, 2, { baseModel: "m1", baseUrl: "http://m1/v1" });

  const mined = (t: number, principles: (string | null)[]) =>
    writeFileSync(
      iterFile(root, t, "mined"),
      principles
        .map((z, i) =>
          JSON.stringify({
            id: `${t}-${i}`,
            accepted: z !== null,
            decision: z === null ? "no-gain" : "accepted",
            best: z === null ? null : { z, gain: 0.1 },
            candidates: [],
          }),
        )
        .join("\n") + "\n",
    );
  mined(1, ["Be specific: name the exact steps.", "be specific: name the exact steps.", "Cite sources for every claim.", null]);
  writeFileSync(
    iterFile(root, 1, "constitution"),
    JSON.stringify({
      principles: [{ id: "p0", text: "Be specific: name the exact steps.", size: 2, members: ["Cite sources for every claim."] }],
    }),
  );
  let state = await recordIteration(root, 1, { readConstitution });
  assert.deepEqual(
    (({ mined: m, accepted, uniquePrinciples, newPrinciples: fresh, discoveryRate, constitutionSize }) => ({
      m,
      accepted,
      uniquePrinciples,
      fresh,
      discoveryRate,
      constitutionSize,
    }))(state.iterations[0]!.stats!),
    { m: 4, accepted: 3, uniquePrinciples: 2, fresh: 2, discoveryRate: 0.5, constitutionSize: 1 },
  );

  // Iteration 2: one near-duplicate of a representative, one exact member, one new.
  mined(2, ["Be specific: name all the exact steps.", "Cite sources for every claim.", "Stay calm and kind in tone.", null]);
  writeFileSync(
    iterFile(root, 2, "constitution"),
    JSON.stringify({
      principles: [
        { id: "p0", text: "Stay calm and kind in tone.", size: 1 },
        { id: "p1", text: "x", size: 1 },
      ],
    }),
  );
  state = await recordIteration(root, 2, { readConstitution });
  assert.equal(state.iterations[1]!.stats!.newPrinciples, 1);
  assert.equal(state.iterations[1]!.stats!.discoveryRate, 0.25);
  assert.equal(state.iterations[1]!.stats!.constitutionSize, 2);

  const table = formatStatus(readState(root));
  assert.match(table, /^iter\s+prompts\s+model\s+mined\s+accepted\s+unique\s+new\s+discovery\s+constitution$/m);
  assert.match(table, /^1\s+4\s+m0 @ http:\/\/m0\/v1\s+4\s+3\s+2\s+2\s+0\.5000\s+1$/m);
  assert.match(table, /^2\s+4\s+m1 @ http:\/\/m1\/v1\s+4\s+3\s+3\s+1\s+0\.2500\s+2$/m);
  await assert.rejects(recordIteration(root, 3, { readConstitution }), InputError);
});

test("status: the next step in words", async () => {
  const { dir, input } = dataset(4);
  const root = join(dir, "run");
  await initIterations({ dir: root, input, slices: 2 });
  assert.match(formatStatus(readState(root)), /next: record the initial model/);
  setIterationModel(root, 1, { baseModel: "m0" });
  assert.match(formatStatus(readState(root)), /next: mine, cluster and record iteration 1/);
});
