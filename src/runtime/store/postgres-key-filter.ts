/**
 * Which keys a PostgreSQL store's `call_cache` may hold, kept in memory so that a miss (every call
 * of a fresh run) costs no query. Each worker asked PostgreSQL for every key it was about to call;
 * at 2,400 calls a second those reads were half of the server's CPU, on a machine the workers share.
 *
 * Contract: `rulesOut(hash)` is true only when the filter is loaded, has synced within the last
 * `4 × syncMs`, and no row with that key hash was seen; the cache then answers "miss" without a
 * query. A wrong "miss" never gives a wrong answer, it costs one repeated call. It can happen in
 * two ways, both narrow:
 * - a row another process committed since the last sync (about `syncMs` ago, like the SQLite
 *   filter's interval and the other process's own group commit);
 * - a row whose insert took more than `windowMs` from drawing its id to committing. Ids are drawn
 *   at insert and only grow, but commit in any order: each sync reads the ids above the highest one
 *   read so far, and again the ids below it that were missing when it was read (a row still in
 *   flight, or an id an insert drew and never used) until they are `windowMs` old, as far as
 *   `RELOAD_ROWS` below the highest (more than a sync interval's inserts at tens of thousands a
 *   second). A load reads every row; the ids missing among its last `RELOAD_ROWS` are read again
 *   the same way.
 *   Reading a whole window again at each sync read every row two or three times over (bench (g):
 *   160,000 rows for 36,000 puts); a row is now read once, and a missing id a few times.
 * Until its first load, after a failed query, and when no sync has finished for a while (a quiet
 * spell), the filter rules nothing out (every get queries). Loads and syncs run in the background;
 * `rulesOut` never waits for one.
 */
import { cacheKeyHash, KeyHashBits } from "./cache-key-filter.ts";
import type { PostgresDb } from "./postgres-db.ts";

/** Rows without a stored hash (keys that are not sha256 hex, written before schema 2) give their key. */
const HASHES = "SELECT id, key_hash, CASE WHEN key_hash IS NULL THEN key END AS key FROM call_cache";
/** How far below the highest id read a missing id is read again (see the contract). */
const RELOAD_ROWS = 10_000;
/** A filter whose last finished sync is this many intervals old rules nothing out. */
const STALE_SYNCS = 4;

const SINCE = { name: "spri_cache_since", text: `${HASHES} WHERE id > $1` };
const SINCE_OR_MISSING = { name: "spri_cache_since_or_missing", text: `${HASHES} WHERE id > $1 OR id = ANY($2::bigint[])` };

export interface PostgresKeyFilterOptions {
  /** How often the filter reads other processes' new rows, in ms. Default 250. */
  syncMs?: number;
  /** How long an insert may take from drawing its id to committing and still be read, in ms. Default 500. */
  windowMs?: number;
  /** The smallest bit set (a power of two); tests make it small to exercise growth. */
  minBits?: number;
}

export class PostgresKeyFilter {
  private readonly db: PostgresDb;
  private readonly syncMs: number;
  private readonly windowMs: number;
  private readonly minBits: number | undefined;
  /** Undefined until loaded, and again after a failed query. */
  private bits: KeyHashBits | undefined;
  /** The highest id read. */
  private maxId = 0;
  /** Ids below `maxId` not read yet, with when they were first found missing (`performance.now()`). */
  private missing = new Map<number, number>();
  private syncing: Promise<void> | undefined;
  /** When the last sync started, and when the last one that succeeded finished. */
  private syncedAt = Number.NEGATIVE_INFINITY;
  private freshAt = Number.NEGATIVE_INFINITY;
  /** This process's puts committed while a load runs, for the new bit set. */
  private addedDuringLoad: number[] | undefined;

  constructor(db: PostgresDb, options: PostgresKeyFilterOptions = {}) {
    this.db = db;
    this.syncMs = Math.max(0, options.syncMs ?? 250);
    this.windowMs = Math.max(0, options.windowMs ?? 500);
    this.minBits = options.minBits;
  }

