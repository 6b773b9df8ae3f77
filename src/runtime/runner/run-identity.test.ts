import assert from "node:assert/strict";
import { test } from "node:test";
import { identitySettings, runKeyOf } from "./run-identity.ts";

const mapping = { questionField: "prompt" };

test("identitySettings keeps what changes the outputs and drops speed, budget and display", () => {
  const settings = {
    model: "m",
    temperature: 0.7,
    concurrency: 8,
    timeout: 30,
    maxCost: 5,
    rpm: 60,
    progressInterval: 2,
    store: "s.db",
    samples: 1,
  };
  const identity = identitySettings(settings, mapping);
  assert.deepEqual(identity, { model: "m", temperature: 0.7, mapping });
  assert.equal(settings.concurrency, 8, "the caller's settings are left as they were");
  assert.deepEqual(identitySettings({ model: "m", samples: 3 }, mapping), { model: "m", samples: 3, mapping });
});

test("runKeyOf: speed settings and one sample leave the key as it was; samples and the algorithm's identity change it", () => {
  const base = { task: "spri", input: "/data/in.jsonl", output: "/data/out.jsonl" };
  const key = (settings: Record<string, unknown>, extra: { samples?: number; algorithm?: Record<string, unknown> } = {}) =>
    runKeyOf({ ...base, settings: identitySettings(settings, mapping), ...extra });
  const plain = key({ model: "m", temperature: 0.7 });
  assert.equal(key({ model: "m", temperature: 0.7, concurrency: 64, samples: 1 }, { samples: 1 }), plain);
  assert.notEqual(key({ model: "m", temperature: 0.7 }, { samples: 2 }), plain);
  assert.notEqual(key({ model: "m", temperature: 0.7 }, { algorithm: { refine: 2 } }), plain);
  // The keys of runs made before this file: a store made then must find its runs.
  assert.equal(plain, "b1c9387f74d22cf39ac653b6bd0b12a3213bdb2db117628ce661298aeb42465b");
  assert.equal(
    key({ model: "m", temperature: 0.7, samples: 3 }, { samples: 3, algorithm: { refine: 2 } }),
    "ebb3f63b31580421bb11573161b6668cc01b08fee14538f581f492c2f17e79e2",
  );
});
