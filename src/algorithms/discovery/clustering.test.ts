import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { agnes } from "ml-hclust";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { clusterPrinciples, clusterVectors, labelReplacer } from "./clustering.ts";
import type { Linkage } from "./linkage.ts";
import { PrincipleSet } from "./principle-set.ts";
import { gaussian, seededRandom } from "../../base/util/random.ts";

// ---- synthetic data ---------------------------------------------------------------------------

/** `groups` random unit centres in `d` dimensions, `perGroup` points each at noise `sigma`; labels are group numbers. */
function plantedGroups(groups: number, perGroup: number, d: number, sigma: number, seed: number): { vectors: number[][]; truth: number[] } {
  const random = seededRandom(seed);
  const centres = Array.from({ length: groups }, () => Array.from({ length: d }, () => gaussian(random)));
  const vectors: number[][] = [];
  const truth: number[] = [];
  for (let p = 0; p < perGroup; p++) {
    for (let g = 0; g < groups; g++) {
      const c = centres[g]!;
      const norm = Math.hypot(...c);
      vectors.push(c.map((x) => x / norm + sigma * gaussian(random)));
      truth.push(g);
    }
  }
  return { vectors, truth };
}

/** A partition as a canonical string: sorted groups of sorted members. */
function canonical(labels: ArrayLike<number>): string {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const g = groups.get(labels[i]!) ?? [];
    g.push(i);
    groups.set(labels[i]!, g);
  }
  return JSON.stringify([...groups.values()].map((g) => g.join(",")).sort());
}

function cosine(a: number[], b: number[]): number {
  let ab = 0;
  for (let i = 0; i < a.length; i++) ab += a[i]! * b[i]!;
  return ab / (Math.hypot(...a) * Math.hypot(...b));
}

// ---- tests ----------------------------------------------------------------------------------

