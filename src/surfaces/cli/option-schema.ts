/**
 * A command's own flags, parsed and checked once. Commander hands a command a bag of raw values
 * (strings for `<value>` flags, booleans for switches, arrays for repeatable flags); each command
 * declares the shape it reads with the pieces below, and `parseOptions` returns it typed or throws
 * one ConfigError that names the flag, the value given and what it must be (exit code 2).
 *
 * The settings flags of config/config.ts (`--base-model`, `--temperature`, …) are not declared
 * here: `resolveSettings` checks them, with the environment and the config file, in one place.
 */
import { z } from "zod";
import { kebab } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";

/** A flag that takes a value and is required (commander's `requiredOption`) or has a default. */
export const text = z.string();
/** A flag that takes a value and may be left out. */
export const optionalText = z.string().optional();
/** A switch: true when given. */
export const flag = z
  .boolean()
  .optional()
  .transform((value) => value === true);
/** A `--no-x` switch: commander makes it true unless `--no-x` is given. */
export const negatable = z.boolean().default(true);
/** A repeatable flag: every value given, in order; none when left out. */
export const repeatable = z.array(z.string()).default([]);

/** A comma-separated list flag: its items, trimmed, empty ones left out. */
export const commaList = z.string().transform((value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean),
);

/** A number flag that `check` accepts; `what` finishes "--flag must be …". A blank value is no number. */
export function number(what: string, check: (n: number) => boolean = () => true) {
  return z.union([z.string(), z.number()]).transform((value, context) => {
    const n = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
    if (Number.isFinite(n) && check(n)) return n;
    context.addIssue({ code: "custom", message: what });
    return z.NEVER;
  });
}

/** A whole-number flag that `check` accepts. */
export function integer(what: string, check: (n: number) => boolean = () => true) {
  return number(what, (n) => Number.isInteger(n) && check(n));
}

/** A flag that is `word` or a value `schema` accepts (e.g. a count or auto); `what` finishes "--flag must be …". */
export function wordOr<const W extends string, S extends z.ZodType>(word: W, schema: S, what: string) {
  return z.union([z.string(), z.number()]).transform((value, context): W | z.output<S> => {
    if (value === word) return word;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    context.addIssue({ code: "custom", message: what });
    return z.NEVER;
  });
}

/** A flag whose value is one of `choices`. */
export function choice<const T extends string>(choices: readonly T[]) {
  const what = choices.length === 1 ? choices[0]! : `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
  return z.string().refine((value): value is T => (choices as readonly string[]).includes(value), { message: what });
}

/** The shape of a command's flags; keys are commander's camelCase attribute names. Other keys are left out. */
export function optionSchema<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object(shape);
}

/** `raw` (commander's options) checked against `schema`; the first bad flag is reported as a ConfigError. */
export function parseOptions<Schema extends z.ZodType>(schema: Schema, raw: Record<string, unknown>): z.output<Schema> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? "");
  throw new ConfigError(`--${kebab(name)} must be ${issueWhat(issue)}, got ${JSON.stringify(raw[name])}`, {
    field: name,
    hint: "run the command with --help for its flags and their values",
  });
}

/** What the flag must be: the declared words for a custom check, the expected type otherwise. */
function issueWhat(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type") return issue.expected === "array" ? "a list of values" : `a ${issue.expected} value`;
  return issue.message;
}
