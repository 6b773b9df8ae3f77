/**
 * `--max-cost` against a real local server that bills: every answer reports the tokens it wrote,
 * and the price table makes each call cost a known amount, so the money paid is what the server
 * served. A budget is never overshot, survives a kill -9 (SQLite and PostgreSQL stores), and a model
 * without a price is never taken for free.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_CODES } from "../../src/base/errors/exit-codes.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";
import { type FakeModelServer, type FakeReply, openaiText, type RecordedRequest, startFakeModelServer } from "../../src/test.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

/** Each call writes its whole cap of 8 tokens, and an output token costs $0.0125 (input is free): $0.10 a call. */
const MAX_NEW_TOKENS = 8;
const PRICES = JSON.stringify({ m: { input: 0, output: 12_500 }, c: { input: 0, output: 12_500 } });
const CALL_USD = 0.1;

/** The scripted SPRI backend (6 calls an item), each answer billed as `MAX_NEW_TOKENS` tokens written. */
function billingBackend(): (request: RecordedRequest) => FakeReply {
  const answer = scriptedBackend();
  return (request) => {
    const reply = answer(request);
    if (reply.kind !== "json") return reply;
    const body = reply.body as { choices: { message: { content: string } }[] };
    return openaiText(body.choices[0]!.message.content, { promptTokens: 40, completionTokens: MAX_NEW_TOKENS });
  };
}

