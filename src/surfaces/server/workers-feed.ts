/** `GET /api/runs/:id/events`: which `workers` snapshots a stream sends. */
import { type RunWatch, watchRun } from "../../runtime/runner/run-watch.ts";
import type { RunMeta, RunStore } from "../../runtime/store/run-store.ts";

/**
 * The `workers` events of one stream: a snapshot whenever something but the clock changed (its time
 * and heartbeat ages are left out of the comparison; the page ages them itself). The rate reads
 * finished items, so it is recomputed only when items finished or every few seconds (it decays
 * while a run stalls); other polls reuse it.
 */
export class WorkersFeed {
  private last = "";
  private finished = -1;
  private rateAt = 0;
  private rate?: Pick<RunWatch, "ratePerMinute" | "rateWindowSeconds">;
  private readonly store: RunStore;
  constructor(store: RunStore) {
    this.store = store;
  }

  /** The snapshot to send, or undefined when it is the same as the last one sent. */
  async next(run: RunMeta, finished: number): Promise<RunWatch | undefined> {
    const now = Date.now();
    const fresh = this.rate === undefined || finished !== this.finished || now - this.rateAt >= RATE_REFRESH_MS;
    const watch = await watchRun(this.store, run, fresh ? { now } : { now, rate: this.rate });
    if (fresh) {
      this.rate = { ratePerMinute: watch.ratePerMinute, rateWindowSeconds: watch.rateWindowSeconds };
      this.finished = finished;
      this.rateAt = now;
    }
    const { at: _at, workers, ...rest } = watch;
    const key = JSON.stringify({ ...rest, workers: workers.map(({ heartbeatAgeSeconds: _age, ...w }) => w) });
    if (key === this.last) return undefined;
    this.last = key;
    return watch;
  }
}

const RATE_REFRESH_MS = 5000;
