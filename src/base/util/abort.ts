/**
 * Abort subscriptions that stay cheap with many subscribers on one signal.
 *
 * Node's EventTarget walks a signal's whole listener list on every addEventListener and
 * removeEventListener (to skip duplicates), so when every call in flight listens on the run's one
 * signal, each call pays for all the others: at 256 calls in flight that walk showed up in CPU
 * profiles. `onAbort` puts one listener on the signal and keeps its subscribers in a Set.
 */

const subscribers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts (as `addEventListener("abort", fn, { once: true })` does;
 * nothing happens for a signal that is already aborted: check `signal.aborted` first). Returns a
 * function that unsubscribes; call it when no longer interested.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = subscribers.get(signal);
  if (!set) {
    const created = new Set<() => void>();
    set = created;
    subscribers.set(signal, created);
    signal.addEventListener(
      "abort",
      () => {
        subscribers.delete(signal);
        // Those subscribed now, in order; one that throws does not keep the others from running.
        const current = [...created];
        created.clear();
        for (const subscriber of current) {
          try {
            subscriber();
          } catch (error) {
            queueMicrotask(() => {
              throw error;
            });
          }
        }
      },
      { once: true },
    );
  }
  // A wrapper per subscription: the same function subscribed twice is called twice, as with once-listeners.
  const entry = () => fn();
  const own = set;
  own.add(entry);
  return () => {
    own.delete(entry);
  };
}

/**
 * A signal that aborts when any of `signals` does, with that signal's reason (as `AbortSignal.any`),
 * and `dispose`, which ends its subscriptions. For signals made per item on a long-lived one (the
 * run's): `AbortSignal.any` leaves a weak reference and a finalizer on the long-lived signal for
 * every signal it makes, which only garbage collection clears, and weak references slow every
 * collection down (thousands of them were live in a run's heap).
 */
export function anySignal(signals: readonly AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const already = signals.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const stops = signals.map((s) => onAbort(s, () => controller.abort(s.reason)));
  return {
    signal: controller.signal,
    dispose: () => {
      for (const stop of stops) stop();
    },
  };
}
