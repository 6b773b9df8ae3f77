/**
 * The values Python's `ast.literal_eval` returns (`literal-eval.ts` builds them): what they are, how
 * Python prints them (`str`, `repr`), how they compare as dict keys and set members, and a plain
 * JSON-like view for callers that only read the data.
 */
import { pyReprString } from "../../base/util/python.ts";

export type PyValue =
  | { kind: "str"; value: string }
  | { kind: "int"; value: bigint }
  | { kind: "float"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "none" }
  | { kind: "list"; items: PyValue[] }
  | { kind: "tuple"; items: PyValue[] }
  | { kind: "set"; items: PyValue[] }
  | { kind: "dict"; entries: [PyValue, PyValue][] };

/** `d[key]` for a str key: undefined when `d` is not a dict (TypeError) or lacks the key (KeyError). */
export function dictGet(value: PyValue, key: string): PyValue | undefined {
  if (value.kind !== "dict") return undefined;
  return value.entries.find(([k]) => k.kind === "str" && k.value === key)?.[1];
}

/** Python `str(value)`, as `str.format` inserts it. */
export function pyStr(value: PyValue): string {
  return value.kind === "str" ? value.value : pyReprValue(value);
}

/** Python `repr(value)`. */
export function pyReprValue(value: PyValue): string {
  switch (value.kind) {
    case "str":
      return pyReprString(value.value);
    case "int":
      return value.value.toString();
    case "float":
      return reprFloat(value.value);
    case "bool":
      return value.value ? "True" : "False";
    case "none":
      return "None";
    case "list":
      return `[${value.items.map(pyReprValue).join(", ")}]`;
    case "tuple":
      return value.items.length === 1 ? `(${pyReprValue(value.items[0]!)},)` : `(${value.items.map(pyReprValue).join(", ")})`;
    case "set":
      return value.items.length === 0 ? "set()" : `{${value.items.map(pyReprValue).join(", ")}}`;
    case "dict":
      return `{${value.entries.map(([k, v]) => `${pyReprValue(k)}: ${pyReprValue(v)}`).join(", ")}}`;
  }
}

/** A plain JSON-like view (dict keys through `str()`), for callers that only read the data. */
export function toJs(value: PyValue): unknown {
  switch (value.kind) {
    case "str":
    case "bool":
      return value.value;
    case "int":
      return Number(value.value);
    case "float":
      return value.value;
    case "none":
      return null;
    case "list":
    case "tuple":
    case "set":
      return value.items.map(toJs);
    case "dict":
      return Object.fromEntries(value.entries.map(([k, v]) => [pyStr(k), toJs(v)]));
  }
}

/** Python `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
function reprFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace(".", "");
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** Python `a == b` for hashable values, the only ones compared (dict keys, set members). */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  const num = (v: PyValue): number | bigint | undefined =>
    v.kind === "int" ? v.value : v.kind === "float" ? v.value : v.kind === "bool" ? (v.value ? 1n : 0n) : undefined;
  const na = num(a);
  const nb = num(b);
  if (na !== undefined || nb !== undefined) {
    if (na === undefined || nb === undefined) return false;
    // Python compares ints, floats and bools by value.
    return typeof na === typeof nb ? na === nb : Number(na) === Number(nb);
  }
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "str":
      return a.value === (b as typeof a).value;
    case "none":
      return true;
    case "tuple": {
      const other = b as typeof a;
      return a.items.length === other.items.length && a.items.every((item, i) => pyEquals(item, other.items[i]!));
    }
    default:
      return false;
  }
}

/** Whether Python can hash the value: what a dict key or set member must be. */
export function isHashable(value: PyValue): boolean {
  if (value.kind === "list" || value.kind === "dict" || value.kind === "set") return false;
  if (value.kind === "tuple") return value.items.every(isHashable);
  return true;
}
