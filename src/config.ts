// Server configuration, read once from the environment. Every variable is documented in README.md.

/** Runtime configuration of a Helix instance. */
export interface Config {
  port: number;
  host: string;
  /** Public FHIR base URL (used in Location headers, fullUrls and links); no trailing slash. */
  baseUrl: string;
  /** postgres://… to use a PostgreSQL server; undefined for the embedded database. */
  databaseUrl?: string;
  /** Embedded database folder; `memory://` keeps it in memory. */
  dataDir: string;
  dbPoolSize: number;
  redisUrl?: string;
  /** Largest accepted request body in bytes; larger bodies get 413. */
  bodyLimit: number;
  /** Deepest JSON nesting accepted in a request body. */
  maxJsonDepth: number;
  logLevel: string;
  defaultCount: number;
  maxCount: number;
  profilesDir?: string;
  /** The pharmacogenomic knowledge folder (alleles/, phenotypes/, recommendations/); the shipped knowledge/pgx when unset. */
  pgxKnowledgeDir?: string;
  /** Worker processes for `helix serve` (PostgreSQL only). */
  workers: number;
  /** SMART authorization enforced on the FHIR API (src/smart/); off only in embedded dev mode by default. */
  auth: boolean;
  /**
   * Record every authorized access in the audit trail (on whenever auth is, by default). Off only
   * where an API gateway in front of Helix keeps the audit trail; Helix warns at start.
   */
  audit: boolean;
  /** OAuth 2.0 / OpenID issuer URL of the built-in authorization server; no trailing slash. */
  authIssuer: string;
  /** NEWS2 scoring of incoming vital signs; its inputs are the latest of each parameter within this window (ms), 0 = off. */
  news2WindowMs: number;
  /** How long a failing subscription notification is retried before it is given up (ms). */
  subscriptionRetryMs: number;
  /** Static initial access token for RFC 7591 dynamic client registration (else tokens minted by `helix client iat`). */
  registrationToken?: string;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function flag(value: string | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|on|true|yes)$/i.test(value)) return true;
  if (/^(0|off|false|no)$/i.test(value)) return false;
  throw new Error(`${name} must be on or off, got "${value}"`);
}

/** Builds the configuration from environment variables (defaults suit a laptop). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = int(env.PORT, 8080, 'PORT');
  const base: Config = {
    port,
    host: env.HOST ?? '127.0.0.1',
    baseUrl: (env.BASE_URL ?? `http://localhost:${port}/fhir`).replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR ?? './data',
    dbPoolSize: int(env.DB_POOL_SIZE, 16, 'DB_POOL_SIZE'),
    redisUrl: env.REDIS_URL || undefined,
    bodyLimit: int(env.BODY_LIMIT, 256 * 1024 * 1024, 'BODY_LIMIT'),
    maxJsonDepth: int(env.MAX_JSON_DEPTH, 100, 'MAX_JSON_DEPTH'),
    logLevel: env.LOG_LEVEL ?? 'info',
    defaultCount: int(env.DEFAULT_COUNT, 20, 'DEFAULT_COUNT'),
    maxCount: int(env.MAX_COUNT, 1000, 'MAX_COUNT'),
    profilesDir: env.PROFILES_DIR || undefined,
    pgxKnowledgeDir: env.PGX_KNOWLEDGE_DIR || undefined,
    workers: int(env.WORKERS, 1, 'WORKERS'),
    auth: flag(env.AUTH, Boolean(env.DATABASE_URL), 'AUTH'),
    audit: flag(env.AUDIT, true, 'AUDIT'),
    authIssuer: '',
    news2WindowMs: flag(env.NEWS2, true, 'NEWS2') ? int(env.NEWS2_WINDOW_MINUTES, 60, 'NEWS2_WINDOW_MINUTES') * 60_000 : 0,
    subscriptionRetryMs: int(env.SUBSCRIPTION_RETRY_HOURS, 24, 'SUBSCRIPTION_RETRY_HOURS') * 3_600_000,
    registrationToken: env.AUTH_REGISTRATION_TOKEN || undefined,
  };
  base.authIssuer = (env.AUTH_ISSUER ?? `${new URL(base.baseUrl).origin}/auth`).replace(/\/+$/, '');
  return { ...base, ...overrides };
}
