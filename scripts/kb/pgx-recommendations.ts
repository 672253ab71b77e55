// Writes knowledge/pgx/recommendations/<drug>.json from Helix's own recommendation texts
// (pgx-recommendation-texts.ts, pgx-thiopurine-texts.ts) and the CPIC guideline exports in the
// shared PharmCAT snapshot, which supply what is CPIC's to decide — the phenotype keys, the
// population and the classification strength:
//   node --import tsx scripts/kb/pgx-recommendations.ts ../shared/data/pharmcat
// Every CPIC record must land on exactly one Helix template, every template must receive at least
// one CPIC record, records sharing a template must agree on strength, and a template's alternative
// drugs and dose change must agree with CPIC's "alternate drug" and "dosing information" flags;
// otherwise nothing is written. Warfarin's file carries its rule's facts (pgx-warfarin-rule.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatJson } from './pgx-json.js';
import { DRUG_TEXTS, type DrugTexts, type RecordTemplate, type Strength } from './pgx-recommendation-texts.js';
import { WARFARIN_RULE } from './pgx-warfarin-rule.js';

interface SourceRecommendation {
  lookupKey: Record<string, string>;
  population: string | null;
  classification: { term: string } | null;
  dosingInformation: boolean;
  alternateDrugAvailable: boolean;
}
interface SourceGuideline { version: string; recommendations: SourceRecommendation[] }

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const FORMAT = 'helix-pgx-recommendations/1';
const STRENGTHS: readonly Strength[] = ['Strong', 'Moderate', 'Optional', 'No recommendation'];

/** Reads a CPIC lookup value: an activity score ("1.5", "≥3.75"), "n/a", or a phenotype name. */
function parseKey(value: string): { score?: number; atLeast?: boolean; unscored?: boolean; phenotype?: string } {
  if (value === 'n/a') return { unscored: true };
  const m = /^(≥)?(\d+(?:\.\d+)?)$/.exec(value);
  return m ? { score: Number(m[2]), atLeast: m[1] !== undefined } : { phenotype: value };
}

function matches(template: RecordTemplate, source: SourceRecommendation): boolean {
  if ((source.population ?? 'general') !== template.population) return false;
  const genes = Object.keys(source.lookupKey);
  if (genes.length !== Object.keys(template.when).length) return false;
  return genes.every((gene) => {
    const condition = template.when[gene];
    if (!condition) return false;
    const key = parseKey(source.lookupKey[gene]!);
    if (key.unscored) return condition.phenotype === 'Indeterminate' && !condition.activityScore;
    if (key.score !== undefined) {
      const range = condition.activityScore;
      if (!range) return false;
      // An at-least score ("≥3.75") belongs to an open-ended range only.
      return key.score >= range.min && (range.max === undefined ? true : !key.atLeast && key.score <= range.max);
    }
    return condition.phenotype === key.phenotype && !condition.activityScore;
  });
}

/** Attaches CPIC's strengths to one drug's templates, checking the pairing both ways. */
function strengthsFromSource(texts: DrugTexts, source: SourceGuideline): Map<string, Strength> {
  const strengths = new Map<string, Strength>();
  const problems: string[] = [];
  for (const rec of source.recommendations) {
    const term = rec.classification?.term;
    if (!term) continue; // e.g. codeine's "xN combinations" help text, which is no recommendation
    const label = `${JSON.stringify(rec.lookupKey)} (${rec.population ?? 'general'})`;
    const hits = texts.records.filter((t) => matches(t, rec));
    if (hits.length !== 1) {
      problems.push(`${label} matches ${hits.length} templates`);
      continue;
    }
    const template = hits[0]!;
    if (!STRENGTHS.includes(term as Strength)) problems.push(`${label}: unknown strength ${term}`);
    const seen = strengths.get(template.id);
    if (seen && seen !== term) problems.push(`${template.id}: CPIC records disagree (${seen} vs ${term})`);
    strengths.set(template.id, term as Strength);
    if (rec.alternateDrugAvailable !== (template.alternatives !== undefined && template.alternatives.length > 0)) {
      problems.push(`${template.id}: CPIC alternate-drug flag is ${rec.alternateDrugAvailable} for ${label}`);
    }
    if (rec.dosingInformation !== (template.dose !== undefined)) problems.push(`${template.id}: CPIC dosing flag is ${rec.dosingInformation} for ${label}`);
  }
  for (const t of texts.records) if (!strengths.has(t.id)) problems.push(`${t.id}: no CPIC record falls under it`);
  if (problems.length > 0) throw new Error(`${texts.drug}:\n  ${problems.join('\n  ')}`);
  return strengths;
}

