import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Embedder } from "../../algorithms/discovery/embeddings.ts";
import { InputError } from "../../base/errors/errors.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { CLUSTER_TASK, companionPath, runDiscoverCluster } from "./discover-cluster.ts";

/** Vectors by theme: brevity on one axis, sources on another. */
const AXES: Record<string, number[]> = { concise: [1, 0], short: [1, 0.05], sources: [0, 1], references: [0.05, 1] };
const embedder: Embedder = {
  source: "file",
  model: "themes",
  async embed(items) {
    const vectors = items.map((item) => {
      const theme = Object.keys(AXES).find((word) => item.text.toLowerCase().includes(word))!;
      return Float32Array.from(AXES[theme]!);
    });
    return { vectors, dimension: 2, usage: { inputTokens: 0, outputTokens: 0 }, model: "themes" };
  },
};

function input(rows: unknown[]): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "spri-discover-cluster-"));
  const file = join(dir, "trajectories.jsonl");
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
  return { dir, file };
}

const trajectory = (id: string, z: string | null) => ({ id, best: z === null ? null : { z } });

test("runDiscoverCluster: constitution, Markdown and a labelled copy of trajectories; the run recorded in the store", async () => {
  const { dir, file } = input([
    trajectory("t1", "Be concise."),
    trajectory("t2", "Keep it short."),
    trajectory("t3", "Cite sources."),
    trajectory("t4", "Give references."),
    trajectory("t5", null),
  ]);
  const output = join(dir, "constitution.json");
  const store = new SqliteStore(join(dir, "spri.db"));
  try {
    const summary = await runDiscoverCluster({ input: file, output, embedder, store });
    assert.deepEqual(
      { rows: summary.rows, with: summary.rowsWithPrinciples, trajectories: summary.trajectories, clusters: summary.clusters },
      { rows: 5, with: 4, trajectories: 5, clusters: 2 },
    );
    assert.equal(summary.markdown, companionPath(output, ".md"));
    assert.equal(summary.labelled, join(dir, "constitution.labelled.jsonl"));
    assert.ok(existsSync(summary.markdown!));
    const labelled = readFileSync(summary.labelled!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(labelled.length, 5);
    assert.equal(labelled[0]!.clusterId, labelled[1]!.clusterId);
    assert.notEqual(labelled[0]!.clusterId, labelled[2]!.clusterId);
    assert.equal(labelled[4]!.clusterId, undefined);
    const run = (await store.listRuns()).find((r) => r.id === summary.runId)!;
    assert.equal(run.task, CLUSTER_TASK);
    assert.equal(run.status, "completed");
    const artifact = (await store.getArtifact(run.id, "constitution")) as { map: unknown[] };
    assert.equal(artifact.map.length, 4);

    // The same command again (as a resumed loop's cluster stage runs it) is the same run.
    const again = await runDiscoverCluster({ input: file, output, embedder, store });
    assert.equal(again.runId, summary.runId);
    assert.equal((await store.listRuns()).filter((r) => r.task === CLUSTER_TASK).length, 1);
  } finally {
    await store.close();
  }
});

test("runDiscoverCluster: no principles is an input error naming the fields looked for", async () => {
  const { dir, file } = input([{ id: 1, text: "no principle here" }]);
  await assert.rejects(
    runDiscoverCluster({ input: file, output: join(dir, "c.json"), embedder }),
    (error: unknown) => error instanceof InputError && /principle, best\.z, z/.test(error.hint ?? ""),
  );
});

test("runDiscoverCluster: without a threshold or a count the count is chosen by silhouette and recorded", async () => {
  const { dir, file } = input([
    trajectory("t1", "Be concise."),
    trajectory("t2", "Keep it short."),
    trajectory("t3", "Cite sources."),
    trajectory("t4", "Give references."),
  ]);
  const output = join(dir, "constitution.json");
  const summary = await runDiscoverCluster({ input: file, output, embedder, markdown: false });
  assert.equal(summary.clusters, 2);
  assert.equal(summary.threshold, undefined);
  assert.deepEqual(
    { ...summary.clusterCount, silhouette: undefined },
    {
      criterion: "silhouette",
      metric: "cosine",
      min: 2,
      max: 3,
      chosen: 2,
      silhouette: undefined,
    },
  );
  const constitution = JSON.parse(readFileSync(output, "utf8")) as { source: { clustering: Record<string, unknown> } };
  assert.equal(constitution.source.clustering.clusters, "auto");
  assert.deepEqual(
    (constitution.source.clustering.silhouetteByK as { k: number }[]).map((s) => s.k),
    [2, 3],
  );
  // A threshold given by the user is kept as the cut.
  const fixed = await runDiscoverCluster({ input: file, output, embedder, markdown: false, threshold: 0.001 });
  assert.equal(fixed.clusters, 4);
  assert.equal(fixed.clusterCount, undefined);
});
