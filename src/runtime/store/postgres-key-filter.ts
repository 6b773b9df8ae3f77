/**
 * Which keys a PostgreSQL store's `call_cache` may hold, kept in memory so that a miss (every call
 * of a fresh run) costs no query. Each worker asked PostgreSQL for every key it was about to call;
 * at 2,400 calls a second those reads were half of the server's CPU, on a machine the workers share.
 *
 * Contract: `rulesOut(hash)` is true only when the filter is loaded and no row with that key hash
 * was seen; the cache then answers "miss" without a query. A wrong "miss" never gives a wrong
 * answer, it costs one repeated call. It can happen in two ways, both narrow:
 * - a row another process committed since the last sync (at most `syncMs` ago, like the SQLite
 *   filter's interval and the other process's own group commit);
 * - a row whose insert took more than `windowMs` from drawing its id to committing. Ids are drawn
 *   at insert and only grow, but commit in any order: each sync reads again every id above the
 *   highest one seen `windowMs` earlier, so a row with a lower id that commits later is still read.
 * Until its first load, and after a failed query, the filter rules nothing out (every get queries).
 * Loads and syncs run in the background; `rulesOut` never waits for one.
 */
import { cacheKeyHash, KeyHashBits } from "./cache-key-filter.ts";
import type { PostgresDb } from "./postgres-db.ts";

/** Rows without a stored hash (keys that are not sha256 hex, written before schema 2) give their key. */
const HASHES = "SELECT key_hash, CASE WHEN key_hash IS NULL THEN key END AS key FROM call_cache";
const MAX_ID = { name: "spri_cache_max_id", text: "SELECT coalesce(max(id), 0) AS id FROM call_cache" };
const SINCE = {
  name: "spri_cache_since",
  text: "SELECT id, key_hash, CASE WHEN key_hash IS NULL THEN key END AS key FROM call_cache WHERE id > $1",
};

export interface PostgresKeyFilterOptions {
  /** How often the filter reads other processes' new rows, in ms. Default 250. */
  syncMs?: number;
  /** How long an insert may take from drawing its id to committing and still be read, in ms. Default 500. */
  windowMs?: number;
  /** The smallest bit set (a power of two); tests make it small to exercise growth. */
  minBits?: number;
}

interface Checkpoint {
  at: number;
  /** The highest id read by then. */
  maxId: number;
}

export class PostgresKeyFilter {
  private readonly db: PostgresDb;
  private readonly syncMs: number;
  private readonly windowMs: number;
  private readonly minBits: number | undefined;
  /** Undefined until loaded, and again after a failed query. */
  private bits: KeyHashBits | undefined;
  private maxId = 0;
  /** What each recent sync had read, oldest first; the one `windowMs` old says where the next read starts. */
  private checkpoints: Checkpoint[] = [];
  private syncing: Promise<void> | undefined;
  private syncedAt = Number.NEGATIVE_INFINITY;

  constructor(db: PostgresDb, options: PostgresKeyFilterOptions = {}) {
    this.db = db;
    this.syncMs = Math.max(0, options.syncMs ?? 250);
    this.windowMs = Math.max(0, options.windowMs ?? 500);
    this.minBits = options.minBits;
  }

  /** True when no row with this key hash can be in the table (see the module's contract). Starts a due sync. */
  rulesOut(hash: number): boolean {
    if (this.syncing === undefined && performance.now() - this.syncedAt >= this.syncMs) {
      this.syncing = this.sync()
        .catch(() => {
          this.bits = undefined;
        })
        .finally(() => {
          this.syncing = undefined;
        });
    }
    return this.bits !== undefined && !this.bits.has(hash);
  }

  /** Rows this process has just committed. */
  added(hashes: Iterable<number>): void {
    const { bits } = this;
    if (bits === undefined) return;
    for (const hash of hashes) bits.add(hash);
  }

  /** Loads the filter, or reads the rows committed since the last sync; rejects with the query's error. */
  async sync(): Promise<void> {
    const at = performance.now();
    this.syncedAt = at;
    if (this.bits === undefined || this.bits.full()) await this.load(at);
    else await this.readSince(at);
  }

  /** The whole table's hashes, in a set with room for twice as many. */
  private async load(at: number): Promise<void> {
    const maxId = Number((await this.db.query(MAX_ID)).rows[0]?.id ?? 0);
    const { rows } = await this.db.query(HASHES);
    const bits = new KeyHashBits(Math.max(rows.length, this.bits?.count ?? 0), this.minBits);
    for (const row of rows) bits.add(hashOf(row));
    this.bits = bits;
    this.maxId = maxId;
    this.checkpoints = [{ at, maxId }];
  }

  private async readSince(at: number): Promise<void> {
    const { rows } = await this.db.query(SINCE, [this.readFrom(at)]);
    const { bits } = this;
    if (bits === undefined) return;
    for (const row of rows) {
      bits.add(hashOf(row));
      this.maxId = Math.max(this.maxId, Number(row.id));
    }
    this.checkpoints.push({ at, maxId: this.maxId });
  }

  /** The highest id read by the newest sync at least `windowMs` before `at` (older checkpoints are dropped). */
  private readFrom(at: number): number {
    while (this.checkpoints.length > 1 && at - this.checkpoints[1]!.at >= this.windowMs) this.checkpoints.shift();
    return this.checkpoints[0]?.maxId ?? 0;
  }
}

function hashOf(row: Record<string, unknown>): number {
  return row.key_hash === null || row.key_hash === undefined ? cacheKeyHash(String(row.key)) : Number(row.key_hash);
}
