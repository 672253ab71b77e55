// Terminology-aware token search over HTTP (search.html#token, #modifiers): :in and :not-in value
// sets the server holds (explicit concepts, filters, whole systems, excludes, nested value sets,
// stored expansions), :below and :above in held code systems, the 400s for what cannot be
// evaluated, and _total=estimate. Expected results are worked out by hand from the fixtures.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fhir, fixtureMaker, sharedServer } from '../harness.js';

const run = randomUUID().slice(0, 8);
const tag = `urn:test|terminology-${run}`;
const ids: Record<string, string> = {};
// Code systems: colours (held; nested hierarchy), shapes (held; hierarchy by `parent` property),
// other (never stored, so only whole-system includes can use it).
const CS = `http://example.org/fhir/CodeSystem/colours-${run}`;
const SH = `http://example.org/fhir/CodeSystem/shapes-${run}`;
const OTHER = `http://example.org/fhir/CodeSystem/other-${run}`;
const LOINC = 'http://loinc.org';
const vs = (name: string): string => `http://example.org/fhir/ValueSet/${name}-${run}`;

async function search(base: string, query: string): Promise<string[]> {
  const res = await fhir(base, 'GET', `${query}&_tag=${encodeURIComponent(tag)}&_count=100`);
  assert.equal(res.status, 200, res.text);
  return ((res.body.entry ?? []) as any[]).filter((e) => e.search?.mode === 'match').map((e) => e.resource.id).sort();
}
const named = (...keys: string[]) => keys.map((k) => ids[k]).sort();
const q = encodeURIComponent;

async function rejected(base: string, query: string, pattern: RegExp): Promise<void> {
  const res = await fhir(base, 'GET', query);
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.resourceType, 'OperationOutcome');
  assert.match(res.body.issue[0].diagnostics, pattern);
}

