/**
 * Which cache keys the SQLite cache table may hold, kept in memory so that a miss (every call of a
 * fresh run) costs no SQLite read. At 24,000 calls a run, the misses' index probes were ~6 % of
 * spri's CPU: the calls' and records' writes push the cache index out of SQLite's page cache, so
 * each probe read pages back from the WAL.
 *
 * Contract: `mightHold(hash)` is false only if no row with that key hash is in the table. It can
 * say true for a key that is not there (the caller then asks SQLite), never false for one that is:
 * - two bits per key hash (KeyHashBits) in a bit set of at least 16 bits per key (at most about 1 in 70 false positives);
 * - as of its last `sync()`: rows of other connections are read in (`id > lastId`) when `PRAGMA
 *   data_version` says another connection committed; the table's ids come from AUTOINCREMENT, so
 *   they only grow. That pragma costs a read transaction (~10 µs, as much as the probe it saves), so
 *   `syncEvery` checks it at most once per interval: a row another process committed in the last
 *   interval can read as a miss, the same window that process's own group commit already leaves;
 * - this connection's own puts are added as they are committed (they do not change its
 *   `data_version`); deleted rows leave their bit set, which only costs a probe.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

const MIN_BITS = 1 << 20;
const BITS_PER_KEY = 16;

/**
 * The 48-bit key hash stored beside each cache key (column `key_hash`, indexed): the key's first 12
 * hex digits when it starts with them (the request keys are sha256 hex), else an FNV-1a hash of it.
 * Small and well spread, so the index stays small: its pages stay cached and a batch of puts
 * dirties fewer of them than the 64-character text key did.
 */
export function cacheKeyHash(key: string): number {
  if (/^[0-9a-f]{12}/.test(key)) return Number.parseInt(key.slice(0, 12), 16);
  let low = 0x811c9dc5;
  let high = 0x050c5d1f;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    low = Math.imul(low ^ c, 0x01000193) >>> 0;
    high = Math.imul(high ^ (c + 0x9e), 0x01000193) >>> 0;
  }
  return (high & 0xffff) * 0x1_0000_0000 + low;
}

/**
 * Two bits per key hash in a power-of-two bit set sized for at least `BITS_PER_KEY` bits per key:
 * a Bloom filter with two probes. Both bits set means "might hold", either clear "certainly not".
 * One probe per key said "might" for 1 absent key in 30 at 36,000 keys in the smallest set, each
 * a needless query on a call's way (bench (g): ~260 per worker); two probes make that about 1 in
 * 200, and at most 1 in 70 just before the set grows. The cache filters of both stores keep their
 * known key hashes in one.
 */
export class KeyHashBits {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  /** Keys added, about: an add that found both its bits already set (a key read again) does not count. */
  count = 0;

  /** Room for twice `keys`, at least `minBits` (a power of two). */
  constructor(keys: number, minBits = MIN_BITS) {
    let size = minBits;
    while (size < keys * BITS_PER_KEY * 2) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  add(hash: number): void {
    const first = this.set(hash & this.mask);
    if (this.set(this.second(hash)) || first) this.count++;
  }

  has(hash: number): boolean {
    return this.isSet(hash & this.mask) && this.isSet(this.second(hash));
  }

  /** More keys than it was sized for: time to build a larger one. */
  full(): boolean {
    return this.count * BITS_PER_KEY > this.bits.length * 32;
  }

  /** The second probe: the hash's upper 24 bits, mixed with its lower ones (the first probe reads those). */
  private second(hash: number): number {
    return (Math.imul(Math.floor(hash / 0x100_0000), 0x9e37_79b1) ^ hash) & this.mask;
  }

  /** Sets one bit; true if it was clear. */
  private set(bit: number): boolean {
    const word = this.bits[bit >>> 5]!;
    const mask = 1 << (bit & 31);
    if ((word & mask) !== 0) return false;
    this.bits[bit >>> 5] = word | mask;
    return true;
  }

  private isSet(bit: number): boolean {
    return (this.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }
}

export class CacheKeyFilter {
  private readonly dataVersion: StatementSync;
  private readonly since: StatementSync;
  private readonly maxId: StatementSync;
  private readonly allHashes: StatementSync;
  private readonly minBits: number;
  private bits = new KeyHashBits(0);
  private lastId = 0;
  private version: unknown;
  /** False until a load succeeds, and again after any read fails: then every hash "might" be there. */
  private loaded = false;
  private syncedAt = Number.NEGATIVE_INFINITY;

  /** `minBits` (a power of two): the smallest bit set; tests make it small to exercise growth. */
  constructor(db: DatabaseSync, minBits = MIN_BITS) {
    this.minBits = minBits;
    this.dataVersion = db.prepare("PRAGMA data_version");
    this.since = db.prepare("SELECT id, key_hash FROM call_cache WHERE id > ? ORDER BY id");
    this.maxId = db.prepare("SELECT coalesce(max(id), 0) AS id FROM call_cache");
    // The hash index covers this: a load does not read the cached texts.
    this.allHashes = db.prepare("SELECT key_hash FROM call_cache INDEXED BY call_cache_by_hash");
  }

  /** `sync()` unless it ran less than `ms` ago; a failed read leaves the filter unloaded (it then rules nothing out). */
  syncEvery(ms: number): void {
    const now = performance.now();
    if (now - this.syncedAt < ms) return;
    this.syncedAt = now;
    try {
      this.sync();
    } catch {
      this.loaded = false;
    }
  }

  /** False only if no row with this hash was in the table at the last `sync()` or `added()`. */
  mightHold(hash: number): boolean {
    if (!this.loaded) this.syncEvery(0);
    if (!this.loaded) return true;
    return this.bits.has(hash);
  }

  /** Rows this connection has just committed. Never throws: they are committed whatever happens here. */
  added(hashes: Iterable<number>): void {
    if (!this.loaded) return;
    try {
      for (const hash of hashes) this.bits.add(hash);
      if (this.bits.full()) this.load();
    } catch {
      this.loaded = false;
    }
  }

  /**
   * Reads in what other connections committed since the last sync (exact inside a write
   * transaction). Throws what SQLite throws, leaving the filter unloaded.
   */
  sync(): void {
    try {
      const version = this.dataVersion.get()?.data_version;
      if (this.loaded && version === this.version) return;
      if (!this.loaded) this.load();
      else {
        this.readSince();
        if (this.bits.full()) this.load();
      }
      // Only once the rows are in: a failed read is retried at the next sync.
      this.version = version;
    } catch (error) {
      this.loaded = false;
      throw error;
    }
  }

  private readSince(): void {
    let lastId = this.lastId;
    for (const row of this.since.all(lastId)) {
      this.bits.add(Number(row.key_hash));
      lastId = Number(row.id);
    }
    this.lastId = lastId;
  }

  /**
   * A new bit set with room for twice the table's keys, filled from the hash index: at the first
   * use, and at each doubling. Built aside and swapped in whole, so a failed read changes nothing.
   * Rows committed between the two reads are read again by the next sync (ids only grow).
   */
  private load(): void {
    const lastId = Number(this.maxId.get()?.id ?? 0);
    const hashes = this.allHashes.all();
    const bits = new KeyHashBits(Math.max(hashes.length, this.bits.count), this.minBits);
    for (const row of hashes) bits.add(Number(row.key_hash));
    this.bits = bits;
    this.lastId = lastId;
    this.loaded = true;
  }
}
