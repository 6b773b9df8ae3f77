/**
 * A run store for the viewer's end-to-end test, made the way users make one: `spri run` (the built
 * CLI) against a scripted OpenAI-compatible server. One item's model outputs carry HTML that would
 * run script if the viewer ever rendered it as HTML; one item fails with a 400 from the backend.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import {
  type FakeModelServer,
  type FakeReply,
  openaiError,
  openaiText,
  type RecordedRequest,
  startFakeModelServer,
} from "../../src/test.ts";
import { type Browser, chromium, type Page } from "playwright-core";
import { INVOCATION_ARTIFACT, OUTPUT_ARTIFACT } from "../../src/runtime/runner/run-state.ts";
import { SqliteStore } from "../../src/runtime/store/sqlite-store.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";
import { makeSharedRun } from "../support/shared-run.ts";

export const SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>";
export const IMG_PAYLOAD = `<img src=x onerror="window.__pwned=2">`;

export const QUESTIONS = [
  { id: "kind-1", instruction: "How do I tell a friend I can't come to their wedding?" },
  { id: "xss-1", instruction: "Show me an HTML snippet, xss included" },
  { id: "rain-1", instruction: "What should I pack for a rainy hike?" },
  { id: "fail-1", instruction: "This one fails: the backend refuses it" },
];

interface ChatBody {
  messages: { role: string; content: string }[];
}

/** SPRI over the built-in prompts: first principles score 3, everything else 5 (6 calls an item). */
export function viewerBackend(): (request: RecordedRequest) => FakeReply {
  const critiqued = new Set<string>();
  return (request) => {
    const body = request.body as ChatBody;
    const system = body.messages[0]?.content ?? "";
    const text = body.messages.map((m) => m.content).join("\n");
    const xss = /xss/i.test(text);
    if (/backend refuses/.test(text)) return openaiError(400, "This model's maximum context length is 8192 tokens (fixture)");
    if (/\[RESULT\] <score>/.test(text)) {
      const question = /Question:\n(.*)\n/.exec(text)?.[1] ?? "";
      const isPrinciples = /Principles to review/.test(text);
      const first = isPrinciples && !critiqued.has(question);
      if (isPrinciples) critiqued.add(question);
      const feedback = first ? "Feedback: too vague; name what to say and how. [RESULT] 3" : "Feedback: clear and specific. [RESULT] 5";
      return openaiText(xss ? `${feedback.replace(" [RESULT]", ` Mentions ${SCRIPT_PAYLOAD}. [RESULT]`)}` : feedback, {
        promptTokens: 180,
        completionTokens: 24,
      });
    }
    if (system.startsWith("You improve a set of guiding principles")) {
      return openaiText(
        xss
          ? `1. Be specific about the code.\n2. Be kind. ${IMG_PAYLOAD}`
          : "1. Be specific: say what you can and cannot do.\n2. Be kind and warm.\n3. Offer something instead.",
        { promptTokens: 220, completionTokens: 40 },
      );
    }
    if (system.startsWith("You write guiding principles")) {
      return openaiText(xss ? `1. Be kind.\n${SCRIPT_PAYLOAD}` : "1. Be kind.\n2. Say what you can do.", {
        promptTokens: 150,
        completionTokens: 20,
      });
    }
    return openaiText(
      xss
        ? `Here is the snippet as text: ${SCRIPT_PAYLOAD} and ${IMG_PAYLOAD}`
        : "I'm so sorry I can't be there on your day. I'd love to take you both to dinner when you're back, to celebrate properly.",
      { promptTokens: 260, completionTokens: 60 },
    );
  };
}

export interface ViewerFixture {
  dir: string;
  db: string;
  server: FakeModelServer;
  /** Flags that point spri at the fake server. */
  modelFlags: string[];
}

/** Runs the questions through `spri run` into `<dir>/spri.db`. */
export async function makeViewerStore(): Promise<ViewerFixture> {
  const server = await startFakeModelServer(viewerBackend());
  const dir = mkdtempSync(join(tmpdir(), "spri-viewer-"));
  const input = join(dir, "questions.jsonl");
  writeFileSync(input, `${QUESTIONS.map((q) => JSON.stringify(q)).join("\n")}\n`);
  const modelFlags = ["--base-url", `${server.url}/v1`, "--base-model", "fake-base-7b", "--critic-model", "fake-critic-70b"];
  const result = await runCli(
    ["run", "--input", input, "--output", join(dir, "out.jsonl"), "--concurrency", "1", "--max-tries", "1", ...modelFlags],
    { cwd: dir },
  );
  // Exit code 1 (or 3): one item failed, as intended.
  if (!/3 records written/.test(result.stderr + result.stdout)) throw new Error(`spri run did not write 3 records:\n${result.stderr}`);
  return { dir, db: join(dir, "spri.db"), server, modelFlags };
}

