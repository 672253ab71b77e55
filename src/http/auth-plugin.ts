// The authorization server over HTTP: oidc-provider (a Koa application) mounted under the issuer's
// path, the sign-in/consent pages, SMART discovery beside the FHIR base, the SMART style document,
// and the EHR launch API an EHR integration calls to create a `launch` value.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/database.js';
import type { Authorization } from '../smart/access.js';
import { splitSmartScope, withConsentPrompt, type AuthServer } from '../smart/auth-server.js';
import type { BearerValidator } from '../smart/bearer.js';
import { smartConfiguration } from '../smart/discovery.js';
import { accountRoutes } from '../smart/account.js';
import { apiCaller, mountedAt } from '../smart/page-routes.js';
import { interactionRoutes, type LoginFailure } from '../smart/interactions.js';
import { createLaunch, parseLaunchContext } from '../smart/launch.js';

/** What the plugin needs. */
export interface AuthPluginOptions {
  auth: AuthServer;
  db: Queryable;
  bearer: BearerValidator;
  fhirMountPath: string;
  ticketKey: string;
  onLoginFailure?: (failure: LoginFailure) => Promise<void>;
}

/** The colours and banner hints SMART apps may apply (SMART App Launch 2.2, "Styling"). */
const SMART_STYLE = {
  color_background: '#f6f8fa', color_error: '#a40000', color_highlight: '#1d70b8', color_modal_backdrop: '',
  color_success: '#00703c', color_text: '#1b1b1b', dim_border_radius: '4px', dim_font_size: '16px', dim_spacing_size: '16px',
  font_family_body: 'system-ui, sans-serif', font_family_heading: 'system-ui, sans-serif',
};

/** Registers the authorization server's routes. */
export async function authPlugin(app: FastifyInstance, opts: AuthPluginOptions): Promise<void> {
  const { auth, bearer } = opts;
  const issuerPath = new URL(auth.issuer).pathname.replace(/\/+$/, '');
  const callback = auth.provider.callback();

  // oidc-provider reads its own request bodies: this context's parser leaves the stream untouched.
  await app.register(async (oidc) => {
    oidc.removeAllContentTypeParsers();
    oidc.addContentTypeParser('*', (_req, _payload, done) => done(null));
    const handler = (req: FastifyRequest, reply: FastifyReply): void => {
      reply.hijack();
      void callback(mountedAt(issuerPath, req, withConsentPrompt), reply.raw);
    };
    oidc.all(`${issuerPath}/*`, handler);
  });
  // Dynamic registration: SMART scopes in `scope` move to the client's smart_scope before
  // oidc-provider validates the metadata (it reads an already-parsed body as is).
  await app.register(async (registration) => {
    registration.post(`${issuerPath}/register`, async (req, reply) => {
      const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? splitSmartScope(req.body as Record<string, unknown>) : req.body;
      (req.raw as typeof req.raw & { body?: unknown }).body = body;
      reply.hijack();
      void callback(mountedAt(issuerPath, req), reply.raw);
    });
  });

  await app.register(interactionRoutes, {
    auth, db: opts.db, ticketKey: opts.ticketKey, ...(opts.onLoginFailure ? { onLoginFailure: opts.onLoginFailure } : {}),
  });

  await app.register(accountRoutes, {
    issuerPath, db: opts.db, bearer, ticketKey: opts.ticketKey, ...(opts.onLoginFailure ? { onLoginFailure: opts.onLoginFailure } : {}),
  });

  const cors = (req: FastifyRequest, reply: FastifyReply): void => {
    reply.header('Access-Control-Allow-Origin', req.headers.origin ?? '*').header('Vary', 'Origin');
  };
  app.get(`${opts.fhirMountPath}/.well-known/smart-configuration`, async (req, reply) => {
    cors(req, reply);
    return reply.header('Cache-Control', 'public, max-age=3600').send(smartConfiguration(auth.issuer));
  });
  app.get(`${issuerPath}/smart-style.json`, async (req, reply) => {
    cors(req, reply);
    return reply.header('Cache-Control', 'public, max-age=3600').send(SMART_STYLE);
  });

  // EHR launch: an EHR integration (an admin user's or a backend service's token) registers the
  // context it launches an app into and receives the opaque `launch` value to pass the app.
  await app.register(async (launch) => {
    launch.post(`${issuerPath}/launch`, async (req, reply) => {
      const who = await apiCaller(bearer, req, reply, mayLaunch, 'Creating a launch needs an admin user or a backend service token');
      if (!who) return reply;
      let context;
      try {
        context = parseLaunchContext(req.body);
      } catch (err) {
        return reply.code(400).send({ error: 'invalid_request', error_description: (err as Error).message });
      }
      const id = await createLaunch(opts.db, context, who.clientId);
      return reply.code(201).header('Cache-Control', 'no-store').send({ launch: id, iss: auth.fhirBase });
    });
  });
}

function mayLaunch(who: Authorization): boolean {
  return who.kind === 'system' ? who.scopes.resources.some((s) => s.context === 'system') : who.role === 'admin';
}
