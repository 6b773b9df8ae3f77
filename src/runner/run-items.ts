/**
 * Runs items up to `concurrency` at once and hands each result to `onResult` in input order. The
 * first failure stops new work; in-flight items settle before it is rethrown.
 */
export interface RunItemsOptions<I, R> {
  concurrency: number;
  work(item: I, index: number): Promise<R>;
  onResult(result: R, item: I, index: number): Promise<void>;
}

export async function runInOrder<I, R>(items: AsyncIterable<I>, options: RunItemsOptions<I, R>): Promise<number> {
  const concurrency = Math.max(1, options.concurrency);
  const done = new Map<number, { item: I; result: R }>();
  let active = 0;
  let emitted = 0;
  let count = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const slotFreed = () => new Promise<void>((resolve) => (wake = resolve));

  const flush = async () => {
    while (!failure && done.has(emitted)) {
      const { item, result } = done.get(emitted)!;
      done.delete(emitted);
      try {
        await options.onResult(result, item, emitted);
      } catch (error) {
        failure ??= { error };
      }
      emitted++;
    }
  };

  try {
    for await (const item of items) {
      while (active >= concurrency && !failure) await slotFreed();
      if (failure) break;
      const index = count++;
      active++;
      options
        .work(item, index)
        .then(
          (result) => void done.set(index, { item, result }),
          (error) => void (failure ??= { error }),
        )
        .finally(() => {
          active--;
          wake?.();
        });
      await flush();
    }
  } catch (error) {
    failure ??= { error };
  }
  while (active > 0) await slotFreed();
  await flush();
  if (failure) throw failure.error;
  return count;
}
