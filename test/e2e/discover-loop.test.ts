/**
 * Acceptance test of `spri discover loop` (issue 15): two STaPLe iterations, unattended, through the
 * built CLI against one local server that plays the OpenAI files, fine-tuning jobs and chat APIs
 * (plus /v1/embeddings for clustering).
 *
 * The base model "m0" answers every prompt with "I am not sure."; a fine-tuned model answers with
 * the first half of the gold. Under a "winning" principle the refinement is the gold (accepted),
 * under the other one it is y1 (no gain). The judge prefers the longer answer. So iteration 2's
 * model (fine-tuned after iteration 1) scores a higher held-out Rouge-L and wins against the base.
 *
 * The loop is killed with -9 once the first fine-tuning job exists and started again: it goes on
 * with the same job, uploads nothing twice, clusters nothing twice and sends no chat call twice.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startFakeFineTuningServer } from "../../src/models/fake-server/fake-fine-tuning-api.ts";
import { hang, json, openaiError, openaiText, type RecordedRequest, type Responder } from "../../src/test.ts";
import { runCli } from "../support/cli.ts";

const TOPICS = ["green tea", "an egg", "rice", "pasta", "oatmeal", "lentils", "coffee", "quinoa"];
const PAIRS = TOPICS.map((topic, i) => ({
  id: `q${i + 1}`,
  prompt: `How should I cook ${topic}?`,
  gold: `Rinse the ${topic} first, then simmer it gently for about ${i + 5} minutes and season it with a little salt before serving.`,
}));
const HELDOUT = [
  { id: "h1", prompt: "How should I cook barley?", gold: "Rinse the barley, then simmer it for forty minutes and drain it well." },
  { id: "h2", prompt: "How should I cook millet?", gold: "Toast the millet in a dry pan, then simmer it for twenty minutes." },
];
const Y1 = "I am not sure.";
const WINNERS = [
  "Principle: Give concrete steps: say what to do first and what comes next.",
  "Principle: Give concrete steps in order, from the first to the last.",
  "Principle: State timings: say how long each step takes.",
];
const LOSER = "Principle: Stay humble and admit what you do not know.";
const VECTORS: [RegExp, number[]][] = [
  [/concrete steps/i, [1, 0.1, 0]],
  [/timings/i, [0, 1, 0.1]],
];

const GOLD_OF = new Map([...PAIRS, ...HELDOUT].map((p) => [p.prompt, p.gold]));
const halfOf = (text: string) =>
  text
    .split(" ")
    .slice(0, Math.ceil(text.split(" ").length / 2))
    .join(" ");

/** The policy: "I am not sure." untrained, half the gold once fine-tuned; the same principles, critiques and refinements. */
function policy(tuned: boolean) {
  const principleCalls = new Map<string, number>();
  return (request: RecordedRequest) => {
    const messages = (request.body as { messages: { role: string; content: string }[] }).messages;
    const text = messages.map((m) => m.content).join("\n");
    const gold = GOLD_OF.get(messages[0]!.content);
    if (messages.length === 1 && gold !== undefined) return openaiText(tuned ? halfOf(gold) : Y1);
    const asked = /^Request:\n([\s\S]*?)\n\n/.exec(messages[0]!.content)?.[1] ?? "";
    if (text.includes("A reference response judged better")) {
      const n = principleCalls.get(asked) ?? 0;
      principleCalls.set(asked, n + 1);
      return openaiText(n % 2 === 0 ? WINNERS[TOPICS.findIndex((t) => asked.includes(t)) % WINNERS.length]! : LOSER);
    }
    if (text.includes("List at most 5 concrete ways")) return openaiText("1. It gives no steps.");
    if (text.includes("Rewrite the response so it follows")) return openaiText(text.includes(LOSER) ? Y1 : (GOLD_OF.get(asked) ?? Y1));
    return openaiText("Say OK.");
  };
}

/** The judge ("judge"): the longer response wins, both orders. */
function judgeOrBase(base: ReturnType<typeof policy>) {
  return (request: RecordedRequest) => {
    const body = request.body as { model: string; messages: { content: string }[] };
    if (body.model !== "judge") return base(request);
    const user = body.messages[1]!.content;
    const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(user)![1]!;
    const b = /\[Response B\]\n([\s\S]*)$/.exec(user)![1]!;
    return openaiText(a.length === b.length ? "[[C]]" : a.length > b.length ? "[[A]]" : "[[B]]");
  };
}

