// XML and JSON on the wire (http.html#mime-type, xml.html): requests in either, responses chosen
// by _format or Accept.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { fhir, sharedServer } from '../harness.js';

const patientXml = (family: string) => `<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <name>
    <family value="${family}"/>
    <given value="Ada"/>
    <given value="Marie"/>
  </name>
  <birthDate value="1990-05-06"/>
</Patient>`;

describe('FHIR XML', () => {
  it('creates from XML and reads back as JSON and as XML', async () => {
    const { base } = await sharedServer();
    const family = `Xml${randomUUID().slice(0, 8)}`;
    const created = await fhir(base, 'POST', 'Patient', patientXml(family), { 'content-type': 'application/fhir+xml' });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.resourceType, 'Patient');
    assert.equal(created.body.active, true);
    assert.deepEqual(created.body.name, [{ family, given: ['Ada', 'Marie'] }]);
    assert.equal(created.body.birthDate, '1990-05-06');

    const asXml = await fetch(`${base}/Patient/${created.body.id}?_format=xml`);
    assert.equal(asXml.status, 200);
    assert.match(asXml.headers.get('content-type') ?? '', /^application\/fhir\+xml/);
    const xml = await asXml.text();
    assert.match(xml, /^<Patient xmlns="http:\/\/hl7.org\/fhir">/);
    assert.ok(xml.includes(`<family value="${family}"/>`), xml);
    assert.ok(xml.includes('<versionId value="1"/>'), xml);

    const byAccept = await fetch(`${base}/Patient/${created.body.id}`, { headers: { accept: 'application/fhir+xml' } });
    assert.match(byAccept.headers.get('content-type') ?? '', /^application\/fhir\+xml/);
  });

  it('updates from XML and searches with an XML Bundle response', async () => {
    const { base } = await sharedServer();
    const id = `xml-${randomUUID()}`;
    const body = `<Patient xmlns="http://hl7.org/fhir"><id value="${id}"/><gender value="female"/></Patient>`;
    const put = await fhir(base, 'PUT', `Patient/${id}`, body, { 'content-type': 'application/fhir+xml' });
    assert.equal(put.status, 201, put.text);
    const search = await fetch(`${base}/Patient?_id=${id}`, { headers: { accept: 'application/fhir+xml' } });
    const xml = await search.text();
    assert.match(xml, /^<Bundle xmlns="http:\/\/hl7.org\/fhir">/);
    assert.ok(xml.includes('<type value="searchset"/>'), xml);
    assert.ok(xml.includes(`<id value="${id}"/>`), xml);
  });

  it('rejects malformed XML and DTDs with a 400 OperationOutcome (in XML when asked)', async () => {
    const { base } = await sharedServer();
    const bad = await fhir(base, 'POST', 'Patient', '<Patient xmlns="http://hl7.org/fhir"><active value="true">', { 'content-type': 'application/fhir+xml' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.resourceType, 'OperationOutcome');
    const dtd = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Patient xmlns="http://hl7.org/fhir"><gender value="&a;"/></Patient>';
    const res = await fetch(`${base}/Patient`, { method: 'POST', body: dtd, headers: { 'content-type': 'application/fhir+xml', accept: 'application/fhir+xml' } });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /^<OperationOutcome xmlns="http:\/\/hl7.org\/fhir">/);
  });
});
