// NEWS2 on incoming vital signs (Royal College of Physicians, National Early Warning Score 2, 2017):
// the event processor queues every patient whose vital signs changed (news2_pending, in its own
// transaction, so a crash loses no patient); this calculator takes them one at a time, scores the
// latest value of each parameter within the window, stores the score as an Observation, and when
// the clinical-risk band rises to low-medium or above raises a news2-alert topic event in the same
// transaction (an outbox row with the score as focus and the patient as context).
import type { Goal, Observation, Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../db/database.js';
import type { FhirContext } from '../../fhir/types.js';
import { transactionSession } from '../../fhir/types.js';
import { stamp } from '../../fhir/write.js';
import { findMatches } from '../../search/search.js';
import { NEWS2_ALERT_TOPIC } from '../live.js';
import { hasHypercapnicTarget, LOINC, pickNews2Inputs, SNOMED } from './inputs.js';
import { buildNews2Observation, NEWS2_RISK_SYSTEM, NEWS2_TOTAL_CODE } from './observation.js';
import { bandRank, scoreNews2, type News2Band } from './score.js';

/** The Observation codes NEWS2 reads (inputs.ts documents each). */
const INPUT_CODES = [
  ...['9279-1', '2708-6', '59408-5', '8867-4', '8310-5', '85354-9', '8480-6', '67775-7', '3150-0', '3151-8'].map((c) => `${LOINC}|${c}`),
  `${SNOMED}|1104441000000107`,
].join(',');

// A patient is scored this long after its first unscored reading: a monitor posting a set of vitals
// as separate requests gets one score for the set, and a patient whose monitor streams readings
// every second is rescored about every 5 s rather than every second, which would triple the
// database work of ingesting them; an alert still follows its readings within seconds.
const SETTLE_MS = 5_000;
// Readings looked at per score: a monitor posting every parameter every 30 s fills an hour with 840.
const RECENT_READINGS = 1_000;

/** Scores one queued patient, if any is waiting and not being scored elsewhere; false when none was. */
export async function scoreNextPatient(db: Database, ctx: FhirContext, windowMs: number): Promise<boolean> {
  return db.transaction(async (q) => {
    const [next] = await q.query<{ patient: string; at: string }>(
      `DELETE FROM news2_pending WHERE patient = (SELECT patient FROM news2_pending WHERE queued_at <= now() - make_interval(secs => $1)
        ORDER BY queued_at FOR UPDATE SKIP LOCKED LIMIT 1)
        RETURNING patient, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at`, [SETTLE_MS / 1000]);
    if (!next) return false;
    await scorePatient(ctx, q, next.patient, next.at, windowMs);
    return true;
  });
}

async function scorePatient(ctx: FhirContext, q: Queryable, patient: string, at: string, windowMs: number): Promise<void> {
  const search = (type: string, params: Record<string, string>, limit: number): Promise<Resource[]> =>
    findMatches(ctx, q, type, new URLSearchParams(params), limit).then((rows) => rows.map((r) => JSON.parse(r.content as string) as Resource));
  // Scored at the newest queued reading (devices may post readings taken earlier), from the readings
  // of the window before it.
  const since = new Date(Date.parse(at) - windowMs).toISOString();
  const params = new URLSearchParams({ subject: patient, code: INPUT_CODES });
  params.append('date', `ge${since}`);
  params.append('date', `le${at}`);
  const observations = (await findMatches(ctx, q, 'Observation', params, RECENT_READINGS)).map((r) => JSON.parse(r.content as string) as Observation);
  const goals = await search('Goal', { subject: patient }, 100) as Goal[];
  const picked = pickNews2Inputs(observations, at, { windowMs, hypercapnicTarget: hasHypercapnicTarget([...goals, ...observations]) });
  const result = scoreNews2(picked.inputs);
  if (result.missing.length === 7) return; // nothing to score
  const [previous] = await search('Observation', { subject: patient, code: `${SNOMED}|${NEWS2_TOTAL_CODE}`, _sort: '-date' }, 1) as Observation[];
  const derived = picked.derivedFrom.map((d) => d.reference).sort().join(' ');
  // The same inputs scored again (a re-sent reading) add nothing.
  if (previous && (previous.derivedFrom ?? []).map((d) => d.reference).sort().join(' ') === derived && previous.valueInteger === result.total) return;

  const score = buildNews2Observation(result, { subject: patient, at, derivedFrom: picked.derivedFrom });
  const id = randomUUID();
  const lastUpdated = ctx.now().toISOString();
  const prepared = stamp(ctx, score, id, 1, lastUpdated);
  await transactionSession(q).insertNew({ resourceType: 'Observation', id, versionId: 1, lastUpdated, method: 'POST', content: prepared.content, index: prepared.index });
  ctx.statistics.wrote(1);
  const before = previous ? bandOf(previous) : 'low';
  if (result.band !== 'low' && bandRank(result.band) > bandRank(before)) {
    await q.query(
      `INSERT INTO change_outbox (res_type, res_id, version, topic, context, detail) VALUES ('Observation', $1, 1, $2, ARRAY[$3::text], jsonb_build_object('level', $4::text))`,
      [id, NEWS2_ALERT_TOPIC, patient, result.band],
    );
  }
}

function bandOf(score: Observation): News2Band {
  const code = score.interpretation?.flatMap((i) => i.coding ?? []).find((c) => c.system === NEWS2_RISK_SYSTEM)?.code;
  return code === 'low-medium' || code === 'medium' || code === 'high' ? code : 'low';
}