function embeddings(request: RecordedRequest) {
  if (request.path !== "/v1/embeddings") return json(404, { error: { message: `no route for ${request.path}` } });
  const input = (request.body as { input: string[] }).input;
  const data = input.map((text, index) => ({
    object: "embedding",
    index,
    embedding: VECTORS.find(([re]) => re.test(text))?.[1] ?? [0.3, 0.3, 1],
  }));
  return json(200, { object: "list", model: "embedder", data, usage: { prompt_tokens: data.length, total_tokens: data.length } });
}

const writeJsonl = (file: string, rows: unknown[]) => writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
const readJsonl = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, any>);
const chatBodies = (requests: readonly RecordedRequest[]) =>
  requests.filter((r) => r.path === "/v1/chat/completions").map((r) => r.rawBody);

test("discover loop: two iterations with the OpenAI trainer, killed with -9 during training and resumed without paying twice", {
  timeout: 240_000,
}, async (t) => {
  const server = await startFakeFineTuningServer({
    answer: judgeOrBase(policy(false)),
    fineTuned: policy(true),
    otherwise: embeddings,
  });
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), "spri-discover-loop-"));
  const data = join(dir, "pairs.jsonl");
  const heldout = join(dir, "heldout.jsonl");
  writeJsonl(data, PAIRS);
  writeJsonl(heldout, HELDOUT);
  const root = join(dir, "loop");
  const url = `${server.url}/v1`;
  const args = [
    ...["discover", "loop", "--dir", root, "--iterations", "2", "--input", data, "--heldout", heldout],
    ...["--base-model", "m0", "--base-url", url, "--critic-model", "judge", "--critic-url", url, "--candidates", "2"],
    ...["--embedding-url", url, "--embedding-model", "embedder"],
    ...["--trainer", "openai", "--fine-tuning-url", url, "--training-price", "3", "--poll-interval", "0.01"],
    ...["--store", join(dir, "spri.db")],
  ];
  const env = { OPENAI_API_KEY: "sk-secret-key" };

  // 1. Killed with -9 once the first fine-tuning job exists (the job is held running).
  server.hold = true;
  const killed = await runCli(args, {
    env,
    cwd: dir,
    timeoutMs: 120_000,
    signal: { name: "SIGKILL", when: once(server.events, "job-created") },
  });
  assert.equal(killed.code, null, killed.stderr);
  assert.equal(server.jobs.size, 1);
  const beforeKill = chatBodies(server.requests);
  const embeddingsBeforeKill = server.requests.filter((r) => r.path === "/v1/embeddings").length;
  assert.ok(beforeKill.length > 0);
  assert.equal(embeddingsBeforeKill, 1);

  // 2. Run again: it follows the same job and goes on through iteration 2.
  server.hold = false;
  const rerun = await runCli(args, { env, cwd: dir, timeoutMs: 180_000 });
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /iteration 1\/2: mine: done before/);
  assert.match(rerun.stderr, /iteration 1\/2: cluster: done before/);
  assert.match(rerun.stderr, /iteration 2\/2: mine: \d+ of 4 examples accepted/);
  assert.doesNotMatch(rerun.stderr + rerun.stdout + killed.stderr, /sk-secret-key/);

  // Paid once: two files uploaded per training (train, validation), one job per iteration, no chat call or embedding twice.
  const jobs = [...server.jobs.values()];
  assert.equal(server.log.filter((l) => l === "POST /v1/fine_tuning/jobs").length, 2);
  assert.equal(jobs.length, 2);
  assert.equal(server.log.filter((l) => l === "POST /v1/files").length, 4);
  assert.equal(new Set([...server.files.values()].map((f) => f.content)).size, 4);
  const afterKill = chatBodies(server.requests).slice(beforeKill.length);
  const repeated = afterKill.filter((body) => beforeKill.includes(body));
  assert.deepEqual(repeated, [], "no chat call of before the kill is sent again");
  assert.equal(server.requests.filter((r) => r.path === "/v1/embeddings").length, 2, "one clustering per iteration");

  // Iteration 2 mined with the model fine-tuned after iteration 1, and trained it further.
  const [first, second] = jobs;
  const tuned1 = first!.fine_tuned_model!;
  assert.equal(first!.model, "m0");
  assert.equal(second!.model, tuned1);
  const mined2 = readJsonl(join(root, "iter-2", "mined.jsonl"));
  assert.equal(mined2.length, 4);
  assert.ok(mined2.every((r) => r.policy.model === tuned1 && r.iter === 2));
  const policyModels = new Set(
    server.requests
      .filter((r) => r.path === "/v1/chat/completions")
      .map((r) => (r.body as { model: string }).model)
      .filter((m) => m !== "judge"),
  );
  assert.deepEqual([...policyModels].sort(), ["m0", tuned1].sort());

  // state.json: each iteration's stages, the training run and the model it gave, the model of iteration 2.
  const state = JSON.parse(readFileSync(join(root, "state.json"), "utf8")) as { iterations: Record<string, any>[] };
  const [s1, s2] = state.iterations;
  assert.equal(s1!.model.baseModel, "m0");
  assert.equal(s2!.model.baseModel, tuned1);
  assert.equal(s1!.loop.train.model, tuned1);
  assert.equal(s1!.loop.train.job, first!.id);
  assert.equal(typeof s1!.loop.train.runId, "string");
  assert.equal(s2!.loop.train.model, second!.fine_tuned_model);
  for (const s of [s1!, s2!]) for (const stage of ["mine", "cluster", "train", "eval"]) assert.ok(s.loop[stage].doneAt, `${stage} done`);

  // Per-iteration metrics: the fine-tuned model is closer to the gold and beats the base model.
  assert.match(rerun.stdout, /^iter\s+model\s+accepted\s+constitution\s+diversity\s+rougeL\s+vs-previous\s+vs-base/m);
  const report = await runCli(["discover", "iterate", "report", "--dir", root, "--json"], { cwd: dir });
  const rows = (JSON.parse(report.stdout) as { iterations: Record<string, any>[] }).iterations;
  assert.deepEqual(
    rows.map((r) => r.model),
    ["m0", tuned1],
  );
  assert.ok(rows[1]!.rougeL > rows[0]!.rougeL, `Rouge-L ${rows[0]!.rougeL} → ${rows[1]!.rougeL}`);
  assert.equal(rows[1]!.winRateVsBase, 100);
  assert.equal(rows[1]!.winRateVsPrevious, 100);

  // Finished: the same command again calls nothing.
  const calls = server.requests.length;
  const again = await runCli(args, { env, cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(server.requests.length, calls);
});

