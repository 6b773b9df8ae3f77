import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { resolveSettings } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import { createApp } from "../server/app.ts";
import type { PlaygroundChoice, PlaygroundOptions } from "../server/playground.ts";
import { SqliteStore } from "../../runtime/store/sqlite-store.ts";
import { playgroundOptions } from "./playground-setup.ts";

const PORT = 4322;
const HOST = `127.0.0.1:${PORT}`;
// Nothing listens there: no test here makes a model call.
const ENDPOINT = "http://127.0.0.1:9/v1";

/** The playground of `spri view` started with these flags, in an environment holding these keys. */
function setup(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): PlaygroundOptions {
  const options = playgroundOptions(flags, resolveSettings({ flags, env, cwd: tmpdir() }));
  assert.ok(options, "the playground is on");
  return options;
}

const choice = (overrides: Partial<PlaygroundChoice> = {}): PlaygroundChoice => ({
  task: "sft",
  threshold: 4,
  maxCritiques: 4,
  mapping: { questionField: "question", idField: "id" },
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("the choice was accepted");
}

describe("playground: only the providers and endpoints spri view was configured with", () => {
  test("a model id that another provider would serve is refused, saying what is configured", async () => {
    const options = setup({ baseUrl: ENDPOINT, baseModel: "served-model" }, { ANTHROPIC_API_KEY: "sk-ant-key" });
    const error = await refusal(options.factory(choice({ criticModel: "claude-haiku-4-5" })));
    assert.equal(error.field, "criticModel");
    assert.match(
      error.describe(),
      /"claude-haiku-4-5" would be served by anthropic, but spri view's critic is openai-compatible at http:\/\/127\.0\.0\.1:9\/v1/,
    );
    assert.match(error.describe(), /restart spri view with --critic-model/);
  });

  test("OpenAI by default: a claude-* base model does not switch the run to Anthropic", async () => {
    const options = setup({ baseModel: "gpt-4o-mini" }, { OPENAI_API_KEY: "sk-key", ANTHROPIC_API_KEY: "sk-ant-key" });
    const error = await refusal(options.factory(choice({ baseModel: "claude-opus-4" })));
    assert.equal(error.field, "baseModel");
  });

  test("a local model is never swapped for another file, even with the provider pinned", async () => {
    const local = setup({ baseProvider: "llama-cpp", baseModel: "/models/small.gguf" });
    assert.equal((await refusal(local.factory(choice({ baseModel: "other-model" })))).field, "baseModel");
    const inferred = setup({ baseModel: "/models/small.gguf" });
    assert.equal((await refusal(inferred.factory(choice({ baseModel: "other-model" })))).field, "baseModel");
  });

  test("another model id on the configured endpoint is fine", async () => {
    const options = setup({ baseUrl: ENDPOINT, baseModel: "served-model", criticModel: "served-critic" });
    const made = await options.factory(choice({ baseModel: "other-base", criticModel: "other-critic" }));
    try {
      assert.deepEqual(
        [made.run.models.base.id, made.run.models.critic.id],
        [`openai-compatible:${ENDPOINT}#other-base`, `openai-compatible:${ENDPOINT}#other-critic`],
      );
    } finally {
      await made.run.close();
    }
  });

  describe("through the API", () => {
    let dir: string;
    let store: SqliteStore;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "spri-playground-setup-"));
      store = new SqliteStore(join(dir, "spri.db"));
    });
    after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("POST /api/playground with another provider's model is a 400 and makes no run", async () => {
      const { app } = createApp({
        store,
        access: { port: PORT },
        playground: setup({ baseUrl: ENDPOINT, baseModel: "served-model" }, { ANTHROPIC_API_KEY: "sk-ant-key" }),
      });
      const res = await app.request("/api/playground", {
        method: "POST",
        headers: { host: HOST, origin: `http://${HOST}`, "content-type": "application/json" },
        body: JSON.stringify({ question: "q", criticModel: "claude-haiku-4-5" }),
      });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, /would be served by anthropic/);
      assert.deepEqual(await store.listRuns(), []);
    });
  });
});
