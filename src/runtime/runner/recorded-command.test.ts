import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveSettings } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import { modelSpecs } from "../../config/models.ts";
import { PriceTable } from "./cost.ts";
import { recordCommand, resolveRecorded, restoreCommand } from "./recorded-command.ts";

const LOCAL = "openai-compatible:http://10.0.0.5:8000/v1#my-model";

test("a price file travels with the run: a worker on a machine without the file prices the run the same", () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-recorded-"));
  const file = join(dir, "prices.json");
  writeFileSync(file, JSON.stringify({ "my-model": { input: 0.2, output: 0.6 } }));
  const resolved = resolveSettings({ flags: { prices: file, maxCost: 5, baseModel: "my-model" }, env: {}, cwd: dir });
  const recorded = JSON.parse(JSON.stringify(recordCommand(resolved, {})));
  rmSync(dir, { recursive: true });
  const { flags } = restoreCommand(recorded, "run-1");
  assert.deepEqual(PriceTable.fromSetting(flags.prices as string).priceOf("my-model", LOCAL), { input: 0.2, output: 0.6 });
  assert.equal(flags.maxCost, 5);
});

const cwd = mkdtempSync(join(tmpdir(), "spri-recorded-"));

test("a worker knows which sampling settings the run's user set, and which were spri's defaults", () => {
  const resolved = resolveSettings({ flags: { baseModel: "m", baseUrl: "http://127.0.0.1:9/v1", temperature: "0.3" }, env: {}, cwd });
  const recorded = JSON.parse(JSON.stringify(recordCommand(resolved, {})));
  const worker = resolveRecorded(restoreCommand(recorded, "run-1"), { concurrency: 2 }, { env: {}, cwd });
  assert.equal(worker.settings.topK, 50);
  assert.equal(worker.settings.temperature, 0.3);
  assert.equal(worker.settings.concurrency, 2);
  // top_k stays spri's default on the worker too, so it is not sent to the server.
  assert.deepEqual(modelSpecs(worker).base.userSampling, { temperature: "--temperature" });
});

test("a base URL's password is not recorded; a worker takes the URL from its own environment", () => {
  const url = "http://alice:hunter2SECRET@127.0.0.1:9/v1";
  const resolved = resolveSettings({ flags: { baseModel: "m", baseUrl: url }, env: {}, cwd });
  const recorded = JSON.parse(JSON.stringify(recordCommand(resolved, {})));
  assert.ok(!JSON.stringify(recorded).includes("hunter2SECRET"), JSON.stringify(recorded.settings));
  assert.equal(recorded.settings.baseUrl, "http://alice:[redacted]@127.0.0.1:9/v1");

  const restored = restoreCommand(recorded, "run-1");
  assert.equal(resolveRecorded(restored, {}, { env: { SPRI_BASE_URL: url }, cwd }).settings.baseUrl, url);
  assert.throws(
    () => resolveRecorded(restored, {}, { env: {}, cwd }),
    (error: unknown) =>
      error instanceof ConfigError && /SPRI_BASE_URL/.test(error.describe()) && !error.describe().includes("hunter2SECRET"),
  );
  assert.throws(() => resolveRecorded(restored, {}, { env: { SPRI_BASE_URL: "http://alice:other@10.0.0.1/v1" }, cwd }), /SPRI_BASE_URL/);
});
