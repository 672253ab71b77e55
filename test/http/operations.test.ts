// capabilities, $validate, _summary/_elements/_pretty, and the operational endpoints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

describe('capabilities', () => {
  it('describes every resource type with the interactions and conditional support implemented', async () => {
    const { base } = await sharedServer();
    const res = await fhir(base, 'GET', 'metadata');
    assert.equal(res.status, 200);
    assert.equal(res.body.resourceType, 'CapabilityStatement');
    assert.equal(res.body.fhirVersion, '4.0.1');
    const rest = res.body.rest[0];
    assert.deepEqual(rest.interaction.map((i: any) => i.code).sort(), ['batch', 'history-system', 'search-system', 'transaction']);
    assert.equal(rest.resource.length, 146);
    const obs = rest.resource.find((r: any) => r.type === 'Observation');
    assert.deepEqual(obs.interaction.map((i: any) => i.code).sort(),
      ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread']);
    assert.equal(obs.conditionalCreate, true);
    assert.equal(obs.conditionalUpdate, true);
    assert.equal(obs.conditionalDelete, 'multiple');
    assert.equal(obs.versioning, 'versioned-update');
    assert.ok(obs.searchParam.some((p: any) => p.name === 'code' && p.type === 'token'));
    assert.ok(obs.operation.some((o: any) => o.name === 'validate'));
  });
});

describe('$validate', () => {
  it('reports errors for an invalid resource and success for a valid one', async () => {
    const { base } = await sharedServer();
    const bad = await fhir(base, 'POST', 'Observation/$validate', { resourceType: 'Observation', code: { text: 'x' } });
    assert.equal(bad.status, 200);
    assert.ok(bad.body.issue.some((i: any) => i.severity === 'error'));
    const good = await fhir(base, 'POST', 'Observation/$validate', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    assert.equal(good.status, 200);
    assert.ok(!good.body.issue.some((i: any) => i.severity === 'error'), JSON.stringify(good.body));
  });

  it('accepts a Parameters body with mode and profile', async () => {
    const { base } = await sharedServer();
    const hr = {
      resourceType: 'Observation', status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '9279-1' }] }, // respiratory rate, not heart rate
      subject: { reference: 'Patient/p' }, effectiveDateTime: '2024-01-01',
      valueQuantity: { value: 60, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    };
    const res = await fhir(base, 'POST', 'Observation/$validate', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: hr },
        { name: 'mode', valueCode: 'create' },
        { name: 'profile', valueUri: 'http://hl7.org/fhir/StructureDefinition/heartrate' },
      ],
    });
    assert.equal(res.status, 200);
    assert.ok(res.body.issue.some((i: any) => i.severity === 'error'), JSON.stringify(res.body));
    const badMode = await fhir(base, 'POST', 'Observation/$validate', { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'explode' }] });
    assert.equal(badMode.status, 400);
  });
});

describe('_summary, _elements, _pretty', () => {
  it('subsets a read and marks it SUBSETTED', async () => {
    const { base } = await sharedServer();
    const created = await fhir(base, 'POST', 'Patient', {
      resourceType: 'Patient', gender: 'female', birthDate: '1980-02-03',
      name: [{ family: 'Summary' }], photo: [{ contentType: 'image/png', data: 'AAAA' }],
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' },
    });
    const id = created.body.id;
    const summary = (await fhir(base, 'GET', `Patient/${id}?_summary=true`)).body;
    assert.equal(summary.gender, 'female');
    assert.equal(summary.photo, undefined); // Patient.photo is not a summary element
    assert.equal(summary.text, undefined);
    assert.ok(summary.meta.tag.some((t: any) => t.code === 'SUBSETTED'));
    const elements = (await fhir(base, 'GET', `Patient/${id}?_elements=birthDate`)).body;
    assert.deepEqual(Object.keys(elements).sort(), ['birthDate', 'id', 'meta', 'resourceType']);
    const data = (await fhir(base, 'GET', `Patient/${id}?_summary=data`)).body;
    assert.equal(data.text, undefined);
    assert.equal(data.photo.length, 1);
    const pretty = await fhir(base, 'GET', `Patient/${id}?_pretty=true`);
    assert.match(pretty.text, /\n  "resourceType": "Patient"/);
  });
});

describe('operational endpoints', () => {
  it('serves /healthz, /readyz and Prometheus /metrics with interaction labels', async () => {
    const { root, base } = await sharedServer();
    assert.equal((await fetch(`${root}/healthz`)).status, 200);
    const ready = await fetch(`${root}/readyz`);
    assert.equal(ready.status, 200);
    await fhir(base, 'GET', 'metadata');
    const metrics = await (await fetch(`${root}/metrics`)).text();
    assert.match(metrics, /helix_http_requests_total\{interaction="capabilities",resource_type="",status="200"\}/);
    assert.match(metrics, /helix_http_request_duration_seconds_bucket/);
  });

  it('echoes or assigns X-Request-Id', async () => {
    const { base } = await sharedServer();
    const res = await fetch(`${base}/metadata`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
    const res2 = await fetch(`${base}/metadata`);
    assert.match(res2.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});
