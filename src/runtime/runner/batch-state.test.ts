import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { drive, newRun, rerun, setup, state } from "../../../test/support/batch-lane-fixtures.ts";
import { InputError } from "../../base/errors/errors.ts";
import { LANE_ARTIFACT, type LaneStateStore, runArtifactState } from "./batch-state.ts";

describe("BatchLane state in the run store", () => {
  test("every save is a snapshot of its moment, saved after the one before it, one at a time", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "spri-lane-")), "out.jsonl.batch");
    const run = await newRun(dir);
    const inner = runArtifactState(run.store, run.runId);
    let inFlight = 0;
    let most = 0;
    const saved: string[] = [];
    // Each save takes a while, so the parts' settles (which run in parallel) queue theirs meanwhile.
    const slow: LaneStateStore = {
      load: () => inner.load(),
      save: async (value) => {
        most = Math.max(most, ++inFlight);
        const before = JSON.stringify(value);
        await new Promise((r) => setTimeout(r, 2));
        assert.equal(JSON.stringify(value), before, "the lane does not change a state being saved");
        await inner.save(value);
        saved.push(before);
        inFlight--;
      },
    };
    const s = await setup({ dir, run, state: slow, maxLinesPerFile: 1 });
    const { results } = await drive(s, ["a", "b", "c"], 1);
    assert.equal(results.size, 3);
    assert.equal(most, 1, "one save at a time");
    assert.ok(saved.length >= 10, `a save per step (${saved.length})`);
    const last = await state(s);
    assert.equal(JSON.stringify(last), saved.at(-1), "the last save is the final state");
    assert.deepEqual(
      last.rounds[0]!.parts.map((p) => [p.file, p.status, p.imported]),
      [1, 2, 3].map((i) => [`round-1-${i}.jsonl`, "completed", true]),
    );
  });

  test("an older spri's state.json is imported once: the batch it was polling is polled again, never submitted again", async () => {
    // An older spri submitted round 1 and was killed while polling it: its state is in state.json
    // and its store has no lane state.
    const s = await setup();
    s.api.hold = true;
    const stop = new AbortController();
    const polling = drive(s, ["a", "b"], 2, stop.signal);
    while (s.api.creates === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    await polling;
    const old = await state(s);
    const submitted = old.rounds[0]!.parts[0]!;
    assert.equal(submitted.status, "in_progress");
    const legacy = join(s.dir, "state.json");
    writeFileSync(legacy, `${JSON.stringify(old, null, 2)}\n`);
    const upgraded = await newRun(s.dir);

    s.api.hold = false;
    const again = await rerun(s, { run: upgraded });
    const { results } = await drive(again, ["a", "b"], 2);
    assert.deepEqual(results.get(0), ["echo a", "echo echo a!"]);
    assert.equal(s.api.creates, 2, "round 1 once, round 2 once");
    assert.equal(existsSync(legacy), false);
    assert.deepEqual(JSON.parse(readFileSync(`${legacy}.imported`, "utf8")), old, "left as it was, under another name");
    const imported = await state(again);
    assert.deepEqual(
      imported.rounds.map((r) => [r.round, r.parts[0]!.status, r.parts[0]!.imported]),
      [
        [1, "completed", true],
        [2, "completed", true],
      ],
    );
    assert.equal(imported.rounds[0]!.parts[0]!.batchId, submitted.batchId);

    // A state.json beside a store that holds the lane's state (a crash between the import's save
    // and its rename): the store's state wins and the file is put aside.
    writeFileSync(legacy, `${JSON.stringify({ version: 1, rounds: [] })}\n`);
    const third = await rerun(again);
    await third.lane.start();
    assert.equal(existsSync(legacy), false);
    assert.deepEqual(await state(third), imported);
    assert.equal(third.lane.currentRound, 3);
  });

  test("a state.json that is no state stops the lane and stays where it is", async () => {
    const s = await setup();
    mkdirSync(s.dir, { recursive: true });
    const legacy = join(s.dir, "state.json");
    writeFileSync(legacy, "{");
    await assert.rejects(
      s.lane.start(),
      (error: Error) => error instanceof InputError && /batch state is not valid JSON/.test(error.message),
    );
    assert.equal(existsSync(legacy), true);
    assert.equal(await s.run.store.getArtifact(s.run.runId, LANE_ARTIFACT), undefined, "nothing imported");
    writeFileSync(legacy, JSON.stringify({ version: 2, rounds: [] }));
    await assert.rejects((await rerun(s)).lane.start(), /unknown batch state format/);
    assert.equal(existsSync(legacy), true);
  });
});
