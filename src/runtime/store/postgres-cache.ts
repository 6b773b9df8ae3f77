/**
 * The call cache in a PostgreSQL run store (table `call_cache`), kept off the hot path:
 *
 * - Puts are group-committed into multi-row `INSERT … ON CONFLICT`s (one round trip and one
 *   commit instead of one per call). A batch goes `commitDelayMs` after its first put (20 ms, as
 *   the SQLite cache's) or, while a write is in progress, as soon as that one has committed,
 *   whichever is later; it also goes when it holds `maxBatch` puts. Going as soon as the previous
 *   write committed made batches of ~6 puts at 1,000 puts a second, and their INSERTs led
 *   pg_stat_statements in a shared run (bench (g)); with the 20 ms window 5,700 INSERTs became
 *   1,500 for 36,000 puts and the server's CPU fell by about a fifth. `put` resolves only once
 *   its row is committed, so a caller that awaited it can rely on it; a kill -9 loses at most the
 *   puts not yet written. Batches are written one after the other, so a later put of a key never
 *   loses to an earlier one.
 * - `get` never waits for queued writes: an answer still queued (or being written) is answered from
 *   memory. A key the filter rules out (postgres-key-filter.ts: no row has its hash) is a miss
 *   without a query. The other keys asked for in one event-loop turn are read together, with one
 *   indexed query (`key = ANY(…)`): one round trip for all the calls that started in that turn.
 */
import type { FinishReason, GenerateResult } from "../../models/language-model.ts";
import { type CacheEntryMeta, type CallCache, DEFAULT_COMMIT_DELAY_MS } from "./call-cache.ts";
import { cacheKeyHash } from "./cache-key-filter.ts";
import { type PostgresDb, toNumber } from "./postgres-db.ts";
import { PostgresKeyFilter, type PostgresKeyFilterOptions } from "./postgres-key-filter.ts";
import { now, orNull } from "./store-rows.ts";
import { RowsInsert } from "./postgres-rows.ts";

const GET = {
  name: "spri_cache_get_many",
  text: "SELECT key, text, finish_reason, model, input_tokens, output_tokens, latency_ms FROM call_cache WHERE key = ANY($1::text[])",
};

export interface PostgresCallCacheOptions {
  /** A batch is written as soon as it holds this many puts. Default 1000. */
  maxBatch?: number;
  /** How long the first put of a batch waits for others to join it, in ms. Default 20. */
  commitDelayMs?: number;
  filter?: PostgresKeyFilterOptions;
}

/** Indexes in a put's row (the order of `PUT`'s columns): `created_at` (stamped per batch), `key_hash`. */
const CREATED_AT = 10;
const KEY_HASH = 11;

interface Waiter {
  resolve: (result: GenerateResult | undefined) => void;
  reject: (error: unknown) => void;
}

const PUT = new RowsInsert({
  name: "spri_cache_put",
  into: "call_cache",
  columns: [
    ["key", "text"],
    ["endpoint", "text"],
    ["model_id", "text"],
    ["template_version", "text"],
    ["text", "text"],
    ["finish_reason", "text"],
    ["model", "text"],
    ["input_tokens", "int4"],
    ["output_tokens", "int4"],
    ["latency_ms", "float8"],
    ["created_at", "text"],
    ["key_hash", "int8"],
  ],
  tail: `ON CONFLICT (key) DO UPDATE SET
    endpoint = excluded.endpoint, model_id = excluded.model_id, template_version = excluded.template_version,
    text = excluded.text, finish_reason = excluded.finish_reason, model = excluded.model,
    input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
    latency_ms = excluded.latency_ms, created_at = excluded.created_at, key_hash = excluded.key_hash`,
});

interface Queued {
  result: GenerateResult;
  row: (string | number | null)[];
}

