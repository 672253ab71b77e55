// The subscriptions phase of `npm run bench` (`--phases subscriptions`), on PostgreSQL and Redis as
// in production: 1,000 active rest-hook Subscriptions (one per patient, heart rate, full-resource
// payloads) to a receiver in this process, then (latency first, on a quiet server: ingestion leaves
// NEWS2 work for thousands of patients behind)
//  1. vitals ingestion: batch Bundles of 100 vital signs at concurrency 8 (a tenth of them for a
//     subscribed patient), Observations/s — target ≥ 5,000;
//  2. notification latency at a steady 1,000 notifications/s (`--notify-rate`; a transaction Bundle
//     of rate/100 matching heart rates every 10 ms): from the event's timestamp (taken inside the writing transaction,
//     just before its commit) to the receiver, p50/p95/p99 — target p99 < 250 ms.
// NEWS2 runs as it does by default, scoring the patients whose vital signs arrive.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BenchClient } from './http-client.js';
import { runLoad } from './load.js';
import type { Row } from './report.js';
import { vitalSign } from './vitals.js';

/** The targets. */
export const SUBSCRIPTION_TARGETS = { ingest: 5_000, p99: 250, notificationsPerSecond: 1_000 };
const SUBSCRIBED = 1_000;

interface Receiver {
  url: string;
  /** Latencies of the events timestamped at or after `since`. */
  latencies: number[];
  since: number;
  notifications: number;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const state = { latencies: [] as number[], notifications: 0, since: Infinity };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrived = Date.now();
      res.end();
      const bundle = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { entry: { resource: { parameter: { name: string; part?: { name: string; valueInstant?: string }[] }[] } }[] };
      for (const p of bundle.entry[0]?.resource.parameter ?? []) {
        if (p.name !== 'notification-event') continue;
        const at = p.part?.find((x) => x.name === 'timestamp')?.valueInstant;
        state.notifications++;
        if (at && Date.parse(at) >= state.since) state.latencies.push(arrived - Date.parse(at));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    get latencies() { return state.latencies; },
    get notifications() { return state.notifications; },
    get since() { return state.since; },
    set since(t: number) { state.since = t; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Runs both measurements against a server started with REDIS_URL; returns report rows. */
export async function subscriptionsPhase(client: BenchClient, basePath: string, opts: { seconds: number; rate?: number; log(msg: string): void }): Promise<Row[]> {
  const rate = opts.rate ?? SUBSCRIPTION_TARGETS.notificationsPerSecond;
  const perTick = Math.max(1, Math.round(rate / 100));
  const hook = await receiver();
  const post = async (path: string, body: unknown): Promise<{ status: number; body: string }> => client.send('POST', `${basePath}/${path}`, JSON.stringify(body));
  try {
    opts.log(`subscriptions: creating ${SUBSCRIBED} rest-hook Subscriptions`);
    for (let k = 0; k < SUBSCRIBED; k += 100) {
      const entry = Array.from({ length: 100 }, (_, j) => ({
        request: { method: 'POST', url: 'Subscription' },
        resource: {
          resourceType: 'Subscription', status: 'requested', reason: 'bench', criteria: `Observation?subject=Patient/sub-${k + j}&code=http://loinc.org|8867-4`,
          channel: { type: 'rest-hook', endpoint: hook.url, payload: 'application/fhir+json' },
        },
      }));
      const res = await post('', { resourceType: 'Bundle', type: 'transaction', entry });
      if (res.status !== 200) throw new Error(`Subscription bundle: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    }
    for (let i = 0; ; i++) {
      const res = await client.send('GET', `${basePath}/Subscription/$status?status=active`);
      const active = (JSON.parse(res.body) as { total?: number }).total ?? 0;
      if (active >= SUBSCRIBED) break;
      if (i > 600) throw new Error(`only ${active} of ${SUBSCRIBED} subscriptions became active`);
      await new Promise((r) => setTimeout(r, 100));
    }

    opts.log(`subscriptions: latency at ${perTick * 100} notifications/s for ${opts.seconds} s`);
    const start = Date.now();
    hook.since = start;
    const sent: Promise<unknown>[] = [];
    let tick = 0;
    while (Date.now() - start < opts.seconds * 1000) {
      const t = tick++;
      const entry = Array.from({ length: perTick }, (_, j) => {
        const o = vitalSign(0) as { subject?: { reference: string } };
        o.subject = { reference: `Patient/sub-${(t * perTick + j) % SUBSCRIBED}` };
        return { request: { method: 'POST', url: 'Observation' }, resource: o };
      });
      sent.push(post('', { resourceType: 'Bundle', type: 'transaction', entry }));
      const due = start + tick * 10;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    const sendSeconds = (Date.now() - start) / 1000;
    await Promise.all(sent);
    const expected = tick * perTick;
    for (let i = 0; i < 300 && hook.latencies.length < expected; i++) await new Promise((r) => setTimeout(r, 100));
    const sorted = [...hook.latencies].sort((a, b) => a - b);
    opts.log(`subscriptions: ${sorted.length}/${expected} notifications, p50 ${percentile(sorted, 50)} ms, p95 ${percentile(sorted, 95)} ms, p99 ${percentile(sorted, 99)} ms`);

    opts.log(`subscriptions: ingestion, batch Bundles of 100 vital signs, concurrency 8, ${opts.seconds} s`);
    const batch = (seq: number): unknown => ({
      resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 100 }, (_, j) => {
        const n = seq * 100 + j;
        const o = vitalSign(n) as { subject?: { reference: string } };
        o.subject = { reference: n % 10 === 0 ? `Patient/sub-${(n / 10) % SUBSCRIBED}` : `Patient/ing-${n % 10_000}` };
        return { request: { method: 'POST', url: 'Observation' }, resource: o };
      }),
    });
    const ingest = await runLoad({ concurrency: 8, seconds: opts.seconds }, async (seq) => {
      const res = await post('', batch(seq));
      if (res.status !== 200) return `HTTP ${res.status} ${res.body.slice(0, 300)}`;
    });
    opts.log(`subscriptions: ingestion ${Math.round(ingest.rate * 100)} Observations/s`);
    return [
      { phase: 'vitals ingestion, 1,000 subscriptions', count: ingest.count * 100, unit: 'obs/s', rate: ingest.rate * 100, p50: ingest.p50, p95: ingest.p95, p99: ingest.p99, errors: ingest.errors, target: SUBSCRIPTION_TARGETS.ingest },
      {
        phase: `notification latency, ${(perTick * 100).toLocaleString('en-US')}/s`, count: sorted.length, unit: 'notif/s', rate: sorted.length / sendSeconds,
        p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), errors: expected - sorted.length,
        ...(perTick * 100 >= SUBSCRIPTION_TARGETS.notificationsPerSecond ? { maxP99: SUBSCRIPTION_TARGETS.p99 } : {}),
      },
    ];
  } finally {
    await hook.close();
  }
}
