/**
 * Acceptance test of latent principle discovery, through the built CLI against a local
 * OpenAI-compatible server (chat + /v1/embeddings) that answers deterministically, on (prompt, gold)
 * pairs from MT-Bench (first turns of the questions with a GPT-4 reference answer):
 *
 *   mine → cluster → constitution → SFT export (+ training request) → spri run --seeds constitution
 *   → apply (self-correction with the constitution) → compare (win rate of y2 over y1)
 *   and the iteration bookkeeping: init → model → iterate mine → cluster → record → status.
 *
 * The scripted policy: y1 is "I am not sure."; candidate 1 of example i writes one of three
 * principles (two wordings of one idea, one other idea), candidate 2 always "Show your work…".
 * Refinements under candidate 1 return the gold for even i (which beats y1) and y1 itself for odd i
 * (no gain); refinements under "Show your work" return y1. So exactly the even examples are accepted.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rougeL } from "../../src/algorithms/discovery/rouge-l.ts";
import { runCli, SHARED } from "../support/cli.ts";
import { type FakeModelServer, json, openaiText, type RecordedRequest, startFakeModelServer } from "../../src/test.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

interface Pair {
  id: string;
  prompt: string;
  gold: string;
  category: string;
}

/** MT-Bench questions joined with GPT-4 reference answers on question_id, first turns. */
function mtBenchPairs(): Pair[] {
  const lines = (file: string) =>
    readFileSync(join(SHARED, "data", "mt-bench", file), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, any>);
  const questions = new Map(lines("question.jsonl").map((q) => [q.question_id as number, q]));
  return lines("reference_answer_gpt-4.jsonl").map((r) => {
    const q = questions.get(r.question_id as number)!;
    return {
      id: String(r.question_id),
      prompt: q.turns[0] as string,
      gold: r.choices[0].turns[0] as string,
      category: q.category as string,
    };
  });
}

const Y1 = "I am not sure.";
const WINNERS = [
  "Principle: Lead with the verdict: open with the conclusion before any elaboration.",
  "Principle: Be exact: include the precise figures and names that were asked for.",
  "Principle: Lead with the verdict: open with the conclusion, then elaborate.",
];
const LOSER = "Principle: Show your work: walk through the reasoning one step at a time.";
/** Embeddings: the two "lead with the verdict" wordings point the same way, "be exact" elsewhere. */
const VECTORS: [RegExp, number[]][] = [
  [/verdict/i, [1, 0.1, 0]],
  [/exact/i, [0, 1, 0.1]],
];

function discoveryServer(pairs: Pair[]): (request: RecordedRequest) => ReturnType<ReturnType<typeof scriptedBackend>> {
  const index = new Map(pairs.map((p, i) => [p.prompt, i]));
  const principleCalls = new Map<string, number>();
  const spri = scriptedBackend();
  return (request) => {
    if (request.path === "/v1/embeddings") {
      const input = (request.body as { input: string[] }).input;
      const data = input.map((text, i) => ({
        object: "embedding",
        index: i,
        embedding: VECTORS.find(([re]) => re.test(text))?.[1] ?? [0.3, 0.3, 1],
      }));
      return json(200, { object: "list", model: "embedder", data, usage: { prompt_tokens: data.length, total_tokens: data.length } });
    }
    const messages = (request.body as { messages: { role: string; content: string }[] }).messages;
    const text = messages.map((m) => m.content).join("\n");
    const asked = /^Request:\n([\s\S]*?)\n\nYour earlier response:|^Request:\n([\s\S]*?)\n\nResponse:/.exec(messages[0]!.content);
    const question = asked?.[1] ?? asked?.[2];
    const i = question === undefined ? undefined : index.get(question);
    // y1: the bare prompt as the only message.
    if (messages.length === 1 && index.has(messages[0]!.content)) return openaiText(Y1);
    if (text.includes("A reference response judged better")) {
      const n = principleCalls.get(question!) ?? 0;
      principleCalls.set(question!, n + 1);
      return openaiText(n === 0 ? WINNERS[i! % WINNERS.length]! : LOSER);
    }
    if (text.includes("List at most 5 concrete ways")) return openaiText("1. It does not answer the question.");
    if (text.includes("Rewrite the response so it follows")) {
      if (/Show your work/.test(text) || i === undefined || i % 2 === 1) return openaiText(Y1);
      return openaiText(pairs[i]!.gold);
    }
    if (text.includes("Pick the one principle above")) return openaiText("Principle: 1\nRevise: yes");
    // A trained model asked to self-correct: "m1" (trained after iteration 1) revises, "m0" does not.
    if (messages.length === 3 && messages[2]!.content === "Improve your response using a guiding principle.") {
      const j = index.get(messages[0]!.content)!;
      const model = (request.body as { model: string }).model;
      return openaiText(
        model === "m1"
          ? `[Principle] Lead with the verdict: open with the conclusion.\n[Critique] No answer.\n[Revised response]\n${pairs[j]!.gold}`
          : "My first answer stands.",
      );
    }
    if (messages[0]!.content.startsWith("You compare two AI assistants")) {
      const user = messages[1]!.content;
      const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(user)![1]!;
      const b = /\[Response B\]\n([\s\S]*)$/.exec(user)![1]!;
      return openaiText(a.length === b.length ? "Same. [[C]]" : a.length > b.length ? "A is fuller. [[A]]" : "B is fuller. [[B]]");
    }
    // Everything else is SPRI (spri run): principles, critiques, responses.
    return spri(request);
  };
}

