// `helix serve`: starts the server with configuration from the environment.
import { createHelix } from '../app.js';
import { configFromEnv } from '../config.js';

/** Starts Helix and stops it cleanly on SIGINT/SIGTERM. */
export async function serve(): Promise<void> {
  const config = configFromEnv();
  const helix = await createHelix(config);
  await helix.http.listen({ port: config.port, host: config.host });
  helix.http.log.info({ baseUrl: config.baseUrl, database: helix.ctx.db.driver }, 'Helix is ready');
  const stop = async (): Promise<void> => {
    await helix.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
