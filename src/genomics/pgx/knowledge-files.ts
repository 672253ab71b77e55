// Reading a folder of knowledge files (one JSON file per gene or drug), shared by the phenotype
// and recommendation loaders: every file parsed and checked by its kind's parser, keys unique,
// and an empty folder refused, since a server without its knowledge would answer "no advice".
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every `*.json` of `dir`, parsed by `parse` (which throws naming the file) and keyed by `keyOf`. */
export function readKnowledgeFiles<T>(dir: string, kind: string, parse: (raw: unknown, file: string) => T, keyOf: (entry: T) => string): Map<string, T> {
  const entries = new Map<string, T>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const entry = parse(JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown, file);
    const key = keyOf(entry);
    if (entries.has(key)) throw new Error(`${file}: ${kind} ${key} is defined twice`);
    entries.set(key, entry);
  }
  if (entries.size === 0) throw new Error(`no ${kind} knowledge files in ${dir}`);
  return entries;
}
