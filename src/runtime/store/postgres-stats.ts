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
        text: `SELECT step, minute, calls, errors, cache_hits, input_tokens, output_tokens, cost_usd, latency_ms
               FROM call_minutes WHERE run_id = $1`,
      },
      [runId],
    ),
  ]);

  return summarizeRun(records.rows, calls.rows, failures.rows);
}
