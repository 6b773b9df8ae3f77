import type { StopKind } from "./run-job-options.ts";

/**
 * How a run ends early. `request`: no new item starts, the ones in flight finish (a spent budget).
 * `cancel`: the calls in flight are aborted too (a hard provider error, an interrupt: they cannot
 * succeed, or the user wants out); cancelled items stay pending for the next run. The first reason
 * given is the one reported.
 */
export class RunStop {
  /** Aborted once no new item may start. */
  readonly stopping = new AbortController();
  /** Aborted once the calls in flight must end too. */
  readonly cancelling = new AbortController();
  reason: string | undefined;
  kind: StopKind | undefined;

  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  request(reason: string, kind: StopKind): void {
    if (this.reason === undefined) [this.reason, this.kind] = [reason, kind];
    this.stopping.abort();
  }

  cancel(reason: string, kind: StopKind): void {
    this.request(reason, kind);
    this.cancelling.abort();
  }
}
