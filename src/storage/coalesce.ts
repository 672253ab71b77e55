// Request coalescing: concurrent single-resource reads and creates that reach the pool in the same
// event-loop turn share one SQL statement. On this hardware a system call costs more than the
// work inside it, so sixteen clients each sending one INSERT spend most of their time in
// send/recv and commit; one multi-row statement does the same work in one round trip and one
// commit. Each caller still gets its own result or its own error.

/** How batches are formed. */
export interface CoalesceOptions {
  /** Most items one statement carries. */
  maxBatch: number;
  /** Statements in flight at once; further items wait and join the next batch. */
  maxInFlight: number;
}

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

/**
 * Wraps `runBatch` (which returns one result per item, in order) so that callers submit single
 * items. If a batch of several fails, each item is retried alone so that one bad item fails only
 * its own caller.
 */
export function coalesce<I, O>(runBatch: (items: I[]) => Promise<O[]>, options: CoalesceOptions): (item: I) => Promise<O> {
  const queue: Pending<I, O>[] = [];
  let inFlight = 0;
  let scheduled = false;

  const runOne = (p: Pending<I, O>): Promise<void> =>
    runBatch([p.item]).then((out) => p.resolve(out[0] as O), p.reject);

  const flush = (): void => {
    scheduled = false;
    while (queue.length && inFlight < options.maxInFlight) {
      const batch = queue.splice(0, options.maxBatch);
      inFlight++;
      const done = batch.length === 1
        ? runOne(batch[0] as Pending<I, O>)
        : runBatch(batch.map((p) => p.item)).then(
          (out) => batch.forEach((p, i) => p.resolve(out[i] as O)),
          () => Promise.all(batch.map(runOne)).then(() => undefined),
        );
      void done.finally(() => {
        inFlight--;
        schedule();
      });
    }
  };

  // setImmediate runs after the I/O callbacks of this turn, so requests parsed together batch together.
  const schedule = (): void => {
    if (scheduled || !queue.length || inFlight >= options.maxInFlight) return;
    scheduled = true;
    setImmediate(flush);
  };

  return (item) => new Promise<O>((resolve, reject) => {
    queue.push({ item, resolve, reject });
    schedule();
  });
}
