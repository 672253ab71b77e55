// The SMART authorization server (SMART App Launch 2.2 and SMART Backend Services), built on
// oidc-provider: authorization code flow with PKCE S256 only, client_credentials with
// private_key_jwt assertions, RFC 7662 introspection, RFC 7009 revocation, RFC 7591 registration
// and OpenID Connect id_tokens carrying `fhirUser`. Every artifact is stored in PostgreSQL
// (oidc-adapter.ts), so instances are interchangeable.
import type { Context } from 'koa';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.js';
import type { Queryable } from '../db/database.js';
import { findLaunch, grantContext } from './launch.js';
import { pgAdapter, type RevocationListener } from './oidc-adapter.js';
import { errorPage } from './pages.js';
import { covers, parseResourceScope } from './scopes.js';
import type { AuthSecrets } from './secrets.js';
import { findUserById } from './users.js';

/** Lifetimes, in seconds. Backend-services tokens are capped at 300 s by SMART Backend Services. */
export const TOKEN_TTL = { accessToken: 3600, clientCredentials: 300, code: 60, offline: 90 * 86400, online: 86400 };

/** Non-resource scopes the server recognises (oidc-provider drops any scope it was not told about). */
export const STATIC_SCOPES = ['openid', 'fhirUser', 'profile', 'email', 'offline_access', 'online_access', 'launch', 'launch/patient', 'launch/encounter'];

/** Where oidc-provider's endpoints are, under the issuer (discovery.ts publishes them). */
export const AUTH_ROUTES = {
  authorization: '/authorize', token: '/token', introspection: '/introspect', revocation: '/revoke',
  registration: '/register', jwks: '/jwks', userinfo: '/userinfo', end_session: '/logout',
} as const;

/** The client metadata property with the SMART resource scopes a client may be granted. */
export const SMART_SCOPE = 'smart_scope';

/** Splits registration metadata's `scope` into the static scopes and the SMART `smart_scope`. */
export function splitSmartScope(metadata: Record<string, unknown>): Record<string, unknown> {
  if (typeof metadata.scope !== 'string') return metadata;
  const words = metadata.scope.split(' ').filter(Boolean);
  const smart = words.filter((w) => parseResourceScope(w));
  const rest = words.filter((w) => !parseResourceScope(w));
  const out: Record<string, unknown> = { ...metadata };
  if (rest.length) out.scope = rest.join(' ');
  else delete out.scope;
  if (smart.length) out[SMART_SCOPE] = [...new Set([...String(metadata[SMART_SCOPE] ?? '').split(' ').filter(Boolean), ...smart])].join(' ');
  return out;
}

/** Signing algorithms accepted on client assertions: asymmetric only, so `none` and HMAC are refused. */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

/** The authorization server and what the rest of Helix needs to know about it. */
export interface AuthServer {
  provider: Provider;
  issuer: string;
  /** The FHIR base URL: the only `aud`/resource the server issues tokens for. */
  fhirBase: string;
}

