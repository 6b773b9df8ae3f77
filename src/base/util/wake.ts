/**
 * A wake-up call between loops: `wait(ms)` resolves on the next `notify()` or after `ms`, whichever
 * comes first. Loops that poll a shared store wait on it, so local events (an item finished, a batch
 * of input enqueued) wake them at once and only other processes' progress waits for the poll. A
 * notification that finds nobody waiting is kept for the next `wait`, so none is lost in between.
 */
export class Wake {
  private waiters: (() => void)[] = [];
  private pending = false;

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    this.pending = waiters.length === 0;
    for (const wake of waiters) wake();
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.push(done);
    });
  }
}
