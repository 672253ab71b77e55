// Delivery under faults (the subscriptions issue's fault tests), against real PostgreSQL and Redis:
// two instances sharing them, a server killed with SIGKILL right after acknowledged writes, and
// Redis restarted mid-stream. In every case each event arrives, in order, with no gap in numbers
// (delivery is at least once: a notification cut off mid-flight may arrive twice).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { fhir, freePort, freshDatabase, startServer } from '../harness.js';
import { heartRate, startReceiver, statusOf, waitForStatus, type Receiver } from './receiver.js';

const skip = !process.env.DATABASE_URL && 'needs DATABASE_URL and REDIS_URL (runs in the PostgreSQL pass of CI)';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function subscribe(base: string, patient: string, endpoint: string): Promise<string> {
  const res = await fhir(base, 'POST', 'Subscription', {
    resourceType: 'Subscription', status: 'requested', reason: 'faults', criteria: `Observation?subject=Patient/${patient}`,
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
  });
  assert.equal(res.status, 201, res.text);
  await waitForStatus(base, res.body.id, 'active');
  return res.body.id;
}

/** Event numbers received, in arrival order. */
const numbers = (r: Receiver): number[] => r.received.flatMap((x) => statusOf(x.json).eventNumbers.map(Number));

/** Every number 1..n arrived, first arrivals in order (duplicates allowed: at least once). */
function assertComplete(r: Receiver, n: number): void {
  const seen = numbers(r);
  const firsts = seen.filter((v, i) => seen.indexOf(v) === i);
  assert.deepEqual(firsts, Array.from({ length: n }, (_, i) => i + 1), `received ${seen.join(',')}`);
}

/** Starts `helix serve` as a child process; resolves when it answers /healthz. */
async function serveProcess(env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT, env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', BASE_URL: `http://127.0.0.1:${port}/fhir`, AUTH: 'off', LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { child, base: `http://127.0.0.1:${port}/fhir` };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('helix serve did not start');
}

const killed = (child: ChildProcess): Promise<void> => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve();
  else child.once('exit', () => resolve());
});

describe('subscription delivery under faults', { skip }, () => {
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('two instances sharing PostgreSQL and Redis deliver every event once, in order', async () => {
    const receiver = await startReceiver();
    const a = await startServer();
    const b = await startServer({ databaseUrl: a.helix.ctx.config.databaseUrl });
    try {
      const patient = `two-${randomUUID().slice(0, 8)}`;
      await subscribe(a.base, patient, receiver.url);
      // Alternate the instances, several writes in flight at once.
      await Promise.all(Array.from({ length: 20 }, (_, i) => fhir(i % 2 ? a.base : b.base, 'POST', 'Observation', heartRate(patient, 60 + i))));
      await receiver.waitFor(() => new Set(numbers(receiver)).size >= 20, 20_000);
      assertComplete(receiver, 20);
      assert.equal(numbers(receiver).length, 20, 'nothing was delivered twice');
    } finally {
      await b.helix.close();
      await a.helix.close();
      await receiver.close();
    }
  });

  it('notifies every acknowledged write even when the server is killed (SIGKILL) right after', async () => {
    const receiver = await startReceiver();
    try {
      const env = { DATABASE_URL: await freshDatabase(process.env.DATABASE_URL as string), REDIS_URL: process.env.REDIS_URL ?? '' };
      const first = await serveProcess(env);
      children.push(first.child);
      const patient = `kill-${randomUUID().slice(0, 8)}`;
      await subscribe(first.base, patient, receiver.url);
      for (let i = 0; i < 15; i++) assert.equal((await fhir(first.base, 'POST', 'Observation', heartRate(patient, 70 + i))).status, 201);
      first.child.kill('SIGKILL');
      await killed(first.child);
      const second = await serveProcess(env);
      children.push(second.child);
      // A delivery the killed instance had in flight is taken over when its lease lapses (≤ 15 s).
      await receiver.waitFor(() => new Set(numbers(receiver)).size >= 15, 45_000);
      assertComplete(receiver, 15);
      second.child.kill('SIGTERM');
      await killed(second.child);
    } finally {
      await receiver.close();
    }
  });

  it('loses nothing when Redis restarts mid-stream', async () => {
    const receiver = await startReceiver();
    const port = await freePort();
    const redis = (): ChildProcess => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    let r = redis();
    await new Promise((res) => setTimeout(res, 300));
    const server = await startServer({ redisUrl: `redis://127.0.0.1:${port}` });
    try {
      const patient = `redis-${randomUUID().slice(0, 8)}`;
      await subscribe(server.base, patient, receiver.url);
      for (let i = 0; i < 5; i++) await fhir(server.base, 'POST', 'Observation', heartRate(patient, 80 + i));
      r.kill('SIGKILL');
      await killed(r);
      for (let i = 5; i < 10; i++) assert.equal((await fhir(server.base, 'POST', 'Observation', heartRate(patient, 80 + i))).status, 201);
      r = redis();
      for (let i = 10; i < 15; i++) await fhir(server.base, 'POST', 'Observation', heartRate(patient, 80 + i));
      await receiver.waitFor(() => new Set(numbers(receiver)).size >= 15, 30_000);
      assertComplete(receiver, 15);
    } finally {
      await server.helix.close();
      r.kill('SIGKILL');
      await receiver.close();
    }
  });
});
