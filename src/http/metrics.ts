// Prometheus metrics: request counts and latency by interaction and resource type, on a registry
// owned by the server instance (not prom-client's global one).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Metrics for the HTTP API. */
export interface HttpMetrics {
  registry: Registry;
  /** Records one finished request. */
  observe(method: string, path: string, status: number, seconds: number): void;
}

/** The FHIR interaction a request path and method denote (http.html#summary). */
export function interactionOf(method: string, path: string): { interaction: string; resourceType: string } {
  const parts = path.split('/').filter(Boolean);
  const [type = '', second, third, fourth] = parts;
  const m = method === 'HEAD' ? 'GET' : method;
  if (!type) return { interaction: m === 'POST' ? 'transaction' : 'system', resourceType: '' };
  if (type === 'metadata') return { interaction: 'capabilities', resourceType: '' };
  if (type === '_history') return { interaction: 'history-system', resourceType: '' };
  if (type.startsWith('$')) return { interaction: 'operation', resourceType: '' };
  if (!/^[A-Z][A-Za-z]{1,60}$/.test(type)) return { interaction: 'unknown', resourceType: '' };
  if (second === undefined) {
    const byMethod: Record<string, string> = { GET: 'search-type', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
    return { interaction: byMethod[m] ?? 'unknown', resourceType: type };
  }
  if (second === '_search') return { interaction: 'search-type', resourceType: type };
  if (second === '_history') return { interaction: 'history-type', resourceType: type };
  if (second.startsWith('$') || third?.startsWith('$')) return { interaction: 'operation', resourceType: type };
  if (third === '_history') return { interaction: fourth ? 'vread' : 'history-instance', resourceType: type };
  const byMethod: Record<string, string> = { GET: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  return { interaction: byMethod[m] ?? 'unknown', resourceType: type };
}

/** Creates the metrics on a fresh registry. */
export function createHttpMetrics(resourceTypes: ReadonlySet<string>): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['interaction', 'resource_type', 'status'] as const;
  const requests = new Counter({ name: 'helix_http_requests_total', help: 'FHIR requests', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'helix_http_request_duration_seconds',
    help: 'FHIR request latency',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return {
    registry,
    observe(method, path, status, seconds) {
      const { interaction, resourceType } = interactionOf(method, path);
      // Only known types become label values: arbitrary URLs must not grow the series count.
      const labels = { interaction, resource_type: resourceTypes.has(resourceType) ? resourceType : '', status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
  };
}
