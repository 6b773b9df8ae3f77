/** Runs the built CLI (`bin/spri.js` over dist/) as a child process with the test's own Node. */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Read-only reference material, next to the repository. */
export const SHARED = resolve(REPO_ROOT, "..", "shared");
const BIN = join(REPO_ROOT, "bin", "spri.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Asynchronous on purpose: test servers live in this process and must keep answering while the
 * child runs. The child gets a clean environment (PATH and HOME, plus `env`), so no key or SPRI_*
 * setting leaks in from the developer's shell; give it a fresh `cwd` to keep spri.config.json out.
 */
export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Sends the child this signal once `when` resolves (e.g. Ctrl-C once the server saw a request). */
  signal?: { name: NodeJS.Signals; when: Promise<unknown> };
  /** Told the child's stderr so far each time more of it arrives (to act once it says something). */
  onStderr?: (stderr: string) => void;
}

export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  if (!existsSync(join(REPO_ROOT, "dist", "surfaces", "cli", "main.js"))) {
    throw new Error("dist/ is missing: run `npm run build` (npm test builds first)");
  }
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(stderr);
    });
    void options.signal?.when.then(() => child.kill(options.signal!.name));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`spri ${args.join(" ")} ran past ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
