/** `spri discover cluster` end to end: the built CLI as a child process. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SqliteStore } from "../../src/runtime/store/sqlite-store.ts";
import { runCli, SHARED } from "../support/cli.ts";
import { hang, json, openaiText, type RecordedRequest, startFakeModelServer, type FakeModelServer } from "../../src/test.ts";

interface ConstitutionFile {
  format: string;
  version: number;
  principles: Array<{ id: string; text: string; size: number; uniqueMembers: number; members: string[]; name?: string }>;
  source: Record<string, unknown>;
}

/** Three themes: brevity, sources, politeness (vectors: one axis each, with a little spread). */
const THEMES: Record<string, number[]> = {
  "be concise.": [1, 0, 0],
  "keep answers short.": [1, 0.06, 0.02],
  "avoid unnecessary words.": [1, -0.06, -0.02],
  "cite your sources.": [0.03, 1, 0],
  "give references for factual claims.": [-0.02, 0.98, 0.05],
  "use a polite tone.": [0, 0.03, 1],
};

function jsonl(rows: unknown[]): string {
  return `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
}

function trajectory(id: string, z: string | null) {
  return {
    id,
    iter: 0,
    prompt: [{ role: "user", content: `question ${id}` }],
    y1: "draft",
    gold: "gold",
    accepted: z !== null,
    best: z === null ? null : { z, critique: "c", y2: "better", fY2: 0.5, gain: 0.2 },
  };
}

describe("spri discover cluster (CLI)", () => {
  let dir: string;
  let vectors: string;
  /** Runs in the test directory, so the default run store (spri.db) lands there. */
  const cli = (args: readonly string[]) => runCli(args, { cwd: dir });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-cli-discover-"));
    vectors = join(dir, "vectors.jsonl");
    writeFileSync(vectors, jsonl(Object.entries(THEMES).map(([text, vector]) => ({ text, vector }))));
  });

  test("trajectories + vectors file: constitution JSON, Markdown and a labelled copy", async () => {
    const input = join(dir, "trajectories.jsonl");
    writeFileSync(
      input,
      jsonl([
        trajectory("t1", "Principle: Be concise."),
        trajectory("t2", "be   concise."),
        trajectory("t3", "Keep answers short."),
        trajectory("t4", "Cite your sources."),
        trajectory("t5", null),
        trajectory("t6", "Give references for factual claims."),
        trajectory("t7", "Avoid unnecessary words."),
        trajectory("t8", "Use a polite tone."),
      ]),
    );
    const output = join(dir, "constitution.json");
    const result = await cli(["discover", "cluster", "--input", input, "--output", output, "--vectors", vectors]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /read 8 rows: 7 principles \(6 unique\) from "best\.z"/);
    // No --threshold or --clusters: the count is chosen by silhouette (three themes → 3).
    assert.match(result.stderr, /3 clusters from 6 unique principles \(average linkage, k chosen by silhouette [\d.]+ over 2\.\.5\)/);

    const constitution = JSON.parse(readFileSync(output, "utf8")) as ConstitutionFile;
    assert.equal(constitution.format, "spri-constitution");
    assert.equal(constitution.version, 1);
    assert.deepEqual(
      constitution.principles.map((p) => [p.id, p.text, p.size, p.uniqueMembers]),
      [
        ["c1", "Be concise.", 4, 3],
        ["c2", "Cite your sources.", 2, 2],
        ["c3", "Use a polite tone.", 1, 1],
      ],
    );
    assert.deepEqual(constitution.principles[0]!.members.sort(), ["Avoid unnecessary words.", "Keep answers short."]);
    assert.equal(constitution.source.uniquePrinciples, 6);
    assert.deepEqual(constitution.source.embeddings, { source: "file", model: vectors, dimension: 3 });
    assert.equal((constitution.source.clustering as { linkage: string }).linkage, "average");

    const markdown = readFileSync(join(dir, "constitution.md"), "utf8");
    assert.match(markdown, /## c1\n\n> Be concise\.\n\nCluster size: 4 \(3 unique\)\./);

    const labelled = readFileSync(join(dir, "constitution.labelled.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(labelled.length, 8);
    assert.deepEqual(
      labelled.map((row) => [row.id, row.zCanonical ?? null, row.clusterId ?? null]),
      [
        ["t1", "Be concise.", "c1"],
        ["t2", "Be concise.", "c1"],
        ["t3", "Be concise.", "c1"],
        ["t4", "Cite your sources.", "c2"],
        ["t5", null, null],
        ["t6", "Cite your sources.", "c2"],
        ["t7", "Be concise.", "c1"],
        ["t8", "Use a polite tone.", "c3"],
      ],
    );
    // The original principle stays as it was.
    assert.equal((labelled[2]!.best as { z: string }).z, "Keep answers short.");

    // The run and its constitution artifact are in the default store (spri.db in the working directory).
    const store = new SqliteStore(join(dir, "spri.db"));
    try {
      const runs = (await store.listRuns()).filter((r) => r.outputPath === output);
      assert.equal(runs.length, 1);
      const run = runs[0]!;
      assert.equal(run.task, "discover/cluster");
      assert.equal(run.status, "completed");
      assert.equal(run.inputPath, input);
      assert.equal(run.baseModel, `file:${vectors}`);
      const artifact = (await store.getArtifact(run.id, "constitution")) as {
        constitution: ConstitutionFile;
        map: Array<{ x: number; y: number; cluster: string; text: string }>;
      };
      assert.deepEqual(artifact.constitution, JSON.parse(readFileSync(output, "utf8")));
      assert.equal(artifact.map.length, 6, "one point per unique principle");
      const clusterOf = Object.fromEntries(artifact.map.map((p) => [p.text, p.cluster]));
      assert.deepEqual(clusterOf, {
        "Be concise.": "c1",
        "Keep answers short.": "c1",
        "Avoid unnecessary words.": "c1",
        "Cite your sources.": "c2",
        "Give references for factual claims.": "c2",
        "Use a polite tone.": "c3",
      });
      assert.ok(artifact.map.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
      assert.equal(await store.getArtifact(run.id, "missing"), undefined);
    } finally {
      await store.close();
    }
  });

  test("a principles file, --clusters, a custom Markdown path and a JSON summary; no labelled copy by default", async () => {
    const input = join(dir, "principles.jsonl");
    writeFileSync(
      input,
      jsonl([
        { principle: "Be concise." },
        "Keep answers short.",
        { principle: "Cite your sources." },
        { principle: "Use a polite tone." },
      ]),
    );
    const output = join(dir, "two.json");
    const markdown = join(dir, "reports", "two.md");
    const db = join(dir, "other.db");
    const result = await cli([
      "discover",
      "cluster",
      "--input",
      input,
      "--output",
      output,
      "--vectors",
      vectors,
      "--clusters",
      "3",
      "--markdown",
      markdown,
      "--json",
      "--store",
      db,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(summary.clusters, 3);
    assert.equal(summary.clustersRequested, 3);
    assert.equal(summary.uniquePrinciples, 4);
    assert.equal(summary.markdown, markdown);
    assert.equal(summary.labelled, undefined);
    assert.equal(summary.bucketed, false);
    const store = new SqliteStore(db);
    try {
      const run = await store.getRun(String(summary.runId));
      assert.equal(run?.task, "discover/cluster");
      assert.equal(run?.outputPath, output);
      assert.ok(await store.getArtifact(run!.id, "constitution"));
    } finally {
      await store.close();
    }
    assert.ok(existsSync(markdown));
    assert.ok(!existsSync(join(dir, "two.labelled.jsonl")));
    const constitution = JSON.parse(readFileSync(output, "utf8")) as ConstitutionFile;
    assert.deepEqual(
      constitution.principles.map((p) => [p.text, p.size]),
      [
        ["Be concise.", 2],
        ["Cite your sources.", 1],
        ["Use a polite tone.", 1],
      ],
    );
  });

  test("usage errors exit 2 with one line", async () => {
    const input = join(dir, "p.jsonl");
    writeFileSync(input, jsonl([{ principle: "Be concise." }, { principle: "Something unknown." }]));
    const out = join(dir, "x.json");
    let result = await cli([
      "discover",
      "cluster",
      "--input",
      input,
      "--output",
      out,
      "--vectors",
      vectors,
      "--threshold",
      "0.3",
      "--clusters",
      "2",
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--threshold and --clusters exclude each other/);
    result = await cli(["discover", "cluster", "--input", input, "--output", out, "--vectors", vectors]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no vector for 1 of 2 principles, e\.g\. "Something unknown\."/);
    result = await cli(["discover", "cluster", "--input", input, "--output", out, "--embeddings", "file"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--embeddings file needs --vectors FILE/);
    result = await cli(["discover", "cluster", "--input", input, "--output", out, "--vectors", vectors, "--field", "missing"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no principles found in 2 rows.*check --field missing/);
    result = await cli(["discover", "cluster", "--input", input, "--output", out]);
    assert.equal(result.code, 2, "OpenAI embeddings without a key or URL");
    assert.match(result.stderr, /no API key for the OpenAI embedding model "text-embedding-3-small"/);
    assert.ok(!existsSync(out));
  });

  describe("OpenAI-compatible server: embeddings and cluster names", () => {
    let server: FakeModelServer;
    const handler = (request: RecordedRequest) => {
      if (request.path === "/v1/embeddings") {
        const body = request.body as { input: string[] };
        const data = body.input.map((text, index) => ({ object: "embedding", index, embedding: THEMES[text.toLowerCase()] ?? [1, 1, 1] }));
        return json(200, {
          object: "list",
          model: "embedder-1",
          data,
          usage: { prompt_tokens: 4 * data.length, total_tokens: 4 * data.length },
        });
      }
      if (request.path === "/v1/chat/completions") {
        const prompt = (request.body as { messages: Array<{ content: string }> }).messages[0]!.content;
        return openaiText(prompt.includes("Cite") ? "Name: Sourcing." : '"Brevity"');
      }
      return json(404, { error: { message: "no route" } });
    };
    before(async () => {
      server = await startFakeModelServer(handler);
    });
    after(async () => {
      await server.close();
    });

    test("--embedding-url/--embedding-model and --name-with-model", async () => {
      const input = join(dir, "named.jsonl");
      writeFileSync(
        input,
        jsonl([{ principle: "Be concise." }, { principle: "Keep answers short." }, { principle: "Cite your sources." }]),
      );
      const output = join(dir, "named.json");
      const url = `${server.url}/v1`;
      const result = await cli([
        "discover",
        "cluster",
        "--input",
        input,
        "--output",
        output,
        "--embedding-url",
        url,
        "--embedding-model",
        "embedder-1",
        "--name-with-model",
        "--base-url",
        url,
        "--base-model",
        "chat-1",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const embeddingCalls = server.requests.filter((r) => r.path === "/v1/embeddings");
      assert.equal(embeddingCalls.length, 1);
      assert.deepEqual((embeddingCalls[0]!.body as { model: string; encoding_format: string }).model, "embedder-1");
      assert.equal(server.requests.filter((r) => r.path === "/v1/chat/completions").length, 2, "one naming call per cluster");
      const constitution = JSON.parse(readFileSync(output, "utf8")) as ConstitutionFile;
      assert.deepEqual(
        constitution.principles.map((p) => [p.text, p.name]),
        [
          ["Be concise.", "Brevity"],
          ["Cite your sources.", "Sourcing"],
        ],
      );
      assert.deepEqual(constitution.source.embeddings, { source: "openai", model: "embedder-1", dimension: 3 });
      assert.match(readFileSync(join(dir, "named.md"), "utf8"), /## c1 · Brevity/);
    });
  });

  test("a local GGUF embeds in-process (tiny random fixture: plumbing only)", async () => {
    const input = join(dir, "gguf.jsonl");
    writeFileSync(input, jsonl(["Be concise.", "Cite your sources.", "Use a polite tone.", "Keep answers short."]));
    const output = join(dir, "gguf.json");
    const model = join(SHARED, "models", "llama-2-tiny-random.gguf");
    const result = await cli([
      "discover",
      "cluster",
      "--input",
      input,
      "--output",
      output,
      "--embedding-model",
      model,
      "--clusters",
      "2",
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { clusters: number; embeddings: { source: string; dimension: number } };
    assert.equal(summary.clusters, 2);
    assert.deepEqual([summary.embeddings.source, summary.embeddings.dimension], ["gguf", 8]);
  });
});

test("killed with -9 while embedding: the re-run embeds only the texts not embedded yet, and the constitution is an uninterrupted run's", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "spri-cluster-resume-"));
  const input = join(dir, "principles.jsonl");
  writeFileSync(input, jsonl(Object.keys(THEMES).map((principle) => ({ principle }))));
  /** Texts the server answered, run by run; from `hangAt` on (1-based), embedding requests are never answered. */
  const answered: string[] = [];
  let hangAt = Number.POSITIVE_INFINITY;
  let arrived = 0;
  const server = await startFakeModelServer((request) => {
    if (request.path !== "/v1/embeddings") return json(404, { error: { message: "no route" } });
    if (++arrived >= hangAt) return hang();
    const texts = (request.body as { input: string[] }).input;
    answered.push(...texts);
    const data = texts.map((text, index) => ({ object: "embedding", index, embedding: THEMES[text.toLowerCase()] }));
    return json(200, { object: "list", model: "embedder-1", data, usage: { prompt_tokens: data.length, total_tokens: data.length } });
  });
  t.after(() => server.close());
  const url = `${server.url}/v1`;
  const cluster = (name: string, signal?: { name: NodeJS.Signals; when: Promise<unknown> }) =>
    runCli(
      [
        ...["discover", "cluster", "--input", input, "--output", join(dir, `${name}.json`), "--store", join(dir, `${name}.db`)],
        ...["--embedding-url", url, "--embedding-model", "embedder-1", "--batch-size", "2"],
      ],
      { cwd: dir, signal },
    );
  const embeddingArrivals = (n: number) =>
    new Promise<void>((resolve) => {
      let seen = 0;
      server.events.on("request", (request: RecordedRequest) => {
        if (request.path === "/v1/embeddings" && ++seen === n) resolve();
      });
    });

  // Six principles in batches of two: killed once the second batch is on its way (it is never answered).
  hangAt = 2;
  const killed = await cluster("resumed", { name: "SIGKILL", when: embeddingArrivals(2) });
  assert.equal(killed.code, null, killed.stderr);
  assert.equal(answered.length, 2, "the first batch was answered before the kill");
  const beforeKill = [...answered];

  hangAt = Number.POSITIVE_INFINITY;
  arrived = 0;
  const rerun = await cluster("resumed");
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(answered.toSorted(), Object.keys(THEMES).toSorted(), "every text embedded exactly once across both runs");
  assert.ok(answered.slice(beforeKill.length).every((text) => !beforeKill.includes(text)));
  assert.match(rerun.stderr, /2 of 6 embeddings from the run store/);

  // The same clustering without a kill, in a store of its own.
  answered.length = 0;
  const whole = await cluster("whole");
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal(answered.length, 6);
  const withoutTime = (file: string) => {
    const constitution = JSON.parse(readFileSync(join(dir, file), "utf8")) as ConstitutionFile;
    delete constitution.source.createdAt;
    return constitution;
  };
  assert.deepEqual(withoutTime("resumed.json"), withoutTime("whole.json"));

  // --cache off neither reads nor keeps them.
  answered.length = 0;
  const uncached = await runCli(
    [
      ...["discover", "cluster", "--input", input, "--output", join(dir, "whole.json"), "--store", join(dir, "whole.db")],
      ...["--embedding-url", url, "--embedding-model", "embedder-1", "--cache", "off"],
    ],
    { cwd: dir },
  );
  assert.equal(uncached.code, 0, uncached.stderr);
  assert.equal(answered.length, 6);
});
