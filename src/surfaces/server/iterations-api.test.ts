/**
 * The viewer's API for a discovery iterations directory (`spri view --iterations DIR`), over real
 * HTTP on a free port: the metrics of `spri discover iterate report` per iteration, with the win
 * rates' confidence intervals, and each iteration's constitution aligned by cluster label.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { alignmentPicture, ITERATIONS_SECRET, makeIterationsDir, MODELS } from "../../../test/support/iterations-dir.ts";
import { iterFile } from "../../algorithms/discovery/iterations.ts";
import { readState } from "../../runtime/runner/discovery-iterations.ts";
import { SqliteStore } from "../../runtime/store/sqlite-store.ts";
import type { IterationsResponse, ServerInfoResponse } from "./api-types.ts";
import { type RunningViewer, startViewer } from "./serve.ts";

describe("viewer API: discovery iterations", () => {
  let dir: string;
  let store: SqliteStore;
  let withIterations: RunningViewer;
  let without: RunningViewer;
  const get = async (viewer: RunningViewer, path: string) => {
    const response = await fetch(new URL(path, viewer.url));
    return { status: response.status, text: await response.text() };
  };

  before(async () => {
    dir = await makeIterationsDir();
    store = new SqliteStore(join(mkdtempSync(join(tmpdir(), "spri-iterations-store-")), "spri.db"));
    withIterations = await startViewer({ store, port: 0, iterationsDir: dir });
    without = await startViewer({ store, port: 0 });
  });

  after(async () => {
    await withIterations?.close();
    await without?.close();
    await store?.close();
    rmSync(dirname(dir), { recursive: true, force: true });
  });

  test("the metrics per iteration: the report's columns, the discovery rate, win rates with their 95% CIs", async () => {
    const info = await get(withIterations, "/api/info");
    assert.equal((JSON.parse(info.text) as ServerInfoResponse).iterations, true);
    const { status, text } = await get(withIterations, "/api/iterations");
    assert.equal(status, 200, text);
    const body = JSON.parse(text) as IterationsResponse;
    assert.equal(body.dir, dir);
    assert.deepEqual(
      body.iterations.map((r) => [
        r.iter,
        r.model,
        r.discoveryRate,
        r.constitution,
        r.rougeL,
        r.vsPrevious?.winRate ?? null,
        r.vsBase?.winRate ?? null,
      ]),
      [
        [1, MODELS[0], 0.75, 2, 0.3, null, null],
        [2, MODELS[1], 0.5, 2, 0.4, 62.5, 62.5],
        [3, MODELS[2], 0.25, 2, 0.5, 75, 87.5],
        [4, null, null, null, null, null, null],
      ],
    );
    const state = readState(dir);
    for (const [i, row] of body.iterations.slice(0, 3).entries()) {
      const stored = state.iterations[i]!;
      assert.equal(row.diversity, stored.stats!.constitutionDiversity);
      assert.deepEqual(row.vsPrevious?.ci95 ?? null, stored.eval!.vsPrevious?.ci95 ?? null);
      assert.equal(row.prompts, 4);
      assert.equal(row.mined, 4);
    }
    const [lo, hi] = body.iterations[1]!.vsPrevious!.ci95;
    assert.ok(lo < 62.5 && hi > 62.5, `a CI around the win rate: ${lo}–${hi}`);
    assert.equal(text.includes(ITERATIONS_SECRET), false, "no credential in the answer");
  });

  test("the constitutions side by side: aligned by cluster label, new and dropped marked; a missing file is said per iteration", async () => {
    const body = JSON.parse((await get(withIterations, "/api/iterations")).text) as IterationsResponse;
    assert.deepEqual(
      body.constitutions.columns.map((c) => [c.iter, c.file, c.error]),
      [
        [1, "iter-1/constitution.json", null],
        [2, "iter-2/constitution.json", null],
        [3, "iter-3/constitution.json", null],
        [4, null, null],
      ],
    );
    assert.deepEqual(alignmentPicture(body.constitutions.rows), [
      "Concision: c1 | c2= | dropped | ·",
      "Citations: c2 | dropped | · | ·",
      "Empathy: · | c1+ | c1= | ·",
      "Refuse harmful requests.: · | · | c2+ | ·",
    ]);
    const kept = body.constitutions.rows[0]!.cells[1]!;
    assert.ok("principle" in kept);
    assert.deepEqual(kept.principle, { id: "c2", text: "Answer briefly and plainly.", name: "concision", size: 2 });

    // The directory is read on every request: a constitution file gone since is an error of its column.
    rmSync(iterFile(dir, 3, "constitution"));
    const later = JSON.parse((await get(withIterations, "/api/iterations")).text) as IterationsResponse;
    const column = later.constitutions.columns[2]!;
    assert.match(column.error ?? "", /constitution\.json/);
    assert.deepEqual(alignmentPicture(later.constitutions.rows), [
      "Concision: c1 | c2= | · | ·",
      "Citations: c2 | dropped | · | ·",
      "Empathy: · | c1+ | · | ·",
    ]);
  });

  test("a viewer started without --iterations answers 404 saying how to show a directory", async () => {
    const info = JSON.parse((await get(without, "/api/info")).text) as ServerInfoResponse;
    assert.equal(info.iterations, false);
    const { status, text } = await get(without, "/api/iterations");
    assert.equal(status, 404);
    assert.match(text, /--iterations/);
  });
});
