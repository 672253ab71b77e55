// Users of the authorization server against the real database: password policy, lockout, TOTP
// enrolment and verification (codes computed here from RFC 6238 with node:crypto, not otpauth),
// recovery codes.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashPassword, passwordProblem, verifyPassword } from '../../src/smart/passwords.js';
import { beginTotpEnrolment, confirmTotpEnrolment, createUser, findUser, LOCKOUT, login, verifySecondFactor } from '../../src/smart/users.js';
import { sharedServer } from '../harness.js';

const GOOD = 'correct horse battery staple';

/** RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s) from a base32 secret. */
function totpCode(base32: string, unixMs: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of base32.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixMs / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = (mac[mac.length - 1] as number) & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

describe('passwords', () => {
  it('follows the policy: length, common passwords, variety, username', () => {
    assert.equal(passwordProblem(GOOD, 'alice'), undefined);
    assert.match(passwordProblem('short pass', 'alice') ?? '', /at least 12/);
    assert.match(passwordProblem('Password1234', 'alice') ?? '', /too common/);
    assert.match(passwordProblem('aaaaaaaaaaaaaab', 'alice') ?? '', /too few/);
    assert.match(passwordProblem('my name is alice!', 'alice') ?? '', /username/);
  });

  it('hashes with argon2id and verifies', async () => {
    const phc = await hashPassword(GOOD);
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(await verifyPassword(phc, GOOD));
    assert.ok(!(await verifyPassword(phc, `${GOOD}!`)));
    assert.ok(!(await verifyPassword('not a hash', GOOD)));
  });
});

describe('users', () => {
  const unique = `${process.pid}${Date.now().toString(36)}`;

  it('creates users, refusing weak passwords, bad fields and duplicates', async () => {
    const { helix } = await sharedServer();
    const db = helix.ctx.db;
    const user = await createUser(db, { username: `dr-${unique}`, password: GOOD, role: 'practitioner', fhirUser: 'Practitioner/p1', email: `dr-${unique}@example.org` });
    assert.deepEqual({ ...user, id: undefined }, {
      id: undefined, username: `dr-${unique}`, email: `dr-${unique}@example.org`, role: 'practitioner', fhirUser: 'Practitioner/p1', mfaEnabled: false,
    });
    assert.deepEqual(await findUser(db, `dr-${unique}`), user);
    await assert.rejects(createUser(db, { username: `dr-${unique}`, password: GOOD, role: 'practitioner' }), (e: any) => e.status === 409);
    await assert.rejects(createUser(db, { username: `x-${unique}`, password: 'password1234', role: 'patient' }), (e: any) => e.status === 400);
    await assert.rejects(createUser(db, { username: `y-${unique}`, password: GOOD, role: 'superuser' as never }), (e: any) => e.status === 400);
    await assert.rejects(createUser(db, { username: `z-${unique}`, password: GOOD, role: 'patient', fhirUser: 'Observation/1' }), (e: any) => e.status === 400);
  });

  it('locks an account after repeated failures, even against the right password', async () => {
    const { helix } = await sharedServer();
    const db = helix.ctx.db;
    await createUser(db, { username: `lock-${unique}`, password: GOOD, role: 'patient' });
    assert.deepEqual(await login(db, `nobody-${unique}`, GOOD), { ok: false, reason: 'invalid' });
    const ok = await login(db, `lock-${unique}`, GOOD);
    assert.ok(ok.ok && !ok.mfaRequired);
    for (let i = 1; i < LOCKOUT.maxFailures; i++) assert.deepEqual(await login(db, `lock-${unique}`, 'wrong password!!'), { ok: false, reason: 'invalid' });
    // A success before the limit resets the count.
    assert.ok((await login(db, `lock-${unique}`, GOOD)).ok);
    for (let i = 1; i < LOCKOUT.maxFailures; i++) await login(db, `lock-${unique}`, 'wrong password!!');
    assert.deepEqual(await login(db, `lock-${unique}`, 'wrong password!!'), { ok: false, reason: 'locked' });
    assert.deepEqual(await login(db, `lock-${unique}`, GOOD), { ok: false, reason: 'locked' });
  });

  it('enrols TOTP with a QR code, requires it at login, refuses replays, and accepts each recovery code once', async () => {
    const { helix } = await sharedServer();
    const db = helix.ctx.db;
    const user = await createUser(db, { username: `mfa-${unique}`, password: GOOD, role: 'admin' });
    const enrolment = await beginTotpEnrolment(db, user.id);
    assert.match(enrolment.uri, new RegExp(`^otpauth://totp/Helix:mfa-${unique}\\?`));
    assert.match(enrolment.qrSvg, /^<svg[^>]*>/);
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    await assert.rejects(confirmTotpEnrolment(db, user.id, '000000', t0 + 1e9), (e: any) => e.status === 400);
    const recovery = await confirmTotpEnrolment(db, user.id, totpCode(enrolment.secret, t0), t0);
    assert.equal(recovery.length, 10);
    assert.equal(new Set(recovery).size, 10);
    const l = await login(db, `mfa-${unique}`, GOOD);
    assert.ok(l.ok && l.mfaRequired && l.user.mfaEnabled);

    const next = t0 + 30_000;
    assert.equal(await verifySecondFactor(db, user.id, totpCode(enrolment.secret, t0), t0), false, 'the enrolment code was used already');
    assert.equal(await verifySecondFactor(db, user.id, totpCode(enrolment.secret, next), next), true);
    assert.equal(await verifySecondFactor(db, user.id, totpCode(enrolment.secret, next), next), false, 'replayed code');
    assert.equal(await verifySecondFactor(db, user.id, totpCode(enrolment.secret, next + 5 * 60_000), next), false, 'code from the future');
    assert.equal(await verifySecondFactor(db, user.id, recovery[3] as string), true);
    assert.equal(await verifySecondFactor(db, user.id, (recovery[3] as string).toLowerCase()), false, 'recovery codes are single-use');
    assert.equal(await verifySecondFactor(db, user.id, (recovery[4] as string).replace('-', '').toLowerCase()), true);
  });
});
