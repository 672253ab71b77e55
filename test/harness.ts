// One Helix server shared by every test file in the run: on the embedded database by default, or
// on a fresh database created on the PostgreSQL server named by DATABASE_URL.
import { createServer } from 'node:net';
import pg from 'pg';
import { createHelix, type Helix } from '../src/app.js';
import { configFromEnv } from '../src/config.js';

/** A started test server. */
export interface TestServer {
  helix: Helix;
  /** FHIR base URL, e.g. http://127.0.0.1:40123/fhir */
  base: string;
  /** Root URL of the HTTP server. */
  root: string;
}

let shared: Promise<TestServer> | undefined;
const cleanups: (() => Promise<void>)[] = [];

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Creates a throw-away database next to DATABASE_URL's and returns its URL. */
export async function freshDatabase(url: string): Promise<string> {
  const name = `helix_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Starts a server with the given overrides (for tests needing their own instance). */
export async function startServer(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const databaseUrl = env.DATABASE_URL ? await freshDatabase(env.DATABASE_URL) : undefined;
  const config = configFromEnv(env, {
    port, host: '127.0.0.1', baseUrl: `http://127.0.0.1:${port}/fhir`, dataDir: 'memory://', databaseUrl, auth: false,
    authIssuer: `http://127.0.0.1:${port}/auth`, ...overrides,
  });
  const helix = await createHelix(config);
  await helix.http.listen({ port, host: '127.0.0.1' });
  return { helix, base: config.baseUrl, root: `http://127.0.0.1:${port}` };
}

/** The server shared by the whole run (started on first use). */
export function sharedServer(): Promise<TestServer> {
  shared ??= startServer();
  return shared;
}

/** Stops the shared server and drops its database. */
export async function closeSharedServer(): Promise<void> {
  if (shared) await (await shared).helix.close();
  for (const cleanup of cleanups) await cleanup();
}

/** A fixture builder: `make(key, resource)` creates the resource (with `meta`, if given) and records its id. */
export function fixtureMaker(base: string, ids: Record<string, string>, meta?: unknown) {
  return async (key: string, resource: Record<string, unknown>): Promise<void> => {
    const res = await fhir(base, 'POST', resource.resourceType as string, meta === undefined ? resource : { ...resource, meta });
    if (res.status !== 201) throw new Error(`fixture ${key}: ${res.status} ${res.text.slice(0, 300)}`);
    ids[key] = res.body.id;
  };
}

/** Minimal FHIR JSON client over fetch for tests. */
export async function fhir(
  base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const init: RequestInit = { method, headers: { accept: 'application/fhir+json', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/fhir+json';
  }
  const res = await fetch(`${base}/${path}`, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
