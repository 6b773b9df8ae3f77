import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { openaiText, textReply, startFakeModelServer, type FakeModelServer } from "../test.ts";
import { ModelCaller } from "../algorithms/contract/model-caller.ts";
import { ConfigError, ModelError } from "../base/errors/errors.ts";
import { samplingOf } from "../presets/tasks/prepare.ts";
import { resolveSettings, type SettingName } from "./config.ts";
import type { LanguageModel } from "../models/language-model.ts";
import { closeModels, createModels, modelFactoryOptions, modelSpecs } from "./models.ts";

let server: FakeModelServer;
before(async () => {
  server = await startFakeModelServer(textReply("ok"));
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.setResponder(textReply("ok"));
});

const cwd = mkdtempSync(join(tmpdir(), "spri-models-"));
const FACTORY = { timeoutMs: 10_000, parallelism: 1 };

function resolve(flags: Partial<Record<SettingName, unknown>>, env: NodeJS.ProcessEnv = {}) {
  return resolveSettings({ flags, env, cwd });
}

/** One base call as the algorithms make it: the run's sampling, through ModelCaller. */
async function callBase(flags: Partial<Record<SettingName, unknown>>, env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>> {
  const resolved = resolve(flags, env);
  const { base } = await createModels(modelSpecs(resolved), FACTORY);
  await new ModelCaller({ itemId: "1" }).call({
    model: base,
    role: "base",
    step: "principle.generate",
    iteration: 0,
    messages: [{ role: "user", content: "q" }],
    sampling: samplingOf(resolved.settings),
  });
  return server.requests.at(-1)?.body as Record<string, unknown>;
}

describe("Anthropic models", () => {
  test("--base-url is where the calls go (with --base-provider anthropic)", async () => {
    const body = await callBase(
      { baseModel: "claude-test", baseProvider: "anthropic", baseUrl: server.url },
      { ANTHROPIC_API_KEY: "sk-ant-test-123456789" },
    );
    assert.equal(server.requests.at(-1)?.path, "/v1/messages");
    assert.equal(body.model, "claude-test");
  });

  test("ANTHROPIC_BASE_URL is where the calls go when no --base-url is given", async () => {
    await callBase({ baseModel: "claude-test" }, { ANTHROPIC_API_KEY: "sk-ant-test-123456789", ANTHROPIC_BASE_URL: server.url });
    assert.equal(server.requests.at(-1)?.path, "/v1/messages");
  });

  test("the paper's default sampling is left out, not sent to be refused", async () => {
    const body = await callBase(
      { baseModel: "claude-test", baseProvider: "anthropic", baseUrl: server.url },
      { ANTHROPIC_API_KEY: "k-123456789" },
    );
    assert.deepEqual(Object.keys(body).sort(), ["max_tokens", "messages", "model"]);
  });

  for (const [name, flag, value] of [
    ["temperature", "--temperature", "0.2"],
    ["topP", "--top-p", "0.9"],
    ["topK", "--top-k", "40"],
    ["seed", "--seed", "7"],
  ] as const) {
    test(`a ${flag} the user set is refused for a Claude model, naming the flag`, async () => {
      const resolved = resolve(
        { baseModel: "claude-test", baseProvider: "anthropic", baseUrl: server.url, [name]: value },
        { ANTHROPIC_API_KEY: "k-123456789" },
      );
      await assert.rejects(createModels(modelSpecs(resolved), FACTORY), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.ok(error.describe().includes(flag), error.describe());
        assert.equal(error.field, name);
        return true;
      });
    });
  }

  test("a sampling setting from the environment is refused too, naming the variable", async () => {
    const resolved = resolve(
      { baseModel: "claude-test", baseProvider: "anthropic", baseUrl: server.url },
      { ANTHROPIC_API_KEY: "k-123456789", SPRI_TEMPERATURE: "0.3" },
    );
    await assert.rejects(createModels(modelSpecs(resolved), FACTORY), /SPRI_TEMPERATURE/);
  });
});

describe("OpenAI-compatible models", () => {
  test("the paper's default top_k is not sent to a server (hosted APIs answer 400 to it)", async () => {
    const body = await callBase({ baseModel: "m", baseUrl: `${server.url}/v1` });
    assert.equal("top_k" in body, false);
    assert.deepEqual([body.temperature, body.top_p, body.max_tokens], [0.7, 0.95, 2048]);
  });

  test("a --top-k the user set is sent to a self-hosted server", async () => {
    const body = await callBase({ baseModel: "m", baseUrl: `${server.url}/v1`, topK: "40" });
    assert.equal(body.top_k, 40);
  });

  test("a --top-k for api.openai.com is refused", async () => {
    const resolved = resolve({ baseModel: "gpt-4o-mini", topK: "40" }, { OPENAI_API_KEY: "sk-test-123456789" });
    await assert.rejects(
      createModels(modelSpecs(resolved), FACTORY),
      (error: unknown) => error instanceof ConfigError && /--top-k/.test(error.describe()),
    );
  });

  test("a reasoning model gets only max_completion_tokens by default, and a --temperature set for it is refused", async () => {
    const body = await callBase({ baseModel: "o3-mini", baseUrl: `${server.url}/v1` });
    assert.deepEqual(Object.keys(body).sort(), ["max_completion_tokens", "messages", "model"]);
    const resolved = resolve({ baseModel: "o3-mini", baseUrl: `${server.url}/v1`, temperature: "0.2" });
    await assert.rejects(
      createModels(modelSpecs(resolved), FACTORY),
      (error: unknown) => error instanceof ConfigError && /--temperature/.test(error.describe()),
    );
  });
});

describe("the cap on an answer's size", () => {
  test("is 32 MiB unless set (flag, SPRI_MAX_RESPONSE_MIB or config), and a larger answer fails the call clearly", async () => {
    assert.equal(modelFactoryOptions(resolve({})).maxResponseBytes, 32 * 1024 * 1024);
    assert.equal(modelFactoryOptions(resolve({}, { SPRI_MAX_RESPONSE_MIB: "2" })).maxResponseBytes, 2 * 1024 * 1024);
    server.setResponder(() => openaiText("x".repeat(1024 * 1024)));
    const resolved = resolve({ baseModel: "m", baseUrl: `${server.url}/v1`, maxResponseMib: "0.5" });
    const { base } = await createModels(modelSpecs(resolved), modelFactoryOptions(resolved));
    await assert.rejects(base.generate({ messages: [{ role: "user", content: "q" }] }), (error: unknown) => {
      assert.ok(error instanceof ModelError, String(error));
      assert.equal(error.kind, "bad-response");
      assert.match(error.describe(), /more than 0\.5 MiB.*--max-response-mib/);
      return true;
    });
  });
});

test("closeModels: each model closed once, a critic that is the base model not twice", async () => {
  const closed: string[] = [];
  const model = (id: string) => ({ modelId: id, close: async () => void closed.push(id) }) as unknown as LanguageModel;
  const base = model("base");
  await closeModels({ base, critic: base });
  assert.deepEqual(closed, ["base"]);
  await closeModels({ base: model("b"), critic: model("c") });
  assert.deepEqual(closed, ["base", "b", "c"]);
});
