// `helix serve`: starts the server with configuration from the environment. With WORKERS > 1 and a
// PostgreSQL DATABASE_URL, the process forks that many workers sharing the port (node:cluster):
// instances are stateless, so workers are just more instances on one machine.
import cluster from 'node:cluster';
import { createHelix } from '../app.js';
import { configFromEnv } from '../config.js';

/** Starts Helix (or its workers) and stops cleanly on SIGINT/SIGTERM. */
export async function serve(): Promise<void> {
  const config = configFromEnv();
  if (cluster.isPrimary && config.workers > 1) {
    if (!config.databaseUrl) throw new Error('WORKERS > 1 needs DATABASE_URL: the embedded database belongs to one process');
    for (let i = 0; i < config.workers; i++) cluster.fork();
    let stopping = false;
    cluster.on('exit', (worker, code) => {
      if (stopping) return;
      process.stderr.write(`helix: worker ${worker.process.pid} exited with ${code}; starting another\n`);
      cluster.fork();
    });
    const stop = (): void => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
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
