// Reads a transaction-response/batch-response into counts (http.html#transaction-response):
// 201 created, any other success (200 updated or matched by a conditional create) updated, the rest
// failed. A transaction that failed as a whole failed for every one of its entries.
import type { Reply } from './import-target.js';

/** The outcome of one Bundle. */
export interface Tally {
  created: number;
  updated: number;
  failed: number;
  /** Human-readable reasons for the failures (at most a few per Bundle). */
  messages: string[];
}

const MAX_MESSAGES = 5;

/** Counts the outcome of a Bundle of `entries` entries from the server's reply. */
export function tallyReply(reply: Reply, entries: number): Tally {
  const doc = parse(reply.text);
  if (reply.status < 200 || reply.status >= 300) {
    return { created: 0, updated: 0, failed: entries, messages: [`HTTP ${reply.status}: ${diagnostics(doc) || reply.text.slice(0, 300)}`] };
  }
  const responseEntries = (doc as { entry?: unknown } | undefined)?.entry;
  if (!Array.isArray(responseEntries)) {
    return { created: 0, updated: 0, failed: entries, messages: [`HTTP ${reply.status}: the reply is not a transaction/batch response`] };
  }
  const t: Tally = { created: 0, updated: 0, failed: 0, messages: [] };
  let failures = 0;
  for (const [i, entry] of responseEntries.slice(0, entries).entries()) {
    const response = (entry as { response?: { status?: unknown; outcome?: unknown } } | null)?.response;
    const status = Number.parseInt(String(response?.status ?? ''), 10);
    if (status === 201) t.created++;
    else if (status >= 200 && status < 400) t.updated++;
    else {
      t.failed++;
      if (failures++ < MAX_MESSAGES) t.messages.push(`entry ${i}: ${Number.isNaN(status) ? 'no status' : status} ${diagnostics(response?.outcome)}`.trim());
    }
  }
  const missing = entries - Math.min(entries, responseEntries.length);
  if (missing) {
    t.failed += missing;
    t.messages.push(`${missing} entries have no response entry`);
  }
  if (failures > MAX_MESSAGES) t.messages.push(`… and ${failures - MAX_MESSAGES} more failed entries`);
  return t;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The diagnostics of an OperationOutcome, joined; '' for anything else. */
export function diagnostics(outcome: unknown): string {
  const issues = (outcome as { issue?: unknown } | undefined)?.issue;
  if (!Array.isArray(issues)) return '';
  return issues
    .map((i: { diagnostics?: unknown; code?: unknown }) => (typeof i?.diagnostics === 'string' ? i.diagnostics : String(i?.code ?? '')))
    .filter(Boolean)
    .join('; ');
}
