// The websocket channel's endpoint, `GET [base]/$websocket` (e.g. /fhir/$websocket, what
// $get-ws-binding-token returns as websocket-url), speaking two protocols over text frames:
//
// - Subscriptions R5 Backport IG 1.1.0, channels.html "Websockets": the client sends
//   `bind-with-token <token>` (from $get-ws-binding-token); the server answers with a `handshake`
//   notification Bundle per Subscription the token names, then sends each `heartbeat` and
//   `event-notification` Bundle, in the Subscription's payload MIME type (JSON or XML). The token may
//   be presented again, or a new one, on the same socket (more Subscriptions, or a later expiry);
//   a binding ends when its token expires, and a socket left with none is closed (1008).
// - R4 subscription.html, channel type websocket: the client sends `bind <id>` for an R4 criteria
//   Subscription, the server answers `bound <id>` and then sends `ping <id>` for each event (not for
//   heartbeats), upon which the client searches. Without a token, so only while authorization is
//   off: with it on, anyone knowing an id could follow a patient's activity.
//
// Errors answer in the protocol of the command, then the socket is closed with 1008: an
// OperationOutcome (JSON) for bind-with-token, `error <message>` for bind and anything unknown.
// A socket that binds nothing within 30 s is closed; so is a peer that stops answering pings or
// reads too slowly. Upgrades are taken from the HTTP server directly with the `ws` package.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Resource } from '@medplum/fhirtypes';
import type { FastifyPluginAsync } from 'fastify';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { FhirError, operationOutcome } from '../fhir/errors.js';
import type { FhirContext } from '../fhir/types.js';
import { fhirJsonToXml } from '../fhir/xml.js';
import { handshakeBundle } from '../subscriptions/notification.js';
import { subscriptionsWithState, type SubscriptionWithState } from '../subscriptions/status-query.js';
import type { PayloadMimeType } from '../subscriptions/subscription-spec.js';
import type { WsHub, WsListener } from '../subscriptions/ws-hub.js';
import { redeemBindingToken, WEBSOCKET_PATH } from '../subscriptions/ws-tokens.js';

/** What the endpoint needs. */
export interface WebsocketPluginOptions {
  ctx: FhirContext;
  hub: WsHub;
  onError(err: unknown): void;
}

const POLICY_VIOLATION = 1008;
const BIND_DEADLINE_MS = 30_000;
const LIVENESS_MS = 30_000;
// Notifications queued for a client that does not read; past this it is cut off rather than
// allowed to hold the server's memory.
const MAX_BUFFERED = 8 * 1024 * 1024;
// Commands are one line; a large frame is not one of ours.
const MAX_FRAME = 4096;
const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;

type Binding = { mode: 'bundle'; format: PayloadMimeType; expiresAt: number } | { mode: 'ping' };
type Protocol = 'fhir' | 'text';

/** The Fastify plugin serving `[base]/$websocket` on the server's `upgrade` event. */
export function websocketPlugin(opts: WebsocketPluginOptions): FastifyPluginAsync {
  return async (app) => {
    const path = `${new URL(opts.ctx.config.baseUrl).pathname.replace(/\/+$/, '')}/${WEBSOCKET_PATH}`;
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
    const alive = new WeakMap<WebSocket, boolean>();
    // Many sockets may follow one subscription: each notification is serialised once per format.
    const serialized = new WeakMap<Resource, Map<PayloadMimeType, string>>();
    const serialize = (bundle: Resource, format: PayloadMimeType): string => {
      let byFormat = serialized.get(bundle);
      if (!byFormat) serialized.set(bundle, (byFormat = new Map()));
      let text = byFormat.get(format);
      if (text === undefined) byFormat.set(format, (text = format === 'application/fhir+xml' ? fhirJsonToXml(bundle) : JSON.stringify(bundle)));
      return text;
    };

    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (requestPath(req.url) !== path) {
        // Another upgrade handler may serve it; alone, Helix answers as for any unknown route.
        if (app.server.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        alive.set(ws, true);
        ws.on('pong', () => alive.set(ws, true));
        serve(ws, opts, serialize);
      });
    };
    app.server.on('upgrade', onUpgrade);
    // Dead peers (no close frame, e.g. a dropped network) would otherwise stay bound forever.
    const liveness = setInterval(() => {
      for (const ws of wss.clients) {
        if (!alive.get(ws)) ws.terminate();
        else {
          alive.set(ws, false);
          ws.ping();
        }
      }
    }, LIVENESS_MS);
    liveness.unref();
    // preClose, not onClose: the HTTP server's close waits for these sockets to end.
    app.addHook('preClose', async () => {
      app.server.off('upgrade', onUpgrade);
      clearInterval(liveness);
      for (const ws of wss.clients) {
        ws.close(1001, 'server shutting down');
        setTimeout(() => ws.terminate(), 1_000).unref();
      }
      wss.close();
    });
  };
}

