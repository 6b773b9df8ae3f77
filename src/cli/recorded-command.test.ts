import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveSettings } from "../config/config.ts";
import { modelSpecs } from "../config/models.ts";
import { recordCommand, resolveRecorded, restoreCommand } from "./recorded-command.ts";

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
