/**
 * The provider rate windows (`RateLedger.takeRate`) on PostgreSQL: one row per endpoint key, locked
 * for the grant, with the database's clock so every machine shares one window.
 */
import { NOW_MS, type PostgresDb, toNumber } from "./postgres-db.ts";
import { grantRate } from "./work-queue.ts";

export async function takePostgresRate(
  db: PostgresDb,
  key: string,
  want: { requests: number; tokens: number },
  limits: { requests?: number; tokens?: number },
  windowMs: number,
): Promise<{ requests: number; tokens: number; resetInMs: number }> {
  db.assertOpen();
  return db.transaction(async (client) => {
    const clock = await db.query(`SELECT ${NOW_MS} AS ms`, [], client);
    const at = toNumber(clock.rows[0]!.ms);
    const start = at - (at % windowMs);
    await db.query(
      "INSERT INTO rate_windows (key, window_start, requests, tokens) VALUES ($1, $2, 0, 0) ON CONFLICT (key) DO NOTHING",
      [key, start],
      client,
    );
    const { rows } = await db.query("SELECT window_start, requests, tokens FROM rate_windows WHERE key = $1 FOR UPDATE", [key], client);
    const row = rows[0]!;
    const used =
      toNumber(row.window_start) === start
        ? { requests: toNumber(row.requests), tokens: toNumber(row.tokens) }
        : { requests: 0, tokens: 0 };
    const granted = grantRate(used, want, limits);
    await db.query(
      "UPDATE rate_windows SET window_start = $2, requests = $3, tokens = $4 WHERE key = $1",
      [key, start, used.requests + granted.requests, used.tokens + granted.tokens],
      client,
    );
    return { ...granted, resetInMs: start + windowMs - at };
  });
}