/** Serves one connection: its commands, its bindings, and the notifications they bring. */
function serve(ws: WebSocket, opts: WebsocketPluginOptions, serialize: (bundle: Resource, format: PayloadMimeType) => string): void {
  const { ctx, hub } = opts;
  const bindings = new Map<string, Binding>();
  let closed = false;
  let expiry: NodeJS.Timeout | undefined;

  const listener: WsListener = (id, bundle) => {
    const binding = bindings.get(id);
    if (!binding || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) return ws.terminate();
    if (binding.mode === 'ping') {
      if (notificationType(bundle) === 'event-notification') ws.send(`ping ${id}`);
    } else if (binding.expiresAt > Date.now()) ws.send(serialize(bundle, binding.format));
  };
  const fail = (protocol: Protocol, message: string, code: 'security' | 'invalid' | 'not-found' | 'exception' = 'invalid'): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(protocol === 'fhir' ? JSON.stringify(operationOutcome([{ severity: 'error', code, diagnostics: message }])) : `error ${message}`);
    ws.close(POLICY_VIOLATION, message.slice(0, 120));
  };
  // Ends the bindings whose token has expired; a socket left with none has no more use.
  const expire = (): void => {
    const now = Date.now();
    for (const [id, b] of bindings) {
      if (b.mode === 'bundle' && b.expiresAt <= now) {
        bindings.delete(id);
        hub.unbind(id, listener);
      }
    }
    if (!bindings.size) return void ws.close(POLICY_VIOLATION, 'binding token expired');
    scheduleExpiry();
  };
  const scheduleExpiry = (): void => {
    clearTimeout(expiry);
    const next = Math.min(...[...bindings.values()].map((b) => (b.mode === 'bundle' ? b.expiresAt : Infinity)));
    if (!Number.isFinite(next)) return;
    expiry = setTimeout(expire, Math.max(0, next - Date.now()) + 5);
    expiry.unref();
  };

  const bindWithToken = async (token: string): Promise<void> => {
    const grant = await redeemBindingToken(ctx.db, token);
    if (!grant) return fail('fhir', 'The binding token is unknown or has expired; get one with $get-ws-binding-token', 'security');
    const subs = await servable(ctx, grant.subscriptionIds, false);
    if (typeof subs === 'string') return fail('fhir', subs, 'not-found');
    // The socket may have gone while the database answered: binding it now would leak the listener.
    if (closed) return;
    const env = { baseUrl: ctx.config.baseUrl, now: () => ctx.now() };
    for (const sub of subs) {
      // Handshake first, then bind, in one synchronous step: no notification can precede it.
      ws.send(serialize(handshakeBundle(sub.spec, sub.state, env), sub.spec.channel.payload));
      // An older token presented again must not cut short a binding a newer one extended.
      const before = bindings.get(sub.id);
      const expiresAt = Math.max(grant.expiresAt.getTime(), before?.mode === 'bundle' ? before.expiresAt : 0);
      bindings.set(sub.id, { mode: 'bundle', format: sub.spec.channel.payload, expiresAt });
      hub.bind(sub.id, listener);
    }
    scheduleExpiry();
  };
  const bindR4 = async (id: string): Promise<void> => {
    if (ctx.config.auth) return fail('text', 'bind <id> is not available while authorization is on; use bind-with-token <token>');
    if (!FHIR_ID.test(id)) return fail('text', 'bind needs a Subscription id');
    const subs = await servable(ctx, [id], true);
    if (typeof subs === 'string') return fail('text', subs);
    if (closed) return;
    bindings.set(id, { mode: 'ping' });
    hub.bind(id, listener);
    ws.send(`bound ${id}`);
  };

  const command = async (data: RawData, isBinary: boolean): Promise<void> => {
    const [verb, arg, ...rest] = isBinary ? [] : rawText(data).trim().split(/\s+/);
    if (verb === 'bind-with-token' && arg && !rest.length) return bindWithToken(arg);
    if (verb === 'bind' && arg && !rest.length) return bindR4(arg);
    fail('text', 'unknown command; send bind-with-token <token> or bind <subscription-id>');
  };
  // One command at a time, in order: a bind's handshake is sent before the next command is read.
  let queue = Promise.resolve();
  ws.on('message', (data: RawData, isBinary: boolean) => {
    queue = queue.then(() => command(data, isBinary)).catch((err: unknown) => {
      opts.onError(err);
      fail('text', 'internal error', 'exception');
    });
  });
  const deadline = setTimeout(() => {
    if (!bindings.size) fail('text', `nothing bound within ${BIND_DEADLINE_MS / 1000} s`);
  }, BIND_DEADLINE_MS);
  deadline.unref();
  ws.on('close', () => {
    closed = true;
    clearTimeout(deadline);
    clearTimeout(expiry);
    for (const id of bindings.keys()) hub.unbind(id, listener);
    bindings.clear();
  });
  // A socket error is followed by 'close'; without a listener it would be an uncaught exception.
  ws.on('error', () => ws.terminate());
}

