// The layering of docs/architecture.md, enforced by `npm run lint` (dependency-cruiser).
//
// Layers from the bottom; a file may import its own layer and the layers below, never above.
// Unit tests (`*.test.ts`) are consumers of the code beside them and are not placed in a layer.
//
// Today's upward imports are listed in .dependency-cruiser-known-violations.json. That file is the
// debt of issue 13, to pay down: it must only shrink. A new violation fails the lint; so does a
// listed one that no longer exists (run `npm run lint:baseline` to drop it from the list, which
// never adds entries).

/** Bottom to top. `paths` are regular expressions over repository-relative file names. */
const LAYERS = [
  { name: "base", paths: ["^src/base/"], what: "base/ (errors/, util/) imports nothing of the project above it" },
  { name: "io", paths: ["^src/io/"], what: "io/ (records, readers, and prompts/: templates) sits on base/ only" },
  {
    name: "models",
    paths: ["^src/models/"],
    what: "the model port and its adapters import only base/ and io/: nothing above them knows which vendor answers",
  },
  { name: "config", paths: ["^src/config/"], what: "config/ (settings, model construction) sits below the algorithms that read it" },
  {
    name: "contract",
    paths: ["^src/algorithms/contract/"],
    what: "the per-item contract (algorithms/contract/) imports only io/, models/ and base/",
  },
  {
    name: "algorithms",
    paths: ["^src/algorithms/(spri|judge|discovery)/"],
    what: "the algorithms (algorithms/spri/, judge/, discovery/) build on the contract; presets, runtime and surfaces sit above them",
  },
  {
    name: "presets",
    paths: ["^src/presets/"],
    what: "presets/ (tasks/, align.ts) wires algorithms to prompts and fields; runtime and surfaces sit above it",
  },
  {
    name: "runtime",
    paths: ["^src/runtime/"],
    what: "runtime/ (runner/, store/) schedules and persists; the surfaces (surfaces/cli/, surfaces/server/, bench/, web/) sit above it",
  },
];

const TESTS = "[.]test[.]ts$";
/** The surfaces: everything above the runtime layer. */
const SURFACES = ["^src/surfaces/", "^src/(index|test)[.]ts$", "^bench/", "^web/", "^dev/", "^scripts/"];
const ALGORITHM_LAYERS = ["contract", "algorithms", "presets"];
/** The concrete adapters and the files they are split into (llama-cpp-*.ts, openai-*.ts); the ports are not among them. */
const ADAPTERS =
  "^src/models/(anthropic|llama-cpp[a-z-]*|openai-(batch|compatible|completion|errors|fine-tuning)|replay-model|scripted-model)[.]ts$";
/** Node modules that read or write files, start processes or open connections. */
const PROCESS_IO = "^(node:)?(fs|fs/promises|child_process|net|http|https|http2|dgram|worker_threads|cluster|sqlite)$";

const fix = "Move the shared piece down to the lower layer, or pass it in from above (docs/architecture.md).";

function upwardRules() {
  return LAYERS.map((layer, index) => ({
    name: `layer-${layer.name}`,
    comment: `${layer.what}. ${fix}`,
    severity: "error",
    from: { path: layer.paths, pathNot: TESTS },
    to: { path: [...LAYERS.slice(index + 1).flatMap((above) => above.paths), ...SURFACES] },
  }));
}

const pathsOf = (names) => LAYERS.filter((layer) => names.includes(layer.name)).flatMap((layer) => layer.paths);

module.exports = {
  forbidden: [
    ...upwardRules(),
    {
      name: "algorithms-no-process-io",
      comment:
        "The contract, algorithms and presets are orchestration over the model port: no files, processes, sockets or databases. " +
        "Read and write in io/, runner/ or store/ and hand the algorithm plain values.",
      severity: "error",
      from: { path: pathsOf(ALGORITHM_LAYERS), pathNot: TESTS },
      to: { dependencyTypes: ["core"], path: PROCESS_IO },
    },
    {
      name: "adapters-chosen-in-config",
      comment:
        "Only config/ (and the surfaces and tests) name a concrete model adapter; the rest talks to the port " +
        "(models/language-model.ts). Take a LanguageModel, or a factory, as a parameter.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/(models|config|surfaces)/", "^src/(index|test)[.]ts$", TESTS] },
      to: { path: ADAPTERS },
    },
    {
      name: "src-not-tests",
      comment: "Library code must not import test helpers, benchmarks or dev tools; move what it needs into src/.",
      severity: "error",
      from: { path: "^src/", pathNot: TESTS },
      to: { path: "^(test|bench|dev|scripts)/" },
    },
    {
      name: "bench-not-test-support",
      comment: "Benchmarks use what the library exports (e.g. spri/test), not test/; move a shared helper into src/.",
      severity: "error",
      from: { path: "^bench/" },
      to: { path: "^test/" },
    },
    {
      name: "server-not-cli",
      comment: "The server is a surface beside the CLI, not below it; move what both need into the library.",
      severity: "error",
      from: { path: "^src/surfaces/server/", pathNot: TESTS },
      to: { path: "^src/surfaces/cli/" },
    },
    {
      name: "web-types-only",
      comment: "The viewer talks to the server over HTTP; from src/ it may take record types only (`import type`).",
      severity: "error",
      from: { path: "^web/" },
      to: { path: "^src/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import that resolves to no file: fix the path (relative imports name the .ts file).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["(^|/)dist/", "(^|/)node_modules/"] },
    // Type-only imports count: a layer that names a type from above depends on it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // Resolve packages the way Node does for this ESM project (their "exports" maps included).
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "node", "default", "types"],
      mainFields: ["module", "main", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".d.ts", ".json"],
    },
    baseline: { staleEntriesSeverity: "error" },
    progress: { type: "none" },
  },
};
