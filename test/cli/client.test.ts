// `helix client add` and `helix client iat`, in-process against the database the environment names.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { runClient } from '../../src/cli/client.js';
import { configFromEnv } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { sharedServer } from '../harness.js';

describe('helix client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'helix-client-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function env(): Promise<NodeJS.ProcessEnv> {
    const databaseUrl = process.env.DATABASE_URL ? (await sharedServer()).helix.ctx.config.databaseUrl : undefined;
    return databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dir };
  }

  /** Runs the command, capturing what it prints. */
  async function run(args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const code = await runClient(args, await env(), (text) => void (out += text));
    return { code, out };
  }

  it('registers public, confidential and backend clients with the metadata they need', async () => {
    const app = await run(['add', 'Growth Chart', '--redirect-uri', 'https://app.example/cb', '--scope', 'openid patient/Observation.rs']);
    assert.equal(app.code, 0);
    const appId = /client_id=(\S+)/.exec(app.out)?.[1] as string;
    assert.ok(appId && !app.out.includes('client_secret'));
    const lab = await run(['add', 'Lab portal', '--redirect-uri', 'https://lab.example/cb', '--secret']);
    assert.match(lab.out, /client_secret=\S{40,}/);
    const { publicKey } = await generateKeyPair('ES384', { extractable: true });
    const jwks = join(dir, 'keys.json');
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' }] }));
    const backend = await run(['add', 'Analytics', '--backend', '--jwks', jwks, '--scope', 'system/Observation.rs']);
    assert.equal(backend.code, 0);
    const backendId = /client_id=(\S+)/.exec(backend.out)?.[1] as string;

    const db = await openDatabase(configFromEnv(await env()));
    try {
      const meta = async (id: string) => (await db.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM oauth_models WHERE kind = 'Client' AND id = $1`, [id]))[0]?.payload;
      const a = await meta(appId);
      assert.equal(a?.token_endpoint_auth_method, 'none');
      assert.deepEqual(a?.redirect_uris, ['https://app.example/cb']);
      assert.equal(a?.scope, 'openid');
      assert.equal(a?.smart_scope, 'patient/Observation.rs');
      const b = await meta(backendId);
      assert.deepEqual(b?.grant_types, ['client_credentials']);
      assert.equal(b?.token_endpoint_auth_method, 'private_key_jwt');
    } finally {
      await db.close();
    }
  });

  it('refuses incomplete or malformed registrations and bad command lines', async () => {
    assert.equal((await run(['add', 'No redirect'])).code, 1);
    assert.equal((await run(['add', 'Backend', '--backend', '--scope', 'system/Patient.rs'])).code, 1, 'backend without keys');
    assert.equal((await run(['add', 'Bad', '--redirect-uri', 'not a url'])).code, 1);
    assert.equal((await run(['add', 'Bad scope', '--redirect-uri', 'https://x.example/cb', '--scope', 'patient/Observation.sr'])).code, 1);
    assert.equal((await run(['remove', 'x'])).code, 2);
  });

  it('mints initial access tokens for dynamic registration', async () => {
    const iat = await run(['iat']);
    assert.equal(iat.code, 0);
    assert.match(iat.out.trim(), /^[A-Za-z0-9_-]{20,}$/);
  });
});