describe("agglomerative clustering (exact)", () => {
  test("well-separated groups are recovered exactly, by threshold and by count, for every linkage", () => {
    const { vectors, truth } = plantedGroups(5, 12, 24, 0.03, 7);
    const expected = canonical(truth);
    for (const linkage of ["average", "complete", "single", "ward"] as const) {
      assert.equal(canonical(clusterVectors(vectors, { linkage, clusters: 5 }).labels), expected, `${linkage}, 5 clusters`);
      const threshold = linkage === "ward" ? 0.8 : 0.3;
      const result = clusterVectors(vectors, { linkage, threshold });
      assert.equal(canonical(result.labels), expected, `${linkage}, threshold ${threshold}`);
      assert.equal(result.clusters.length, 5);
      assert.equal(result.bucketing, undefined);
    }
  });

  test("matches ml-hclust's agnes (reference implementation) on random data, cut by count and by height", () => {
    const random = seededRandom(42);
    const n = 40;
    const vectors = Array.from({ length: n }, () => Array.from({ length: 5 }, () => gaussian(random)));
    const cos = vectors.map((a) => vectors.map((b) => cosine(a, b)));
    const cosineDistance = cos.map((row) => row.map((c) => Math.max(0, 1 - c)));
    const euclidean = cos.map((row) => row.map((c) => Math.sqrt(Math.max(0, 2 - 2 * c))));
    const cases: Array<[Linkage, "average" | "complete" | "single" | "ward2", number[][]]> = [
      ["average", "average", cosineDistance],
      ["complete", "complete", cosineDistance],
      ["single", "single", cosineDistance],
      // ml-hclust's "ward2" is scipy's Ward (Lance–Williams on squared Euclidean distances).
      ["ward", "ward2", euclidean],
    ];
    for (const [linkage, method, matrix] of cases) {
      const tree = agnes(matrix, { method, isDistanceMatrix: true });
      const heights: number[] = [];
      tree.traverse((node) => {
        if (!node.isLeaf) heights.push(node.height);
      });
      heights.sort((a, b) => a - b);
      for (const k of [1, 2, 3, 4, 7, 12, 25, 40]) {
        const reference = new Array<number>(n);
        tree.group(k).children.forEach((child, label) => {
          for (const leaf of child.indices()) reference[leaf] = label;
        });
        assert.equal(
          canonical(clusterVectors(vectors, { linkage, clusters: k }).labels),
          canonical(reference),
          `${linkage}, ${k} clusters`,
        );
      }
      // Cut halfway between consecutive merge heights, so float noise cannot decide.
      for (const at of [5, 15, 30, 36]) {
        const threshold = (heights[at]! + heights[at + 1]!) / 2;
        const reference = new Array<number>(n);
        tree.cut(threshold).forEach((child, label) => {
          for (const leaf of child.indices()) reference[leaf] = label;
        });
        assert.equal(
          canonical(clusterVectors(vectors, { linkage, threshold }).labels),
          canonical(reference),
          `${linkage}, threshold ${threshold}`,
        );
      }
    }
  });

  test("medoid: the member with the smallest summed cosine distance (hand-built example)", () => {
    // Unit vectors at 0°, 10°, 20°, 60°. Summed cosine distances to the others:
    //   0°: (1−cos10)+(1−cos20)+(1−cos60) = 0.01519+0.06031+0.50000 = 0.57550
    //  10°: (1−cos10)+(1−cos10)+(1−cos50) = 0.01519+0.01519+0.35721 = 0.38759
    //  20°: (1−cos20)+(1−cos10)+(1−cos40) = 0.06031+0.01519+0.23396 = 0.30946  ← smallest
    //  60°: (1−cos60)+(1−cos50)+(1−cos40) = 0.50000+0.35721+0.23396 = 1.09117
    const at = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
    const vectors = [at(0), at(10), at(20), at(60)].map((v) => v.map((x) => x * 3)); // lengths do not matter
    const result = clusterVectors(vectors, { clusters: 1 });
    assert.equal(result.clusters.length, 1);
    assert.equal(result.clusters[0]!.medoid, 2);
    // Members are listed most similar to the medoid first: 20° itself, 10° (10° away), 0° (20°), 60° (40°).
    assert.deepEqual(result.clusters[0]!.members, [2, 1, 0, 3]);
  });

  test("medoid ties go to the more frequent principle, then the shorter text", () => {
    // Two members: both have the same summed distance.
    const unique = [
      { key: "a", text: "Be brief and clear always", count: 1 },
      { key: "b", text: "Be brief", count: 1 },
      { key: "c", text: "Be clear, always", count: 3 },
    ];
    const vectors = [
      [1, 0.1],
      [1, 0.1],
      [1, 0.1],
    ];
    const result = clusterPrinciples(unique, vectors, { clusters: 1 });
    assert.equal(result.clusters[0]!.medoid, 2, "the most frequent wins");
    const two = clusterPrinciples(unique.slice(0, 2), vectors.slice(0, 2), { clusters: 1 });
    assert.equal(two.clusters[0]!.medoid, 1, "then the shorter text");
  });

  test("edge cases: no vectors, one vector, identical vectors, bad input", () => {
    assert.equal(clusterVectors([]).clusters.length, 0);
    assert.deepEqual(clusterVectors([[1, 2]]).clusters, [{ members: [0], medoid: 0 }]);
    assert.equal(clusterVectors(Array.from({ length: 10 }, () => [0.5, 0.5])).clusters.length, 1);
    assert.throws(
      () =>
        clusterVectors([
          [1, 0],
          [0, 0],
        ]),
      InputError,
    );
    assert.throws(
      () =>
        clusterVectors([
          [1, 0],
          [1, 0, 0],
        ]),
      InputError,
    );
    assert.throws(() => clusterVectors([[1, Number.NaN]]), InputError);
    assert.throws(() => clusterVectors([[1, 0]], { threshold: 0.3, clusters: 2 }), ConfigError);
    assert.throws(() => clusterVectors([[1, 0]], { clusters: 0 }), ConfigError);
    assert.throws(() => clusterVectors([[1, 0]], { threshold: -1 }), ConfigError);
  });
});