/**
 * Adds a running shared run with two workers to the fixture's store, through the store API while
 * `spri view` serves it: `gpu-a` alive, `gpu-b` lost (see test/support/shared-run.ts). Returns its id.
 */
export async function addSharedRun(fixture: ViewerFixture): Promise<string> {
  const store = new SqliteStore(fixture.db);
  try {
    return await makeSharedRun(store, { key: "viewer-shared-run" });
  } finally {
    await store.close();
  }
}

/**
 * Adds a run as a `spri run` killed with -9 leaves it, through the store API: 300 items done and 100
 * pending, its worker registered with the pid of a process that has exited, its command recorded,
 * and its output file last reported at 295 records. Returns its id.
 */
export async function addInterruptedRun(fixture: ViewerFixture): Promise<string> {
  const store = new SqliteStore(fixture.db);
  try {
    const run = await store.createRun({
      key: "viewer-killed-run",
      task: "spri/sft",
      settings: {},
      inputPath: "/data/killed.jsonl",
      outputPath: "/data/killed-out.jsonl",
      baseModel: "fake-base-7b",
    });
    await store.setItemStatuses(run.id, [
      ...Array.from({ length: 300 }, (_, i) => ({ itemId: `k${i}`, status: "done" as const, record: { id: `k${i}`, prompt: "q" } })),
      ...Array.from({ length: 100 }, (_, i) => ({ itemId: `p${i}`, status: "pending" as const })),
    ]);
    await store.putArtifact(run.id, INVOCATION_ARTIFACT, {
      argv: ["run", "--input", "killed.jsonl", "--output", "killed-out.jsonl"],
      cwd: "/data",
    });
    await store.putArtifact(run.id, OUTPUT_ARTIFACT, {
      file: "/data/killed-out.jsonl.partial",
      records: 295,
      at: new Date().toISOString(),
    });
    await store.registerWorker({
      id: "viewer-killed-worker",
      host: hostname(),
      pid: spawnSync(process.execPath, ["-e", ""]).pid,
      runId: run.id,
    });
    return run.id;
  } finally {
    await store.close();
  }
}

export interface RunningView {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `spri view --port 0` (the built CLI) and waits for the address it prints. */
export function startView(fixture: Pick<ViewerFixture, "dir" | "db" | "modelFlags">): Promise<RunningView> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "bin", "spri.js"), "view", "--port", "0", "--store", fixture.db, ...fixture.modelFlags],
    {
      cwd: fixture.dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`spri view printed no address in 30 s\n${stdout}\n${stderr}`));
    }, 30_000);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /(http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1]!,
          port: Number(match[2]),
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once("exit", () => done());
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`spri view exited with ${code}\n${stdout}\n${stderr}`));
    });
  });
}

const CHROMIUM = process.env.SPRI_CHROMIUM ?? "/usr/bin/chromium";
const WEB = join(REPO_ROOT, "web");

// Skipped without a browser on a developer's machine; CI installs one first (.ci/run), and there a
// missing browser fails the test instead of hiding it.
export const browserSkip =
  existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM} (run: bash scripts/install-browser.sh)`;

/** The newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** `npm run build` builds the app; rebuild here only when its sources are newer than the build. */
export function ensureWebBuilt(): void {
  const index = join(WEB, "dist", "index.html");
  const sources = Math.max(newest(join(WEB, "src")), statSync(join(WEB, "index.html")).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync("npm", ["run", "build", "-w", "web"], { cwd: REPO_ROOT, stdio: "inherit" });
}

/** Headless Chromium as the viewer tests drive it. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run bash scripts/install-browser.sh`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh Chromium with one 1280×900 page, whose uncaught script errors are collected in `errors`. */
export async function openViewerPage(): Promise<{ browser: Browser; page: Page; errors: string[] }> {
  const browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 })).newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return { browser, page, errors };
}
