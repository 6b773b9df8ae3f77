import assert from "node:assert/strict";
import { test } from "node:test";
import type { RunRow, RunWatch, WatchedWorker } from "../../runtime/runner/run-watch.ts";
import { formatRunTable, formatRunWatch, STATUS_WIDTH } from "./status-format.ts";

const items = { total: 1_000_000, done: 999_000, failed: 900, leased: 64, pending: 36 };

function worker(host: string, status: WatchedWorker["status"], age: number): WatchedWorker {
  return {
    id: host,
    host,
    pid: 4_194_304,
    startedAt: "",
    heartbeatAt: "",
    status,
    itemsDone: 123_456,
    itemsFailed: 789,
    leased: 16,
    heartbeatAgeSeconds: age,
  };
}

const widest = (text: string) => Math.max(...text.split("\n").map((line) => line.length));

test("the runs table fits 80 columns, cutting long tasks", () => {
  const rows: RunRow[] = [
    {
      id: "0123456789abcdef-0000",
      task: "judge/spri-with-a-very-long-task-name",
      status: "completed",
      inputPath: "/in",
      createdAt: "",
      updatedAt: "",
      items,
      activeWorkers: 12,
    },
    {
      id: "fedcba98-1111",
      task: "spri/sft",
      status: "running",
      inputPath: "/in",
      createdAt: "",
      updatedAt: "",
      items: { total: 4, done: 1, failed: 0, leased: 2, pending: 1 },
      activeWorkers: 2,
    },
    {
      id: "abcdef01-2222",
      task: "spri/sft",
      status: "interrupted",
      inputPath: "/in",
      createdAt: "",
      updatedAt: "",
      items: { total: 4, done: 1, failed: 0, leased: 0, pending: 3 },
      activeWorkers: 0,
    },
  ];
  const text = formatRunTable(rows);
  assert.ok(widest(text) <= STATUS_WIDTH, text);
  const [header, first, second, third] = text.trimEnd().split("\n");
  assert.match(header!, /^RUN\s+TASK\s+STATUS\s+DONE\s+FAILED\s+LEASED\s+PENDING\s+TOTAL\s+WORKERS$/);
  assert.match(first!, /^01234567 {2}judge\/spri-… {2}completed +999000 +900 +64 +36 1000000 +12$/);
  assert.match(second!, /^fedcba98 {2}spri\/sft +running +1 +0 +2 +1 +4 +2$/);
  assert.match(third!, /^abcdef01 {2}spri\/sft +interrupted +1 +0 +0 +3 +4 +0$/);
  const huge = formatRunTable([
    { ...rows[1]!, items: { total: 123_456_789, done: 12_345_678, failed: 1_234_567, leased: 4_567, pending: 98_765_432 } },
  ]);
  assert.ok(widest(huge) <= STATUS_WIDTH, huge);
  assert.match(huge, /running +12\.3M +1\.2M +4567 +98\.7M +123.4M +2$/m);
  assert.equal(formatRunTable([]), "no runs in this store\n");
});

test("one run: counts, rate, ETA and a row per worker, lost ones marked, within 80 columns", () => {
  const watch: RunWatch = {
    runId: "6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
    task: "spri/sft",
    status: "running",
    inputPath: "/data/in.jsonl",
    outputPath: "/data/out.jsonl",
    at: "2026-03-01T12:00:00.000Z",
    items,
    ratePerMinute: 42.5,
    rateWindowSeconds: 300,
    etaSeconds: 3725,
    workers: [worker("gpu-node-a.cluster.example.internal", "active", 2), worker("gpu-b", "lost", 754), worker("gpu-c", "stopped", 4000)],
    activeWorkers: 1,
  };
  const text = formatRunWatch(watch);
  assert.ok(widest(text) <= STATUS_WIDTH, text);
  assert.match(text, /^run {6}6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b$/m);
  assert.match(text, /^items {4}999000 done, 900 failed, 64 leased, 36 pending of 1000000 \(99\.9%\)$/m);
  assert.match(text, /^rate {5}42\.5 items\/min over the last 5m00s, ETA 1h02m$/m);
  assert.match(text, /^workers {2}1 active, 1 lost of 3$/m);
  assert.match(text, /^HOST\s+PID\s+DONE\s+FAILED\s+LEASED\s+HEARTBEAT\s+STATUS$/m);
  assert.match(text, /^gpu-node-a\.cluster\.… +4194304 +123456 +789 +16 {2}2s ago +active$/m);
  assert.match(text, /^gpu-b +4194304 +123456 +789 +16 {2}12m34s ago +lost$/m);
  assert.match(text, /^gpu-c .* 1h06m ago +stopped$/m);
  assert.match(text, /^input {4}\/data\/in\.jsonl$/m);
  assert.match(text, /^output {3}\/data\/out\.jsonl$/m);
});

test("an interrupted run: why, the output file's last report, and the command that resumes it, whole", () => {
  const resume =
    "cd /home/someone/projects/a-long-directory-name && spri run --input questions.jsonl --output answers.jsonl --concurrency 16";
  const text = formatRunWatch({
    runId: "r",
    task: "spri/sft",
    status: "interrupted",
    reason: "no process works it any more: its last worker, gpu-a pid 4101, was last seen at 2026-03-01T11:59:00.000Z",
    resume,
    output: { file: "/data/out.jsonl.partial", records: 295, at: "2026-03-01T11:58:58.000Z" },
    inputPath: "/data/in.jsonl",
    outputPath: "/data/out.jsonl",
    at: "2026-03-01T12:00:00.000Z",
    items: { total: 400, done: 300, failed: 0, leased: 0, pending: 100 },
    ratePerMinute: 0,
    rateWindowSeconds: 300,
    etaSeconds: null,
    workers: [],
    activeWorkers: 0,
  });
  assert.match(text, /^task {5}spri\/sft \(interrupted\)$/m);
  assert.match(
    text,
    /^why {6}no process works it any more: its last worker, gpu-a pid 4101, was last\n {9}seen at 2026-03-01T11:59:00\.000Z$/m,
  );
  assert.match(
    text,
    /^output {3}\/data\/out\.jsonl\.partial\n {9}295 records at 2026-03-01T11:58:58\.000Z: 5 done items are not in it yet$/m,
  );
  assert.ok(widest(text.replace(`${resume}\n`, "")) <= STATUS_WIDTH, text);
  // The command is printed whole, on its own line, so it can be copied.
  assert.ok(text.includes(`resume with:\n${resume}\n`), text);
});

test("a run without workers or rate says so plainly", () => {
  const text = formatRunWatch({
    runId: "r",
    task: "t",
    status: "completed",
    inputPath: "/in",
    at: "",
    items: { total: 0, done: 0, failed: 0, leased: 0, pending: 0 },
    ratePerMinute: 0,
    rateWindowSeconds: 300,
    etaSeconds: null,
    workers: [],
    activeWorkers: 0,
  });
  assert.match(text, /^items {4}0 done, 0 failed, 0 leased, 0 pending of 0$/m);
  assert.match(text, /^rate {5}0 items\/min over the last 5m00s$/m);
  assert.match(text, /^workers {2}0 active of 0$/m);
  assert.doesNotMatch(text, /HOST/);
});
