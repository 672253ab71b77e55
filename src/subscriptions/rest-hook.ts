// The rest-hook channel (Backport IG channels.html#rest-hook; R4 subscription.html#channels): POST
// the notification Bundle to the endpoint with `Content-Type` equal to `channel.payload`, every
// `channel.header` as given, and, when the Subscription carries a secret, an HMAC-SHA256 of the
// body so the receiver can tell the notification came from this server.
import { createHmac } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import { fhirJsonToXml } from '../fhir/xml.js';
import type { SubscriptionSpec } from './subscription-spec.js';

/** The signature header: `sha256=` and the hex HMAC-SHA256 of the body under the subscription's secret. */
export const SIGNATURE_HEADER = 'X-Helix-Signature';
const DEFAULT_TIMEOUT_S = 10;

/** How a POST went. */
export interface RestHookResult { ok: boolean; status?: number; error?: string }

/** POSTs a notification to a rest-hook subscription's endpoint; never throws. */
export async function postNotification(spec: SubscriptionSpec, bundle: Bundle): Promise<RestHookResult> {
  const { channel } = spec;
  if (channel.type !== 'rest-hook' || !channel.endpoint) return { ok: false, error: 'not a rest-hook subscription' };
  const body = channel.payload === 'application/fhir+xml' ? fhirJsonToXml(bundle) : JSON.stringify(bundle);
  const headers: Record<string, string> = { 'Content-Type': channel.payload };
  for (const h of channel.headers) headers[h.name] = h.value;
  if (channel.secret) headers[SIGNATURE_HEADER] = `sha256=${createHmac('sha256', channel.secret).update(body).digest('hex')}`;
  try {
    const res = await fetch(channel.endpoint, {
      method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout((channel.timeout ?? DEFAULT_TIMEOUT_S) * 1000),
    });
    // The body is not needed, but reading it lets the connection be reused.
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? { ok: true, status: res.status } : { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    return { ok: false, error: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.message ?? 'network error') };
  }
}
