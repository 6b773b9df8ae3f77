// The CLI as one module, dist/surfaces/cli/bundle.js, made from the build (dist/surfaces/cli/main.js
// and everything it imports, its dependencies included) by rolldown, with the list of the build's
// modules it holds (bundle-modules.json, paths under dist/). bin/spri.js runs the bundle in an
// installed package; in a clone (src/ beside bin/) only while no module on that list is newer than
// the bundle, so a `tsc` or `tsc --watch` since never leaves a stale bundle running.
//
// Why: Node loads, links and evaluates ESM modules one by one. `spri worker` loaded about 290 of them
// (zod alone is 95) before its first call: 0.14–0.18 s on an idle machine, 0.3–0.6 s while a run
// and other workers start beside it. As one module it loads in half the time (`spri worker --help`:
// 0.07–0.11 s against 0.14–0.18 s), and a shared run's workers start calling 0.2–0.3 s sooner
// (bench (g)). Lazy imports stay lazy: the bundle evaluates a command's code when it is first run.
//
// Kept outside: Node's built-in modules, and the optional peer dependencies (local models, the
// OpenAI and Anthropic SDKs), pg's optional native binding and the viewer's HTTP server
// (@hono/node-server, which imports node:http), which are loaded from node_modules only when used:
// the bundle turns a lazy import of a module it holds into a static import of that module's
// externals, so a bundled @hono/node-server put node:http at the start of every command. The
// library (dist/index.js) is not bundled. The bundle sits as deep under dist/ as the modules that
// find package.json and web/dist relative to themselves (three folders up).
// Plain JavaScript, like build-on-install.js: it runs under whichever Node npm runs.
import { statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const input = `${dist}surfaces/cli/main.js`;
const output = `${dist}surfaces/cli/bundle.js`;

const built = await build({
  input,
  platform: "node",
  external: [/^node:/, "node-llama-cpp", "@anthropic-ai/sdk", "openai", "pg-native", "@hono/node-server"],
  // ASCII (other characters escaped) without doc and annotation comments, licences kept: Node reads
  // a smaller file, and V8 keeps an all-ASCII source in one byte a character (spri worker --help:
  // 254-255 ms of CPU against 276-283 ms).
  output: {
    file: output,
    format: "esm",
    codeSplitting: false,
    charset: "ascii",
    comments: { legal: true, annotation: false, jsdoc: false },
  },
  logLevel: "warn",
});
const modules = built.output[0].moduleIds.filter((id) => id.startsWith(dist)).map((id) => id.slice(dist.length));
writeFileSync(`${dist}surfaces/cli/bundle-modules.json`, `${JSON.stringify(modules)}\n`);
const { size } = statSync(output);
console.log(`bundle-cli: ${output} (${(size / 1e6).toFixed(1)} MB)`);
