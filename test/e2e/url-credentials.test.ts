/**
 * A base URL that carries credentials (`http://user:password@host/v1`): the password reaches the
 * server as Basic auth, and nothing else, not the store (run settings, calls, the recorded
 * command), the output, the rejects, an export, or anything printed, whether the calls succeed
 * or fail.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../support/cli.ts";
import { startFakeModelServer, type FakeModelServer } from "../../src/test.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

const SECRET = "hunter2SECRETpw";

let server: FakeModelServer;
let dir: string;
before(async () => {
  server = await startFakeModelServer(scriptedBackend());
  dir = mkdtempSync(join(tmpdir(), "spri-url-credentials-"));
  writeFileSync(
    join(dir, "items.jsonl"),
    `${JSON.stringify({ id: "q1", prompt: "Question one?" })}\n${JSON.stringify({ id: "q2", prompt: "Question two?" })}\n`,
  );
});
after(async () => {
  await server.close();
});

/** Every file under `root` whose bytes contain `needle`. */
function filesContaining(root: string, needle: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) found.push(...filesContaining(path, needle));
    else if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

test("credentials in --base-url authenticate the calls and appear nowhere else", async () => {
  const baseUrl = `http://alice:${SECRET}@127.0.0.1:${server.port}/v1`;
  const run = await runCli(
    ["run", "--input", "items.jsonl", "--output", "out.jsonl", "--base-url", baseUrl, "--base-model", "m", "--json"],
    { cwd: dir },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.ok(server.requests.length > 0);
  for (const request of server.requests)
    assert.equal(request.headers.authorization, `Basic ${Buffer.from(`alice:${SECRET}`).toString("base64")}`);
  const { runId } = JSON.parse(run.stdout) as { runId: string };

  const exported = await runCli(["export", "--run", runId, "--store", "spri.db", "--format", "messages", "--output", "train.jsonl"], {
    cwd: dir,
  });
  assert.equal(exported.code, 0, exported.stderr);

  // A server that is gone: the calls fail, and their errors are stored, printed and rejected.
  const gone = await startFakeModelServer();
  await gone.close();
  const failing = await runCli(
    [
      "run",
      "--input",
      "items.jsonl",
      "--output",
      "gone.jsonl",
      "--max-tries",
      "1",
      "--base-url",
      `http://alice:${SECRET}@127.0.0.1:${gone.port}/v1`,
      "--base-model",
      "m",
    ],
    { cwd: dir },
  );
  assert.equal(failing.code, 1, failing.stderr);
  assert.match(readFileSync(join(dir, "gone.jsonl.rejects.jsonl"), "utf8"), /cannot reach http:\/\/127\.0\.0\.1/);

  for (const [what, text] of Object.entries({
    run: run.stdout + run.stderr,
    exported: exported.stdout + exported.stderr,
    failing: failing.stdout + failing.stderr,
  })) {
    assert.ok(!text.includes(SECRET), `${what} printed the password:\n${text}`);
  }
  assert.deepEqual(filesContaining(dir, SECRET), [], "files holding the password");
});
