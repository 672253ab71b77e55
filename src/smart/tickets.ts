// Short-lived signed statements carried in hidden form fields between two steps of a sign-in
// ("the password of this user was right, for this interaction"), so that no instance has to remember
// the first step: any instance holding the shared key can check the second.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Signs "`userId` passed the first step of `purpose`" for `seconds`. */
export function signTicket(key: string, purpose: string, userId: string, seconds: number): string {
  const body = JSON.stringify([purpose, userId, Math.floor(Date.now() / 1000) + seconds]);
  return `${Buffer.from(body).toString('base64url')}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** The user id of a valid, unexpired ticket for `purpose`, or undefined. */
export function checkTicket(key: string, purpose: string, value: string): string | undefined {
  const [encoded = '', mac = ''] = value.split('.');
  const body = Buffer.from(encoded, 'base64url').toString();
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const [forPurpose, userId, exp] = JSON.parse(body) as [string, string, number];
    return forPurpose === purpose && typeof userId === 'string' && exp >= Date.now() / 1000 ? userId : undefined;
  } catch {
    return undefined;
  }
}
