/**
 * Canonical JSON: equal values give equal text whatever the key order. Cache keys (store/canonical.ts
 * hashes this text) and the models' serialised messages (models/messages-json.ts) share this one writer.
 */

/**
 * JSON with object keys sorted recursively (by UTF-16 code unit, as `Array.prototype.sort` does)
 * and `undefined` object fields dropped. Otherwise JSON's own rules: `undefined` in arrays becomes
 * `null`, non-finite numbers become `null`, `toJSON` is honoured (dates become ISO strings).
 */
export function canonicalJson(value: unknown): string {
  const text = write(value);
  return text === undefined ? "null" : text;
}

function write(value: unknown): string | undefined {
  if (value === null) return "null";
  if (typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return write((value as { toJSON(): unknown }).toJSON());
  }
  switch (typeof value) {
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    case "bigint":
      return value.toString();
    case "string":
    case "number":
    case "boolean":
      return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? "null").join(",")}]`;
  const object = value as Record<string, unknown>;
  const fields: string[] = [];
  for (const key of Object.keys(object).sort()) {
    const text = write(object[key]);
    if (text !== undefined) fields.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${fields.join(",")}}`;
}
