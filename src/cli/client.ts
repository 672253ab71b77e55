// `helix client add <name> …` registers an OAuth client (a SMART app or a backend service) in the
// database configured by the environment; `helix client iat` mints an initial access token for
// RFC 7591 dynamic registration.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { configFromEnv } from '../config.js';
import { openDatabase } from '../db/open.js';
import { FhirError } from '../fhir/errors.js';
import { createAuthServer } from '../smart/auth-server.js';
import { addClient } from '../smart/clients.js';
import { loadAuthSecrets } from '../smart/secrets.js';

export const CLIENT_USAGE = `Usage:
  helix client add <name> --redirect-uri URI [--redirect-uri URI…] [--public | --secret] [--scope "…"]
  helix client add <name> --backend (--jwks FILE | --jwks-uri URL) --scope "system/…"
  helix client add <name> --redirect-uri URI (--jwks FILE | --jwks-uri URL) [--scope "…"]
  helix client iat          prints a single-use initial access token for POST [issuer]/register
`;

/** Runs `helix client …`, printing results through `print`; returns the exit code. */
export async function runClient(args: string[], env: NodeJS.ProcessEnv = process.env, print: (text: string) => void = (t) => void process.stdout.write(t)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true,
      options: {
        'redirect-uri': { type: 'string', multiple: true }, public: { type: 'boolean' }, secret: { type: 'boolean' },
        jwks: { type: 'string' }, 'jwks-uri': { type: 'string' }, scope: { type: 'string' }, backend: { type: 'boolean' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${CLIENT_USAGE}`);
    return 2;
  }
  const [sub, name, ...extra] = parsed.positionals;
  const v = parsed.values;
  if (!((sub === 'add' && name && !extra.length) || (sub === 'iat' && !name))) {
    process.stderr.write(CLIENT_USAGE);
    return 2;
  }
  const config = configFromEnv(env);
  const db = await openDatabase(config);
  try {
    if (sub === 'iat') {
      const { provider } = createAuthServer(db, config, await loadAuthSecrets(db));
      const token = await new provider.InitialAccessToken({}).save();
      print(`${token}\n`);
      return 0;
    }
    const auth = v.jwks || v['jwks-uri'] ? 'jwks' : v.secret ? 'secret' : 'public';
    const client = await addClient(db, {
      name: name as string, redirectUris: v['redirect-uri'] ?? [], auth,
      ...(v['jwks-uri'] ? { jwksUri: v['jwks-uri'] } : {}),
      ...(v.jwks ? { jwks: JSON.parse(await readFile(v.jwks, 'utf8')) as { keys: unknown[] } } : {}),
      ...(v.scope ? { scope: v.scope } : {}),
      ...(v.backend ? { backend: true } : {}),
    });
    print(`client_id=${client.clientId}\n${client.clientSecret ? `client_secret=${client.clientSecret}\n` : ''}`);
    return 0;
  } catch (err) {
    if (err instanceof FhirError || err instanceof SyntaxError) {
      process.stderr.write(`helix client: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.close();
  }
}
