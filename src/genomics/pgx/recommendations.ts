// Drug recommendations from Helix's own knowledge files (knowledge/pgx/recommendations/<drug>.json,
// written by scripts/kb/pgx-recommendations.ts): CPIC's advice in Helix's words, filed under the
// gene phenotypes or activity-score ranges it applies to. `recommend` files a patient's phenotypes
// into those records; warfarin's guidance is an algorithm, applied by warfarin.ts instead.
import { readKnowledgeFiles } from './knowledge-files.js';
import type { ActivityScore, Citation } from './phenotypes.js';

/** CPIC's classification of a recommendation. */
export type Strength = 'Strong' | 'Moderate' | 'Optional' | 'No recommendation';
/** What a recommendation asks of the prescriber, in one word. */
export type Action = 'no-change' | 'adjust-dose' | 'avoid' | 'consider-alternative' | 'monitor' | 'no-recommendation';

/** Which results a record applies to; with both, a known activity score decides. */
export interface GeneCondition { phenotype?: string; activityScore?: { min: number; max?: number } }
/** A dose change: direction, how much (percent of the usual dose) and the clinical detail. */
export interface DoseAdjustment { direction: 'decrease' | 'increase'; percentOfStandard?: { min: number; max: number }; detail: string }

/** One recommendation record. */
export interface DrugRecommendation {
  id: string;
  when: Readonly<Record<string, GeneCondition>>;
  population: string;
  implications: Readonly<Record<string, string>>;
  recommendation: string;
  strength: Strength;
  action: Action;
  alternatives?: readonly string[];
  dose?: DoseAdjustment;
  notes?: readonly string[];
  /** PMIDs of the drug's citations this record rests on. */
  cites: readonly string[];
}

/** Everything Helix knows about one drug. */
export interface DrugKnowledge {
  drug: string;
  version: string;
  rxnorm: { system: string; code: string; display: string };
  genes: readonly string[];
  citations: readonly Citation[];
  source: string;
  populations: Readonly<Record<string, string>>;
  recommendations: readonly DrugRecommendation[];
  /** The parameters of an algorithmic guideline (warfarin), read by its own module. */
  rule?: unknown;
  iwpc?: unknown;
}

/** Every drug's records, loaded once and passed to whoever needs them. */
export interface RecommendationKnowledge { drugs: ReadonlyMap<string, DrugKnowledge> }

/** A gene result as recommend() needs it: a phenotype and, for scored genes, the activity score. */
export interface PhenotypeInput { phenotype: string; activityScore?: ActivityScore | number }

/** A record that applies, with the gene results it was filed under. */
export interface MatchedRecommendation extends DrugRecommendation { matchedOn: Readonly<Record<string, string>> }

interface Base { drug: string; rxnorm: DrugKnowledge['rxnorm']; citations: readonly Citation[] }
/** What recommend() found for a drug and a patient's phenotypes. */
export type RecommendationResult =
  | (Base & { kind: 'recommendation'; matches: MatchedRecommendation[] })
  | (Base & { kind: 'no-change'; matches: MatchedRecommendation[] })
  | (Base & { kind: 'no-recommendation'; matches: MatchedRecommendation[]; reason: string })
  | (Base & { kind: 'no-genotype'; missingGenes: string[] })
  | (Base & { kind: 'algorithm'; reason: string });

const FORMAT = 'helix-pgx-recommendations/1';
const NO_RESULT = 'No Result';
const STRENGTHS: readonly Strength[] = ['Strong', 'Moderate', 'Optional', 'No recommendation'];
const ACTIONS: readonly Action[] = ['no-change', 'adjust-dose', 'avoid', 'consider-alternative', 'monitor', 'no-recommendation'];

/** Loads and validates every <drug>.json in the knowledge directory (the recommendations/ folder). */
export function loadRecommendations(dir: string): RecommendationKnowledge {
  return { drugs: readKnowledgeFiles(dir, 'recommendation', parseDrug, (drug) => drug.drug) };
}