test("discover loop --trainer manual: waits after the export with the next steps; spri discover resume, or --trained-model, goes on", {
  timeout: 240_000,
}, async (t) => {
  const server = await startFakeFineTuningServer({ answer: judgeOrBase(policy(false)), fineTuned: policy(true), otherwise: embeddings });
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), "spri-discover-loop-manual-"));
  const data = join(dir, "pairs.jsonl");
  writeJsonl(data, PAIRS);
  const root = join(dir, "loop");
  const store = join(dir, "spri.db");
  const url = `${server.url}/v1`;
  const args = [
    ...["discover", "loop", "--dir", root, "--iterations", "2", "--input", data, "--trainer", "manual"],
    ...["--base-model", "m0", "--base-url", url, "--candidates", "2", "--embedding-url", url, "--embedding-model", "embedder"],
    ...["--store", store],
  ];
  const cli = (extra: string[] = []) => runCli([...args, ...extra], { cwd: dir, env: { OPENAI_API_KEY: "sk-secret-key" } });

  let result = await cli();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /iteration 1 waits for a trained model/);
  assert.match(result.stderr, /trl sft --config .*iter-1\/mstep\.request\.json\.trl\.yaml/);
  assert.match(result.stderr, new RegExp(`spri discover resume --store ${store.replace(/[.]/g, "\\.")} --model <served model id>`));
  assert.match(result.stderr, /run this spri discover loop command again/);

  // spri discover resume records the model; the loop goes on with it and waits again after iteration 2's export.
  result = await runCli(["discover", "resume", "--model", "m1", "--base-url", url, "--store", store], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  result = await cli();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /iteration 2\/2: mine: 4 prompts with m1/);
  assert.match(result.stderr, /iteration 2 waits for a trained model/);

  // --trained-model: a model of an earlier iteration is refused; the one trained on iteration 2's export completes the loop.
  result = await cli(["--trained-model", "m1"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--trained-model m1 is the model of iteration 2/);
  result = await cli(["--trained-model", "m2", "--trained-url", url]);
  assert.equal(result.code, 0, result.stderr);
  const state = JSON.parse(readFileSync(join(root, "state.json"), "utf8")) as { iterations: Record<string, any>[] };
  assert.deepEqual(
    state.iterations.map((s) => [s.model.baseModel, s.loop.train.model]),
    [
      ["m0", "m1"],
      ["m1", "m2"],
    ],
  );
  assert.match(result.stderr, /the last model trained: m2/);
  assert.ok(!existsSync(join(root, "iter-1", "eval.jsonl")), "no evaluation without --heldout");
});

