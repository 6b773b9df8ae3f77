import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type FakeBatchServer, openaiError, openaiText, type RecordedRequest, startFakeBatchServer } from "../test.ts";
import { ModelError } from "../base/errors/errors.ts";
import { batchRequestLine, OpenAIBatchApi, parseBatchResults } from "./openai-batch.ts";
import { OpenAICompatibleModel } from "./openai-compatible.ts";

describe("parseBatchResults", () => {
  test("reads OpenAI output lines: text, finish reason, usage, model", () => {
    const line = {
      id: "batch_req_1",
      custom_id: "k1",
      response: {
        status_code: 200,
        request_id: "r1",
        body: {
          model: "gpt-x",
          choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "length" }],
          usage: { prompt_tokens: 7, completion_tokens: 3 },
        },
      },
      error: null,
    };
    const [result] = parseBatchResults(`${JSON.stringify(line)}\n\n`, "out.jsonl");
    assert.deepEqual(result, {
      customId: "k1",
      ok: true,
      result: { text: "hi", finishReason: "length", usage: { inputTokens: 7, outputTokens: 3 }, latencyMs: 0, model: "gpt-x" },
    });
  });

  test("errors: OpenAI error objects, vLLM error strings, non-2xx bodies, missing content; expired lines are not-run", () => {
    const lines = [
      {
        custom_id: "a",
        response: null,
        error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." },
      },
      { custom_id: "b", response: { status_code: 400, request_id: "x" }, error: "The model `m` does not exist." },
      { custom_id: "c", response: { status_code: 400, body: { error: { message: "context length exceeded", code: null } } }, error: null },
      { custom_id: "d", response: { status_code: 200, body: { choices: [] } }, error: null },
      { custom_id: "e", response: { status_code: 500, body: { error: { message: "boom" } } }, error: null },
    ];
    const results = parseBatchResults(lines.map((l) => JSON.stringify(l)).join("\n"), "errors.jsonl");
    assert.deepEqual(
      results.map((r) => [r.customId, r.ok, !r.ok && r.notRun]),
      [
        ["a", false, true],
        ["b", false, false],
        ["c", false, false],
        ["d", false, false],
        ["e", false, false],
      ],
    );
    const kinds = results.map((r) => (r.ok ? "ok" : r.error.kind));
    assert.deepEqual(kinds, ["bad-request", "bad-request", "bad-request", "bad-response", "server"]);
    assert.ok(!results[1]!.ok && /does not exist/.test(results[1]!.error.message));
    assert.ok(!results[2]!.ok && /\(400\): context length exceeded/.test(results[2]!.error.message));
  });

  test("a line's status has the kind it has in every adapter (error-kinds.ts); its error code can make a 429 quota", () => {
    const line = (id: string, status: number, code?: string) => ({
      custom_id: id,
      response: { status_code: status, body: { error: { message: "m", code } } },
      error: null,
    });
    const results = parseBatchResults(
      [line("a", 408), line("b", 402), line("c", 429, "insufficient_quota"), line("d", 429), line("e", 409)]
        .map((l) => JSON.stringify(l))
        .join("\n"),
      "kinds.jsonl",
    );
    assert.deepEqual(
      results.map((r) => (r.ok ? "ok" : r.error.kind)),
      ["timeout", "quota", "quota", "rate-limit", "bad-response"],
    );
  });

  test("a line that is not JSON or lacks a custom_id is an InputError with file and line", () => {
    assert.throws(
      () => parseBatchResults('{"custom_id":"a","error":"x"}\nnot json', "r.jsonl"),
      (e: Error & { file?: string; line?: number }) => e.file === "r.jsonl" && e.line === 2,
    );
    assert.throws(() => parseBatchResults('{"response":{}}', "r.jsonl"), /without a custom_id/);
  });
});

describe("request lines", () => {
  test("carry exactly the body the online call would post", () => {
    const model = new OpenAICompatibleModel({
      model: "m",
      baseURL: "http://127.0.0.1:1/v1",
      extraBody: { repetition_penalty: 1.1 },
      sendTopK: true,
    });
    const request = {
      messages: [{ role: "user" as const, content: "q" }],
      sampling: { temperature: 0.7, topP: 0.95, topK: 50, maxTokens: 64, seed: 3, stop: ["\n\n"] },
    };
    const line = batchRequestLine("key", model.requestBody(request));
    assert.deepEqual(line, {
      custom_id: "key",
      method: "POST",
      url: "/v1/chat/completions",
      body: {
        model: "m",
        messages: request.messages,
        repetition_penalty: 1.1,
        temperature: 0.7,
        top_p: 0.95,
        top_k: 50,
        max_tokens: 64,
        seed: 3,
        stop: ["\n\n"],
      },
    });
    const official = new OpenAICompatibleModel({ model: "gpt-4o-mini", apiKey: "sk-test" });
    const { topK: _, ...withoutTopK } = request.sampling;
    const body = official.requestBody({ ...request, sampling: withoutTopK });
    assert.equal(body.max_completion_tokens, 64);
  });
});

describe("OpenAIBatchApi against a fake Batch API", () => {
  let server: FakeBatchServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-batch-api-"));
    server = await startFakeBatchServer({
      answer: (request: RecordedRequest) => {
        const content = (request.body as { messages: { content: string }[] }).messages[0]!.content;
        return content === "fail" ? openaiError(400, "bad input") : openaiText(`echo ${content}`);
      },
      pollsInProgress: 1,
    });
  });
  after(async () => server.close());

  test("upload, create, poll, find by input file, download output and error files", async () => {
    const api = new OpenAIBatchApi({ baseURL: `${server.url}/v1`, apiKey: "sk-test-123456789" });
    const file = join(dir, "in.jsonl");
    writeFileSync(
      file,
      ["a", "fail"]
        .map((c) => JSON.stringify(batchRequestLine(`k-${c}`, { model: "m", messages: [{ role: "user", content: c }] })))
        .join("\n") + "\n",
    );
    const fileId = await api.uploadFile(file);
    assert.equal(server.files.get(fileId)?.purpose, "batch");
    assert.match(server.files.get(fileId)!.content, /"custom_id":"k-a"/);
    const created = await api.createBatch(fileId, { spri_round: "1" });
    const stored = server.batches.get(created.id)!;
    assert.equal(stored.endpoint, "/v1/chat/completions");
    assert.equal(stored.completion_window, "24h");
    assert.deepEqual(stored.metadata, { spri_round: "1" });
    assert.equal((await api.retrieveBatch(created.id)).status, "in_progress");
    const done = await api.retrieveBatch(created.id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.counts, { total: 2, completed: 1, failed: 1 });
    assert.equal((await api.findBatchByInputFile(fileId))?.id, created.id);
    assert.equal(await api.findBatchByInputFile("file-none"), undefined);
    const output = parseBatchResults(await api.fileContent(done.outputFileId!), "out");
    const errors = parseBatchResults(await api.fileContent(done.errorFileId!), "err");
    assert.deepEqual(
      output.map((r) => r.ok && r.result.text),
      ["echo a"],
    );
    assert.deepEqual(
      errors.map((r) => !r.ok && r.error.kind),
      ["bad-request"],
    );
    assert.equal(server.chatCompletions, 0);
  });

  test("an unknown batch is a not-found ModelError; a server without the API says to go offline", async () => {
    const api = new OpenAIBatchApi({ baseURL: `${server.url}/v1`, maxRetries: 0 });
    await assert.rejects(
      api.retrieveBatch("batch_nope"),
      (e: unknown) => e instanceof ModelError && e.kind === "not-found" && /--batch-offline/.test(e.hint ?? ""),
    );
  });
});