/** The records that apply to a drug for the given gene phenotypes (genes absent = not genotyped). */
export function recommend(
  knowledge: RecommendationKnowledge, drug: string, phenotypesByGene: Readonly<Record<string, PhenotypeInput | undefined>>,
  options: { population?: string } = {},
): RecommendationResult {
  const entry = knowledge.drugs.get(drug.trim().toLowerCase());
  if (!entry) throw new Error(`no recommendation knowledge for drug '${drug}'`);
  const base: Base = { drug: entry.drug, rxnorm: entry.rxnorm, citations: entry.citations };
  if (entry.recommendations.length === 0 && entry.rule !== undefined) {
    return { ...base, kind: 'algorithm', reason: `CPIC's ${entry.drug} guidance is an algorithm; apply it with the ${entry.drug} rule` };
  }
  const missing = entry.genes.filter((g) => !phenotypesByGene[g]);
  // Some guidelines (the thiopurines) say what to do when one gene was not tested; others need all.
  const missingAllowed = missing.every((g) => entry.recommendations.some((r) => r.when[g]?.phenotype === NO_RESULT));
  if (missing.length === entry.genes.length || (missing.length > 0 && !missingAllowed)) return { ...base, kind: 'no-genotype', missingGenes: missing };

  const candidates = entry.recommendations.filter((r) => !options.population || r.population === options.population);
  const matches: MatchedRecommendation[] = [];
  for (const record of candidates) {
    const matchedOn: Record<string, string> = {};
    const ok = entry.genes.every((gene) => {
      const condition = record.when[gene];
      if (!condition) return true;
      const result = phenotypesByGene[gene];
      if (!result) return condition.phenotype === NO_RESULT;
      const hit = conditionMatches(condition, result);
      if (hit) matchedOn[gene] = hit;
      return hit !== undefined;
    });
    if (ok) matches.push({ ...record, matchedOn });
  }
  const described = entry.genes.map((g) => `${g} ${phenotypesByGene[g] ? describe(phenotypesByGene[g]!) : NO_RESULT}`).join(', ');
  if (matches.length === 0) return { ...base, kind: 'no-recommendation', matches, reason: `CPIC has no ${entry.drug} recommendation for ${described}` };
  if (matches.every((m) => m.action === 'no-recommendation')) return { ...base, kind: 'no-recommendation', matches, reason: `CPIC makes no ${entry.drug} recommendation for ${described}` };
  if (matches.every((m) => m.action === 'no-change')) return { ...base, kind: 'no-change', matches };
  return { ...base, kind: 'recommendation', matches };
}

function scoreOf(input: PhenotypeInput): ActivityScore | undefined {
  if (input.activityScore === undefined) return undefined;
  return typeof input.activityScore === 'number' ? { value: input.activityScore, atLeast: false, text: String(input.activityScore) } : input.activityScore;
}

function describe(input: PhenotypeInput): string {
  const score = scoreOf(input);
  return score ? `${input.phenotype} (activity score ${score.text})` : input.phenotype;
}

/** Whether a gene result meets a condition; returns what it matched on. */
function conditionMatches(condition: GeneCondition, input: PhenotypeInput): string | undefined {
  const score = scoreOf(input);
  if (condition.activityScore && score) {
    const { min, max } = condition.activityScore;
    // A lower-bound score ("≥3.0") only fits an open-ended range.
    const inRange = score.value >= min && (max === undefined || (!score.atLeast && score.value <= max));
    return inRange ? `activity score ${score.text}` : undefined;
  }
  // Without a score (or for phenotype-keyed records) the phenotype decides; an activity-score
  // record then matches every score its phenotype spans, which is reported rather than hidden.
  return condition.phenotype !== undefined && condition.phenotype === input.phenotype ? input.phenotype : undefined;
}

// --- validation of the knowledge files ------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(file: string, what: string): never {
  throw new Error(`${file}: ${what}`);
}