/** A rate-limit refusal that asks the client to wait a second before its next try. */
const SLOW_DOWN = openaiError(429, "slow down", { type: "rate_limit_error", code: "rate_limit_exceeded", headers: { "retry-after": "1" } });

/**
 * Kills the loop on a request the server receives, and keeps the bodies it answered (chat and
 * embeddings) for a test to count what was paid. `arm(matches, n, how)` picks the n-th request that
 * matches; from it on, no chat or embedding request is answered until `disarm()`.
 * - `hang`: that request is never answered, and the kill comes as it arrives (embeddings: a batch
 *   goes out only once the batches before it are committed to the store).
 * - `retry`: that request, and every one after it, gets a 429 with `Retry-After: 1`; the kill comes
 *   when it is tried again. The call cache commits an answer 20 ms after it came back (its group
 *   commit), so by the end of the client's one-second wait every answer the server gave is in the
 *   store: a call answered twice would be one the re-run paid for again. (A request held open
 *   instead would keep its slot, which the 429 halved, and the retry would never go out.)
 */
function killSwitch() {
  const answered: string[] = [];
  let armed: { matches: (request: RecordedRequest) => boolean; n: number; how: "hang" | "retry"; kill: () => void } | undefined;
  let seen = 0;
  let picked: string | undefined;
  const gate =
    (respond: Responder): Responder =>
    async (request) => {
      if (armed && picked === undefined && armed.matches(request) && ++seen === armed.n) {
        picked = request.rawBody;
        if (armed.how === "retry") return SLOW_DOWN;
        armed.kill();
      }
      if (picked !== undefined) {
        if (request.rawBody === picked) armed!.kill();
        return armed!.how === "hang" || request.rawBody === picked ? hang() : SLOW_DOWN;
      }
      const reply = await respond(request);
      answered.push(request.rawBody);
      return reply;
    };
  return {
    answered,
    gate,
    /** Resolves when the loop is to be killed. */
    arm(matches: (request: RecordedRequest) => boolean, n: number, how: "hang" | "retry"): Promise<void> {
      seen = 0;
      picked = undefined;
      return new Promise((resolve) => (armed = { matches, n, how, kill: () => resolve() }));
    },
    disarm() {
      armed = undefined;
      picked = undefined;
    },
  };
}

const HELDOUT_PROMPTS = new Set(HELDOUT.map((h) => h.prompt));
const chatOf = (request: RecordedRequest) =>
  request.path === "/v1/chat/completions" ? (request.body as { model: string; messages: { content: string }[] }) : undefined;

