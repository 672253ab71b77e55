// Closed-loop load: `concurrency` workers each send one operation at a time until the time or
// count budget is spent, recording every latency. Percentiles are exact (sorted samples).

/** The measured outcome of one phase. */
export interface LoadResult {
  /** Operations that succeeded. */
  count: number;
  errors: number;
  /** First error seen, for the report. */
  firstError?: string;
  seconds: number;
  /** Successful operations per second. */
  rate: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Budget and shape of a load phase. */
export interface LoadOptions {
  concurrency: number;
  seconds: number;
  /** Stop after this many operations even if time remains. */
  maxOps?: number;
}

/** One operation: resolves when done; throws (or returns an error text) on failure. */
export type Operation = (seq: number) => Promise<string | void>;

/** Runs `op` in a closed loop and measures latency in milliseconds. */
export async function runLoad(options: LoadOptions, op: Operation): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let seq = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const maxOps = options.maxOps ?? Infinity;
  const worker = async (): Promise<void> => {
    while (seq < maxOps && performance.now() < deadline) {
      const mine = seq++;
      const t0 = performance.now();
      let failure: string | void;
      try {
        failure = await op(mine);
      } catch (err) {
        failure = (err as Error).message ?? String(err);
      }
      if (failure) {
        errors++;
        firstError ??= failure.slice(0, 300);
      } else {
        latencies.push(performance.now() - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { count: latencies.length, errors, firstError, seconds, rate: latencies.length / seconds, ...percentiles(latencies) };
}

/** p50/p95/p99 of samples (nearest rank); zeros when empty. */
export function percentiles(samples: number[]): { p50: number; p95: number; p99: number } {
  if (!samples.length) return { p50: 0, p95: 0, p99: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
