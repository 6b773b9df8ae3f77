/**
 * `runStats` for both stores: each backend groups its rows (records by their stored summary, calls
 * by step and minute, failures by reason) and this module turns the groups into `RunStats`, so a run
 * of 100,000 items is summarised without parsing a record, and both stores report it alike.
 */
import { CALL_STEPS } from "../../io/records.ts";
import type { RunStats } from "./run-store.ts";
import { num, type Row, str } from "./store-rows.ts";

/** SPRI's steps in their order, any other step after them. */
function stepRank(step: string): number {
  const rank = (CALL_STEPS as readonly string[]).indexOf(step);
  return rank < 0 ? CALL_STEPS.length : rank;
}

/** A record's score list: numbers, and null for unscored critiques; anything but a list counts as none. */
function scoresOf(value: unknown): (number | null)[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null)) : [];
}

/** The summary's four fields (see `recordSummary`); a summary that is not a JSON list reads as empty. */
function summaryValues(summary: unknown): unknown[] {
  try {
    const values = JSON.parse(str(summary)) as unknown;
    return Array.isArray(values) ? values : [];
  } catch {
    return [];
  }
}

/**
 * - `records`: one row per distinct record summary (`recordSummary`'s text): summary, n.
 * - `calls`: one row per (step, minute) with columns step, minute, calls, errors, cache_hits,
 *   input_tokens, output_tokens, cost_usd (paid calls only) and latency_ms (sum).
 * - `failures`: one row per failure reason (reason, n), most frequent first.
 */
export function summarizeRun(records: Iterable<Row>, calls: Iterable<Row>, failures: Iterable<Row>): RunStats {
  const scores = new Map<string, RunStats["critiqueScores"][number]>();
  const iterations = new Map<string, RunStats["iterations"][number]>();
  const stageNames = ["principles", "response"] as const;
  for (const row of records) {
    const values = summaryValues(row.summary);
    const n = num(row.n);
    stageNames.forEach((stage, s) => {
      const count = values[s];
      if (typeof count === "number") {
        const key = `${stage}/${count}`;
        const entry = iterations.get(key) ?? { stage, iterations: count, items: 0 };
        entry.items += n;
        iterations.set(key, entry);
      }
      scoresOf(values[2 + s]).forEach((score, i) => {
        const key = `${stage}/${i + 1}/${score}`;
        const entry = scores.get(key) ?? { stage, iteration: i + 1, score, count: 0 };
        entry.count += n;
        scores.set(key, entry);
      });
    });
  }

  const steps = new Map<string, RunStats["steps"][number]>();
  const minutes = new Map<string, RunStats["timeline"][number]>();
  for (const row of calls) {
    const step = str(row.step);
    const minute = str(row.minute);
    const s = steps.get(step) ?? { step, calls: 0, errors: 0, cacheHits: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, latencyMs: 0 };
    const m = minutes.get(minute) ?? { minute, calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    s.calls += num(row.calls);
    s.errors += num(row.errors);
    s.cacheHits += num(row.cache_hits);
    s.inputTokens += num(row.input_tokens);
    s.outputTokens += num(row.output_tokens);
    s.costUsd += num(row.cost_usd);
    s.latencyMs += num(row.latency_ms);
    m.calls += num(row.calls);
    m.inputTokens += num(row.input_tokens);
    m.outputTokens += num(row.output_tokens);
    m.costUsd += num(row.cost_usd);
    steps.set(step, s);
    minutes.set(minute, m);
  }

  const stageOrder = (stage: string) => (stage === "principles" ? 0 : 1);
  const scoreOrder = (score: number | null) => (score === null ? Number.POSITIVE_INFINITY : score);
  return {
    critiqueScores: [...scores.values()].sort(
      (a, b) => stageOrder(a.stage) - stageOrder(b.stage) || a.iteration - b.iteration || scoreOrder(a.score) - scoreOrder(b.score),
    ),
    iterations: [...iterations.values()].sort((a, b) => stageOrder(a.stage) - stageOrder(b.stage) || a.iterations - b.iterations),
    failures: [...failures].map((row) => ({ reason: str(row.reason), count: num(row.n) })),
    // Average latency per call.
    steps: [...steps.values()]
      .sort((a, b) => stepRank(a.step) - stepRank(b.step) || a.step.localeCompare(b.step))
      .map((s) => ({ ...s, latencyMs: s.calls > 0 ? s.latencyMs / s.calls : 0 })),
    timeline: [...minutes.values()].sort((a, b) => a.minute.localeCompare(b.minute)),
  };
}