describe('search: terminology modifiers', () => {
  before(async () => {
    const { base } = await sharedServer();
    const make = fixtureMaker(base, ids);
    const tagged = fixtureMaker(base, ids, { tag: [{ system: 'urn:test', code: `terminology-${run}` }] });
    // red > {crimson, scarlet > {vermilion}}, blue
    await make('colours', {
      resourceType: 'CodeSystem', url: CS, status: 'active', content: 'complete',
      concept: [
        { code: 'red', concept: [{ code: 'crimson' }, { code: 'scarlet', concept: [{ code: 'vermilion' }] }] },
        { code: 'blue' },
      ],
    });
    // shape > {circle, square}, declared through the `parent` property rather than nesting.
    await make('shapes', {
      resourceType: 'CodeSystem', url: SH, status: 'active', content: 'complete', hierarchyMeaning: 'is-a',
      property: [{ code: 'parent', uri: 'http://hl7.org/fhir/concept-properties#parent', type: 'code' }],
      concept: [
        { code: 'shape' },
        { code: 'circle', property: [{ code: 'parent', valueCode: 'shape' }] },
        { code: 'square', property: [{ code: 'parent', valueCode: 'shape' }] },
      ],
    });
    const valueSet = (key: string, body: Record<string, unknown>) => make(key, { resourceType: 'ValueSet', url: vs(key), status: 'active', ...body });
    await valueSet('explicit', { version: '1.0', compose: { include: [{ system: CS, concept: [{ code: 'crimson' }, { code: 'blue' }] }] } });
    await valueSet('isa', { compose: { include: [{ system: CS, filter: [{ property: 'concept', op: 'is-a', value: 'scarlet' }] }] } });
    await valueSet('descendent', { compose: { include: [{ system: CS, filter: [{ property: 'concept', op: 'descendent-of', value: 'red' }] }] } });
    await valueSet('isnota', { compose: { include: [{ system: CS, filter: [{ property: 'concept', op: 'is-not-a', value: 'scarlet' }] }] } });
    await valueSet('whole', { compose: { include: [{ system: OTHER }] } });
    await valueSet('wholeexcept', { compose: { include: [{ system: OTHER }], exclude: [{ system: OTHER, concept: [{ code: 'o2' }] }] } });
    await valueSet('exclude', {
      compose: {
        include: [{ system: CS, filter: [{ property: 'concept', op: 'is-a', value: 'red' }] }],
        exclude: [{ system: CS, concept: [{ code: 'scarlet' }] }],
      },
    });
    // The expansion wins over the compose (which would say red only).
    await valueSet('expanded', {
      compose: { include: [{ system: CS, concept: [{ code: 'red' }] }] },
      expansion: {
        timestamp: '2024-01-01T00:00:00Z',
        contains: [{ system: CS, code: 'blue' }, { abstract: true, display: 'group', contains: [{ system: LOINC, code: '8310-5' }] }],
      },
    });
    // explicit ∩ (is-a red) = crimson
    await valueSet('nested', { compose: { include: [{ valueSet: [vs('explicit'), vs('exclude')] }] } });
    await valueSet('shapes', { compose: { include: [{ system: SH, filter: [{ property: 'concept', op: 'is-a', value: 'shape' }] }] } });
    await valueSet('status', { compose: { include: [{ system: 'http://hl7.org/fhir/observation-status', concept: [{ code: 'final' }] }] } });
    await valueSet('cycle-a', { compose: { include: [{ valueSet: [vs('cycle-b')] }] } });
    await valueSet('cycle-b', { compose: { include: [{ valueSet: [vs('cycle-a')] }] } });
    await valueSet('unheldfilter', { compose: { include: [{ system: OTHER, filter: [{ property: 'concept', op: 'is-a', value: 'o1' }] }] } });
    await valueSet('regex', { compose: { include: [{ system: CS, filter: [{ property: 'concept', op: 'regex', value: 'r.*' }] }] } });

    await tagged('pA', { resourceType: 'Patient', name: [{ family: `TermA${run}` }] });
    await tagged('pB', { resourceType: 'Patient', name: [{ family: `TermB${run}` }] });
    const obs = (key: string, codings: [string, string][], status = 'preliminary', subject = ids.pB) => tagged(key, {
      resourceType: 'Observation', status, subject: { reference: `Patient/${subject}` },
      code: { coding: codings.map(([system, code]) => ({ system, code })) },
    });
    await obs('oRed', [[CS, 'red']], 'final');
    await obs('oCrimson', [[CS, 'crimson']]);
    await obs('oScarlet', [[CS, 'scarlet']], 'preliminary', ids.pA);
    await obs('oVermilion', [[CS, 'vermilion']], 'final');
    await obs('oBlue', [[CS, 'blue']], 'final');
    await obs('oOther1', [[OTHER, 'o1']]);
    await obs('oOther2', [[OTHER, 'o2']]);
    await obs('oLoinc', [[LOINC, '8310-5']]);
    await obs('oMixed', [[LOINC, '9999-9'], [CS, 'crimson']]);
    await obs('oCircle', [[SH, 'circle']]);
    await obs('oSquare', [[SH, 'square']]);
    const cond = (key: string, code?: [string, string]) => tagged(key, {
      resourceType: 'Condition', subject: { reference: `Patient/${ids.pA}` },
      ...(code ? { code: { coding: [{ system: code[0], code: code[1] }] } } : {}),
    });
    await cond('cRed', [CS, 'red']);
    await cond('cCrimson', [CS, 'crimson']);
    await cond('cNone');
    await tagged('dr', {
      resourceType: 'DiagnosticReport', status: 'final', code: { coding: [{ system: LOINC, code: '24323-8' }] },
      result: [{ reference: `Observation/${ids.oScarlet}` }],
    });
  });

  it(':in a value set of explicit concepts, by canonical URL, URL|version and ValueSet/id', async () => {
    const { base } = await sharedServer();
    const expected = named('oCrimson', 'oBlue', 'oMixed');
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('explicit'))}`), expected);
    assert.deepEqual(await search(base, `Observation?code:in=${q(`${vs('explicit')}|1.0`)}`), expected);
    assert.deepEqual(await search(base, `Observation?code:in=ValueSet/${ids.explicit}`), expected);
    assert.deepEqual(await search(base, `Observation?code:in=${q(`${base}/ValueSet/${ids.explicit}`)}`), expected);
  });

  it(':in value sets built from filters on a held code system', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('isa'))}`), named('oScarlet', 'oVermilion'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('descendent'))}`), named('oCrimson', 'oScarlet', 'oVermilion', 'oMixed'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('isnota'))}`), named('oRed', 'oCrimson', 'oBlue', 'oMixed'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('shapes'))}`), named('oCircle', 'oSquare'));
  });

  it(':in whole systems, excludes, stored expansions and nested value sets', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('whole'))}`), named('oOther1', 'oOther2'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('wholeexcept'))}`), named('oOther1'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('exclude'))}`), named('oRed', 'oCrimson', 'oVermilion', 'oMixed'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('expanded'))}`), named('oBlue', 'oLoinc'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('nested'))}`), named('oCrimson', 'oMixed'));
  });

  it(':in with comma-separated value sets is their union; combines with other parameters', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('isa'))},${q(vs('whole'))}`), named('oScarlet', 'oVermilion', 'oOther1', 'oOther2'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('exclude'))}&status=final`), named('oRed', 'oVermilion'));
    assert.deepEqual(await search(base, `Observation?code:in=${q(vs('exclude'))}&subject=Patient/${ids.pA}`), []);
    assert.deepEqual(await search(base, `Observation?code:below=${q(`${CS}|red`)}&code:not-in=${q(vs('isa'))}`), named('oRed', 'oCrimson', 'oMixed'));
    // Nested filters are resolved too: patients with an observation coded in the value set (only
    // oScarlet refers to pA).
    assert.deepEqual(await search(base, `Patient?_has:Observation:subject:code:in=${q(vs('explicit'))}`), named('pB'));
    assert.deepEqual(await search(base, `Patient?_has:Observation:subject:code:below=${q(`${CS}|scarlet`)}`), named('pA', 'pB'));
    assert.deepEqual(await search(base, `Patient?_has:Observation:subject:code:not-in=${q(vs('explicit'))}`), named('pA', 'pB'));
    assert.deepEqual(await search(base, `DiagnosticReport?result.code:in=${q(vs('isa'))}`), named('dr'));
    assert.deepEqual(await search(base, `DiagnosticReport?result.code:in=${q(vs('explicit'))}`), []);
  });

  it(':in matches primitive codes (indexed without a system) by code', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `Observation?status:in=${q(vs('status'))}`), named('oRed', 'oVermilion', 'oBlue'));
  });

  it(':not-in matches resources with no code in the value set, including those with no code at all', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(
      await search(base, `Observation?code:not-in=${q(vs('explicit'))}`),
      named('oRed', 'oScarlet', 'oVermilion', 'oOther1', 'oOther2', 'oLoinc', 'oCircle', 'oSquare'),
    );
    assert.deepEqual(await search(base, `Condition?code:not-in=${q(vs('explicit'))}`), named('cRed', 'cNone'));
    assert.deepEqual(await search(base, `Condition?code:not-in=${q(vs('explicit'))},${q(vs('isa'))}&code:not=${q(`${CS}|red`)}`), named('cNone'));
  });

  it(':below and :above follow the held code system hierarchy', async () => {
    const { base } = await sharedServer();
    assert.deepEqual(await search(base, `Observation?code:below=${q(`${CS}|red`)}`), named('oRed', 'oCrimson', 'oScarlet', 'oVermilion', 'oMixed'));
    assert.deepEqual(await search(base, `Observation?code:below=${q(`${CS}|scarlet`)}`), named('oScarlet', 'oVermilion'));
    assert.deepEqual(await search(base, `Observation?code:below=${q(`${CS}|scarlet`)},${q(`${CS}|blue`)}`), named('oScarlet', 'oVermilion', 'oBlue'));
    assert.deepEqual(await search(base, `Observation?code:above=${q(`${CS}|vermilion`)}`), named('oVermilion', 'oScarlet', 'oRed'));
    assert.deepEqual(await search(base, `Observation?code:above=${q(`${CS}|crimson`)}`), named('oCrimson', 'oRed', 'oMixed'));
    assert.deepEqual(await search(base, `Observation?code:below=${q(`${CS}|red`)}&status=final`), named('oRed', 'oVermilion'));
    assert.deepEqual(await search(base, `Observation?code:below=${q(`${SH}|shape`)}`), named('oCircle', 'oSquare'));
    assert.deepEqual(await search(base, `Observation?code:above=${q(`${SH}|circle`)}`), named('oCircle'));
    assert.deepEqual(await search(base, `Condition?code:below=${q(`${CS}|red`)}`), named('cRed', 'cCrimson'));
  });

  it('rejects what it cannot evaluate with 400', async () => {
    const { base } = await sharedServer();
    await rejected(base, `Observation?code:in=${q(vs('nosuch'))}`, /ValueSet .*nosuch.* is not held by this server/);
    await rejected(base, `Observation?code:in=${q(`${vs('explicit')}|2.0`)}`, /is not held by this server/);
    await rejected(base, 'Observation?code:in=ValueSet/no-such-value-set', /is not held by this server/);
    await rejected(base, `Observation?code:below=${q(`${OTHER}|o1`)}`, /code system .*other.* is not held by this server, so code:below cannot be evaluated/);
    await rejected(base, 'Observation?code:below=red', /needs system\|code/);
    await rejected(base, `Observation?code:above=${q(`${CS}|`)}`, /needs system\|code/);
    await rejected(base, `Observation?code:in=${q(vs('cycle-a'))}`, /includes itself/);
    await rejected(base, `Observation?code:in=${q(vs('unheldfilter'))}`, /code system .*other.* is not held by this server/);
    await rejected(base, `Observation?code:in=${q(vs('regex'))}`, /cannot evaluate/);
  });

  it('lists the modifiers in the CapabilityStatement', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'GET', 'metadata');
    const obs = (res.body.rest[0].resource as any[]).find((r) => r.type === 'Observation');
    const code = (obs.searchParam as any[]).find((p) => p.name === 'code');
    for (const m of [':in', ':not-in', ':above', ':below']) assert.ok(code.documentation.includes(m), code.documentation);
  });

  it('_total=estimate: exact when one page holds everything, else a non-negative integer', async () => {
    const { base } = await sharedServer();
    const total = async (query: string): Promise<unknown> => {
      const res = await fhir(base, 'GET', `${query}&_tag=${q(tag)}`);
      assert.equal(res.status, 200, res.text);
      return res.body.total;
    };
    assert.equal(await total('Observation?_total=estimate&_count=100'), 11);
    assert.equal(await total(`Observation?code:in=${q(vs('exclude'))}&_total=estimate&_count=100`), 4);
    const estimate = await total('Observation?_total=estimate&_count=2');
    assert.ok(Number.isInteger(estimate) && (estimate as number) >= 3, `estimate ${String(estimate)}`);
    assert.equal(await total('Observation?_total=accurate&_count=2'), 11);
  });
});
