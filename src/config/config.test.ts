import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError } from "../base/errors/errors.ts";
import { COMPAT_PRESETS } from "../base/util/compat-preset.ts";
import { compatPreset, redacted, resolveSettings } from "./config.ts";
import { DEFAULT_LOCAL_MODEL, modelSpecs } from "./models.ts";

function dirWithConfig(values: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "spri-config-"));
  writeFileSync(join(dir, "spri.config.json"), JSON.stringify(values));
  return dir;
}

describe("resolveSettings: flag > env > config file > default", () => {
  const cwd = dirWithConfig({ threshold: 3, maxCritiques: 2, temperature: 0.2 });
  test("each layer wins over the next", () => {
    const { settings, sources } = resolveSettings({
      flags: { threshold: "5" },
      env: { SPRI_THRESHOLD: "2", SPRI_MAX_CRITIQUES: "3" },
      cwd,
    });
    assert.equal(settings.threshold, 5);
    assert.equal(sources.threshold, "flag");
    assert.equal(settings.maxCritiques, 3);
    assert.equal(sources.maxCritiques, "env");
    assert.equal(settings.temperature, 0.2);
    assert.equal(sources.temperature, "config");
    assert.equal(settings.topK, 50);
    assert.equal(sources.topK, "default");
  });
  test("paper defaults", () => {
    const { settings } = resolveSettings({ flags: {}, env: {}, cwd: mkdtempSync(join(tmpdir(), "spri-empty-")) });
    assert.deepEqual(
      [settings.threshold, settings.maxCritiques, settings.temperature, settings.topK, settings.topP, settings.task],
      [4, 4, 0.7, 50, 0.95, "sft"],
    );
  });
  test("bad values name where they came from", () => {
    assert.throws(() => resolveSettings({ flags: {}, env: { SPRI_MAX_CRITIQUES: "many" }, cwd }), /SPRI_MAX_CRITIQUES must be an integer/);
    assert.throws(() => resolveSettings({ flags: { topP: "x" }, env: {}, cwd }), /--top-p must be a number/);
  });
  test("config files: unknown keys and keys are refused", () => {
    assert.throws(
      () => resolveSettings({ flags: {}, env: {}, cwd: dirWithConfig({ treshold: 4 }) }),
      (e: unknown) => e instanceof ConfigError && e.field === "treshold",
    );
    assert.throws(() => resolveSettings({ flags: {}, env: {}, cwd: dirWithConfig({ baseApiKey: "sk-x" }) }), /API keys do not belong/);
  });
  test("a missing explicit config file is an error", () => {
    assert.throws(() => resolveSettings({ flags: {}, env: {}, configFile: "nope.json", cwd }), /does not exist/);
  });
  test("redacted views never show keys", () => {
    const resolved = resolveSettings({ flags: {}, env: { SPRI_BASE_API_KEY: "sk-secret-123" }, cwd });
    assert.equal(JSON.stringify(redacted(resolved)).includes("sk-secret"), false);
    assert.equal(redacted(resolved).baseApiKey, "(set)");
  });
  test("the store comes from --store, SPRI_STORE or the config file's store key; its password is never shown", () => {
    const url = "postgres://spri:pw-SECRET-9@db.internal:5432/runs";
    assert.equal(resolveSettings({ flags: {}, env: {}, cwd }).settings.store, "spri.db");
    assert.equal(resolveSettings({ flags: {}, env: { SPRI_STORE: url }, cwd }).settings.store, url);
    assert.equal(resolveSettings({ flags: {}, env: {}, cwd: dirWithConfig({ store: url }) }).settings.store, url);
    const resolved = resolveSettings({ flags: { store: url }, env: {}, cwd });
    assert.equal(redacted(resolved).store, "postgres://spri:[redacted]@db.internal:5432/runs");
    assert.doesNotMatch(JSON.stringify(redacted(resolved)), /SECRET/);
  });
});

describe("modelSpecs", () => {
  const cwd = mkdtempSync(join(tmpdir(), "spri-empty-"));
  const specs = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => modelSpecs(resolveSettings({ flags, env, cwd }));

  test("base and critic may use different endpoints", () => {
    const { base, critic } = specs({
      baseModel: "m1",
      baseUrl: "http://127.0.0.1:1/v1",
      criticModel: "m2",
      criticUrl: "http://127.0.0.1:2/v1",
    });
    assert.deepEqual([base.provider, base.model, base.baseURL], ["openai-compatible", "m1", "http://127.0.0.1:1/v1"]);
    assert.deepEqual([critic.provider, critic.model, critic.baseURL], ["openai-compatible", "m2", "http://127.0.0.1:2/v1"]);
  });
  test("the critic defaults to the base model and endpoint", () => {
    const { critic } = specs({ baseModel: "m1", baseUrl: "http://x/v1" });
    assert.deepEqual([critic.model, critic.baseURL], ["m1", "http://x/v1"]);
  });
  test("providers are inferred: claude-* → anthropic, .gguf/hf: → llama-cpp, keys from the environment", () => {
    const { base, critic } = specs({ baseModel: "claude-haiku-4-5", criticModel: "/models/judge.gguf" }, { ANTHROPIC_API_KEY: "k" });
    assert.deepEqual([base.provider, base.apiKey], ["anthropic", "k"]);
    assert.equal(critic.provider, "llama-cpp");
  });
  test("nothing configured: OpenAI with a key, else a local model", () => {
    assert.equal(specs({}, { OPENAI_API_KEY: "k" }).base.model, "gpt-4o-mini");
    assert.equal(specs({}).base.model, DEFAULT_LOCAL_MODEL);
    assert.equal(specs({}, { SPRI_MODEL: "/m.gguf" }).base.provider, "llama-cpp");
  });
  test("a URL without a model id is an error that says what to pass", () => {
    assert.throws(
      () => specs({ baseUrl: "http://x/v1" }),
      (e: unknown) => e instanceof ConfigError && /--base-model/.test(e.describe()),
    );
  });
});

describe("compatPreset", () => {
  test("takes each preset name of util/compat-preset and refuses any other, naming the field", () => {
    for (const name of COMPAT_PRESETS) assert.equal(compatPreset(name), name);
    assert.throws(
      () => compatPreset("paper"),
      (error: unknown) => error instanceof ConfigError && error.field === "compat" && /default or reference/.test(error.hint ?? ""),
    );
  });
});