test("discover loop: killed with -9 in mining, clustering and evaluation, each stage resumes paying for nothing twice; the report is an uninterrupted run's", {
  timeout: 240_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spri-discover-loop-kills-"));
  const data = join(dir, "pairs.jsonl");
  const heldout = join(dir, "heldout.jsonl");
  writeJsonl(data, PAIRS);
  writeJsonl(heldout, HELDOUT);
  const start = async () => {
    const kill = killSwitch();
    const server = await startFakeFineTuningServer({
      answer: kill.gate(judgeOrBase(policy(false))),
      fineTuned: kill.gate(policy(true)),
      otherwise: kill.gate(embeddings),
    });
    t.after(() => server.close());
    return { kill, server };
  };
  const loop = (root: string, url: string, signal?: Promise<void>) =>
    runCli(
      [
        ...["discover", "loop", "--dir", join(dir, root), "--iterations", "2", "--input", data, "--heldout", heldout],
        ...["--base-model", "m0", "--base-url", url, "--critic-model", "judge", "--critic-url", url, "--candidates", "1"],
        ...["--embedding-url", url, "--embedding-model", "embedder", "--batch-size", "1", "--concurrency", "2"],
        ...["--trainer", "openai", "--fine-tuning-url", url, "--training-price", "3", "--poll-interval", "0.01"],
        ...["--store", join(dir, `${root}.db`)],
      ],
      {
        env: { OPENAI_API_KEY: "sk-secret-key" },
        cwd: dir,
        timeoutMs: 120_000,
        ...(signal ? { signal: { name: "SIGKILL", when: signal } } : {}),
      },
    );
  const loopOf = (root: string) =>
    (
      JSON.parse(readFileSync(join(dir, root, "state.json"), "utf8")) as { iterations: { loop?: Record<string, { doneAt?: string }> }[] }
    ).iterations.map((s) => Object.keys(s.loop ?? {}).filter((stage) => s.loop![stage]!.doneAt));

  const { kill, server } = await start();
  const url = `${server.url}/v1`;
  const killedAt = async (when: Promise<void>) => {
    const killed = await loop("killed", url, when);
    assert.equal(killed.code, null, killed.stderr);
    kill.disarm();
    return loopOf("killed");
  };

  // 1. Mining of iteration 1: its sixth call is refused once, and the loop killed as it is tried again.
  const mining = (request: RecordedRequest) =>
    chatOf(request)?.model === "m0" && !HELDOUT_PROMPTS.has(chatOf(request)!.messages[0]!.content);
  assert.deepEqual(await killedAt(kill.arm(mining, 6, "retry")), [[], []]);
  assert.equal(kill.answered.length, 5, "five mining calls answered before the kill");

  // 2. Clustering of iteration 1: killed as its second embedding batch (one principle each) arrives.
  const embedding = (request: RecordedRequest) => request.path === "/v1/embeddings";
  assert.deepEqual(await killedAt(kill.arm(embedding, 2, "hang")), [["mine"], []]);

  // 3. Evaluation of iteration 2 (the fine-tuned model's answers and the judge): killed at its fourth call.
  const evaluation = (request: RecordedRequest) => {
    const chat = chatOf(request);
    return chat !== undefined && (chat.model === "judge" || (chat.model !== "m0" && HELDOUT_PROMPTS.has(chat.messages[0]!.content)));
  };
  assert.deepEqual(await killedAt(kill.arm(evaluation, 4, "retry")), [
    ["mine", "cluster", "train", "eval"],
    ["mine", "cluster", "train"],
  ]);

  const rerun = await loop("killed", url);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /iteration 2\/2: train: done before\n.*iteration 2\/2: eval: 2 held-out prompts with ft:/);
  assert.deepEqual(loopOf("killed"), [
    ["mine", "cluster", "train", "eval"],
    ["mine", "cluster", "train", "eval"],
  ]);
  const mined = readJsonl(join(dir, "killed", "iter-1", "mined.jsonl"));
  assert.equal(mined.length, 4);
  assert.equal(new Set(mined.map((r) => r.id)).size, 4, "each mined example once");
  const paid = kill.answered;
  assert.equal(new Set(paid).size, paid.length, "no chat or embedding request answered twice across the kills");

  // The same loop, never killed, on a server of its own: the same calls, constitutions and report.
  const whole = await start();
  const uninterrupted = await loop("whole", `${whole.server.url}/v1`);
  assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
  assert.deepEqual(paid.toSorted(), whole.kill.answered.toSorted(), "the killed loop paid for exactly the calls of an uninterrupted one");
  for (const iter of ["iter-1", "iter-2"]) {
    const principles = (root: string) => JSON.parse(readFileSync(join(dir, root, iter, "constitution.json"), "utf8")).principles as unknown;
    assert.deepEqual(principles("killed"), principles("whole"), `${iter}'s constitution`);
  }
  const report = async (root: string) =>
    JSON.parse((await runCli(["discover", "iterate", "report", "--dir", join(dir, root), "--json"], { cwd: dir })).stdout) as unknown;
  assert.deepEqual(await report("killed"), await report("whole"));
});