interface Batch {
  /** One entry per key: a later put of a key in the same turn replaces the earlier one. */
  entries: Map<string, Queued>;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class PostgresCallCache implements CallCache {
  private readonly db: PostgresDb;
  /** The batch collecting this turn's puts. */
  private open: Batch | undefined;
  /** Batches handed to the database and not yet committed, oldest first (read from memory meanwhile). */
  private readonly writing: Batch[] = [];
  /** The chain of batch writes: each starts once the previous one has settled. */
  private tail: Promise<void> = Promise.resolve();

  private readonly maxBatch: number;
  private readonly commitDelayMs: number;
  /** The open batch's commit-delay timer. */
  private timer: NodeJS.Timeout | undefined;
  /** Keys asked for in this turn and not answered from memory, with their callers. */
  private reads: Map<string, Waiter[]> | undefined;

  /** Which keys the table may hold; exposed so tests can sync it. */
  readonly filter: PostgresKeyFilter;

  constructor(db: PostgresDb, options: PostgresCallCacheOptions = {}) {
    this.db = db;
    this.maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 1000));
    this.commitDelayMs = Math.max(0, options.commitDelayMs ?? DEFAULT_COMMIT_DELAY_MS);
    this.filter = new PostgresKeyFilter(db, options.filter);
  }

  async get(key: string): Promise<GenerateResult | undefined> {
    const known = this.tryGet(key);
    if (known !== undefined) return known ?? undefined;
    return new Promise((resolve, reject) => {
      if (!this.reads) {
        const reads = new Map<string, Waiter[]>();
        this.reads = reads;
        setImmediate(() => this.read(reads));
      }
      const waiters = this.reads.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.reads.set(key, [{ resolve, reject }]);
    });
  }

  /** An answer still queued or being written, or `null` when the key filter rules the key out; otherwise only a read can tell. */
  tryGet(key: string): GenerateResult | null | undefined {
    this.db.assertOpen();
    const queued = this.open?.entries.get(key) ?? this.findWriting(key);
    if (queued) return copy(queued.result);
    return this.filter.rulesOut(cacheKeyHash(key)) ? null : undefined;
  }

  /** One query for the keys of a turn; each caller gets its own copy of its answer. */
  private async read(reads: Map<string, Waiter[]>): Promise<void> {
    if (this.reads === reads) this.reads = undefined;
    try {
      const { rows } = await this.db.query(GET, [[...reads.keys()]]);
      const found = new Map<string, GenerateResult>();
      for (const row of rows) {
        found.set(String(row.key), {
          text: String(row.text),
          finishReason: String(row.finish_reason) as FinishReason,
          usage: { inputTokens: toNumber(row.input_tokens), outputTokens: toNumber(row.output_tokens) },
          latencyMs: toNumber(row.latency_ms),
          model: String(row.model),
        });
      }
      for (const [key, waiters] of reads) {
        const result = found.get(key);
        for (const waiter of waiters) waiter.resolve(result && copy(result));
      }
    } catch (error) {
      for (const waiters of reads.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }

  warm(): Promise<void> {
    return this.filter.warm();
  }

  put(key: string, result: GenerateResult, meta: CacheEntryMeta): Promise<void> {
    this.db.assertOpen();
    // PostgreSQL text cannot hold NUL: such an answer is not cached (the call is made again next
    // time) rather than failing the batch, which would stop every later call of the model.
    if (holdsNul(result.text) || holdsNul(result.model)) return Promise.resolve();
    const { cached: _cached, ...stored } = result;
    const entry: Queued = {
      result: { ...stored, usage: { ...result.usage } },
      row: [
        key,
        meta.endpoint,
        meta.modelId,
        orNull(meta.templateVersion),
        result.text,
        result.finishReason,
        result.model,
        result.usage.inputTokens,
        result.usage.outputTokens,
        result.latencyMs,
        null, // created_at: stamped per batch when it is written
        cacheKeyHash(key),
      ],
    };
    if (!this.open) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Marked handled here: a put nobody awaits must not crash the process; awaiting callers still see the error.
      done.catch(() => {});
      const batch: Batch = { entries: new Map(), done, resolve, reject };
      this.open = batch;
      // When the delay is over, the write in progress (if any) hands this batch over once it has committed.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.writing.length === 0) this.write(batch);
      }, this.commitDelayMs);
    }
    const batch = this.open;
    batch.entries.set(key, entry);
    if (batch.entries.size >= this.maxBatch) this.write(batch);
    return batch.done;
  }

  /** Commits every queued put (before the store closes); resolves once all are written. */
  async flush(): Promise<void> {
    if (this.open) this.write(this.open);
    await this.tail;
  }

  private write(batch: Batch): void {
    if (this.open !== batch) return; // already handed over (flush came first)
    this.open = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing.push(batch);
    const createdAt = now();
    const rows: (string | number | null)[][] = [];
    const hashes: number[] = [];
    for (const { row } of batch.entries.values()) {
      row[CREATED_AT] = createdAt;
      rows.push(row);
      hashes.push(row[KEY_HASH] as number);
    }
    const run = async () => {
      try {
        // One batch, one transaction: several statements only past MAX_ROWS_PER_STATEMENT rows.
        const statements = PUT.statements(rows);
        if (statements.length === 1) await this.db.query(statements[0]!.statement, statements[0]!.values);
        else
          await this.db.transaction(async (client) => {
            for (const { statement, values } of statements) await this.db.query(statement, values, client);
          });
        this.filter.added(hashes);
        batch.resolve();
      } catch (error) {
        batch.reject(error);
      } finally {
        this.writing.splice(this.writing.indexOf(batch), 1);
        // Puts that came meanwhile go now, together, once their delay is over.
        if (this.open && this.writing.length === 0 && this.timer === undefined) this.write(this.open);
      }
    };
    this.tail = this.tail.then(run);
  }

  private findWriting(key: string): Queued | undefined {
    for (let i = this.writing.length - 1; i >= 0; i--) {
      const entry = this.writing[i]!.entries.get(key);
      if (entry) return entry;
    }
    return undefined;
  }
}

const holdsNul = (text: unknown): boolean => typeof text === "string" && text.includes("\u0000");

function copy(result: GenerateResult): GenerateResult {
  return { ...result, usage: { ...result.usage } };
}