  /** True when no row with this key hash can be in the table (see the module's contract). Starts a due sync. */
  rulesOut(hash: number): boolean {
    const now = performance.now();
    this.startDueSync(now);
    return this.bits !== undefined && now - this.freshAt <= STALE_SYNCS * Math.max(this.syncMs, 1) && !this.bits.has(hash);
  }

  /**
   * Starts the first load (or a due sync) in the background, for a caller about to look keys up:
   * lookups before the load is in query the table. Resolves when that sync has ended (never rejects).
   */
  warm(): Promise<void> {
    this.startDueSync(performance.now());
    return this.syncing ?? Promise.resolve();
  }

  private startDueSync(now: number): void {
    if (this.syncing !== undefined || now - this.syncedAt < this.syncMs) return;
    this.syncing = this.sync()
      .catch(() => {
        this.bits = undefined;
      })
      .finally(() => {
        this.syncing = undefined;
      });
  }

  /** Rows this process has just committed. */
  added(hashes: Iterable<number>): void {
    this.addedDuringLoad?.push(...hashes);
    const { bits } = this;
    if (bits === undefined) return;
    for (const hash of hashes) bits.add(hash);
  }

  /** Loads the filter, or reads the rows committed since the last sync; rejects with the query's error. */
  async sync(): Promise<void> {
    this.syncedAt = performance.now();
    if (this.bits === undefined || this.bits.full()) await this.load();
    else await this.readSince();
    this.freshAt = performance.now();
  }

  /** The whole table's hashes, in a set with room for twice as many. */
  private async load(): Promise<void> {
    this.addedDuringLoad = [];
    try {
      const { rows } = await this.db.query(HASHES);
      const at = performance.now();
      const bits = new KeyHashBits(Math.max(rows.length, this.bits?.count ?? 0), this.minBits);
      let maxId = 0;
      for (const row of rows) {
        bits.add(hashOf(row));
        maxId = Math.max(maxId, Number(row.id));
      }
      for (const hash of this.addedDuringLoad) bits.add(hash);
      // Rows in flight during the load have ids below its highest: its last ids not read are missing.
      const recent = new Set<number>();
      for (const row of rows) if (Number(row.id) > maxId - RELOAD_ROWS) recent.add(Number(row.id));
      const missing = new Map<number, number>();
      for (let id = Math.max(1, maxId - RELOAD_ROWS + 1); id < maxId; id++) if (!recent.has(id)) missing.set(id, at);
      this.bits = bits;
      this.maxId = maxId;
      this.missing = missing;
    } finally {
      this.addedDuringLoad = undefined;
    }
  }

  private async readSince(): Promise<void> {
    const now = performance.now();
    for (const [id, since] of this.missing) if (now - since >= this.windowMs) this.missing.delete(id);
    const { rows } =
      this.missing.size === 0
        ? await this.db.query(SINCE, [this.maxId])
        : await this.db.query(SINCE_OR_MISSING, [this.maxId, [...this.missing.keys()]]);
    const { bits } = this;
    if (bits === undefined) return;
    // Stamped when the rows are in: the window counts from the latest moment they could reflect.
    const at = performance.now();
    const before = this.maxId;
    const above = new Set<number>();
    for (const row of rows) {
      bits.add(hashOf(row));
      const id = Number(row.id);
      if (id > before) above.add(id);
      else this.missing.delete(id);
      this.maxId = Math.max(this.maxId, id);
    }
    for (let id = Math.max(before, this.maxId - RELOAD_ROWS) + 1; id < this.maxId; id++) if (!above.has(id)) this.missing.set(id, at);
  }
}

function hashOf(row: Record<string, unknown>): number {
  return row.key_hash === null || row.key_hash === undefined ? cacheKeyHash(String(row.key)) : Number(row.key_hash);
}
