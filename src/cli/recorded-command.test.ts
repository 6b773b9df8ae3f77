import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveSettings } from "../config/config.ts";
import { PriceTable } from "../runner/cost.ts";
import { recordCommand, restoreCommand } from "./recorded-command.ts";

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
