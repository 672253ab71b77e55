// Configuration from the environment: defaults, overrides and rejection of malformed numbers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromEnv } from '../src/config.js';

describe('configFromEnv', () => {
  it('has laptop defaults: port 8080, embedded database in ./data, base URL on /fhir', () => {
    const c = configFromEnv({});
    assert.equal(c.port, 8080);
    assert.equal(c.baseUrl, 'http://localhost:8080/fhir');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.dataDir, './data');
    assert.equal(c.bodyLimit, 256 * 1024 * 1024);
    assert.equal(c.workers, 1);
    assert.equal(c.defaultCount, 20);
    assert.equal(c.maxCount, 1000);
    assert.equal(c.auth, false, 'the embedded dev mode runs without authorization');
    assert.equal(c.authIssuer, 'http://localhost:8080/auth');
    assert.equal(c.audit, true);
    assert.equal(configFromEnv({ DATABASE_URL: 'postgres://h/db' }).auth, true, 'on a real database authorization is on by default');
  });

  it('reads every variable and strips a trailing slash from BASE_URL', () => {
    const c = configFromEnv({
      PORT: '9000', HOST: '0.0.0.0', BASE_URL: 'https://fhir.example.org/r4/', DATABASE_URL: 'postgres://h/db', DATA_DIR: '/var/helix',
      DB_POOL_SIZE: '8', REDIS_URL: 'redis://r:6379', BODY_LIMIT: '1000', MAX_JSON_DEPTH: '50', LOG_LEVEL: 'debug',
      DEFAULT_COUNT: '10', MAX_COUNT: '100', PROFILES_DIR: '/p', PGX_KNOWLEDGE_DIR: '/k', WORKERS: '2', AUTH: 'off', AUDIT: 'off', AUTH_ISSUER: 'https://login.example.org/oauth/',
      AUTH_REGISTRATION_TOKEN: 'iat', SUBSCRIPTION_RETRY_HOURS: '2', NEWS2_WINDOW_MINUTES: '30',
    });
    assert.deepEqual(c, {
      port: 9000, host: '0.0.0.0', baseUrl: 'https://fhir.example.org/r4', databaseUrl: 'postgres://h/db', dataDir: '/var/helix',
      dbPoolSize: 8, redisUrl: 'redis://r:6379', bodyLimit: 1000, maxJsonDepth: 50, logLevel: 'debug',
      defaultCount: 10, maxCount: 100, profilesDir: '/p', pgxKnowledgeDir: '/k', workers: 2, auth: false, audit: false, authIssuer: 'https://login.example.org/oauth',
      registrationToken: 'iat', subscriptionRetryMs: 7_200_000, news2WindowMs: 1_800_000,
    });
  });

  it('rejects malformed numbers with the variable name', () => {
    assert.throws(() => configFromEnv({ PORT: 'eighty' }), /PORT/);
    assert.throws(() => configFromEnv({ WORKERS: '-1' }), /WORKERS/);
    assert.throws(() => configFromEnv({ AUTH: 'maybe' }), /AUTH/);
  });
});
