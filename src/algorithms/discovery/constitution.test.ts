import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { InputError, ModelError } from "../../base/errors/errors.ts";
import type { GenerateRequest, GenerateResult, LanguageModel } from "../../models/language-model.ts";
import type { PrincipleCluster } from "./clustering.ts";
import type { UniquePrinciple } from "./principle-set.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import {
  buildConstitution,
  type Constitution,
  loadConstitution,
  nameConstitution,
  parseConstitution,
  parseName,
  readConstitution,
  renderMarkdown,
  writeConstitution,
} from "./constitution.ts";

const UNIQUE: UniquePrinciple[] = [
  { key: "a", text: "Be concise.", count: 3 },
  { key: "b", text: "Keep it short.", count: 1 },
  { key: "c", text: "Cite sources.", count: 2 },
  { key: "d", text: "Give references | links.", count: 4 },
  { key: "e", text: "Avoid jargon.", count: 1 },
  { key: "f", text: "Short sentences.", count: 2 },
];
// Members arrive most similar to the medoid first (the medoid itself first).
const CLUSTERS: PrincipleCluster[] = [
  { medoid: 0, members: [0, 1, 5, 4], size: 7 },
  { medoid: 2, members: [2, 3], size: 6 },
];

function fakeModel(answer: (prompt: string) => string | Error): LanguageModel & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    id: "fake",
    modelId: "fake",
    capabilities: { constrainedOutput: false },
    prompts,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const prompt = request.messages[0]!.content;
      prompts.push(prompt);
      const out = answer(prompt);
      if (out instanceof Error) throw out;
      return { text: out, finishReason: "stop", usage: { inputTokens: 10, outputTokens: 3 }, latencyMs: 1, model: "fake" };
    },
  };
}

describe("constitution", () => {
  test("principles sorted by size with ids, medoid text, sizes and up to 5 other members, most frequent first", () => {
    const constitution = buildConstitution(UNIQUE, [CLUSTERS[1]!, CLUSTERS[0]!], { input: "p.jsonl" });
    assert.equal(constitution.format, "spri-constitution");
    assert.equal(constitution.version, 1);
    assert.deepEqual(constitution.principles, [
      { id: "c1", text: "Be concise.", size: 7, uniqueMembers: 4, members: ["Short sentences.", "Keep it short.", "Avoid jargon."] },
      { id: "c2", text: "Cite sources.", size: 6, uniqueMembers: 2, members: ["Give references | links."] },
    ]);
    const many: UniquePrinciple[] = Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, text: `p${i}`, count: 1 }));
    const big = buildConstitution(many, [{ medoid: 4, members: [4, 0, 1, 2, 3, 5, 6, 7, 8], size: 9 }]);
    assert.deepEqual(big.principles[0]!.members, ["p0", "p1", "p2", "p3", "p5"]);
  });

  test("write, read back and validate; readConstitution returns the principles", () => {
    const dir = mkdtempSync(join(tmpdir(), "spri-constitution-"));
    const file = join(dir, "constitution.json");
    const constitution = buildConstitution(UNIQUE, CLUSTERS, { input: "p.jsonl" });
    writeConstitution(file, constitution);
    assert.ok(readFileSync(file, "utf8").endsWith("}\n"));
    assert.deepEqual(loadConstitution(file), constitution);
    assert.deepEqual(
      readConstitution(file).map((p) => p.text),
      ["Be concise.", "Cite sources."],
    );
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ ...constitution, version: 2 }));
    assert.throws(
      () => readConstitution(bad),
      (error: unknown) => error instanceof InputError && error.field === "version",
    );
    writeFileSync(bad, "{not json");
    assert.throws(() => readConstitution(bad), InputError);
    assert.throws(() => readConstitution(join(dir, "missing.json")), InputError);
    const duplicate = { ...constitution, principles: [constitution.principles[0], constitution.principles[0]] };
    assert.throws(() => parseConstitution(duplicate), /duplicate principle id "c1"/);
    assert.throws(
      () => parseConstitution({ ...constitution, principles: [{ id: "c1", text: "", size: 1, members: [] }] }),
      (error: unknown) => error instanceof InputError && error.field === "principles.0.text",
    );
  });

  test("Markdown lists each principle with its size and examples, escaping table characters", () => {
    const constitution = buildConstitution(UNIQUE, CLUSTERS, {
      input: "p.jsonl",
      uniquePrinciples: 6,
      embeddings: { source: "file", model: "v.jsonl", dimension: 3 },
      clustering: { linkage: "average", threshold: 0.3 },
    });
    constitution.principles[0]!.name = "Brevity";
    const md = renderMarkdown(constitution);
    assert.match(md, /^# Constitution\n\n2 principles, from 13 principle occurrences, 6 unique, in `p\.jsonl`\./);
    assert.match(
      md,
      /Agglomerative clustering, average linkage, distance threshold 0\.3; representative = medoid; embeddings: file `v\.jsonl` \(3 dimensions\)\./,
    );
    assert.match(md, /\| c1 \| Brevity \| 7 \|/);
    assert.match(
      md,
      /## c1 · Brevity\n\n> Be concise\.\n\nCluster size: 7 \(4 unique\)\.\n\nExamples:\n\n- Short sentences\.\n- Keep it short\.\n- Avoid jargon\./,
    );
    assert.match(md, /- Give references \\\| links\./);
  });
});

describe("naming pass", () => {
  test("one call per cluster; names are cleaned; failures are counted, not fatal", async () => {
    const constitution: Constitution = buildConstitution(UNIQUE, CLUSTERS);
    const model = fakeModel((prompt) =>
      prompt.includes("Be concise.") ? '**Name:** "Brevity and focus."\nextra' : new ModelError("boom", { kind: "server" }),
    );
    const report = await nameConstitution(constitution, model, { concurrency: 2 });
    assert.equal(model.prompts.length, 2);
    assert.match(model.prompts[0]!, /Representative principle: Be concise\.\n\nOther principles in the group:\n- Short sentences\./);
    assert.equal(report.named, 1);
    assert.equal(report.failed, 1);
    assert.match(report.firstError!, /boom/);
    assert.deepEqual(report.usage, { inputTokens: 10, outputTokens: 3 }, "only the answered call counts");
    assert.equal(constitution.principles[0]!.name, "Brevity and focus");
    assert.equal(constitution.principles[1]!.name, undefined);
    // A named constitution still validates.
    parseConstitution(JSON.parse(JSON.stringify(constitution)));
  });

  test("asks for no sampling the model does not honour (Claude takes no temperature)", async () => {
    const constitution: Constitution = buildConstitution(UNIQUE, CLUSTERS);
    const model = new ScriptedModel({ sampling: ["maxTokens", "stop"], fallback: () => "Brevity" });
    const report = await nameConstitution(constitution, model);
    assert.equal(report.failed, 0, report.firstError);
    assert.deepEqual(model.requests[0]?.sampling, { maxTokens: 24 });
  });

  test("parseName", () => {
    assert.equal(parseName("  \n Group name: Honest answers.\n"), "Honest answers");
    assert.equal(parseName("# “Safety first”"), "Safety first");
    assert.equal(parseName(""), undefined);
    assert.equal(parseName("x".repeat(100))?.length, 80);
  });
});
