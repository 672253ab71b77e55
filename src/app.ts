// Wires a Helix instance together: definitions, database, index extraction, validation and the
// HTTP server. Everything is created here and passed down explicitly; nothing is global.
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { openDatabase } from './db/open.js';
import { loadDefinitions } from './fhir/definitions.js';
import { poolSession, type FhirContext } from './fhir/types.js';
import { buildHttpServer } from './http/server.js';
import { createIndexExtractor } from './search/extract.js';
import { loadProfiles } from './validation/profiles.js';
import { createValidator } from './validation/validator.js';

/** A running (or ready to run) Helix instance. */
export interface Helix {
  ctx: FhirContext;
  http: FastifyInstance;
  /** Stops the HTTP server and closes the database. */
  close(): Promise<void>;
}

/** The profiles/ folder shipped with Helix. */
export const defaultProfilesDir = fileURLToPath(new URL('../profiles/', import.meta.url));

/** Creates a Helix instance from configuration (the HTTP server is built but not listening). */
export async function createHelix(config: Config): Promise<Helix> {
  const defs = loadDefinitions();
  const profiles = await loadProfiles(defs, config.profilesDir ?? defaultProfilesDir);
  const db = await openDatabase(config);
  const ctx: FhirContext = {
    config,
    db,
    defs,
    extractor: createIndexExtractor(defs, { baseUrl: config.baseUrl }),
    validator: createValidator(defs, profiles),
    pool: poolSession(db),
    now: () => new Date(),
  };
  const http = await buildHttpServer(ctx);
  return {
    ctx,
    http,
    async close() {
      await http.close();
      await db.close();
    },
  };
}
