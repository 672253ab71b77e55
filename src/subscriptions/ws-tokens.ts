// Binding tokens of the websocket channel (Subscriptions R5 Backport IG 1.1.0, channels.html
// "Websockets"; OperationDefinition backport-subscription-get-ws-binding-token): issued over REST,
// presented on the websocket as `bind-with-token <token>`. A token is 32 random bytes (base64url),
// stored only as its SHA-256, valid for TOKEN_TTL_MS and usable any number of times until then (a
// client that reconnects may present it again); the bindings made with it end when it expires, so
// a client keeps a connection bound by asking for a new token before then and binding again.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.js';

/** How long a binding token (and a binding made with it) is valid: 5 minutes. */
export const TOKEN_TTL_MS = 5 * 60_000;

/** The websocket endpoint below the FHIR base: `[base]/$websocket`. */
export const WEBSOCKET_PATH = '$websocket';

/** The URL clients connect to: the base URL with ws(s) for http(s), plus `/$websocket`. */
export function websocketUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/i, 'ws').replace(/\/+$/, '')}/${WEBSOCKET_PATH}`;
}

/** A redeemed token: the subscriptions it binds and when it stops being valid. */
export interface BindingGrant { subscriptionIds: string[]; expiresAt: Date }

const sha256 = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** Issues a token for these subscription ids (checked by the caller); returns it with its expiry. */
export async function issueBindingToken(q: Queryable, subscriptionIds: string[], ttlMs = TOKEN_TTL_MS): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  // Expiry on the database clock, which every instance shares.
  const [row] = await q.query<{ ms: number }>(
    `INSERT INTO ws_binding_tokens (token_sha256, subscription_ids, expires_at)
      VALUES ($1, $2::text[], now() + make_interval(secs => $3::float8 / 1000))
      RETURNING (extract(epoch from expires_at) * 1000)::float8 AS ms`,
    [sha256(token), subscriptionIds, ttlMs],
  );
  // Housekeeping rides on issuing: expired tokens are useless and would only pile up.
  await q.query('DELETE FROM ws_binding_tokens WHERE expires_at < now()');
  return { token, expiresAt: new Date(Number(row!.ms)) };
}

/** The grant of a token still valid, or undefined (unknown, malformed or expired). */
export async function redeemBindingToken(q: Queryable, token: string): Promise<BindingGrant | undefined> {
  // 32 bytes in base64url is 43 characters; anything else cannot be one of ours.
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const [row] = await q.query<{ ids: string[]; ms: number }>(
    `SELECT subscription_ids AS ids, (extract(epoch from expires_at) * 1000)::float8 AS ms
      FROM ws_binding_tokens WHERE token_sha256 = $1 AND expires_at > now()`,
    [sha256(token)],
  );
  return row ? { subscriptionIds: row.ids, expiresAt: new Date(Number(row.ms)) } : undefined;
}
