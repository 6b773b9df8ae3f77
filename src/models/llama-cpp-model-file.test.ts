import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../base/errors/errors.ts";
import { resolveModelPath } from "./llama-cpp-model-file.ts";

test("a resolver that never answers is cut off by downloadTimeoutMs", async () => {
  const hang = () => new Promise<string>(() => undefined);
  const resolving = resolveModelPath({ model: "hf:someone/some-GGUF:Q4_K_M", modelsDir: "/tmp/x", downloadTimeoutMs: 20 }, hang);
  await assert.rejects(resolving, (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /no answer within 20 ms/);
    assert.match(error.hint ?? "", /--base-model/);
    return true;
  });
});
