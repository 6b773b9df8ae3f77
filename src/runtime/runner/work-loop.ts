/**
 * The lease loop of one worker: keep up to `slots` items in progress, leasing more from the store as
 * slots free up (oldest first), and stop when told to or when `idle()` says the work is over. Items
 * whose lease the heartbeat reports lost are aborted. With one slot, items run strictly one at a time
 * in input order, as replays and debugging need.
 */
import type { RunStore } from "../store/run-store.ts";
import { itemKey, type Lease } from "../store/work-queue.ts";
import type { Wake } from "../../base/util/wake.ts";

/** At most this many items per lease query, so one worker does not take a queue's whole head at once. */
const LEASE_BATCH = 64;
/**
 * A lease query waits until this share of the slots is free (at least one slot, at most a batch):
 * items finish one by one, and leasing each freed slot alone cost a store transaction (a round trip
 * to PostgreSQL) per item. A loop has twice as many slots as calls in flight (`itemsInFlight`), so a
 * quarter of them idle still leaves more items than the endpoint's limiter lets call at once; a
 * sixteenth made lease transactions a tenth of the SQLite store's commits at 64 in flight.
 */
const LEASE_SHARE = 1 / 4;

/** Free slots worth a lease query (see `LEASE_SHARE`); 1 for small loops, so they never hold back. */
export function leaseThreshold(slots: number): number {
  return Math.max(1, Math.min(LEASE_BATCH, Math.floor(slots * LEASE_SHARE)));
}

/**
 * How often a loop looks at the store while a run's last results are due: for its first
 * `FAST_FOLLOW_MS` without work of its own (the other workers' items are finishing), and, for the
 * process that writes the output, in the run's last second. With the usual interval (100 ms) the
 * last processes of a shared run ended 100-130 ms after the last answer (bench (g)).
 */
export const END_POLL_MS = 25;
const FAST_FOLLOW_MS = 1_000;

/** `pollMs` for a loop that works items: `END_POLL_MS` for its first `FAST_FOLLOW_MS` idle, else `pollMs`. */
export function followPolls(pollMs: number): (idleMs: number | undefined) => number {
  return (idleMs) => (idleMs !== undefined && idleMs < FAST_FOLLOW_MS ? Math.min(END_POLL_MS, pollMs) : pollMs);
}

export interface WorkLoopOptions {
  store: RunStore;
  workerId: string;
  /** Only this run's items; every running run's when absent. */
  runId?: string;
  slots: number;
  leaseMs: number;
  /**
   * How long to wait before looking at the queue again: for other workers' progress and, once a
   * lease came back short, for this loop's own freed slots (see `run`). A function is asked before
   * each wait, with how long the loop has had nothing in progress and nothing to lease (undefined
   * while items are in progress).
   */
  pollMs: number | ((idleMs: number | undefined) => number);
  /** Stop leasing (items in progress finish). */
  stop: AbortSignal;
  /** Wakes the loop early: more input was enqueued, an item finished (while the queue had more). */
  wake: Wake;
  runItem(lease: Lease, signal: AbortSignal): Promise<void>;
  /** Called when nothing could be leased and nothing is in progress: true ends the loop. */
  idle(): Promise<boolean>;
}

export class WorkLoop {
  private readonly options: WorkLoopOptions;
  /** Items in progress, with when their lease was known to be committed (`performance.now()`). */
  private readonly running = new Map<string, { lease: Lease; abort: AbortController; leasedAt: number }>();

  constructor(options: WorkLoopOptions) {
    this.options = options;
  }

  /** The leases in progress now. */
  get leases(): Lease[] {
    return [...this.running.values()].map((entry) => entry.lease);
  }

  /**
   * Aborts the items whose lease is no longer held, as the store saw it at `askedAt` (see Heartbeat).
   * A lease taken while the heartbeat's query was on its way is not in `held` yet: only leases
   * committed before `askedAt` can be judged lost (aborting a held item would leave it leased to
   * this worker, renewed by every beat, and never done).
   */
  dropLost(held: ReadonlySet<string>, askedAt: number): void {
    for (const [key, entry] of this.running) {
      if (entry.leasedAt < askedAt && !held.has(key)) entry.abort.abort(new Error("lease lost"));
    }
  }

  async run(): Promise<void> {
    const { store, stop, wake } = this.options;
    const inFlight = new Set<Promise<void>>();
    const threshold = leaseThreshold(this.options.slots);
    // The last lease came back short: the queue had nothing more to hand out. Until the loop next
    // wakes (its poll, or a notice from outside such as input enqueued), a finished item frees a slot
    // but wakes nobody, except the last one in progress; at a run's end every finished item used to
    // run one more lease query that found nothing. Any wake-up looks again.
    let drained = false;
    let idleSince: number | undefined;
    while (!stop.aborted) {
      const free = this.options.slots - inFlight.size;
      if (free >= threshold || (free > 0 && inFlight.size === 0)) {
        const max = Math.min(free, LEASE_BATCH);
        const leases = await store.leaseItems(this.options.workerId, {
          runId: this.options.runId,
          max,
          leaseMs: this.options.leaseMs,
        });
        const leasedAt = performance.now();
        if (leases.length > 0) idleSince = undefined;
        for (const lease of leases) {
          const task = this.start(lease, leasedAt).finally(() => {
            inFlight.delete(task);
            if (!drained || inFlight.size === 0) wake.notify();
          });
          inFlight.add(task);
        }
        drained = leases.length < max;
        // A full batch: the queue may hold more for the slots still free (a run's start fills all of
        // them at once instead of one batch per wake).
        if (!drained) continue;
      }
      if (inFlight.size === 0 && (await this.options.idle())) break;
      idleSince = inFlight.size === 0 ? (idleSince ?? performance.now()) : undefined;
      await wake.wait(this.pollMs(idleSince), stop);
      drained = false;
    }
    await Promise.allSettled(inFlight);
  }

  private pollMs(idleSince: number | undefined): number {
    const { pollMs } = this.options;
    return typeof pollMs === "number" ? pollMs : pollMs(idleSince === undefined ? undefined : performance.now() - idleSince);
  }

  private async start(lease: Lease, leasedAt: number): Promise<void> {
    const key = itemKey(lease.runId, lease.itemId);
    const abort = new AbortController();
    this.running.set(key, { lease, abort, leasedAt });
    try {
      await this.options.runItem(lease, abort.signal);
    } finally {
      this.running.delete(key);
    }
  }
}
