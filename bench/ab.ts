/**
 * A/B of two builds on one scenario, alternating, against the same server and the bare undici
 * client in the same rounds: `node bench/ab.ts f|h OTHER_REPO_ROOT [rounds]`. A diagnostic for
 * comparing a change with its parent on a shared machine (both builds must be built).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bareClient, chatBody } from "./bare-client.ts";
import { SCALE } from "./scale.ts";
import { BenchServer } from "./server-handle.ts";
import { REPO_ROOT, runArgs, writeItems } from "./spri-cli.ts";

const [scenario = "f", other = "", roundsText = "2"] = process.argv.slice(2);
const items = scenario === "f" ? SCALE.items : SCALE.cpuItems;
const concurrency = scenario === "f" ? SCALE.concurrency : SCALE.cpuConcurrency;
const latencyMs = scenario === "f" ? SCALE.latencyMs : 0;
const server = await BenchServer.start();

async function spri(root: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "spri-ab-"));
  try {
    await server.configure({ latencyMs, maxInFlight: concurrency });
    const input = writeItems(join(dir, "items.jsonl"), items);
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        join(root, "bin", "spri.js"),
        ...runArgs({ input, output: join(dir, "out.jsonl"), dir, serverUrl: server.url, concurrency, cache: true }),
      ],
      { cwd: dir, stdio: "ignore", env: { PATH: process.env.PATH } },
    );
    await new Promise((resolve) => child.once("close", resolve));
    const wall = (performance.now() - started) / 1000;
    const stats = await server.stats();
    return `${(stats.requests / wall).toFixed(0)} calls/s (${stats.requests} in ${wall.toFixed(1)} s)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (let i = 0; i < Number(roundsText); i++) {
  process.stdout.write(`round ${i}: this ${await spri(REPO_ROOT)}; `);
  process.stdout.write(`other ${await spri(other)}; `);
  await server.configure({ latencyMs, maxInFlight: concurrency });
  const bare = await bareClient("undici", `${server.url}/v1/chat/completions`, SCALE.bareRequests, concurrency, chatBody(1000));
  process.stdout.write(`bare ${bare.callsPerSecond.toFixed(0)} calls/s\n`);
}
server.stop();