function drugFile(texts: DrugTexts, sourceDir: string): Record<string, unknown> {
  let strengths: Map<string, Strength>;
  let version: string;
  let provenance: string;
  if (texts.sourceFile) {
    const source = JSON.parse(readFileSync(join(sourceDir, 'guidelines-v2.12.0', texts.sourceFile), 'utf8')) as SourceGuideline;
    strengths = strengthsFromSource(texts, source);
    version = `CPIC via PharmGKB guideline export ${source.version} (PharmCAT v2.12.0)`;
    provenance = `Phenotype keys, populations and strengths: PharmGKB export of the CPIC guideline, guidelines-v2.12.0/${texts.sourceFile} in the shared PharmCAT snapshot. Texts: Helix's own paraphrase.`;
  } else {
    strengths = new Map(texts.records.map((t) => {
      if (!t.strength) throw new Error(`${t.id}: drugs without a CPIC export need a hand-entered strength`);
      return [t.id, t.strength];
    }));
    const main = texts.citations[0]!;
    version = `CPIC ${main.year} publication (PMID ${main.pmid})`;
    provenance = `Phenotypes, recommendations and strengths: Table 2 of the CPIC guideline (PMID ${main.pmid}), as annotated by PharmGKB. Texts: Helix's own paraphrase.`;
  }
  const primary = texts.citations[0]!.pmid;
  const ids = new Set<string>();
  const recommendations = texts.records.map((t) => {
    if (ids.has(t.id)) throw new Error(`duplicate record id ${t.id}`);
    ids.add(t.id);
    return {
      id: t.id, when: t.when, population: t.population, implications: t.implications, recommendation: t.recommendation,
      strength: strengths.get(t.id), action: t.action,
      ...(t.alternatives?.length ? { alternatives: t.alternatives } : {}),
      ...(t.dose ? { dose: t.dose } : {}),
      ...(t.notes?.length ? { notes: t.notes } : {}),
      cites: [primary, ...(t.extraCites ?? [])],
    };
  });
  return {
    drug: texts.drug, format: FORMAT, version, rxnorm: { system: RXNORM, code: texts.rxnorm, display: texts.drug },
    genes: texts.genes, citations: texts.citations, source: provenance, populations: texts.populations,
    ...(texts.notes?.length ? { notes: texts.notes } : {}),
    recommendations,
  };
}

function warfarinFile(): Record<string, unknown> {
  const { rxnorm, ...rest } = WARFARIN_RULE;
  return {
    drug: rest.drug, format: FORMAT, version: 'CPIC 2017 publication (PMID 28198005)', rxnorm: { system: RXNORM, code: rxnorm, display: rest.drug },
    genes: rest.genes, citations: rest.citations,
    source: 'CPIC 2017 Figure 2 (recommendation flowchart and footnotes) and the IWPC 2009 pharmacogenetic equation; applied by src/genomics/pgx/warfarin.ts.',
    populations: rest.populations, recommendations: rest.recommendations, rule: rest.rule, iwpc: rest.iwpc,
  };
}

/** Generates every drug file from the shared PharmCAT directory into the knowledge directory. */
export function generateRecommendationKnowledge(sourceDir: string, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const files: Array<[string, Record<string, unknown>]> = DRUG_TEXTS.map((texts) => [texts.drug, drugFile(texts, sourceDir)]);
  files.push(['warfarin', warfarinFile()]);
  for (const [drug, body] of files) writeFileSync(join(outDir, `${drug}.json`), formatJson(body));
  return files.map(([drug]) => drug).sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const source = process.argv[2];
  if (!source) {
    console.error('usage: node --import tsx scripts/kb/pgx-recommendations.ts <pharmcat-data-dir>');
    process.exit(2);
  }
  const out = fileURLToPath(new URL('../../knowledge/pgx/recommendations/', import.meta.url));
  console.log(`wrote ${generateRecommendationKnowledge(resolve(source), out).join(', ')} to ${out}`);
}
