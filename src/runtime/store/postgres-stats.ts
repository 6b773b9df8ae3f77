/**
 * `runStats` of the PostgreSQL store: its grouped rows, summarised as the SQLite store's are
 * (run-stats.ts).
 */
import type { PostgresDb } from "./postgres-db.ts";
import type { RunStats } from "./run-store.ts";
import { summarizeRun } from "./run-stats.ts";

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

  return summarizeRun(records.rows, calls.rows, failures.rows);
}
