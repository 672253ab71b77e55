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
import { hasHypercapnicTarget, pickNews2Inputs, SNOMED } from './inputs.js';
import { buildNews2Observation, NEWS2_RISK_SYSTEM, NEWS2_TOTAL_CODE } from './observation.js';
import { bandRank, scoreNews2, type News2Band } from './score.js';


// A patient is scored this long after its first unscored reading: a monitor posting a set of vitals
// as separate requests gets one score for the set, and a patient whose monitor streams readings
// every second is rescored about every 5 s rather than every second, which would triple the
// database work of ingesting them; an alert still follows its readings within seconds.
const SETTLE_MS = 5_000;
// Observations looked at per score: a monitor posting every parameter every 30 s fills an hour with 840.
const RECENT_READINGS = 1_000;

const PREPARED = { prepare: true };
// Not prepared: which side is smaller, the patient's Observations or the window's, decides the plan.
const WINDOW_SQL = `SELECT r.content FROM resources r
  WHERE r.res_type = 'Observation' AND NOT r.deleted
    AND r.rid IN (SELECT x.rid FROM idx_reference x WHERE x.res_type = 'Observation' AND x.param = 'subject' AND x.target_id = $1 AND x.target_type = 'Patient')
    AND r.rid IN (SELECT d.rid FROM idx_date d WHERE d.res_type = 'Observation' AND d.param = 'date' AND d.high >= $2::timestamptz AND d.low <= $3::timestamptz)
  LIMIT $4`;
// The score stored last (scores are stored in time order, one patient at a time).
const PREVIOUS_SQL = `SELECT r.content FROM idx_reference x JOIN resources r ON r.rid = x.rid
  WHERE x.res_type = 'Observation' AND x.param = 'subject' AND x.target_id = $1 AND x.target_type = 'Patient' AND NOT r.deleted
    AND EXISTS (SELECT 1 FROM idx_token t WHERE t.rid = x.rid AND t.res_type = 'Observation' AND t.param = 'code' AND t.system = $2 AND t.code = $3)
  ORDER BY x.rid DESC LIMIT 1`;

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
  const id0 = patient.slice('Patient/'.length);
  // Its own SQL rather than a search: the planner chooses between the patient's Observations and
  // the window's (a search would always walk the patient's, all of them for a long-monitored
  // patient); pickNews2Inputs keeps the codes it reads.
  const observations = (await q.query<{ content: string }>(WINDOW_SQL, [id0, since, at, RECENT_READINGS]))
    .map((r) => JSON.parse(r.content) as Observation);
  const goals = await search('Goal', { subject: patient }, 100) as Goal[];
  const picked = pickNews2Inputs(observations, at, { windowMs, hypercapnicTarget: hasHypercapnicTarget([...goals, ...observations]) });
  const result = scoreNews2(picked.inputs);
  if (result.missing.length === 7) return; // nothing to score
  const [last] = await q.query<{ content: string }>(PREVIOUS_SQL, [id0, SNOMED, NEWS2_TOTAL_CODE], PREPARED);
  const previous = last && (JSON.parse(last.content) as Observation);
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
