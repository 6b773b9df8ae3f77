/**
 * `spri run`'s progress off a terminal (the CLI's stderr is a pipe here): one JSON object per line,
 * with the run's total once the input is queued, so a log reader can tell how far along it is.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../support/cli.ts";
import { startFakeModelServer } from "../../src/test.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

test("spri run off a terminal: JSON progress lines with done, total and ETA, and a last one when it ends", async () => {
  const server = await startFakeModelServer(scriptedBackend());
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-progress-"));
    const input = join(dir, "items.jsonl");
    // Twelve items and a malformed row: the row is rejected and counts in the total as a failure.
    writeFileSync(
      input,
      `${Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `p${i}`, prompt: `Question ${i}?` })).join("\n")}\n{not json\n`,
    );
    const args = [
      "run",
      "--input",
      input,
      "--output",
      join(dir, "out.jsonl"),
      "--concurrency",
      "2",
      "--progress-interval",
      "0",
      "--base-url",
      `${server.url}/v1`,
      "--base-model",
      "m",
    ];
    const result = await runCli(args, { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    const events = result.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const progress = events.filter((e) => e.event === "progress");
    assert.ok(progress.length > 0, result.stderr);
    const withTotal = progress.filter((e) => e.total === 13);
    assert.ok(withTotal.length > 0, "the total is set once the input is queued");
    assert.ok(
      withTotal.some((e) => typeof e.etaSeconds === "number"),
      "with a total and a rate there is an ETA",
    );
    const last = events.at(-1)!;
    assert.equal(last.event, "finished");
    assert.deepEqual([last.done, last.failed, last.total], [12, 1, 13]);
  } finally {
    await server.close();
  }
});
