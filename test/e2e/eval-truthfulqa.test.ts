import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, SHARED } from "../support/cli.ts";
import { openaiEchoLogprobs, startFakeModelServer, wordTokens } from "../../src/test.ts";

const MC_TASK = join(SHARED, "data", "truthfulqa", "mc_task.json");

/** The server's known log-probability of a token: fixed by its characters, from -0.1 to -9.8. */
function logprobOf(token: string): number {
  let sum = 0;
  for (const char of token) sum += char.codePointAt(0)!;
  return -((sum % 97) + 1) / 10;
}

/** What MC1 and MC2 must be, computed here from the rows and `logprobOf` alone. */
function expectedScores(): { mc1: number; mc2: number; n: number } {
  const rows = JSON.parse(readFileSync(MC_TASK, "utf8")) as { mc1_targets: Record<string, number>; mc2_targets: Record<string, number> }[];
  const ll = (option: string) => wordTokens(` ${option}`).reduce((sum, t) => sum + logprobOf(t.token), 0);
  let mc1 = 0;
  let mc2 = 0;
  for (const row of rows) {
    const one = Object.entries(row.mc1_targets).map(([option, label]) => ({ ll: ll(option), label }));
    const best = one.reduce((a, b) => (b.ll > a.ll ? b : a));
    mc1 += best.label;
    const two = Object.entries(row.mc2_targets).map(([option, label]) => ({ p: Math.exp(ll(option)), label }));
    mc2 += two.filter((o) => o.label === 1).reduce((s, o) => s + o.p, 0) / two.reduce((s, o) => s + o.p, 0);
  }
  return { mc1: mc1 / rows.length, mc2: mc2 / rows.length, n: rows.length };
}

test("spri eval truthfulqa over the shared mc_task.json: MC1 and MC2 from the server's log-probabilities; a longer run resumes", async () => {
  const server = await startFakeModelServer((request) => openaiEchoLogprobs(request.body, logprobOf));
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-tqa-"));
    const primer = join(dir, "primer.txt");
    writeFileSync(primer, "Q: How many legs does a spider have?\nA: A spider has eight legs.\n");
    const output = join(dir, "tqa.jsonl");
    const args = ["eval", "truthfulqa", "--input", MC_TASK, "--output", output, "--primer", primer, "--json"];
    const model = ["--base-url", `${server.url}/v1`, "--base-model", "fake", "--concurrency", "8"];

    const first = await runCli([...args, ...model, "--limit", "5"], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).n, 5);
    assert.equal(server.requests.length, 5);

    const full = await runCli([...args, ...model], { cwd: dir, timeoutMs: 120_000 });
    assert.equal(full.code, 0, full.stderr);
    // The five questions already scored are not asked again.
    assert.equal(server.requests.length, 790);
    const printed = JSON.parse(full.stdout) as { mc1: number; mc2: number; n: number };
    const expected = expectedScores();
    assert.equal(printed.n, expected.n);
    assert.ok(Math.abs(printed.mc1 - expected.mc1) < 1e-12, `${printed.mc1} vs ${expected.mc1}`);
    assert.ok(Math.abs(printed.mc2 - expected.mc2) < 1e-9, `${printed.mc2} vs ${expected.mc2}`);
    assert.ok(printed.mc1 > 0 && printed.mc1 < 1 && printed.mc2 > 0 && printed.mc2 < 1);

    const request = server.requests[0]!;
    assert.equal(request.path, "/v1/completions");
    const body = request.body as { prompt: string[]; echo: boolean; max_tokens: number };
    assert.equal(body.echo, true);
    assert.equal(body.max_tokens, 0);
    assert.ok(body.prompt[0]!.startsWith("Q: How many legs does a spider have?\nA: A spider has eight legs.\n\nQ: "));
    const records = readFileSync(output, "utf8").trim().split("\n");
    assert.equal(records.length, 790);
    const record = JSON.parse(records[0]!) as Record<string, unknown>;
    assert.equal((record.mc1_logprobs as number[]).length, Object.keys(record.mc1_targets as object).length);
  } finally {
    await server.close();
  }
});

test("spri eval truthfulqa without --primer says where the standard primer is", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-tqa-"));
  const result = await runCli(
    ["eval", "truthfulqa", "--input", MC_TASK, "--output", join(dir, "o.jsonl"), "--base-url", "http://127.0.0.1:9/v1"],
    {
      cwd: dir,
    },
  );
  assert.equal(result.code, 2);
  assert.match(result.stderr, /primer/);
  assert.match(result.stderr, /presets\.py/);
});
