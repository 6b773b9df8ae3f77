import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type FakeModelServer, openaiError, startFakeModelServer } from "../../src/test.ts";
import { CALLS_PER_ITEM, scriptedBackend } from "../support/scripted-backend.ts";
import { SHARED, runCli } from "../support/cli.ts";
import { TASK_NAMES } from "../../src/presets/tasks/task-item.ts";

/** The paper's task-1 baseline pipeline: the resort-… tasks' prompt pack. */
const RESORT_PIPELINE = join(SHARED, "spri-public", "[task1]-reappraisal", "RESORT_pipeline");

describe("spri CLI end to end (real local HTTP server)", () => {
  let server: FakeModelServer;
  let dir: string;
  let model: string[];
  before(async () => {
    server = await startFakeModelServer(scriptedBackend());
    dir = mkdtempSync(join(tmpdir(), "spri-cli-"));
    model = ["--base-url", `${server.url}/v1`, "--base-model", "local-model", "--critic-model", "local-critic"];
  });
  after(async () => server.close());

  test("align --json: principles, critic scores and the final response", async () => {
    const result = await runCli(["align", "How do I tell a friend I can't come to their wedding?", "--json", ...model]);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as {
      record: Record<string, unknown>;
      calls: { role: string; model: string; parsed?: { score: number } }[];
    };
    assert.equal(out.record.principle_final, "1. Be specific.\n2. Be kind.");
    assert.equal(out.record.iteration_principle, 2);
    assert.deepEqual(out.record.principles_critique_scores, [3, 5]);
    assert.equal(out.record.response_final, "Here is a kind and specific answer.");
    assert.equal(out.calls.length, 6);
    assert.deepEqual(
      out.calls.map((c) => c.model),
      ["local-model", "local-critic", "local-model", "local-critic", "local-model", "local-critic"],
    );
  });

  test("align prints principles, each critique's score and the response as text", async () => {
    const result = await runCli(["align", "What should I pack for a rainy hike?", ...model]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Principles \(critic scores: 3 → 5; stopped: accepted\)/);
    assert.match(result.stdout, /Response \(critic scores: 5; stopped: accepted\)\nHere is a kind and specific answer\./);
  });

  describe("align runs every task that run accepts", () => {
    for (const task of TASK_NAMES) {
      test(task, async () => {
        const goal =
          task === "reappraisal"
            ? ["--goal", "see the situation as a chance to grow"]
            : task.startsWith("resort-")
              ? ["--prompts", RESORT_PIPELINE, "--dimension", "1"]
              : [];
        const result = await runCli(["align", "How do I tell a friend I can't come to their wedding?", "--task", task, ...goal, ...model]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /Here is a kind and specific answer\./);
        const json = await runCli([
          "align",
          "How do I tell a friend I can't come to their wedding?",
          "--task",
          task,
          ...goal,
          "--json",
          ...model,
        ]);
        assert.equal(json.code, 0, json.stderr);
        const out = JSON.parse(json.stdout) as { record: Record<string, unknown>; calls: unknown[] };
        assert.ok(out.calls.length > 0);
      });
    }
  });

  test("run: one record per item, with the input's fields first, and a second run pays nothing", async () => {
    const input = join(dir, "items.jsonl");
    const output = join(dir, "out.jsonl");
    const questions = ["q one?", "q two?", "q three?", "q four?"];
    writeFileSync(input, `${questions.map((q, i) => JSON.stringify({ id: `item-${i}`, instruction: q, extra: i })).join("\n")}\n`);
    const args = ["run", "--input", input, "--output", output, "--concurrency", "3", "--json", ...model];
    const result = await runCli(args, { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const records = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(records.map((r) => r.id).sort(), ["item-0", "item-1", "item-2", "item-3"]);
    const first = records.find((r) => r.id === "item-0")!;
    assert.deepEqual(Object.keys(first).slice(0, 4), ["id", "instruction", "extra", "principle_raw"]);
    for (const r of records) {
      assert.equal(r.iteration_response, 1);
      assert.deepEqual(r.spri_usage, { calls: CALLS_PER_ITEM, cached_calls: 0, input_tokens: 60, output_tokens: 30, cost_usd: null });
    }
    assert.equal(existsSync(`${output}.partial`), false);
    const summary = JSON.parse(result.stdout) as { items: number; calls: number };
    assert.equal(summary.items, 4);
    assert.equal(summary.calls, 4 * CALLS_PER_ITEM);

    const served = server.requests.length;
    const again = await runCli(args, { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).skipped, 4);
    assert.equal(server.requests.length, served, "a finished run re-run makes no calls");
    assert.equal(readFileSync(output, "utf8").trim().split("\n").length, 4);
  });

  test("an item over --max-item-size is rejected before any call, naming its line and id; a larger limit runs it", async () => {
    const input = join(dir, "big-item.jsonl");
    const output = join(dir, "big-item-out.jsonl");
    const huge = `HUGE ${"x".repeat(1_100_000)}`;
    writeFileSync(input, `${JSON.stringify({ id: "small", prompt: "short?" })}\n${JSON.stringify({ id: "big", prompt: huge })}\n`);
    const args = ["run", "--input", input, "--output", output, "--json", ...model];
    const served = server.requests.length;
    const first = await runCli(args, { cwd: dir });
    assert.equal(first.code, 1, first.stderr);
    assert.equal(JSON.parse(first.stdout).calls, CALLS_PER_ITEM);
    assert.equal(
      server.requests.slice(served).some((r) => JSON.stringify(r.body).includes("HUGE")),
      false,
      "the big item was never sent",
    );
    const rejects = readFileSync(`${output}.rejects.jsonl`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id?: string; line: number; reason: string });
    assert.deepEqual(
      rejects.map((r) => [r.id, r.line]),
      [["big", 2]],
    );
    assert.match(rejects[0]!.reason, /big-item\.jsonl:2: item "big" is 1\.1 MB, over the 1 MB limit per item — .*--max-item-size/);

    const raised = await runCli([...args, "--max-item-size", "2MB"], { cwd: dir });
    assert.equal(raised.code, 0, raised.stderr);
    assert.deepEqual(
      readFileSync(output, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).id)
        .sort(),
      ["big", "small"],
    );
    const bad = await runCli([...args, "--max-item-size", "lots"], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-item-size/);
  });

  test("--limit N runs the first N items; a larger N goes on from there and pays only for the new items", async () => {
    const input = join(dir, "limit.jsonl");
    const output = join(dir, "limit-out.jsonl");
    writeFileSync(
      input,
      `${["one", "two", "three", "four", "five"].map((q, i) => JSON.stringify({ id: `l${i}`, prompt: `limit ${q}?` })).join("\n")}\n`,
    );
    const args = ["run", "--input", input, "--output", output, "--json", "--concurrency", "1", ...model];
    const ids = () =>
      readFileSync(output, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).id as string);

    const two = await runCli([...args, "--limit", "2"], { cwd: dir });
    assert.equal(two.code, 0, two.stderr);
    assert.equal(JSON.parse(two.stdout).calls, 2 * CALLS_PER_ITEM);
    assert.deepEqual(ids(), ["l0", "l1"]);
    const estimate = await runCli([...args, "--limit", "3", "--dry-run"], { cwd: dir });
    assert.equal(JSON.parse(estimate.stdout).items, 1, estimate.stderr);
    assert.equal(JSON.parse(estimate.stdout).alreadyDone, 2);

    const four = await runCli([...args, "--limit", "4"], { cwd: dir });
    assert.equal(four.code, 0, four.stderr);
    const summary = JSON.parse(four.stdout) as { calls: number; skipped: number; runId: string };
    assert.equal(summary.calls, 2 * CALLS_PER_ITEM, "only the two new items are paid for");
    assert.equal(summary.skipped, 2);
    assert.equal(summary.runId, JSON.parse(two.stdout).runId, "the same run goes on");
    assert.deepEqual(ids(), ["l0", "l1", "l2", "l3"]);

    const all = await runCli(args, { cwd: dir });
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(ids(), ["l0", "l1", "l2", "l3", "l4"]);
    for (const value of ["0", "-1", "two", "1.5"]) {
      const bad = await runCli([...args, "--limit", value], { cwd: dir });
      assert.equal(bad.code, 2, value);
      assert.match(bad.stderr, /--limit/);
    }
  });

  test("run --cache off and --cache refresh are read, as --no-cache and --refresh are", async () => {
    const input = join(dir, "cache-items.jsonl");
    writeFileSync(input, `${JSON.stringify({ id: "c1", instruction: "a question for the cache?" })}\n`);
    const run = async (output: string, ...args: string[]) => {
      const before = server.requests.length;
      const result = await runCli(["run", "--input", input, "--output", join(dir, output), ...args, ...model], { cwd: dir });
      assert.equal(result.code, 0, result.stderr);
      return server.requests.length - before;
    };
    assert.equal(await run("cache-first.jsonl"), CALLS_PER_ITEM);
    assert.equal(await run("cache-used.jsonl"), 0, "answered from the cache");
    // The scripted critic scores a question's first principles low only once, so fewer calls the second time.
    assert.ok((await run("cache-off.jsonl", "--cache", "off")) > 0, "--cache off calls the models");
    assert.ok((await run("cache-refresh.jsonl", "--cache", "refresh")) > 0, "--cache refresh calls the models");
  });

  describe("bad input: each bad item is rejected with one line naming file, line and field; the rest run", () => {
    const cases: [string, string, RegExp][] = [
      [
        "missing field",
        `{"instruction": "ok"}\n{"text": "no question here"}\n`,
        /items\.jsonl:2: field "user_input": no question field .*--question-field/,
      ],
      ["empty question", `{"prompt": "ok"}\n{"prompt": "  "}\n`, /items\.jsonl:2: field "prompt": the question is empty/],
      ["malformed JSON line", `{"prompt": "ok"}\n{"prompt": "broken\n`, /items\.jsonl:2: malformed JSON/],
    ];
    for (const [name, content, pattern] of cases) {
      test(name, async () => {
        const input = join(dir, "items.jsonl");
        const output = join(dir, `${name.replace(/\W/g, "-")}.jsonl`);
        writeFileSync(input, content);
        const result = await runCli(["run", "--input", input, "--output", output, ...model], { cwd: dir });
        assert.equal(result.code, 1);
        assert.match(result.stderr, pattern);
        assert.match(result.stderr, /1 item\(s\) failed; reasons in .*rejects\.jsonl/);
        const rejects = readFileSync(`${output}.rejects.jsonl`, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { line: number; reason: string });
        assert.equal(rejects.length, 1);
        assert.equal(rejects[0]!.line, 2);
        assert.match(rejects[0]!.reason, pattern);
        assert.equal(readFileSync(output, "utf8").trim().split("\n").length, 1);
      });
    }

    test("an id that is null is refused with its line, and a re-run pays for nothing again", async () => {
      const input = join(dir, "null-id.jsonl");
      const output = join(dir, "null-id-out.jsonl");
      writeFileSync(input, `${JSON.stringify({ id: "a", prompt: "first?" })}\n${JSON.stringify({ id: null, prompt: "second?" })}\n`);
      const args = ["run", "--input", input, "--output", output, "--json", ...model];
      const first = await runCli(args, { cwd: dir });
      assert.equal(first.code, 1, first.stderr);
      const rejects = readFileSync(`${output}.rejects.jsonl`, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { line: number; reason: string });
      assert.deepEqual(
        rejects.map((r) => r.line),
        [2],
      );
      assert.match(rejects[0]!.reason, /null-id\.jsonl:2: field "id": the id is null/);
      assert.equal(JSON.parse(first.stdout).calls, CALLS_PER_ITEM);
      const again = await runCli(args, { cwd: dir });
      assert.equal(JSON.parse(again.stdout).calls, 0, again.stderr);
      assert.deepEqual(
        readFileSync(output, "utf8")
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line).id),
        ["a"],
      );
    });

    test("unknown task", async () => {
      const result = await runCli(["align", "q", "--task", "poetry", ...model]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /^spri: field "task": unknown task "poetry" — use one of sft, reappraisal, rubric, baseline-[^\n]*\n$/);
    });

    test("missing input file", async () => {
      const result = await runCli(["run", "--input", join(dir, "nope.jsonl"), "--output", join(dir, "o.jsonl"), ...model]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /nope\.jsonl: input file does not exist/);
    });
  });

  describe("endpoint failures end with one line that says what to do", () => {
    test("unreachable endpoint", async () => {
      const closed = await startFakeModelServer();
      await closed.close();
      const result = await runCli(["align", "q", "--base-url", `${closed.url}/v1`, "--base-model", "m"]);
      assert.equal(result.code, 3);
      assert.match(
        result.stderr,
        /cannot reach http:\/\/127\.0\.0\.1:\d+\/v1: connect ECONNREFUSED [\d.:]+ — check the URL and that the server is running/,
      );
    });

    test("401 with the key never printed", async () => {
      const denied = await startFakeModelServer(() =>
        openaiError(401, "Incorrect API key provided: sk-test-SECRET123456789", { code: "invalid_api_key" }),
      );
      try {
        const result = await runCli(["align", "q", "--base-url", `${denied.url}/v1`, "--base-model", "m"], {
          env: { OPENAI_API_KEY: "sk-test-SECRET123456789" },
        });
        assert.equal(result.code, 3);
        assert.match(result.stderr, /answered 401: .* — check the API key/);
        assert.equal(result.stderr.includes("SECRET123456789"), false);
        assert.equal(denied.requests[0]!.headers.authorization, "Bearer sk-test-SECRET123456789");
      } finally {
        await denied.close();
      }
    });

    test("unknown model", async () => {
      const result = await runCli(["align", "q", "--base-url", `${server.url}/v1`, "--base-model", "missing-model"]);
      assert.equal(result.code, 3);
      assert.match(result.stderr, /answered 404: .*check the model id "missing-model"/);
    });

    test("no model configured and no key: how to point at a model or an endpoint", async () => {
      const result = await runCli(["align", "q", "--base-provider", "openai-compatible", "--base-model", "gpt-4o-mini"]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /no API key .*set OPENAI_API_KEY, or point --base-url/);
    });
  });

  test("view: a weak token is refused before anything listens, from the flag or the environment", async () => {
    const store = ["--store", join(dir, "view.db"), "--port", "0", "--no-playground"];
    for (const [args, env] of [
      [["--token", "short-token"], {}],
      [[], { SPRI_VIEW_TOKEN: "abc" }],
    ] as const) {
      const result = await runCli(["view", ...store, ...args], { cwd: dir, env, timeoutMs: 20_000 });
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stderr, /token is too short: \d+ of at least 16 characters — leave --token out/);
      assert.doesNotMatch(result.stdout, /http:\/\//, "nothing was served");
    }
    const help = (await runCli(["view", "--help"])).stdout;
    assert.match(help, /at least 16 characters/);
    // The playground runs its items through the runner: its call settings are spri view's flags.
    for (const flag of [
      "--cache",
      "--max-tries",
      "--retry-delay",
      "--max-retry-wait",
      "--rpm",
      "--tpm",
      "--max-cost",
      "--max-tokens",
      "--prices",
    ])
      assert.match(help, new RegExp(`${flag} <value>`), flag);
  });

  test("help documents every flag and the environment", async () => {
    const result = await runCli(["run", "--help"]);
    assert.equal(result.code, 0);
    for (const flag of [
      "--input",
      "--output",
      "--limit",
      "--max-item-size",
      "--concurrency",
      "--compat",
      "--prompts",
      "--seeds",
      "--seeds-per-domain",
      "--question-field",
      "--id-field",
      "--goal-field",
      "--base-url",
      "--critic-url",
      "--threshold",
      "--max-critiques",
    ]) {
      assert.ok(result.stdout.includes(flag), flag);
    }
    for (const env of ["OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "SPRI_MODEL", "SPRI_THRESHOLD"])
      assert.ok(result.stdout.includes(env), env);
  });
});