const readJsonl = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, any>);
const writeJsonl = (file: string, rows: unknown[]) => writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
const round = (x: number) => Math.round(x * 10000) / 10000;

describe("spri discover: mine → cluster → export → SPRI seeds → apply → compare", () => {
  const pairs = mtBenchPairs();
  let server: FakeModelServer;
  let dir: string;
  let model: string[];
  before(async () => {
    assert.ok(pairs.length >= 12, "MT-Bench reference answers");
    server = await startFakeModelServer(discoveryServer(pairs));
    dir = mkdtempSync(join(tmpdir(), "spri-discovery-e2e-"));
    model = ["--base-url", `${server.url}/v1`, "--base-model", "policy", "--store", join(dir, "spri.db")];
  });
  after(async () => {
    await server.close();
  });

  test("the whole pipeline", { timeout: 180_000 }, async () => {
    const mining = pairs.slice(0, 6);
    const input = join(dir, "pairs.jsonl");
    writeJsonl(input, mining);

    // 1. Mining.
    const mined = join(dir, "mined.jsonl");
    let result = await runCli(
      ["discover", "mine", "--input", input, "--output", mined, "--candidates", "2", "--concurrency", "3", ...model],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /3 of 6 examples accepted/);
    const records = readJsonl(mined);
    assert.equal(records.length, 6);
    for (const record of records) {
      const i = mining.findIndex((p) => p.id === record.id);
      assert.equal(record.y1, Y1);
      assert.equal(record.f, "rougeL_f1");
      // Rouge-L numbers are rouge_score's F1 of each response against the gold.
      assert.equal(record.fY1, round(rougeL(record.gold, Y1).fmeasure));
      assert.equal(record.candidates.length, 2);
      for (const c of record.candidates) assert.equal(c.fY2, round(rougeL(record.gold, c.y2).fmeasure));
      assert.equal(record.candidates[1].z, "Show your work: walk through the reasoning one step at a time.");
      assert.equal(record.accepted, i % 2 === 0, `example ${i}`);
      if (record.accepted) {
        assert.equal(record.best.k, 1);
        assert.equal(record.best.y2, mining[i]!.gold);
        assert.ok(record.best.fY2 > record.fY1);
        assert.equal(record.best.gain, round(record.best.fY2 - record.fY1));
        assert.equal(record.decision, "accepted");
      } else {
        assert.equal(record.best, null);
        assert.equal(record.decision, "no-gain");
      }
    }
    const summary = JSON.parse(readFileSync(`${mined}.summary.json`, "utf8"));
    assert.deepEqual([summary.examples, summary.accepted, summary.candidates], [6, 3, 12]);
    // 6 × (1 + 2 × 3) chat calls; the gold was shown only to the principle calls.
    const chat = server.requests.filter((r) => r.path === "/v1/chat/completions");
    assert.equal(chat.length, 42);
    for (const r of chat) {
      const body = JSON.stringify(r.body);
      const showsGold = body.includes("A reference response judged better");
      for (const p of mining) if (p.gold.length > 40 && !showsGold) assert.ok(!body.includes(JSON.stringify(p.gold).slice(1, -1)));
    }

    // Re-running the finished command resumes: nothing left to do, no calls.
    result = await runCli(["discover", "mine", "--input", input, "--output", mined, "--candidates", "2", ...model], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.requests.filter((r) => r.path === "/v1/chat/completions").length, 42);

    // 2. Clustering (the other engineer's command) over the trajectories' accepted principles.
    const constitutionFile = join(dir, "constitution.json");
    result = await runCli(
      [
        "discover",
        "cluster",
        "--input",
        mined,
        "--output",
        constitutionFile,
        "--embeddings",
        "openai",
        "--embedding-url",
        `${server.url}/v1`,
        "--embedding-model",
        "embedder",
        "--json",
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const constitution = JSON.parse(readFileSync(constitutionFile, "utf8"));
    assert.equal(constitution.format, "spri-constitution");
    assert.equal(constitution.principles.length, 2);
    assert.equal(constitution.principles[0].size, 2);
    assert.match(constitution.principles[0].text, /^Lead with the verdict/);
    assert.equal(constitution.principles[1].text, "Be exact: include the precise figures and names that were asked for.");

    // 3. SFT export: TRL prompt-completion with y1 in the prompt, labels replaced by the medoid.
    const sft = join(dir, "sft.jsonl");
    const requestFile = join(dir, "mstep.request.json");
    result = await runCli(
      [
        "discover",
        "export",
        "--input",
        mined,
        "--output",
        sft,
        "--format",
        "trl",
        "--constitution",
        constitutionFile,
        "--request",
        requestFile,
        "--base-model",
        "policy-hf-id",
        "--iter",
        "1",
        "--json",
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const exported = JSON.parse(result.stdout);
    assert.equal(exported.exported, 3);
    assert.equal(exported.skipped["not-accepted"], 3);
    const examples = readJsonl(sft);
    const texts = new Set(constitution.principles.map((p: { text: string }) => p.text));
    for (const example of examples) {
      assert.deepEqual(Object.keys(example), ["prompt", "completion"]);
      assert.deepEqual(
        example.prompt.map((m: { role: string }) => m.role),
        ["user", "assistant", "user"],
      );
      assert.equal(example.prompt[1].content, Y1);
      assert.equal(example.completion.length, 1);
      assert.equal(example.completion[0].role, "assistant");
      const target = example.completion[0].content as string;
      const parsed = /^\[Principle\] (.+)\n\[Critique\] (.+)\n\[Revised response\]\n([\s\S]+)$/.exec(target);
      assert.ok(parsed, target.slice(0, 100));
      assert.ok(texts.has(parsed[1]), `a constitution principle: ${parsed[1]}`);
      assert.ok(mining.some((p) => p.gold === parsed[3]));
      assert.ok(!target.includes(Y1));
    }
    const request = JSON.parse(readFileSync(requestFile, "utf8"));
    assert.equal(request.train[0].n, 3);
    assert.equal(request.train[0].format, "trl.conversational.prompt_completion");
    assert.equal(request.initFrom.model, "policy-hf-id");
    assert.match(readFileSync(`${requestFile}.trl.yaml`, "utf8"), /data_files: "sft.jsonl"/);

    // The labelled copy of the clustering trains on each record's zCanonical (its cluster's medoid).
    result = await runCli(
      ["discover", "export", "--input", join(dir, "constitution.labelled.jsonl"), "--output", join(dir, "sft.labelled.jsonl"), "--json"],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).relabelled, { canonical: 3, member: 0, nearest: 0 });

    const openai = join(dir, "sft.openai.jsonl");
    result = await runCli(["discover", "export", "--input", mined, "--output", openai, "--format", "openai"], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    for (const example of readJsonl(openai)) {
      assert.deepEqual(
        example.messages.map((m: { role: string; weight?: number }) => [m.role, m.weight ?? null]),
        [
          ["user", null],
          ["assistant", 0],
          ["user", null],
          ["assistant", 1],
        ],
      );
    }

    // 4a. The constitution as SPRI seeds: the principle-generation prompt shows its principles.
    const prompts = join(dir, "prompts.jsonl");
    writeJsonl(
      prompts,
      pairs.slice(6, 8).map((p) => ({ id: p.id, question: p.prompt })),
    );
    const before = server.requests.length;
    result = await runCli(["run", "--input", prompts, "--output", join(dir, "spri.jsonl"), "--seeds", constitutionFile, ...model], {
      cwd: dir,
    });
    assert.equal(result.code, 0, result.stderr);
    const generation = server.requests
      .slice(before)
      .map((r) => (r.body as { messages: { role: string; content: string }[] }).messages)
      .filter((m) => m[0]!.content.startsWith("You write guiding principles"));
    assert.equal(generation.length, 2);
    for (const messages of generation) {
      for (const p of constitution.principles)
        assert.ok(messages[0]!.content.includes(`### Principles: ${p.text}\n`), "constitution principle in the few-shot block");
    }
    assert.equal(readJsonl(join(dir, "spri.jsonl")).length, 2);

    // 4b + 5. Prompt-time self-correction on held-out prompts, then the win rate of y2 over y1.
    const heldout = join(dir, "heldout.jsonl");
    writeJsonl(
      heldout,
      pairs.slice(6, 10).map((p) => ({ id: p.id, prompt: p.prompt })),
    );
    const applied = join(dir, "applied.jsonl");
    result = await runCli(["discover", "apply", "--input", heldout, "--output", applied, "--constitution", constitutionFile, ...model], {
      cwd: dir,
    });
    assert.equal(result.code, 0, result.stderr);
    const corrected = readJsonl(applied);
    assert.equal(corrected.length, 4);
    for (const record of corrected) {
      assert.equal(record.init_response, Y1);
      assert.equal(record.self_correct_principle_id, constitution.principles[0].id);
      assert.equal(record.self_correct_applied, true);
    }
    // Even held-out indices (6, 8) are refined to their gold; odd ones (7, 9) back to y1.
    const revised = new Map(corrected.map((r) => [r.id as string, r.response_final !== Y1]));
    assert.deepEqual(
      pairs.slice(6, 10).map((p) => revised.get(p.id)),
      [true, false, true, false],
    );

    const judged = join(dir, "y2-vs-y1.jsonl");
    result = await runCli(
      [
        "compare",
        "--a",
        applied,
        "--b",
        applied,
        "--question-field",
        "prompt",
        "--response-field",
        "init_response",
        "--response-field-b",
        "response_final",
        "--output",
        judged,
        "--json",
        ...model,
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const win = JSON.parse(result.stdout);
    // Two revisions preferred in both orders, two unchanged (ties): (1 + 1 + 0.5 + 0.5) / 4.
    assert.deepEqual([win.n, win.winsB, win.ties, win.winsA, win.inconsistent], [4, 2, 2, 0, 0]);
    assert.equal(win.winRateB, 75);
  });
});

describe("spri discover iterate: slices, models, discovery rate, status", () => {
  const pairs = mtBenchPairs().slice(0, 12);
  let server: FakeModelServer;
  let dir: string;
  before(async () => {
    server = await startFakeModelServer(discoveryServer(pairs));
    dir = mkdtempSync(join(tmpdir(), "spri-iterate-e2e-"));
  });
  after(async () => {
    await server.close();
  });

  test("two iterations", { timeout: 180_000 }, async () => {
    const input = join(dir, "pairs.jsonl");
    writeJsonl(input, pairs);
    const root = join(dir, "run");
    const url = `${server.url}/v1`;
    const store = ["--store", join(dir, "spri.db")];
    let result = await runCli(
      ["discover", "iterate", "init", "--dir", root, "--input", input, "--slices", "2", "--base-model", "m0", "--base-url", url],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const slices = [1, 2].map((t) => readJsonl(join(root, `iter-${t}`, "prompts.jsonl")).map((r) => r.id as string));
    assert.deepEqual(
      slices.map((s) => s.length),
      [6, 6],
    );
    assert.equal(new Set(slices.flat()).size, 12);

    for (const iter of [1, 2]) {
      if (iter === 2) {
        result = await runCli(["discover", "iterate", "model", "--dir", root, "--iter", "2", "--base-model", "m1", "--base-url", url], {
          cwd: dir,
        });
        assert.equal(result.code, 0, result.stderr);
      }
      result = await runCli(["discover", "iterate", "mine", "--dir", root, "--iter", String(iter), "--candidates", "2", ...store], {
        cwd: dir,
      });
      assert.equal(result.code, 0, result.stderr);
      const mined = readJsonl(join(root, `iter-${iter}`, "mined.jsonl"));
      assert.ok(mined.every((r) => r.iter === iter && r.policy.model === (iter === 1 ? "m0" : "m1")));
      assert.deepEqual(mined.map((r) => r.id).sort(), [...slices[iter - 1]!].sort());
      result = await runCli(
        [
          "discover",
          "cluster",
          "--input",
          join(root, `iter-${iter}`, "mined.jsonl"),
          "--output",
          join(root, `iter-${iter}`, "constitution.json"),
          "--embedding-url",
          url,
          "--embedding-model",
          "embedder",
        ],
        { cwd: dir },
      );
      assert.equal(result.code, 0, result.stderr);
      result = await runCli(["discover", "iterate", "record", "--dir", root, "--iter", String(iter)], { cwd: dir });
      assert.equal(result.code, 0, result.stderr);
    }
    result = await runCli(["discover", "iterate", "status", "--dir", root, "--json"], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const state = JSON.parse(result.stdout);
    const [one, two] = state.iterations.map((e: { stats: Record<string, number> }) => e.stats);
    // Accepted: the examples at even positions of the pairs, each with wording i % 3 of WINNERS;
    // wordings 0 and 2 are one idea (near-duplicates, one cluster), wording 1 another.
    const accepted = (slice: string[]) => slice.map((id) => pairs.findIndex((p) => p.id === id)).filter((i) => i % 2 === 0);
    const wordings = (slice: string[]) => new Set(accepted(slice).map((i) => i % 3));
    const idea = (w: number) => (w === 1 ? "exact" : "verdict");
    const [w1, w2] = [wordings(slices[0]!), wordings(slices[1]!)];
    const ideas1 = new Set([...w1].map(idea));
    assert.deepEqual([one.accepted, two.accepted], [accepted(slices[0]!).length, accepted(slices[1]!).length]);
    assert.deepEqual([one.uniquePrinciples, two.uniquePrinciples], [w1.size, w2.size]);
    assert.equal(one.newPrinciples, w1.size);
    assert.equal(
      two.newPrinciples,
      [...w2].filter((w) => !ideas1.has(idea(w))).length,
      "iteration 2's rediscoveries are near-duplicates of iteration 1's constitution",
    );
    assert.deepEqual([one.discoveryRate, two.discoveryRate], [round(one.newPrinciples / 6), round(two.newPrinciples / 6)]);
    assert.deepEqual([one.constitutionSize, two.constitutionSize], [ideas1.size, new Set([...w2].map(idea)).size]);
    result = await runCli(["discover", "iterate", "status", "--dir", root], { cwd: dir });
    assert.match(result.stdout, /^iter\s+prompts\s+model\s+mined\s+accepted\s+unique\s+new\s+discovery\s+constitution/m);
    assert.match(result.stdout, /^2\s+6\s+m1 @ http/m);

    // Evaluation: iteration 2's model (m1, trained) against iteration 1's (m0) on held-out prompts,
    // each answering and self-correcting as a trained model does, judged pairwise in both orders.
    const heldout = join(dir, "heldout.jsonl");
    writeJsonl(
      heldout,
      pairs.slice(0, 3).map((p) => ({ id: p.id, prompt: p.prompt })),
    );
    for (const m of ["m0", "m1"]) {
      result = await runCli(
        [
          "discover",
          "apply",
          "--mode",
          "trained",
          "--input",
          heldout,
          "--output",
          join(dir, `${m}.jsonl`),
          "--base-url",
          url,
          "--base-model",
          m,
          ...store,
        ],
        { cwd: dir },
      );
      assert.equal(result.code, 0, result.stderr);
    }
    assert.ok(
      readJsonl(join(dir, "m1.jsonl")).every(
        (r) => r.self_correct_applied === true && r.self_correct_principle === "Lead with the verdict: open with the conclusion.",
      ),
    );
    assert.ok(readJsonl(join(dir, "m0.jsonl")).every((r) => r.self_correct_applied === false && r.response_final === Y1));
    result = await runCli(
      [
        "compare",
        "--a",
        join(dir, "m0.jsonl"),
        "--b",
        join(dir, "m1.jsonl"),
        "--question-field",
        "prompt",
        "--output",
        join(dir, "m1-vs-m0.jsonl"),
        "--json",
        "--base-url",
        url,
        "--base-model",
        "judge",
        ...store,
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const win = JSON.parse(result.stdout);
    // The golds are longer than "I am not sure.", so the judge prefers m1 wherever it revised.
    assert.deepEqual([win.n, win.winsB, win.winRateB], [3, 3, 100]);
  });
});
