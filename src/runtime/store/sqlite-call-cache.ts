/**
 * The call cache in the run store's database (table `call_cache`), kept off the request path.
 *
 * - Puts are group-committed: a put joins the open batch, and the batch is committed in one
 *   transaction `commitDelayMs` after its first put (or at once when it reaches `maxBatch` puts).
 *   At 256 calls in flight, per-turn commits held ~2.5 puts each and the transactions were the
 *   store's largest CPU cost; a short coalescing window makes them tens of puts each. `put`
 *   resolves only once its row is committed (rejects if that commit fails), so a caller that
 *   awaited it can rely on it; a kill -9 loses at most the puts of the open batch.
 * - Reads never wait on, or trigger, a commit: a key with a queued put is answered from memory
 *   (the queued answer, as it will be committed), any other key from the database.
 * - `flushNow` and the store's `close` commit every queued put at once.
 *
 * - A key this store's table cannot hold (its `CacheKeyFilter` says so) is a miss without a read.
 *
 * Rows are found by `key_hash` (indexed) and `key`; a put updates the key's row or inserts one, in
 * the batch's write transaction, so a key has one row.
 *
 * The database runs in WAL mode with `synchronous=NORMAL` (see sqlite-store.ts): a commit does
 * not fsync; SQLite syncs at checkpoints, which fewer, larger commits make rarer.
 */
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import type { FinishReason, GenerateResult } from "../../models/language-model.ts";
import { type CacheEntryMeta, type CallCache, DEFAULT_COMMIT_DELAY_MS } from "./call-cache.ts";
import { CacheKeyFilter, cacheKeyHash } from "./cache-key-filter.ts";

export interface SqliteCallCacheOptions {
  /** How long the first put of a batch waits for others to join it, in ms. Default 20. */
  commitDelayMs?: number;
  /** A batch is committed as soon as it holds this many puts. Default 1000. */
  maxBatch?: number;
  /** Throws when the owning store is closed. */
  assertOpen?: () => void;
  /** Called after each committed batch (the store counts its writes, see SqliteStore). */
  onCommit?: () => void;
  /**
   * How stale this cache's view of other connections' puts may be, in ms (see CacheKeyFilter).
   * Default 20, the commit delay: a put is that late for other processes anyway.
   */
  foreignPutsWithinMs?: number;
}

/** A put waiting for its commit: the columns of its row but `created_at` (stamped per commit). */
interface QueuedPut {
  key: string;
  endpoint: string;
  modelId: string;
  templateVersion: string | null;
  text: string;
  finishReason: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
}

interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export const DEFAULT_MAX_BATCH = 1000;

