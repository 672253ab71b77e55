// Passwords: argon2id hashing (memory-hard, OWASP's first choice) through @node-rs/argon2's
// prebuilt binaries, and a policy after NIST SP 800-63B §5.1.1.2: length over composition rules,
// a blocklist of commonly used passwords, and nothing derived from the username.
import { hash, verify } from '@node-rs/argon2';

const MIN_LENGTH = 12;
const MAX_LENGTH = 256;
// The most common passwords in breach corpora (and their obvious 12+ character stretches).
const COMMON = new Set([
  'password1234', 'password12345', '123456789012', '1234567890123', 'qwertyuiopas', 'qwerty123456', 'iloveyou1234',
  'administrator', 'letmein12345', 'welcome12345', 'passw0rd1234', 'abcdefghijkl', '111111111111', '000000000000',
  'changeme1234', 'helixhelix12', 'password!234',
]);

/** Why `password` is not acceptable for `username`, or undefined when it is. */
export function passwordProblem(password: string, username: string): string | undefined {
  if (password.length < MIN_LENGTH) return `must be at least ${MIN_LENGTH} characters`;
  if (password.length > MAX_LENGTH) return `must be at most ${MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return 'is too common';
  if (new Set(lower).size < 4) return 'repeats too few characters';
  if (username && lower.includes(username.toLowerCase())) return 'must not contain the username';
  return undefined;
}

// OWASP's argon2id minimum: 19 MiB of memory, 2 iterations, 1 lane.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** An argon2id hash (PHC string) of `password`. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** True when `password` matches `phc`; false for a malformed hash. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

// Verified against when the user does not exist, so that timing does not reveal which usernames do.
let decoy: Promise<string> | undefined;
/** Spends the time of one verification without a user. */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hashPassword('decoy password that matches nothing');
  await verifyPassword(await decoy, password);
  return false;
}
