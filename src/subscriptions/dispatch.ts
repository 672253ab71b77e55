// Dispatch: who runs a subscription's delivery, and when. PostgreSQL holds everything that
// matters (events, progress, backoff, the per-subscription lease), so a dispatcher only has to
// get `run(id)` called soon after `signal(id)`: through BullMQ on Redis when there is Redis, so
// every instance's workers share the work, or in-process otherwise. A signal lost in a race is
// made good by the sweep (subscriptions.ts), which re-signals every subscription with work due.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

/** Gets deliveries run. */
export interface Dispatcher {
  /** Asks for `run(id)` soon; signals for a subscription already waiting are merged. */
  signal(id: string): void;
  close(): Promise<void>;
}

type Run = (id: string) => Promise<void>;

/** Runs deliveries in this process, at most `concurrency` at once, one at a time per subscription. */
export function inProcessDispatcher(run: Run, concurrency: number, onError: (err: unknown) => void): Dispatcher {
  const waiting = new Set<string>();
  const running = new Set<string>();
  const again = new Set<string>();
  let closed = false;
  let active = Promise.resolve();
  const pump = (): void => {
    for (const id of waiting) {
      if (running.size >= concurrency || closed) return;
      waiting.delete(id);
      running.add(id);
      const done = run(id).catch(onError).finally(() => {
        running.delete(id);
        if (again.delete(id)) waiting.add(id);
        pump();
      });
      active = active.then(() => done);
    }
  };
  return {
    signal(id) {
      if (closed) return;
      if (running.has(id)) again.add(id);
      else waiting.add(id);
      pump();
    },
    async close() {
      closed = true;
      waiting.clear();
      while (running.size) await active;
    },
  };
}

/** Runs deliveries on BullMQ workers, shared by every instance on the same Redis. */
export function bullMqDispatcher(redisUrl: string, queueName: string, run: Run, concurrency: number, onError: (err: unknown) => void): Dispatcher {
  // BullMQ's blocking commands need a connection that retries forever. While Redis is down every
  // retry fails; one report per 30 s says so without flooding the log (the sweep keeps delivering
  // what is due once it is back, since PostgreSQL holds the work).
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  let reported = 0;
  const connectionError = (err: unknown): void => {
    if (Date.now() - reported < 30_000) return;
    reported = Date.now();
    onError(err);
  };
  connection.on('error', connectionError);
  const queue = new Queue(queueName, { connection, prefix: 'helix' });
  // A job a dead instance held stays "active" until BullMQ finds it stalled; short locks keep that
  // to seconds (the PostgreSQL lease, not the job, guards a subscription's delivery).
  const worker = new Worker(queueName, async (job) => run((job.data as { id: string }).id), {
    connection, prefix: 'helix', concurrency, lockDuration: 10_000, stalledInterval: 5_000,
  });
  worker.on('error', connectionError);
  queue.on('error', connectionError);
  return {
    signal(id) {
      // Signals merge per subscription within 100 ms. The time in the job id keeps a stale job (one a
      // dead instance held) from swallowing later signals, which a plain per-subscription id would.
      const jobId = `${id}-${Math.floor(Date.now() / 100)}`;
      queue.add('run', { id }, { jobId, removeOnComplete: true, removeOnFail: true }).catch(connectionError);
    },
    async close() {
      await worker.close();
      await queue.close();
      connection.disconnect();
    },
  };
}
