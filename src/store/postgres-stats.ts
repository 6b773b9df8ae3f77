/**
 * `runStats` of the PostgreSQL store: the same aggregates as the SQLite store's, computed from the
 * records' summaries (extracted on write, `item_records.summary`) and grouped call rows, so a run of
 * 100,000 items is summarised without parsing a record.
 */
import { type PostgresDb, toNumber } from "./postgres-db.ts";
import type { RunStats } from "./run-store.ts";

const STEP_ORDER = [
  "principle.generate",
  "principle.critique",
  "principle.refine",
  "response.generate",
  "response.critique",
  "response.refine",
];
function stepRank(step: string): number {
  const rank = STEP_ORDER.indexOf(step);
  return rank < 0 ? STEP_ORDER.length : rank;
}

/** A record's score list: numbers, and null for unscored critiques; anything but a list counts as none. */
function scoresOf(value: unknown): (number | null)[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null)) : [];
}

export async function postgresRunStats(db: PostgresDb, runId: string): Promise<RunStats> {
  const [records, failures, calls] = await Promise.all([
    db.query({ name: "spri_stats_records", text: "SELECT summary, count(*) AS n FROM item_records WHERE run_id = $1 GROUP BY summary" }, [
      runId,
    ]),
    db.query(
      {
        name: "spri_stats_failures",
        text: `SELECT coalesce(reason, '') AS reason, count(*) AS n FROM items WHERE run_id = $1 AND status = 'failed'
               GROUP BY reason ORDER BY n DESC, reason COLLATE "C" LIMIT 50`,
      },
      [runId],
    ),
    db.query(
      {
        name: "spri_stats_calls",
        text: `SELECT step, left(started_at, 16) AS minute, count(*) AS calls, sum((error IS NOT NULL)::int) AS errors,
                 sum(cache_hit::int) AS cache_hits,
                 sum(CASE WHEN cache_hit THEN 0 ELSE input_tokens END) AS input_tokens,
                 sum(CASE WHEN cache_hit THEN 0 ELSE output_tokens END) AS output_tokens,
                 sum(CASE WHEN cache_hit THEN 0 ELSE coalesce(cost_usd, 0) END) AS cost_usd,
                 sum(latency_ms) AS latency_ms
               FROM calls WHERE run_id = $1 GROUP BY step, left(started_at, 16)`,
      },
      [runId],
    ),
  ]);

  const scores = new Map<string, RunStats["critiqueScores"][number]>();
  const iterations = new Map<string, RunStats["iterations"][number]>();
  const stageNames = ["principles", "response"] as const;
  for (const row of records.rows) {
    const values = JSON.parse(String(row.summary)) as unknown[];
    const n = toNumber(row.n);
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
  for (const row of calls.rows) {
    const step = String(row.step);
    const minute = String(row.minute);
    const s = steps.get(step) ?? { step, calls: 0, errors: 0, cacheHits: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, latencyMs: 0 };
    const m = minutes.get(minute) ?? { minute, calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    s.calls += toNumber(row.calls);
    s.errors += toNumber(row.errors);
    s.cacheHits += toNumber(row.cache_hits);
    s.inputTokens += toNumber(row.input_tokens);
    s.outputTokens += toNumber(row.output_tokens);
    s.costUsd += toNumber(row.cost_usd);
    s.latencyMs += toNumber(row.latency_ms);
    m.calls += toNumber(row.calls);
    m.inputTokens += toNumber(row.input_tokens);
    m.outputTokens += toNumber(row.output_tokens);
    m.costUsd += toNumber(row.cost_usd);
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
    failures: failures.rows.map((row) => ({ reason: String(row.reason), count: toNumber(row.n) })),
    steps: [...steps.values()]
      .sort((a, b) => stepRank(a.step) - stepRank(b.step) || a.step.localeCompare(b.step))
      .map((s) => ({ ...s, latencyMs: s.calls > 0 ? s.latencyMs / s.calls : 0 })),
    timeline: [...minutes.values()].sort((a, b) => a.minute.localeCompare(b.minute)),
  };
}