export class SqliteCallCache implements CallCache {
  private readonly db: DatabaseSync;
  private readonly getStatement: StatementSync;
  private readonly updateStatement: StatementSync;
  private readonly insertStatement: StatementSync;
  private readonly filter: CacheKeyFilter;
  private readonly foreignPutsWithinMs: number;
  private readonly assertOpen: () => void;
  private readonly commitDelayMs: number;
  private readonly maxBatch: number;
  private readonly onCommit: () => void;
  /** Puts of the open batch by key (a later put of a key replaces an earlier one). */
  private queued = new Map<string, QueuedPut>();
  private batch: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `db` must already have the spri schema (open it through `SqliteStore`). */
  constructor(db: DatabaseSync, options: SqliteCallCacheOptions = {}) {
    this.db = db;
    this.assertOpen = options.assertOpen ?? (() => {});
    this.commitDelayMs = Math.max(0, options.commitDelayMs ?? DEFAULT_COMMIT_DELAY_MS);
    this.maxBatch = Math.max(1, Math.floor(options.maxBatch ?? DEFAULT_MAX_BATCH));
    this.onCommit = options.onCommit ?? (() => {});
    this.getStatement = db.prepare(
      "SELECT text, finish_reason, model, input_tokens, output_tokens, latency_ms FROM call_cache WHERE key_hash = ? AND key = ?",
    );
    const columns = "endpoint, model_id, template_version, text, finish_reason, model, input_tokens, output_tokens, latency_ms, created_at";
    this.updateStatement = db.prepare(`UPDATE call_cache SET (${columns}) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE key_hash = ? AND key = ?`);
    this.insertStatement = db.prepare(`INSERT INTO call_cache (${columns}, key_hash, key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.filter = new CacheKeyFilter(db);
    this.foreignPutsWithinMs = Math.max(0, options.foreignPutsWithinMs ?? DEFAULT_COMMIT_DELAY_MS);
  }

  /** Puts waiting for their commit. */
  get queuedCount(): number {
    return this.queued.size;
  }

  async get(key: string): Promise<GenerateResult | undefined> {
    return this.tryGet(key) ?? undefined;
  }

  /** Always known at once: SQLite's reads are synchronous. */
  tryGet(key: string): GenerateResult | null {
    this.assertOpen();
    const queued = this.queued.get(key);
    if (queued) {
      return {
        text: queued.text,
        finishReason: queued.finishReason as FinishReason,
        usage: { inputTokens: queued.inputTokens, outputTokens: queued.outputTokens },
        latencyMs: queued.latencyMs,
        model: queued.model,
      };
    }
    const hash = cacheKeyHash(key);
    this.filter.syncEvery(this.foreignPutsWithinMs);
    if (!this.filter.mightHold(hash)) return null;
    const row = this.getStatement.get(hash, key);
    if (!row) return null;
    return {
      text: str(row.text),
      finishReason: str(row.finish_reason) as FinishReason,
      usage: { inputTokens: num(row.input_tokens), outputTokens: num(row.output_tokens) },
      latencyMs: num(row.latency_ms),
      model: str(row.model),
    };
  }

  put(key: string, result: GenerateResult, meta: CacheEntryMeta): Promise<void> {
    this.assertOpen();
    // Delete first: a re-put moves to the end, so the map's order stays the order of the puts.
    this.queued.delete(key);
    this.queued.set(key, {
      key,
      endpoint: meta.endpoint,
      modelId: meta.modelId,
      templateVersion: meta.templateVersion ?? null,
      text: result.text,
      finishReason: result.finishReason,
      model: result.model,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      latencyMs: result.latencyMs,
    });
    const batch = (this.batch ??= this.openBatch());
    if (this.queued.size >= this.maxBatch) this.commitQuietly();
    return batch.promise;
  }

  /** Commits every queued put now (before the database closes, or to make them visible to others). */
  flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const puts = this.queued;
    const batch = this.batch;
    this.queued = new Map();
    this.batch = undefined;
    try {
      if (puts.size > 0) {
        this.commit(puts);
        this.onCommit();
      }
    } catch (error) {
      batch?.reject(error);
      throw error;
    }
    batch?.resolve();
  }

  private openBatch(): Batch {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.timer = setTimeout(() => this.commitQuietly(), this.commitDelayMs);
    return { promise, resolve, reject };
  }

  /** A failure has already rejected the batch's puts; nothing is left to report here. */
  private commitQuietly(): void {
    try {
      this.flushNow();
    } catch {}
  }

  private commit(puts: Map<string, QueuedPut>): void {
    const createdAt = new Date().toISOString();
    const hashes: number[] = [];
    this.db.exec("BEGIN IMMEDIATE");
    try {
      // Under the write lock the filter is exact: a key it rules out is inserted without a probe.
      this.filter.sync();
      for (const p of puts.values()) {
        const hash = cacheKeyHash(p.key);
        hashes.push(hash);
        const values = [
          p.endpoint,
          p.modelId,
          p.templateVersion,
          p.text,
          p.finishReason,
          p.model,
          p.inputTokens,
          p.outputTokens,
          p.latencyMs,
          createdAt,
        ];
        const updated = this.filter.mightHold(hash) && this.updateStatement.run(...values, hash, p.key).changes > 0;
        if (!updated) this.insertStatement.run(...values, hash, p.key);
      }
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
    this.filter.added(hashes);
  }
}

const str = (value: SQLOutputValue | undefined): string => (value === null || value === undefined ? "" : String(value));
const num = (value: SQLOutputValue | undefined): number => (value === null || value === undefined ? 0 : Number(value));