describe("bucketed clustering above maxExact", () => {
  test("6,000 vectors in 40 planted groups are recovered exactly, memory bounded by buckets", () => {
    const { vectors, truth } = plantedGroups(40, 150, 32, 0.05, 11);
    const expected = canonical(truth);
    const byThreshold = clusterVectors(vectors, { threshold: 0.3 });
    assert.ok(byThreshold.bucketing, "bucketed");
    assert.ok(byThreshold.bucketing.buckets.length >= 2);
    assert.ok(
      byThreshold.bucketing.buckets.every((size) => size <= 5000),
      `bucket sizes ${byThreshold.bucketing.buckets}`,
    );
    assert.equal(
      byThreshold.bucketing.buckets.reduce((a, b) => a + b, 0),
      6000,
    );
    assert.equal(canonical(byThreshold.labels), expected);
    const byCount = clusterVectors(vectors, { clusters: 40 });
    assert.equal(canonical(byCount.labels), expected);
    const ward = clusterVectors(vectors, { linkage: "ward", threshold: 2 });
    assert.equal(canonical(ward.labels), expected);
  });

  test("small buckets and several passes agree with the exact result on separated data", () => {
    const { vectors, truth } = plantedGroups(12, 25, 16, 0.04, 3);
    const exact = clusterVectors(vectors, { threshold: 0.3 });
    assert.equal(canonical(exact.labels), canonical(truth));
    const bucketed = clusterVectors(vectors, { threshold: 0.3, maxExact: 40 });
    assert.ok(bucketed.bucketing && bucketed.bucketing.passes >= 1);
    assert.ok(bucketed.bucketing.buckets.every((size) => size <= 40));
    assert.equal(canonical(bucketed.labels), canonical(truth));
    assert.equal(canonical(clusterVectors(vectors, { clusters: 12, maxExact: 40 }).labels), canonical(truth));
    // Identical vectors cannot be split by k-means: they are chunked, then merged back.
    assert.equal(
      clusterVectors(
        Array.from({ length: 100 }, () => [1, 2, 3]),
        { maxExact: 30 },
      ).clusters.length,
      1,
    );
  });

  test("single and complete linkage are refused above maxExact; too many clusters are refused", () => {
    const { vectors } = plantedGroups(3, 20, 8, 0.05, 5);
    assert.throws(() => clusterVectors(vectors, { linkage: "single", maxExact: 30 }), ConfigError);
    assert.throws(() => clusterVectors(vectors, { linkage: "complete", maxExact: 30 }), ConfigError);
    assert.throws(() => clusterVectors(vectors, { clusters: 20, maxExact: 30 }), ConfigError);
  });
});

describe("principles: sizes, order and label replacement", () => {
  test("sizes count duplicates, clusters are ordered by size, and every member maps to its medoid", () => {
    const set = new PrincipleSet();
    const mentions = [
      "Be concise.",
      "be concise.",
      "Keep it short.",
      "Cite your sources.",
      "Give references.",
      "Give references.",
      "Give references.",
    ];
    for (const m of mentions) set.add(m);
    const unique = set.unique();
    const vector: Record<string, number[]> = {
      "be concise.": [1, 0.05, 0],
      "keep it short.": [1, -0.05, 0],
      "cite your sources.": [0, 1, 0.05],
      "give references.": [0, 1, -0.04],
    };
    const result = clusterPrinciples(
      unique,
      unique.map((u) => vector[u.key]!),
      { threshold: 0.3 },
    );
    assert.equal(result.clusters.length, 2);
    assert.deepEqual(
      result.clusters.map((c) => [unique[c.medoid]!.text, c.size, c.members.length]),
      [
        ["Give references.", 4, 2],
        ["Be concise.", 3, 2],
      ],
    );
    const replace = labelReplacer(set, unique, result);
    assert.deepEqual(replace("cite  your sources."), { cluster: 0, medoid: "Give references." });
    assert.deepEqual(replace("Keep it short."), { cluster: 1, medoid: "Be concise." });
    assert.equal(replace("never seen"), undefined);
  });
});

// ---- the automatic cluster count -----------------------------------------------------------

describe("clusters: auto (silhouette over a range of k)", () => {
  for (const [groups, linkage] of [
    [5, "average"],
    [7, "ward"],
    [3, "complete"],
  ] as const) {
    test(`${groups} well-separated blobs, ${linkage} linkage: chooses ${groups} and recovers them`, () => {
      const { vectors, truth } = plantedGroups(groups, 12, 24, 0.04, 100 + groups);
      const result = clusterVectors(vectors, { linkage, clusters: "auto" });
      assert.equal(result.clusterCount!.chosen, groups);
      assert.equal(result.clusters.length, groups);
      assert.equal(canonical(result.labels), canonical(truth));
      assert.equal(result.clusterCount!.criterion, "silhouette");
      const best = Math.max(...result.clusterCount!.scores.map((s) => s.silhouette));
      assert.equal(result.clusterCount!.silhouette, best);
      assert.equal(result.clustersRequested, undefined);
      assert.equal(result.threshold, undefined);
    });
  }

  test("the range given is the range tried; a sample scores the same blobs alike", () => {
    const { vectors, truth } = plantedGroups(4, 30, 16, 0.04, 7);
    const result = clusterVectors(vectors, { clusters: "auto", clusterCount: { min: 3, max: 9, sample: 40 } });
    assert.deepEqual(
      result.clusterCount!.scores.map((s) => s.k),
      [3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(result.clusterCount!.chosen, 4);
    assert.equal(canonical(result.labels), canonical(truth));
  });

  test("refused above maxExact, with the flags that fix it", () => {
    const { vectors } = plantedGroups(3, 10, 8, 0.05, 3);
    assert.throws(
      () => clusterVectors(vectors, { clusters: "auto", maxExact: 20 }),
      (e: ConfigError) => /--clusters <k> or --threshold/.test(e.hint ?? ""),
    );
  });
});
