/**
 * One output file holds one run: re-running an output with other settings is refused with the
 * settings that differ, unless --new-run asks for a new run, whose records then replace the old.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EXIT_CODES } from "../../src/base/errors/exit-codes.ts";
import { runCli } from "../support/cli.ts";
import { startFakeModelServer } from "../../src/test.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

function records(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test("re-running an output with other settings is refused, naming them; --new-run replaces the output", async () => {
  const server = await startFakeModelServer(scriptedBackend());
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-rerun-"));
    const input = join(dir, "items.jsonl");
    writeFileSync(input, `${[0, 1, 2].map((i) => JSON.stringify({ id: `q${i}`, instruction: `question ${i}?` })).join("\n")}\n`);
    const output = join(dir, "out.jsonl");
    const run = (...args: string[]) =>
      runCli(["run", "--input", input, "--output", output, "--json", "--base-url", `${server.url}/v1`, "--base-model", "m", ...args], {
        cwd: dir,
      });

    const first = await run();
    assert.equal(first.code, EXIT_CODES.ok, first.stderr);
    const written = readFileSync(output, "utf8");

    const other = ["--task", "baseline-direct", "--temperature", "0.2"];
    const refused = await run(...other);
    assert.equal(refused.code, EXIT_CODES.usage, refused.stderr);
    assert.match(refused.stderr, /out\.jsonl: holds the records of run \w+/);
    assert.match(refused.stderr, /task: sft → baseline-direct/);
    assert.match(refused.stderr, /temperature: 0\.7 → 0\.2/);
    assert.match(refused.stderr, /--new-run/);
    assert.equal(readFileSync(output, "utf8"), written, "the output is untouched");

    const fresh = await run(...other, "--new-run");
    assert.equal(fresh.code, EXIT_CODES.ok, fresh.stderr);
    const replaced = records(output);
    assert.deepEqual(replaced.map((r) => r.id).sort(), ["q0", "q1", "q2"]);
    for (const record of replaced) {
      assert.equal(record["baseline-direct_response"], "Here is a kind and specific answer.");
      assert.equal("principle_final" in record, false, "no record of the first run is left");
    }

    const served = server.requests.length;
    const resumed = await run(...other);
    assert.equal(resumed.code, EXIT_CODES.ok, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).skipped, 3);
    assert.equal(server.requests.length, served);

    const back = await run();
    assert.equal(back.code, EXIT_CODES.usage, "the first run's settings no longer match what the output holds");
    assert.match(back.stderr, /task: baseline-direct → sft/);
  } finally {
    await server.close();
  }
});
