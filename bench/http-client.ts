// A deliberately cheap HTTP client for the load generator: node:http with a keep-alive agent, no
// body parsing unless asked. The bench shares two cores with the server and PostgreSQL, so every
// microsecond spent here is taken from the system under test.
import { Agent, request } from 'node:http';

/** The parts of a response the bench looks at. */
export interface BenchResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A client bound to one origin with at most `maxSockets` connections. */
export interface BenchClient {
  send(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<BenchResponse>;
  close(): void;
}

/** Creates a keep-alive client for `origin` (e.g. http://127.0.0.1:8080). */
export function benchClient(origin: string, maxSockets: number): BenchClient {
  const url = new URL(origin);
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    send(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const req = request(
          {
            agent, host: url.hostname, port: url.port, method, path,
            headers: {
              accept: 'application/fhir+json',
              ...(body !== undefined ? { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) } : {}),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
