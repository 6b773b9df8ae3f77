/** Ctrl-C and SIGTERM as an AbortSignal, for commands that stop cleanly and resume when re-run. */
export interface Interrupt {
  signal: AbortSignal;
  /** Takes the handlers away again; call it when the command's work is over. */
  release(): void;
}

export function interruptSignal(): Interrupt {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    release() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
