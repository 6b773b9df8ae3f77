/**
 * The package as others receive it: a clone set up with `npm ci`, a tarball from `npm pack`, and
 * `npx spri` in a clone. These run the real npm offline against this checkout; the install size of
 * a library install (which needs the registry) is checked by scripts/check-install-size.sh in CI,
 * and the optional peer dependencies by src/base/util/optional-peer.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { OPTIONAL_PEERS } from "../../src/base/util/optional-peer.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";

interface PackageJson {
  license?: string;
  files?: string[];
  engines?: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as PackageJson;

/** npm with a throw-away cache and no registry: these checks must not depend on the network. */
function npm(args: readonly string[], cwd = REPO_ROOT): { status: number | null; stdout: string; output: string } {
  const cache = mkdtempSync(join(tmpdir(), "spri-npm-cache-"));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: cache, npm_config_update_notifier: "false" };
  try {
    const result = spawnSync("npm", ["--offline", ...args], { cwd, env, encoding: "utf8" });
    return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

describe("the package (npm ci, npm pack, npx)", () => {
  test("package-lock.json is in sync with package.json, so `npm ci` installs a clean clone", () => {
    const result = npm(["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"]);
    assert.equal(result.status, 0, result.output);
  });

  test("`files` lists only paths that exist, and the tarball has the CLI, the build and the LICENSE", () => {
    for (const entry of pkg.files ?? [])
      assert.ok(existsSync(join(REPO_ROOT, entry)), `package.json "files" lists ${entry}, which does not exist`);
    const result = npm(["pack", "--dry-run", "--json", "--ignore-scripts"]);
    assert.equal(result.status, 0, result.output);
    const [packed] = JSON.parse(result.stdout) as { files: { path: string }[] }[];
    const paths = new Set(packed!.files.map((f) => f.path));
    const built = [
      "dist/index.js",
      "dist/surfaces/cli/main.js",
      "dist/surfaces/cli/bundle.js",
      "dist/surfaces/cli/bundle-modules.json",
      "web/dist/index.html",
    ];
    for (const path of ["LICENSE", "package.json", "bin/spri.js", ...built]) {
      assert.ok(paths.has(path), `the tarball lacks ${path}`);
    }
    assert.deepEqual(
      [...paths].filter((p) => /^(src|test|bench|dev)\//.test(p) || p.endsWith(".test.js")),
      [],
    );
  });

  test("the LICENSE is the license package.json names, and engines asks for the Node the CLI checks for", () => {
    assert.equal(pkg.license, "Apache-2.0");
    const license = readFileSync(join(REPO_ROOT, "LICENSE"), "utf8");
    assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
    assert.match(license, /END OF TERMS AND CONDITIONS/);
    assert.equal(pkg.engines?.node, ">=22.12.0");
  });

  test("the first `npx spri` in a clone runs the built CLI without rebuilding it", () => {
    // npm exec installs the local package into its cache as a link and runs its lifecycle scripts
    // there; --foreground-scripts shows what they print.
    const builds = [join(REPO_ROOT, "dist", "surfaces", "cli", "main.js"), join(REPO_ROOT, "web", "dist", "index.html")];
    const built = builds.map((f) => statSync(f).mtimeMs);
    const result = npm(["exec", "--yes", "--foreground-scripts", "--", "spri", "--version"]);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /^0\.\d+\.\d+$/m);
    assert.match(result.output, /spri: not building under npm exec/);
    assert.doesNotMatch(result.output, /vite|tsc -p/);
    assert.deepEqual(
      builds.map((f) => statSync(f).mtimeMs),
      built,
    );
  });

  test("bin/spri.js without a build says how to build instead of failing on a missing module", () => {
    const clone = mkdtempSync(join(tmpdir(), "spri-unbuilt-"));
    mkdirSync(join(clone, "bin"));
    copyFileSync(join(REPO_ROOT, "bin", "spri.js"), join(clone, "bin", "spri.js"));
    writeFileSync(join(clone, "package.json"), JSON.stringify({ type: "module" }));
    const result = spawnSync(process.execPath, [join(clone, "bin", "spri.js"), "--version"], { encoding: "utf8" });
    rmSync(clone, { recursive: true, force: true });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /spri: .*dist\/ .*not built.*npm ci/s);
    assert.doesNotMatch(result.stderr, /ERR_MODULE_NOT_FOUND|at async/);
  });
});

