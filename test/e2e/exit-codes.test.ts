/**
 * Every exit code of `spri` (src/base/errors/exit-codes.ts), each reached the way a user reaches it, and
 * the README's table of them in step with the module.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_CODES } from "../../src/base/errors/exit-codes.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";
import { type FakeModelServer, hang, startFakeModelServer } from "../../src/test.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

describe("exit codes", () => {
  let server: FakeModelServer;
  let dir: string;
  let input: string;
  let model: string[];
  before(async () => {
    server = await startFakeModelServer(scriptedBackend());
    dir = mkdtempSync(join(tmpdir(), "spri-exit-"));
    input = join(dir, "items.jsonl");
    writeFileSync(input, `${[0, 1, 2, 3].map((i) => JSON.stringify({ id: `q${i}`, instruction: `question ${i}?` })).join("\n")}\n`);
    model = ["--base-url", `${server.url}/v1`, "--base-model", "m"];
  });
  after(async () => server.close());

  test("the codes are distinct and the README's table lists each with its number", () => {
    const codes = Object.values(EXIT_CODES);
    assert.equal(new Set(codes).size, codes.length);
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const table = new Map([...readme.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => [m[2]!, Number(m[1])]));
    assert.deepEqual(Object.fromEntries(table), { ...EXIT_CODES });
  });

  test("ok: a run whose items all succeed; --help", async () => {
    const result = await runCli(["run", "--input", input, "--output", join(dir, "ok.jsonl"), ...model], { cwd: dir });
    assert.equal(result.code, EXIT_CODES.ok, result.stderr);
    assert.equal((await runCli(["run", "--help"])).code, EXIT_CODES.ok);
  });

  test("itemsFailed: the run finished, some items are in the rejects file", async () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `{"id": "a", "instruction": "fine?"}\n{"id": "b", "text": "no question"}\n`);
    const result = await runCli(["run", "--input", bad, "--output", join(dir, "bad-out.jsonl"), ...model], { cwd: dir });
    assert.equal(result.code, EXIT_CODES.itemsFailed, result.stderr);
  });

  describe("usage: the command line, an input file or the configuration is wrong", () => {
    const cases: [string, string[], RegExp][] = [
      ["an unknown option", ["align", "q", "--bogus"], /unknown option '--bogus'/],
      ["a required option left out", ["run"], /required option '--input <file>' not specified/],
      ["an unknown command", ["bogus"], /unknown command 'bogus'/],
      [
        "a bad option value",
        ["align", "q", "--threshold", "9", "--base-model", "m", "--base-url", "http://127.0.0.1:9/v1"],
        /--threshold 9 is outside/,
      ],
    ];
    for (const [name, args, pattern] of cases) {
      test(name, async () => {
        const result = await runCli(args, { cwd: dir });
        assert.equal(result.code, EXIT_CODES.usage, result.stderr);
        assert.match(result.stderr, pattern);
      });
    }

    test("spri view on a port in use says so", async () => {
      const busy = await startFakeModelServer();
      try {
        const result = await runCli(["view", "--port", String(busy.port), "--store", join(dir, "view.db"), "--no-playground"], {
          cwd: dir,
        });
        assert.equal(result.code, EXIT_CODES.usage, result.stderr);
        assert.match(result.stderr, new RegExp(`port ${busy.port} on 127\\.0\\.0\\.1 is in use — .*--port`));
      } finally {
        await busy.close();
      }
    });
  });

  test("providerRefused: the provider refuses for good (quota, key, unknown model)", async () => {
    const result = await runCli(
      ["run", "--input", input, "--output", join(dir, "refused.jsonl"), "--base-url", `${server.url}/v1`, "--base-model", "missing-model"],
      { cwd: dir },
    );
    assert.equal(result.code, EXIT_CODES.providerRefused, result.stderr);
  });

  test("budgetStop: --max-tokens spent", async () => {
    const result = await runCli(
      [
        "run",
        "--input",
        input,
        "--output",
        join(dir, "budget.jsonl"),
        "--concurrency",
        "1",
        "--max-tokens",
        "20",
        ...model,
        "--temperature",
        "0.3",
      ],
      { cwd: dir },
    );
    assert.equal(result.code, EXIT_CODES.budgetStop, result.stderr);
    assert.match(result.stderr, /token budget of 20/);
  });

  test("interrupted: Ctrl-C during a run", async () => {
    let firstRequest!: () => void;
    const seen = new Promise<void>((resolve) => (firstRequest = resolve));
    const stuck = await startFakeModelServer(() => {
      firstRequest();
      return hang();
    });
    try {
      const result = await runCli(
        ["run", "--input", input, "--output", join(dir, "interrupted.jsonl"), "--base-url", `${stuck.url}/v1`, "--base-model", "m"],
        {
          cwd: dir,
          signal: { name: "SIGINT", when: seen },
        },
      );
      assert.equal(result.code, EXIT_CODES.interrupted, result.stderr);
      assert.match(result.stderr, /run stopped: interrupted/);
    } finally {
      await stuck.close();
    }
  });
});
