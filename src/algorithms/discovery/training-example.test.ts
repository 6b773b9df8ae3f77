import assert from "node:assert/strict";
import { test } from "node:test";
import { toDiscoveryExample } from "./training-example.ts";

const accepted = (id: string, z: string) => ({
  id,
  prompt: `question ${id}`,
  gold: "gold",
  y1: `first answer ${id}`,
  accepted: true,
  best: { k: 1, z, critique: "It misses the steps.", y2: `refined answer ${id}`, fY2: 0.5, gain: 0.2 },
  y2: `refined answer ${id}`,
});
test("toDiscoveryExample: question field and skip reasons", () => {
  assert.deepEqual(toDiscoveryExample([], { format: "trl" }), { skip: "not-an-object" });
  assert.deepEqual(toDiscoveryExample({ accepted: true, y1: "a", best: { z: "z", y2: "y" } }, { format: "trl" }), { skip: "no-question" });
  const example = toDiscoveryExample({ ...accepted("q", "P"), instruction: "asked" }, { format: "star", questionField: "instruction" });
  assert.deepEqual((example.example!.prompt as unknown[])[0], { role: "user", content: "asked" });
});
