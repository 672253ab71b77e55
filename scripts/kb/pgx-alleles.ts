// Generates knowledge/pgx/alleles/<GENE>.json — Helix's allele definitions for the pharmacogenes it
// calls — from a PharmCAT data directory (definition/alleles/<GENE>_translation.json,
// definition/alleles/exemptions.json, and phenotype/DPYD.json for DPYD's activity values).
//   node --import tsx scripts/kb/pgx-alleles.ts ../shared/data/pharmcat [out-dir]
// Output is deterministic: the same input gives byte-identical files, so they can be committed
// and diffed when the source data moves on.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkGeneAlleleDefinitions, fromPharmcatTranslation, withPharmcatActivity, type GeneAlleleDefinitions,
} from '../../src/genomics/pgx/allele-definitions.js';

/** The genes Helix calls from VCFs. */
export const PGX_GENES = ['CYP2C19', 'CYP2C9', 'CYP4F2', 'CYP3A5', 'VKORC1', 'SLCO1B1', 'TPMT', 'NUDT15', 'DPYD', 'UGT1A1'] as const;

const PHARMCAT_REPO = 'https://github.com/PharmGKB/PharmCAT';

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** The PharmCAT commit PROVENANCE.md says the data was taken from (the citation links to it). */
export async function pharmcatCommit(dir: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(dir, 'PROVENANCE.md'), 'utf8');
    return /HEAD ([0-9a-f]{40})/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** JSON with two-space indentation, but arrays of plain values on one line (one allele row per line). */
export function formatKnowledgeJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `[\n${value.map((v) => inner + formatKnowledgeJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatKnowledgeJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** Converts one gene, failing loudly with the converter's message. */
export async function convertGene(dir: string, gene: string, exemptions: unknown, commit: string | undefined): Promise<GeneAlleleDefinitions> {
  const file = join(dir, 'definition/alleles', `${gene}_translation.json`);
  const resourcePath = `src/main/resources/org/pharmgkb/pharmcat/definition/alleles/${gene}_translation.json`;
  const converted = fromPharmcatTranslation(await readJson(file), exemptions, {
    file,
    exemptionsFile: join(dir, 'definition/alleles/exemptions.json'),
    source: {
      name: `CPIC ${gene} allele definition table (ClinPGx), as published by PharmCAT${commit ? ` (commit ${commit.slice(0, 12)})` : ''}`,
      url: commit ? `${PHARMCAT_REPO}/blob/${commit}/${resourcePath}` : PHARMCAT_REPO,
      license: 'CPIC data CC0-1.0; PharmCAT files MPL-2.0',
    },
  });
  if (!converted.ok) throw new Error(converted.error);
  let defs = converted.value;
  if (defs.method.kind === 'lowest-function') {
    const phenotypeFile = join(dir, 'phenotype', `${gene}.json`);
    const withActivity = withPharmcatActivity(defs, await readJson(phenotypeFile), phenotypeFile);
    if (!withActivity.ok) throw new Error(withActivity.error);
    defs = withActivity.value;
  }
  // What is written must load back through the same checks the server applies.
  const reread = checkGeneAlleleDefinitions(JSON.parse(formatKnowledgeJson(defs)), `${gene}.json`);
  if (!reread.ok) throw new Error(reread.error);
  return defs;
}

async function main(): Promise<void> {
  const [source, target] = process.argv.slice(2);
  if (!source) {
    process.stderr.write('usage: node --import tsx scripts/kb/pgx-alleles.ts <pharmcat-data-dir> [out-dir]\n');
    process.exit(2);
  }
  const dir = resolve(source);
  const out = resolve(target ?? join(fileURLToPath(new URL('../../', import.meta.url)), 'knowledge/pgx/alleles'));
  const exemptions = await readJson(join(dir, 'definition/alleles/exemptions.json'));
  const commit = await pharmcatCommit(dir);
  await mkdir(out, { recursive: true });
  for (const gene of PGX_GENES) {
    const defs = await convertGene(dir, gene, exemptions, commit);
    await writeFile(join(out, `${gene}.json`), `${formatKnowledgeJson(defs)}\n`);
    process.stdout.write(`${gene}: ${defs.positions.length} positions, ${defs.namedAlleles.length} named alleles (${defs.knowledgeVersion})\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
