/**
 * `npm run lint` keeps the layering of docs/architecture.md. Each test builds a small tree laid out
 * like this repository (its package.json scripts, rule file and tsconfig, its node_modules linked)
 * in a temporary directory and runs the real npm scripts there, so the repository's own files are
 * never touched and tests cannot race. The real tree is linted by `.ci/run`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { REPO_ROOT } from "../support/cli.ts";

const BASELINE = ".dependency-cruiser-known-violations.json";
/** The folders the lint script names; each must exist for dependency-cruiser to start. */
const LINTED = ["src", "bench", "test", "dev", "scripts", "web/src"];
/** A tree that obeys the layering: the CLI calls down into a model adapter. */
const CLEAN: Record<string, string> = {
  "src/base/errors/errors.ts": "export class SpriError extends Error {}\n",
  "src/models/adapter.ts": 'import { SpriError } from "../base/errors/errors.ts";\nexport const fail = () => new SpriError("x");\n',
  "src/surfaces/cli/main.ts": 'import { fail } from "../../models/adapter.ts";\nexport function main(): Error {\n  return fail();\n}\n',
};

interface Lint {
  status: number | null;
  output: string;
  /** The known-violations file after the script ran. */
  baseline: unknown[];
}

/** Runs each `npm run <script>` in turn on a temporary tree of `files`, `baseline` its known violations. */
function lintTree(files: Record<string, string>, scripts: string[], baseline: unknown[] = []): Lint[] {
  const dir = mkdtempSync(join(tmpdir(), "spri-lint-"));
  try {
    for (const name of ["package.json", "tsconfig.json", ".dependency-cruiser.cjs"]) copyFileSync(join(REPO_ROOT, name), join(dir, name));
    symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    for (const folder of LINTED) mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, BASELINE), JSON.stringify(baseline));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return scripts.map((script) => {
      const result = npmRun(script, dir);
      return { ...result, baseline: JSON.parse(readFileSync(join(dir, BASELINE), "utf8")) as unknown[] };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The project's Node and tools first on PATH, as `npm ci` sets a clone up; a throw-away npm cache. */
function npmRun(script: string, cwd: string): { status: number | null; output: string } {
  const cache = mkdtempSync(join(tmpdir(), "spri-npm-cache-"));
  const env = {
    PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
    HOME: process.env.HOME,
    npm_config_cache: cache,
    npm_config_update_notifier: "false",
  };
  try {
    const result = spawnSync("npm", ["--offline", "run", script], { cwd, env, encoding: "utf8" });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

/** A baseline entry exactly as dependency-cruiser writes it for a static relative import. */
function known(rule: string, from: string, to: string, unresolvedTo: string): unknown {
  return { type: "dependency", from, to, unresolvedTo, dependencyTypes: ["local", "import"], rule: { severity: "error", name: rule } };
}

// `npm run lint` is the formatter's check, then `lint:layers`; the small trees below are not laid
// out by the formatter, so they run the layering part alone.
test("npm run lint runs the formatter's check and the layering rules", () => {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  assert.match(scripts.lint ?? "", /npm run lint:format && npm run lint:layers/);
  assert.match(scripts["lint:format"] ?? "", /^biome format \.$/);
});

describe("npm run lint: the layering rules", () => {
  test("a tree whose imports point down passes", () => {
    const [lint] = lintTree(CLEAN, ["lint:layers"]);
    assert.equal(lint!.status, 0, lint!.output);
    assert.match(lint!.output, /no dependency violations found/);
  });

  test("a model adapter that imports the CLI entry fails, naming the rule and both files", () => {
    const probe = { "src/models/lint-probe.ts": 'import { main } from "../surfaces/cli/main.ts";\nexport const run = main;\n' };
    const [lint] = lintTree({ ...CLEAN, ...probe }, ["lint:layers"]);
    assert.notEqual(lint!.status, 0, lint!.output);
    assert.match(lint!.output, /error layer-models: src\/models\/lint-probe\.ts → src\/surfaces\/cli\/main\.ts/);
  });

  test("an algorithm that imports the runner (even a type) or reads files fails", () => {
    const files = {
      ...CLEAN,
      "src/runtime/runner/run-job.ts": "export interface Job {\n  id: string;\n}\n",
      "src/algorithms/spri/loop.ts":
        'import type { Job } from "../../runtime/runner/run-job.ts";\nexport const id = (job: Job) => job.id;\n',
      "src/algorithms/judge/read.ts":
        'import { readFileSync } from "node:fs";\nexport const read = (path: string) => readFileSync(path, "utf8");\n',
    };
    const [lint] = lintTree(files, ["lint:layers"]);
    assert.notEqual(lint!.status, 0, lint!.output);
    assert.match(lint!.output, /error layer-algorithms: src\/algorithms\/spri\/loop\.ts → src\/runtime\/runner\/run-job\.ts/);
    assert.match(lint!.output, /error algorithms-no-process-io: src\/algorithms\/judge\/read\.ts → fs/);
  });

  test("library code that imports test support fails; a unit test beside it may", () => {
    const files = {
      ...CLEAN,
      "test/support/fake.ts": "export const fake = 1;\n",
      "src/models/uses-fake.ts": 'import { fake } from "../../test/support/fake.ts";\nexport const value = fake;\n',
      "src/models/adapter.test.ts": 'import { fake } from "../../test/support/fake.ts";\nexport const value = fake;\n',
      "bench/uses-fake.ts": 'import { fake } from "../test/support/fake.ts";\nexport const value = fake;\n',
    };
    const [lint] = lintTree(files, ["lint:layers"]);
    assert.notEqual(lint!.status, 0, lint!.output);
    assert.match(lint!.output, /error src-not-tests: src\/models\/uses-fake\.ts → test\/support\/fake\.ts/);
    assert.match(lint!.output, /error bench-not-test-support: bench\/uses-fake\.ts → test\/support\/fake\.ts/);
    assert.doesNotMatch(lint!.output, /adapter\.test\.ts/);
  });

  test("the viewer takes only types from src/, and the server does not import the CLI", () => {
    const files = {
      ...CLEAN,
      "src/surfaces/server/api-types.ts": "export interface Run {\n  id: string;\n}\nexport const PAGE = 50;\n",
      "src/surfaces/server/app.ts": 'import { main } from "../cli/main.ts";\nexport const start = main;\n',
      "web/src/api.ts": 'export type * from "../../src/surfaces/server/api-types.ts";\n',
      "web/src/page.ts": 'import { PAGE } from "../../src/surfaces/server/api-types.ts";\nexport const size = PAGE;\n',
    };
    const [lint] = lintTree(files, ["lint:layers"]);
    assert.notEqual(lint!.status, 0, lint!.output);
    assert.match(lint!.output, /error web-types-only: web\/src\/page\.ts → src\/surfaces\/server\/api-types\.ts/);
    assert.match(lint!.output, /error server-not-cli: src\/surfaces\/server\/app\.ts → src\/surfaces\/cli\/main\.ts/);
    assert.doesNotMatch(lint!.output, /web\/src\/api\.ts/);
  });
});

describe("npm run lint: the baseline of known violations only shrinks", () => {
  const upward = { "src/models/canonical.ts": 'import { main } from "../surfaces/cli/main.ts";\nexport const run = main;\n' };
  const entry = known("layer-models", "src/models/canonical.ts", "src/surfaces/cli/main.ts", "../surfaces/cli/main.ts");

  test("a violation listed in the baseline passes; a new one beside it fails", () => {
    const second = { "src/models/second.ts": 'import { main } from "../surfaces/cli/main.ts";\nexport const run = main;\n' };
    const [listed] = lintTree({ ...CLEAN, ...upward }, ["lint:layers"], [entry]);
    assert.equal(listed!.status, 0, listed!.output);
    const [added] = lintTree({ ...CLEAN, ...upward, ...second }, ["lint:layers"], [entry]);
    assert.notEqual(added!.status, 0, added!.output);
    assert.match(added!.output, /src\/models\/second\.ts → src\/surfaces\/cli\/main\.ts/);
    assert.doesNotMatch(added!.output, /src\/models\/canonical\.ts → /);
  });

  test("a fixed violation left in the baseline fails until lint:baseline drops it", () => {
    const [stale, shrink, after] = lintTree(CLEAN, ["lint:layers", "lint:baseline", "lint:layers"], [entry]);
    assert.notEqual(stale!.status, 0, stale!.output);
    assert.equal(shrink!.status, 0, shrink!.output);
    assert.deepEqual(shrink!.baseline, []);
    assert.equal(after!.status, 0, after!.output);
  });

  test("lint:baseline never adds a new violation to the list", () => {
    const [shrink, lint] = lintTree({ ...CLEAN, ...upward }, ["lint:baseline", "lint:layers"]);
    assert.deepEqual(shrink!.baseline, []);
    assert.notEqual(lint!.status, 0, lint!.output);
  });
});