function parseRecord(raw: unknown, file: string, pmids: ReadonlySet<string>, populations: Json): DrugRecommendation {
  if (!isObject(raw)) fail(file, 'each recommendation must be an object');
  const id = typeof raw.id === 'string' ? raw.id : fail(file, 'a recommendation lacks an id');
  const where = `${file} ${id}`;
  if (!isObject(raw.when) || Object.keys(raw.when).length === 0) fail(where, "'when' must name at least one gene");
  for (const [gene, c] of Object.entries(raw.when)) {
    const ok = isObject(c) && (typeof c.phenotype === 'string' || isObject(c.activityScore))
      && (c.activityScore === undefined || (isObject(c.activityScore) && typeof c.activityScore.min === 'number'));
    if (!ok) fail(where, `condition for ${gene} needs a phenotype or an activityScore range`);
  }
  if (typeof raw.population !== 'string' || !(raw.population in populations)) fail(where, 'population must be one the file describes');
  if (!isObject(raw.implications)) fail(where, "'implications' must be an object");
  if (typeof raw.recommendation !== 'string' || raw.recommendation.length === 0) fail(where, 'recommendation text missing');
  if (!STRENGTHS.includes(raw.strength as Strength)) fail(where, `unknown strength '${String(raw.strength)}'`);
  if (!ACTIONS.includes(raw.action as Action)) fail(where, `unknown action '${String(raw.action)}'`);
  if (!Array.isArray(raw.cites) || raw.cites.length === 0 || !raw.cites.every((p) => pmids.has(p as string))) fail(where, 'cites must list PMIDs of the file\'s citations');
  if (raw.dose !== undefined && !(isObject(raw.dose) && (raw.dose.direction === 'decrease' || raw.dose.direction === 'increase') && typeof raw.dose.detail === 'string')) {
    fail(where, 'dose needs a direction and a detail');
  }
  return raw as unknown as DrugRecommendation;
}

/** Checks one drug file's shape and turns it into the knowledge Helix applies. */
export function parseDrug(raw: unknown, file: string): DrugKnowledge {
  if (!isObject(raw)) fail(file, 'not a JSON object');
  if (raw.format !== FORMAT) fail(file, `format must be '${FORMAT}'`);
  if (typeof raw.drug !== 'string' || typeof raw.version !== 'string' || typeof raw.source !== 'string') fail(file, 'needs drug, version and source');
  const rx = raw.rxnorm;
  if (!isObject(rx) || typeof rx.code !== 'string' || !/^\d+$/.test(rx.code) || typeof rx.system !== 'string') fail(file, 'needs an RxNorm code');
  if (!Array.isArray(raw.genes) || raw.genes.length === 0) fail(file, 'needs the genes it depends on');
  if (!Array.isArray(raw.citations) || raw.citations.length === 0) fail(file, 'needs at least one citation');
  const pmids = new Set<string>();
  for (const c of raw.citations) {
    if (!isObject(c) || typeof c.pmid !== 'string' || typeof c.title !== 'string' || typeof c.url !== 'string' || typeof c.year !== 'number') fail(file, 'citations need title, year, pmid and url');
    pmids.add(c.pmid);
  }
  if (!isObject(raw.populations)) fail(file, "'populations' must be an object");
  if (!Array.isArray(raw.recommendations)) fail(file, "'recommendations' must be an array");
  const recommendations = raw.recommendations.map((r) => parseRecord(r, file, pmids, raw.populations as Json));
  const genes = new Set(raw.genes as string[]);
  for (const r of recommendations) if (!Object.keys(r.when).every((g) => genes.has(g))) fail(file, `${r.id} names a gene the drug does not list`);
  const ids = new Set(recommendations.map((r) => r.id));
  if (ids.size !== recommendations.length) fail(file, 'recommendation ids must be unique');
  if (recommendations.length === 0 && raw.rule === undefined) fail(file, 'needs recommendations or a rule');
  return raw as unknown as DrugKnowledge;
}
