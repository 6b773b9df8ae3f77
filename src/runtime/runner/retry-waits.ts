/**
 * The calls of a run that wait now before trying again, for its progress: fed with each retry's
 * wait (ResilientModel's `onRetry`), read at every progress update. A wait counts until its time is
 * up; a call aborted during it counts until then too, which a progress display can live with.
 */
export interface RetryWaitView {
  retries: number;
  retryingCalls: number;
  retryWaitSeconds: number;
}

export class RetryWaits {
  private retries = 0;
  private ends: number[] = [];
  private readonly now: () => number;

  /** `now`: milliseconds, monotonic (injectable for tests). */
  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  add(delayMs: number): void {
    this.retries++;
    if (delayMs > 0) this.ends.push(this.now() + delayMs);
  }

  view(): RetryWaitView {
    const now = this.now();
    this.ends = this.ends.filter((end) => end > now);
    const longest = this.ends.reduce((max, end) => Math.max(max, end - now), 0);
    return { retries: this.retries, retryingCalls: this.ends.length, retryWaitSeconds: Math.ceil(longest / 1000) };
  }
}