/**
 * The Subscriptions with these ids if each can be bound now, else why not: one switched to
 * rest-hook or off after its token was issued gets nothing over the socket. `r4`: `bind <id>`
 * serves R4 criteria subscriptions only (topic-based ones belong to the Backport IG's protocol).
 */
async function servable(ctx: FhirContext, ids: string[], r4: boolean): Promise<SubscriptionWithState[] | string> {
  let subs: SubscriptionWithState[];
  try {
    subs = await subscriptionsWithState(ctx, ctx.db, ids);
  } catch (err) {
    if (err instanceof FhirError && err.status === 404) return err.message;
    throw err;
  }
  const out: SubscriptionWithState[] = [];
  for (const id of ids) {
    const sub = subs.find((s) => s.id === id);
    if (!sub) return `Subscription/${id} cannot be served`;
    if (sub.spec.channel.type !== 'websocket') return `Subscription/${id} has channel type ${sub.spec.channel.type}, not websocket`;
    if (sub.state.status === 'off') return `Subscription/${id} is off`;
    if (r4 && sub.spec.kind !== 'criteria') return `Subscription/${id} is topic-based; bind it with bind-with-token <token>`;
    out.push(sub);
  }
  return out;
}

/** The notification type (handshake, heartbeat, event-notification…) of a notification Bundle. */
function notificationType(bundle: Resource): string | undefined {
  const status = (bundle as { entry?: { resource?: { parameter?: { name?: string; valueCode?: string }[] } }[] }).entry?.[0]?.resource;
  return status?.parameter?.find((p) => p.name === 'type')?.valueCode;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

/** The decoded path of a request URL: clients may send `$` as `%24`. */
function requestPath(url = ''): string {
  const p = url.split('?')[0] ?? '';
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}
