import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { EXIT_CODES } from "../../base/errors/exit-codes.ts";
import { flag, integer, number, parseOptions, repeatable, text, optionalText, optionSchema, choice, negatable } from "./option-schema.ts";

const schema = optionSchema({
  input: text,
  idField: optionalText,
  json: flag,
  card: negatable,
  method: repeatable,
  limit: integer("a positive whole number of items", (n) => n >= 1).optional(),
  temperature: number("a number ≥ 0", (n) => n >= 0).default(0.5),
  mode: choice(["constitution", "trained"]),
});

test("parseOptions turns commander's raw values into typed ones", () => {
  const options = parseOptions(schema, { input: "in.jsonl", limit: "3", card: false, method: ["a=b"], mode: "trained", baseModel: "m" });
  assert.deepEqual(options, { input: "in.jsonl", json: false, card: false, method: ["a=b"], limit: 3, temperature: 0.5, mode: "trained" });
  assert.deepEqual(parseOptions(schema, { input: "x", mode: "constitution", temperature: "0" }).temperature, 0);
  assert.equal(parseOptions(schema, { input: "x", mode: "constitution" }).card, true, "a --no-x flag not given is true");
});

test("a bad value names the flag, the value and what it must be, as a usage error", () => {
  for (const [raw, message] of [
    [{ limit: "1.5" }, '--limit must be a positive whole number of items, got "1.5"'],
    [{ limit: "0" }, '--limit must be a positive whole number of items, got "0"'],
    [{ limit: " " }, '--limit must be a positive whole number of items, got " "'],
    [{ temperature: "warm" }, '--temperature must be a number ≥ 0, got "warm"'],
    [{ mode: "other" }, '--mode must be constitution or trained, got "other"'],
  ] as const) {
    assert.throws(
      () => parseOptions(schema, { input: "x", mode: "trained", ...raw }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === message &&
        error.field === Object.keys(raw)[0] &&
        error.exitCode === EXIT_CODES.usage &&
        /--help/.test(error.hint ?? ""),
    );
  }
});
