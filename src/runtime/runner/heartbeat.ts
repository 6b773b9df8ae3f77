/**
 * A worker's pulse: every third of the lease time it proves itself alive to the store, which extends
 * the leases it still holds. Items whose lease was lost in between (the worker was cut off for longer
 * than a lease, and another worker took them) are reported so their work can be abandoned: a late
 * result would be refused anyway (fencing), and abandoning it saves the calls.
 */
import { itemKey, type WorkQueue } from "../store/work-queue.ts";

export interface HeartbeatOptions {
  store: WorkQueue;
  workerId: string;
  leaseMs: number;
  /**
   * After each beat: the items the worker still holds (by `runId`/`itemId` joined with "\0"), as of
   * `askedAt` (`performance.now()` just before the store was asked). A lease taken after that moment
   * may be missing from `held` without being lost.
   */
  onBeat?: (held: ReadonlySet<string>, askedAt: number) => void | Promise<void>;
  /** A beat that failed (network cut, store down): the worker goes on and tries again next beat. */
  onError?: (error: unknown) => void;
}

export class Heartbeat {
  private readonly options: HeartbeatOptions;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(options: HeartbeatOptions) {
    this.options = options;
  }

  start(): void {
    const every = Math.max(10, Math.floor(this.options.leaseMs / 3));
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
    }, every);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    try {
      const askedAt = performance.now();
      const held = await this.options.store.heartbeat(this.options.workerId, this.options.leaseMs);
      await this.options.onBeat?.(new Set(held.map((lease) => itemKey(lease.runId, lease.itemId))), askedAt);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Stops beating; resolves once a beat in progress has ended. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }
}

export interface LeaseHeartbeatOptions extends Omit<HeartbeatOptions, "onBeat"> {
  /** The lease loop working now, if any: after each beat it drops the items whose lease was lost. */
  loop: () => { dropLost(held: ReadonlySet<string>, askedAt: number): void } | undefined;
  /** What else the worker keeps alive with each beat (e.g. its hold on the run's output). */
  afterBeat?: () => Promise<void>;
}

/** Starts the heartbeat of a worker's lease loops (`spri run`'s and `spri worker`'s alike). */
export function startLeaseHeartbeat(options: LeaseHeartbeatOptions): Heartbeat {
  const { loop, afterBeat, ...heartbeat } = options;
  const started = new Heartbeat({
    ...heartbeat,
    onBeat: async (held, askedAt) => {
      loop()?.dropLost(held, askedAt);
      await afterBeat?.();
    },
  });
  started.start();
  return started;
}
