// `helix user add <username> --role R [--email E] [--fhir-user Type/id]`: creates a user of the
// authorization server in the database configured by the environment (DATABASE_URL, or the
// embedded database in DATA_DIR). The password is read from HELIX_PASSWORD or the first line of
// standard input, never from the command line, where it would show in the process list.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { configFromEnv } from '../config.js';
import { openDatabase } from '../db/open.js';
import { FhirError } from '../fhir/errors.js';
import { createUser, ROLES, type Role } from '../smart/users.js';

export const USER_USAGE = `Usage: helix user add <username> --role ${ROLES.join('|')} [--email E] [--fhir-user Type/id]

  The password comes from $HELIX_PASSWORD, or else from the first line of standard input.
`;

/** Runs `helix user …`; returns the exit code. */
export async function runUser(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true,
      options: { role: { type: 'string' }, email: { type: 'string' }, 'fhir-user': { type: 'string' } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USER_USAGE}`);
    return 2;
  }
  const [sub, username, ...extra] = parsed.positionals;
  const role = parsed.values.role;
  if (sub !== 'add' || !username || extra.length || !role) {
    process.stderr.write(USER_USAGE);
    return 2;
  }
  const password = env.HELIX_PASSWORD ?? (await firstLine());
  const db = await openDatabase(configFromEnv(env));
  try {
    const user = await createUser(db, {
      username, password, role: role as Role,
      ...(parsed.values.email ? { email: parsed.values.email } : {}),
      ...(parsed.values['fhir-user'] ? { fhirUser: parsed.values['fhir-user'] } : {}),
    });
    process.stdout.write(`created user ${user.username} (${user.role}) with id ${user.id}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    process.stderr.write(`helix user add: ${err.issues.map((i) => i.diagnostics).join('; ')}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

async function firstLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}
