import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { projectPca, sampleIndices } from "./projection.ts";

/** An orthonormal pair in `d` dimensions (Gram-Schmidt on two fixed vectors). */
function plane(d: number): [number[], number[]] {
  const a = Array.from({ length: d }, (_, j) => Math.sin(j + 1));
  const b = Array.from({ length: d }, (_, j) => Math.cos(3 * j + 2));
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const na = norm(a);
  const u = a.map((x) => x / na);
  const p = b.reduce((s, x, j) => s + x * u[j]!, 0);
  const w0 = b.map((x, j) => x - p * u[j]!);
  const nw = norm(w0);
  return [u, w0.map((x) => x / nw)];
}

describe("projectPca", () => {
  const d = 12;
  const [u, w] = plane(d);
  const offset = Array.from({ length: d }, (_, j) => 0.5 - j / d);
  // A grid on a plane: wide along u (variance 16), narrow along w (variance 2/3); uncorrelated.
  const coords: [number, number][] = [];
  for (let a = -6; a <= 6; a += 2) for (let b = -1; b <= 1; b++) coords.push([a, b]);
  const vectors = coords.map(([a, b]) => offset.map((o, j) => o + a * u[j]! + b * w[j]!));

  test("recovers points on a plane up to rotation and sign, widest axis first", () => {
    const { points, variance } = projectPca(vectors);
    assert.equal(points.length, coords.length);
    assert.ok(variance[0] >= variance[1]);
    assert.ok(Math.abs(variance[0] - 16) < 1e-6, `first variance ${variance[0]}`);
    assert.ok(Math.abs(variance[1] - 2 / 3) < 1e-6, `second variance ${variance[1]}`);
    // Axes are the plane's own (the grid is uncorrelated), each up to sign.
    const sx = Math.sign(points[0]!.x * coords[0]![0]);
    points.forEach((p, k) => {
      assert.equal(p.index, k);
      assert.ok(Math.abs(p.x - sx * coords[k]![0]) < 1e-6, `x of ${k}`);
      assert.ok(Math.abs(Math.abs(p.y) - Math.abs(coords[k]![1])) < 1e-6, `y of ${k}`);
    });
    // Distances between points are kept (an isometry of the plane).
    for (let i = 0; i < points.length; i += 5) {
      for (let j = i + 1; j < points.length; j += 3) {
        const original = Math.hypot(coords[i]![0] - coords[j]![0], coords[i]![1] - coords[j]![1]);
        const mapped = Math.hypot(points[i]!.x - points[j]!.x, points[i]!.y - points[j]!.y);
        assert.ok(Math.abs(original - mapped) < 1e-6);
      }
    }
  });

  test("deterministic, and samples evenly above maxPoints", () => {
    assert.deepEqual(projectPca(vectors), projectPca(vectors));
    const sampled = projectPca(vectors, { maxPoints: 5 });
    assert.deepEqual(
      sampled.points.map((p) => p.index),
      sampleIndices(vectors.length, 5),
    );
    assert.deepEqual(sampleIndices(10, 5), [0, 2, 4, 6, 8]);
    assert.deepEqual(sampleIndices(3, 5), [0, 1, 2]);
  });

  test("degenerate inputs: none, one, identical, one-dimensional", () => {
    assert.deepEqual(projectPca([]), { points: [], variance: [0, 0] });
    assert.deepEqual(projectPca([[1, 2, 3]]).points, [{ index: 0, x: 0, y: 0 }]);
    const same = projectPca([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    assert.ok(same.points.every((p) => p.x === 0 && p.y === 0));
    const line = projectPca([[0], [1], [2]]);
    assert.deepEqual(
      line.points.map((p) => Math.round(p.x * 1e9) / 1e9),
      [-1, 0, 1],
    );
    assert.ok(line.points.every((p) => p.y === 0));
    assert.throws(() => projectPca([[1, 2], [1]]), RangeError);
  });
});
