// `helix user add`, in-process against the database the environment names.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runUser } from '../../src/cli/user.js';
import { configFromEnv } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { findUser } from '../../src/smart/users.js';
import { sharedServer } from '../harness.js';

describe('helix user add', () => {
  const dir = mkdtempSync(join(tmpdir(), 'helix-user-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The environment of a CLI run: the shared PostgreSQL database, or an embedded one in a temp dir. */
  async function env(password: string): Promise<NodeJS.ProcessEnv> {
    const databaseUrl = process.env.DATABASE_URL ? (await sharedServer()).helix.ctx.config.databaseUrl : undefined;
    return databaseUrl ? { DATABASE_URL: databaseUrl, HELIX_PASSWORD: password } : { DATA_DIR: dir, HELIX_PASSWORD: password };
  }

  it('creates a user with role, email and fhirUser; refuses a weak password and a bad command line', async () => {
    const name = `cli-${process.pid}`;
    const e = await env('correct horse battery staple');
    assert.equal(await runUser(['add', name, '--role', 'practitioner', '--email', `${name}@example.org`, '--fhir-user', 'Practitioner/123'], e), 0);
    assert.equal(await runUser(['add', `${name}-weak`, '--role', 'patient'], { ...e, HELIX_PASSWORD: 'short' }), 1);
    assert.equal(await runUser(['add', name, '--role', 'practitioner'], e), 1, 'duplicate');
    assert.equal(await runUser(['add', `${name}-x`], e), 2, 'no role');
    assert.equal(await runUser(['remove', name, '--role', 'admin'], e), 2);

    const db = await openDatabase(configFromEnv(e));
    try {
      const user = await findUser(db, name);
      assert.equal(user?.role, 'practitioner');
      assert.equal(user?.fhirUser, 'Practitioner/123');
      assert.equal(user?.email, `${name}@example.org`);
      assert.equal(await findUser(db, `${name}-weak`), undefined);
    } finally {
      await db.close();
    }
  });
});