function writeItems(dir: string, n: number): string {
  const input = join(dir, `items-${n}.jsonl`);
  writeFileSync(
    input,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: `b${i}`, prompt: `Budget question ${i}?` })).join("\n")}\n`,
  );
  return input;
}

/** Dollars the server billed: its successful answers. */
function billed(server: FakeModelServer, from = 0): number {
  return Math.round((server.requests.length - from) * CALL_USD * 1e6) / 1e6;
}

describe("--max-cost", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-budget-"));
  });

  test("a model without a price: --max-cost refuses to start and says how to give one; without a budget the cost reads unpriced, not $0", async () => {
    const server = await startFakeModelServer(billingBackend());
    try {
      const input = writeItems(dir, 3);
      const model = ["--base-url", `${server.url}/v1`, "--base-model", "m", "--critic-model", "c"];
      const refused = await runCli(["run", "--input", input, "--output", join(dir, "unpriced.jsonl"), "--max-cost", "1", ...model], {
        cwd: dir,
      });
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /--max-cost needs a price for "m" and "c"/);
      assert.match(refused.stderr, /--prices '\{"<model id>": \{"input": 0\.5, "output": 1\.5\}\}'/);
      assert.equal(server.requests.length, 0, "nothing was called");

      const free = await runCli(["run", "--input", input, "--output", join(dir, "unbudgeted.jsonl"), "--json", ...model], { cwd: dir });
      assert.equal(free.code, 0, free.stderr);
      const summary = JSON.parse(free.stdout) as { spend: { costUsd: number; unpricedCalls: number; calls: number } };
      assert.equal(summary.spend.unpricedCalls, summary.spend.calls);
      const records = readFileSync(join(dir, "unbudgeted.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { spri_usage: { cost_usd: number | null } });
      for (const record of records) assert.equal(record.spri_usage.cost_usd, null, "an unpriced item's cost is null, not 0");

      // With a price given as JSON text, the same budget starts.
      const priced = await runCli(
        [
          "run",
          "--input",
          input,
          "--output",
          join(dir, "priced.jsonl"),
          "--max-cost",
          "100",
          "--prices",
          PRICES,
          "--max-new-tokens",
          String(MAX_NEW_TOKENS),
          ...model,
        ],
        { cwd: dir },
      );
      assert.equal(priced.code, 0, priced.stderr);
    } finally {
      await server.close();
    }
  });

  test("--max-cost 1 with 8 items in flight: the run stops at the budget, never past it", async () => {
    const server = await startFakeModelServer(billingBackend());
    try {
      const input = writeItems(dir, 20);
      const args = [
        "run",
        "--input",
        input,
        "--output",
        join(dir, "overshoot.jsonl"),
        "--store",
        join(dir, "overshoot.db"),
        "--concurrency",
        "4",
        "--json",
        "--max-cost",
        "1",
        "--prices",
        PRICES,
        "--max-new-tokens",
        String(MAX_NEW_TOKENS),
        "--base-url",
        `${server.url}/v1`,
        "--base-model",
        "m",
        "--critic-model",
        "c",
      ];
      const result = await runCli(args, { cwd: dir });
      assert.equal(result.code, EXIT_CODES.budgetStop, result.stderr);
      const summary = JSON.parse(result.stdout) as { outcome: string; stopReason: string; spend: { costUsd: number } };
      assert.equal(summary.outcome, "stopped");
      assert.match(summary.stopReason, /cost budget of \$1 is spent/);
      assert.ok(billed(server) <= 1, `the server billed $${billed(server)} on a $1 budget`);
      assert.ok(billed(server) >= 0.5, `stopped early: $${billed(server)}`);
      assert.ok(
        Math.abs(summary.spend.costUsd - billed(server)) < 1e-9,
        `spri counted $${summary.spend.costUsd}, the server billed $${billed(server)}`,
      );
    } finally {
      await server.close();
    }
  });

  for (const backend of ["sqlite", "postgres"] as const) {
    describe(`kill -9, then the same command again (${backend} store)`, () => {
      let postgres: TestPostgres | undefined;
      let store: string[];
      before(async () => {
        postgres = backend === "postgres" ? await startPostgres() : undefined;
        store = ["--store", postgres ? await postgres.newDatabase() : join(dir, "killed.db")];
      });
      after(async () => postgres?.stop());

      test("the resumed run goes on from what the run spent: together they stay within the budget", async () => {
        let served = 0;
        let onServed: (() => void) | undefined;
        const answer = billingBackend();
        const server = await startFakeModelServer((request) => {
          served++;
          onServed?.();
          return answer(request);
        });
        try {
          const budget = 2;
          const input = writeItems(dir, 30);
          const args = [
            "run",
            "--input",
            input,
            "--output",
            join(dir, `killed-${backend}.jsonl`),
            ...store,
            "--concurrency",
            "2",
            "--max-cost",
            String(budget),
            "--prices",
            PRICES,
            "--max-new-tokens",
            String(MAX_NEW_TOKENS),
            "--base-url",
            `${server.url}/v1`,
            "--base-model",
            "m",
            "--critic-model",
            "c",
          ];
          const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "spri.js"), ...args], {
            cwd: dir,
            env: { PATH: process.env.PATH, HOME: process.env.HOME },
            stdio: "ignore",
          });
          const exited = new Promise((resolve) => child.on("exit", resolve));
          // Killed once it has been billed $1.00, with calls in flight.
          await new Promise<void>((resolve) => {
            onServed = () => served >= 10 && resolve();
          });
          child.kill("SIGKILL");
          await exited;
          const beforeResume = served;
          assert.ok(billed(server) < budget);

          const resumed = await runCli([...args, "--json"], { cwd: dir });
          assert.equal(resumed.code, EXIT_CODES.budgetStop, resumed.stderr);
          assert.match((JSON.parse(resumed.stdout) as { stopReason: string }).stopReason, /cost budget of \$2 is spent/);
          assert.ok(
            billed(server) <= budget,
            `billed $${billed(server)} on a $${budget} budget ($${billed(server, beforeResume)} after the resume)`,
          );
          // The resumed command had what the first left: about $1 (less what the killed process held), not $2.
          assert.ok(billed(server, beforeResume) >= 0.3, `the resumed command spent only $${billed(server, beforeResume)}`);
          assert.ok(existsSync(join(dir, `killed-${backend}.jsonl.partial`)), "a stopped run's output stays partial");
        } finally {
          await server.close();
        }
      });
    });
  }
});