/** Creates the authorization server for `config`, with its state in `db` and its keys from `secrets`. */
export function createAuthServer(db: Queryable, config: Config, secrets: AuthSecrets, onRevoke?: RevocationListener): AuthServer {
  const fhirBase = config.baseUrl;
  const issuer = config.authIssuer;
  const sameBase = (aud: string): boolean => aud.replace(/\/+$/, '') === fhirBase;

  const configuration: Configuration = {
    adapter: pgAdapter(db, onRevoke),
    jwks: secrets.jwks as Configuration['jwks'],
    cookies: { keys: secrets.cookieKeys, long: { signed: true }, short: { signed: true } },
    findAccount: async (_ctx, sub) => {
      const user = await findUserById(db, sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          ...(user.fhirUser ? { fhirUser: `${fhirBase}/${user.fhirUser}` } : {}),
          preferred_username: user.username,
          ...(user.email ? { email: user.email } : {}),
        }),
      };
    },
    claims: { openid: ['sub'], fhirUser: ['fhirUser'], profile: ['preferred_username'], email: ['email'] },
    scopes: STATIC_SCOPES,
    responseTypes: ['code'],
    pkce: { methods: ['S256'], required: () => true },
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: { clientAuthSigningAlgValues: CLIENT_ASSERTION_ALGS, idTokenSigningAlgValues: ['RS256'] } as Configuration['enabledJWA'],
    // SMART puts fhirUser in the id_token itself, not only behind the userinfo endpoint.
    conformIdTokenClaims: false,
    allowOmittingSingleRegisteredRedirectUri: false,
    extraParams: {
      aud: (ctx: KoaContextWithOIDC, value: string | undefined) => {
        if (!value || !sameBase(value)) throw new errors.InvalidRequest(`aud must be this server's FHIR base URL, ${fhirBase}`);
        void ctx;
      },
      launch: async (_ctx: KoaContextWithOIDC, value: string | undefined) => {
        if (value !== undefined && !(await findLaunch(db, value))) throw new errors.InvalidRequest('launch is unknown or has expired');
      },
    } as unknown as Configuration['extraParams'],
    features: {
      devInteractions: { enabled: false },
      // A resource server (any authenticated confidential client) may introspect any token; a
      // public app only its own.
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      clientCredentials: { enabled: true },
      registration: { enabled: true, initialAccessToken: config.registrationToken ?? true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => fhirBase,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator, client) => {
          if (!sameBase(indicator)) throw new errors.InvalidTarget(`resource must be this server's FHIR base URL, ${fhirBase}`);
          const backend = ctx.oidc.params?.grant_type === 'client_credentials';
          const registered = client.metadata()[SMART_SCOPE] as string | undefined;
          return {
            scope: resourceScopes(ctx, registered, backend),
            audience: fhirBase,
            accessTokenFormat: 'opaque',
            accessTokenTTL: backend ? TOKEN_TTL.clientCredentials : TOKEN_TTL.accessToken,
          };
        },
      },
    },
    ttl: {
      AccessToken: TOKEN_TTL.accessToken,
      ClientCredentials: TOKEN_TTL.clientCredentials,
      AuthorizationCode: TOKEN_TTL.code,
      IdToken: 3600,
      Interaction: 3600,
      Session: TOKEN_TTL.online,
      Grant: TOKEN_TTL.offline,
      RefreshToken: (_ctx, token) => (token.scopes.has('offline_access') ? TOKEN_TTL.offline : TOKEN_TTL.online),
    },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || code.scopes.has('online_access')),
    // Every refresh rotates: the used token is consumed, and reusing it revokes the whole grant.
    rotateRefreshToken: true,
    extraTokenClaims: async (_ctx, token) => {
      const context = await grantContext(db, (token as { grantId?: string }).grantId);
      const accountId = (token as { accountId?: string }).accountId;
      const user = accountId ? await findUserById(db, accountId) : undefined;
      return {
        ...(context.patient ? { patient: context.patient } : {}),
        ...(context.encounter ? { encounter: context.encounter } : {}),
        ...(user ? { role: user.role, ...(user.fhirUser ? { fhirUser: user.fhirUser } : {}) } : {}),
      };
    },
    interactions: { url: (_ctx, interaction) => `${new URL(issuer).pathname}/interaction/${interaction.uid}` },
    routes: AUTH_ROUTES,
    clientBasedCORS: () => true,
    // OAuth's `scope` metadata may hold only scopes oidc-provider knows statically, so the SMART
    // scopes a client is limited to are kept beside it (splitSmartScope moves them there).
    extraClientMetadata: {
      properties: [SMART_SCOPE],
      validator: (_ctx, key, value) => {
        if (key !== SMART_SCOPE || value === undefined) return;
        const words = typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
        if (typeof value !== 'string' || words.some((w) => !parseResourceScope(w))) throw new errors.InvalidClientMetadata(`${SMART_SCOPE} must list SMART resource scopes`);
      },
    },
    // SMART Backend Services: the assertion's exp may be at most five minutes in the future.
    assertJwtClientAuthClaimsAndHeader: async (_ctx, claims) => {
      const exp = Number(claims.exp);
      if (!Number.isFinite(exp) || exp > Math.floor(Date.now() / 1000) + 300) {
        throw new errors.InvalidClient('client assertion exp must be at most five minutes in the future');
      }
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage(String(out.error), String(out.error_description ?? ''));
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = true;
  provider.use(smartTokenResponse(db));
  return { provider, issuer, fhirBase };
}

