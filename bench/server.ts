// The system under test: a throw-away database on the real PostgreSQL server and Helix running
// in a child process, so the load generator never shares the server's event loop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A database created for this run. */
export interface BenchDatabase {
  url: string;
  name: string;
  postgresVersion: string;
  drop(): Promise<void>;
}

/**
 * Creates `helix_bench_<ts>` next to the database `adminUrl` points at — or, given `existing`, uses
 * that database (created if missing), e.g. one a previous `--keep-db` run filled.
 */
export async function createBenchDatabase(adminUrl: string, existing?: string): Promise<BenchDatabase> {
  if (existing !== undefined && !/^[a-z_][a-z0-9_]*$/.test(existing)) throw new Error(`not a plain database name: ${existing}`);
  const name = existing ?? `helix_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  let postgresVersion: string;
  try {
    postgresVersion = ((await admin.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? '?').split(',')[0] as string;
    const found = existing !== undefined && (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount;
    if (!found) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    postgresVersion,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A running Helix child process. */
export interface BenchServer {
  origin: string;
  base: string;
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Compiles the server to dist/ (`npm run build`), which startBenchServer runs. */
export function buildServer(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
}

/** How the bench server authorizes: off, SMART tokens without the audit trail, or tokens with the audit trail (over Redis when given). */
export type BenchAuth = false | { audit: boolean; redisUrl?: string };

/** Starts `helix serve` on `databaseUrl`; `profileDir` turns on --cpu-prof for the child. */
export async function startBenchServer(databaseUrl: string, profileDir?: string, auth: BenchAuth = false, env: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // The compiled server, as `npm start` runs it (see buildServer): tsx would add its loader and
  // a naming wrapper around every closure to what is measured.
  const child = spawn(process.execPath, [...flags, 'dist/cli/main.js', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', BASE_URL: `${origin}/fhir`, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', AUTH: auth ? 'on' : 'off',
      AUDIT: auth && auth.audit ? 'on' : 'off', REDIS_URL: auth && auth.redisUrl ? auth.redisUrl : '', ...env },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitReady(origin, child, () => stderr);
  return {
    origin,
    base: `${origin}/fhir`,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitReady(origin: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Helix exited with code ${child.exitCode}:\n${stderr()}`);
    try {
      const res = await fetch(`${origin}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`Helix did not become ready within 120 s:\n${stderr()}`);
}