describe("bin/spri.js and the CLI bundle", () => {
  /**
   * A copy of bin/spri.js over a build of two stubs that say which of them ran, and another module
   * the bundle lists. `clone` puts src/ beside bin/; `rebuilt` makes that module newer than the bundle.
   */
  function stubInstall(options: { bundle: boolean; clone: boolean; rebuilt?: boolean }): string {
    const root = mkdtempSync(join(tmpdir(), "spri-bundle-"));
    const cli = join(root, "dist", "surfaces", "cli");
    mkdirSync(join(root, "bin"));
    mkdirSync(cli, { recursive: true });
    mkdirSync(join(root, "dist", "runtime"));
    if (options.clone) mkdirSync(join(root, "src"));
    copyFileSync(join(REPO_ROOT, "bin", "spri.js"), join(root, "bin", "spri.js"));
    writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
    const stub = (name: string) => `export async function main() { process.stdout.write("${name}"); return 0; }\n`;
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const write = (path: string, text: string, time: Date) => {
      writeFileSync(path, text);
      utimesSync(path, time, time);
    };
    // As npm unpacks a tarball: the bundle comes first, so it is the oldest file.
    if (options.bundle) {
      write(join(cli, "bundle.js"), stub("bundle"), new Date(at.getTime() - (options.clone ? 0 : 60_000)));
      writeFileSync(join(cli, "bundle-modules.json"), JSON.stringify(["surfaces/cli/main.js", "runtime/loop.js"]));
    }
    write(join(cli, "main.js"), stub("main"), at);
    write(join(root, "dist", "runtime", "loop.js"), "", options.rebuilt ? new Date(at.getTime() + 60_000) : at);
    return root;
  }

  for (const [what, options, ran] of [
    ["a clone runs the bundle made from its build", { bundle: true, clone: true }, "bundle"],
    ["a clone whose build changed since (tsc, tsc --watch) runs the modules", { bundle: true, clone: true, rebuilt: true }, "main"],
    ["an installed package runs its bundle, whatever times npm gave the files", { bundle: true, clone: false }, "bundle"],
    ["without a bundle the build's modules run", { bundle: false, clone: true }, "main"],
  ] as const) {
    test(what, () => {
      const root = stubInstall(options);
      const result = spawnSync(process.execPath, [join(root, "bin", "spri.js")], { encoding: "utf8" });
      rmSync(root, { recursive: true, force: true });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, ran);
    });
  }

  test("SPRI_NO_BUNDLE=1 runs the build's modules", () => {
    const root = stubInstall({ bundle: true, clone: false });
    const env = { PATH: process.env.PATH, SPRI_NO_BUNDLE: "1" };
    const result = spawnSync(process.execPath, [join(root, "bin", "spri.js")], { encoding: "utf8", env });
    rmSync(root, { recursive: true, force: true });
    assert.equal(result.stdout, "main");
  });

  test("the built bundle is the CLI: it answers --version like the build's modules", () => {
    const bundle = join(REPO_ROOT, "dist", "surfaces", "cli", "bundle.js");
    const main = join(REPO_ROOT, "dist", "surfaces", "cli", "main.js");
    const listed = JSON.parse(readFileSync(join(REPO_ROOT, "dist", "surfaces", "cli", "bundle-modules.json"), "utf8")) as string[];
    assert.ok(
      listed.includes("surfaces/cli/main.js") && listed.includes("runtime/runner/work-loop.js"),
      "the bundle lists the modules it holds",
    );
    assert.ok(statSync(bundle).mtimeMs >= statSync(main).mtimeMs, "npm test builds the bundle after dist/ (scripts/bundle-cli.js)");
    const version = (entry: string) =>
      spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `process.exitCode = await (await import(${JSON.stringify(pathToFileURL(entry).href)})).main(["node", "spri", "--version"]);`,
        ],
        {
          encoding: "utf8",
        },
      ).stdout;
    assert.match(version(bundle), /^0\.\d+\.\d+\n$/);
    assert.equal(version(bundle), version(main));
  });
});

describe("spri without its optional peer dependencies (as `npm install spri` leaves it)", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    // A resolve hook that answers for each optional peer as Node does for a package that is absent.
    dir = mkdtempSync(join(tmpdir(), "spri-no-peers-"));
    const hook = join(dir, "hide-optional-peers.mjs");
    writeFileSync(
      hook,
      `import { registerHooks } from "node:module";
const hidden = new Set(${JSON.stringify(Object.keys(OPTIONAL_PEERS))});
registerHooks({
  resolve(specifier, context, next) {
    if (!hidden.has(specifier)) return next(specifier, context);
    throw Object.assign(new Error(\`Cannot find package '\${specifier}' imported from \${context.parentURL}\`), { code: "ERR_MODULE_NOT_FOUND" });
  },
});
`,
    );
    env = { NODE_OPTIONS: `--import=${pathToFileURL(hook).href}` };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the library loads, with its model adapters", () => {
    const script = `const spri = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, "dist", "index.js")).href)});
console.log([spri.align, spri.OpenAICompatibleModel, spri.AnthropicModel].map((x) => typeof x).join(" "));`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), "function function function");
  });

  const cases: { peer: keyof typeof OPTIONAL_PEERS; args: string[]; env?: NodeJS.ProcessEnv }[] = [
    { peer: "node-llama-cpp", args: ["--base-model", "/models/tiny.gguf"] },
    { peer: "@anthropic-ai/sdk", args: ["--base-model", "claude-test"], env: { ANTHROPIC_API_KEY: "sk-ant-test" } },
    { peer: "openai", args: ["--base-url", "http://127.0.0.1:9/v1", "--base-model", "m", "--http-client", "openai-sdk"] },
  ];
  for (const { peer, args, env: extra } of cases) {
    test(`a model that needs ${peer} stops before any call and says what to install`, async () => {
      const result = await runCli(["align", "Is it installed?", ...args], { cwd: dir, env: { ...env, ...extra } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`^spri: ${peer} is not installed: spri needs it for .+ — install it beside spri: \`npm install ${peer}@\\^`),
      );
      assert.doesNotMatch(result.stderr, /sk-ant-test/);
    });
  }
});