/**
 * The SMART resource scopes a token for the FHIR API may carry. oidc-provider keeps only the
 * requested scopes that appear in this list, so it is computed from the request (and, on refresh,
 * the grant being refreshed). Scopes a client registered with bound what it may ask for; backend
 * services may ask only for system/ scopes and get invalid_scope for anything else.
 */
function resourceScopes(ctx: KoaContextWithOIDC, registered: string | undefined, backend: boolean): string {
  const entities = ctx.oidc.entities as { RefreshToken?: { scope?: string } };
  const requested = new Set([...(ctx.oidc.params?.scope as string | undefined ?? '').split(' '), ...(entities.RefreshToken?.scope ?? '').split(' ')]);
  const allowed = (registered ?? '').split(' ').map(parseResourceScope).filter((s) => s !== undefined);
  const out: string[] = [];
  for (const word of requested) {
    const scope = parseResourceScope(word);
    if (!scope) continue;
    const fits = (backend ? scope.context === 'system' : scope.context !== 'system')
      && (registered === undefined || allowed.some((g) => covers(g, scope)));
    if (fits) out.push(word);
    else if (backend) throw new errors.InvalidScope('requested scope is not allowed for this client', word);
  }
  return out.join(' ');
}

/**
 * OpenID Connect makes `offline_access` depend on `prompt=consent`, and oidc-provider drops it
 * otherwise; SMART apps never send that prompt. Helix always asks for consent before granting
 * offline access, so the HTTP layer adds the prompt to such authorization requests (`url` is the
 * request path and query relative to the issuer).
 */
export function withConsentPrompt(url: string): string {
  const prefix = `${AUTH_ROUTES.authorization}?`;
  if (!url.startsWith(prefix)) return url;
  const q = new URLSearchParams(url.slice(prefix.length));
  const prompt = (q.get('prompt') ?? '').split(' ').filter(Boolean);
  if (!(q.get('scope') ?? '').split(' ').includes('offline_access') || prompt.includes('consent')) return url;
  q.set('prompt', [...prompt, 'consent'].join(' '));
  return `${prefix}${q}`;
}

/**
 * Adds the SMART launch context to token responses (`patient`, `encounter`, `fhirContext`,
 * `need_patient_banner`, `smart_style_url`) and the `Pragma: no-cache` SMART asks for.
 */
function smartTokenResponse(db: Queryable) {
  return async (ctx: Context, next: () => Promise<void>): Promise<void> => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    if (oidc?.route !== 'token') return;
    ctx.set('Pragma', 'no-cache');
    ctx.set('Cache-Control', 'no-store');
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.status !== 200 || !body?.access_token) return;
    const entities = oidc.entities as {
      AccessToken?: { grantId?: string; scope?: string }; AuthorizationCode?: { scope?: string }; RefreshToken?: { scope?: string };
      Grant?: { getOIDCScopeFiltered(scopes: Set<string>): string };
    };
    const token = entities.AccessToken;
    if (!token?.grantId) return;
    // The access token carries the FHIR scopes; SMART's `scope` lists every granted scope, the
    // OpenID and launch ones included.
    const asked = String(oidc.params?.scope ?? entities.AuthorizationCode?.scope ?? entities.RefreshToken?.scope ?? '');
    const oidcScopes = entities.Grant?.getOIDCScopeFiltered(new Set(asked.split(' '))) ?? '';
    body.scope = [...new Set([...oidcScopes.split(' '), ...(token.scope ?? '').split(' ')].filter(Boolean))].join(' ');
    const context = await grantContext(db, token.grantId);
    if (context.patient) body.patient = context.patient;
    if (context.encounter) body.encounter = context.encounter;
    if (context.fhirContext?.length) body.fhirContext = context.fhirContext;
    if (context.intent) body.intent = context.intent;
    body.need_patient_banner = context.needPatientBanner ?? Boolean(context.patient);
    body.smart_style_url = `${oidc.provider.issuer}/smart-style.json`;
  };
}
