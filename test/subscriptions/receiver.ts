// A real HTTP receiver for rest-hook notifications on 127.0.0.1, recording every request.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fhir } from '../harness.js';

/** One request the receiver got. */
export interface Received { path: string; headers: IncomingHttpHeaders; body: string; json: any }

/** A running receiver. */
export interface Receiver {
  url: string;
  received: Received[];
  /** The status the receiver answers with (200 unless changed). */
  status: number;
  /** Resolves once `predicate` holds for the received list (polls), or rejects after `ms`. */
  waitFor(predicate: (r: Received[]) => boolean, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** Starts a receiver on a free port. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const state = { status: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try { json = JSON.parse(body); } catch { json = undefined; }
      if (state.status < 300) received.push({ path: req.url ?? '', headers: req.headers, body, json });
      res.statusCode = state.status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get status() { return state.status; },
    set status(s: number) { state.status = s; },
    async waitFor(predicate, ms = 10_000) {
      const until = Date.now() + ms;
      while (!predicate(received)) {
        if (Date.now() > until) throw new Error(`receiver: condition not met within ${ms} ms; got ${received.length} requests`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return received;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The SubscriptionStatus Parameters of a notification Bundle, as name → value (parts flattened). */
export function statusOf(bundle: any): { type: string; status: string; events: string; eventNumbers: string[]; focus: string[] } {
  const params = bundle.entry[0].resource.parameter as any[];
  const get = (name: string) => params.find((p) => p.name === name);
  const events = params.filter((p) => p.name === 'notification-event');
  return {
    type: get('type')?.valueCode,
    status: get('status')?.valueCode,
    events: get('events-since-subscription-start')?.valueString,
    eventNumbers: events.map((e) => e.part.find((p: any) => p.name === 'event-number').valueString),
    focus: events.map((e) => e.part.find((p: any) => p.name === 'focus')?.valueReference.reference).filter(Boolean),
  };
}

/** Polls `Subscription/[id]` until its status is `status` (activation runs in the background); returns it. */
export async function waitForStatus(base: string, id: string, status: string, ms = 15_000): Promise<any> {
  const until = Date.now() + ms;
  for (;;) {
    const res = await fhir(base, 'GET', `Subscription/${id}`);
    if (res.body.status === status) return res.body;
    if (Date.now() > until) throw new Error(`Subscription/${id} is ${res.body.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A heart-rate Observation of `Patient/[patient]`, as a device posts it. */
export const heartRate = (patient: string, value: number) => ({
  resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  subject: { reference: `Patient/${patient}` }, valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});
