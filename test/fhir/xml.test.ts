// FHIR XML ⇄ JSON: hand-worked snippets (expected JSON written from the rules in xml.html/json.html),
// round trips of every official R4 example, the XML of the FHIRPath Patch suite, and hostile input.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../src/fhir/errors.js';
import { fhirJsonToXml, fhirXmlToJson } from '../../src/fhir/xml.js';

const EXAMPLES = new URL('../../../shared/data/fhir-r4-examples/', import.meta.url);
const PATCH_SUITE = new URL('../../../shared/data/fhir-test-cases/fhir-patch-r4/fhir-patch-tests.xml', import.meta.url);
const XHTML = 'http://www.w3.org/1999/xhtml';

function rejects400(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof FhirError && err.status === 400);
}

describe('FHIR XML → JSON', () => {
  it('reads primitives, shadows, extensions, narrative and contained resources', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<Patient xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://hl7.org/fhir p.xsd">
  <id value="p1"/>
  <meta><profile value="http://example.org/p"/></meta>
  <text><status value="generated"/><div xmlns="${XHTML}"><p>Tom &amp; &quot;Jerry&quot; &lt;3</p></div></text>
  <contained><Organization><id value="o1"/><name value="Acme"/></Organization></contained>
  <extension url="http://example.org/ext"><valueBoolean value="false"/></extension>
  <active value="true"/>
  <name id="n1">
    <family value="O&apos;Brien &amp; Sons"/>
    <given value="A"/>
    <given id="g2"><extension url="http://example.org/e"><valueCode value="x"/></extension></given>
    <given value="C"/>
  </name>
  <birthDate value="2000-01-01">
    <extension url="http://example.org/t"><valueDateTime value="2000-01-01T10:00:00Z"/></extension>
  </birthDate>
  <deceasedBoolean value="false"/>
  <multipleBirthInteger value="2"/>
  <managingOrganization><reference value="#o1"/></managingOrganization>
</Patient>`;
    assert.deepEqual(fhirXmlToJson(xml), {
      resourceType: 'Patient',
      id: 'p1',
      meta: { profile: ['http://example.org/p'] },
      text: { status: 'generated', div: `<div xmlns="${XHTML}"><p>Tom &amp; &quot;Jerry&quot; &lt;3</p></div>` },
      contained: [{ resourceType: 'Organization', id: 'o1', name: 'Acme' }],
      extension: [{ url: 'http://example.org/ext', valueBoolean: false }],
      active: true,
      name: [
        {
          id: 'n1',
          family: "O'Brien & Sons",
          given: ['A', null, 'C'],
          _given: [null, { id: 'g2', extension: [{ url: 'http://example.org/e', valueCode: 'x' }] }, null],
        },
      ],
      birthDate: '2000-01-01',
      _birthDate: { extension: [{ url: 'http://example.org/t', valueDateTime: '2000-01-01T10:00:00Z' }] },
      deceasedBoolean: false,
      multipleBirthInteger: 2,
      managingOrganization: { reference: '#o1' },
    });
  });

  it('converts numbers by primitive type and decodes character references', () => {
    const xml = `<Observation xmlns="http://hl7.org/fhir">
  <status value="final"/>
  <code><coding><system value="http://loinc.org"/><code value="8867-4"/></coding></code>
  <valueQuantity><value value="72.50"/><unit value="beats/min"/></valueQuantity>
  <component><code><text value="a"/></code><valueInteger value="-3"/></component>
  <component><code><text value="b"/></code><valueString value="line1&#10;line2&#x9;tab"/></component>
</Observation>`;
    assert.deepEqual(fhirXmlToJson(xml), {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      valueQuantity: { value: 72.5, unit: 'beats/min' },
      component: [
        { code: { text: 'a' }, valueInteger: -3 },
        { code: { text: 'b' }, valueString: 'line1\nline2\ttab' },
      ],
    });
  });

  it('unwraps nested resources and honours namespace prefixes', () => {
    const xml = `<f:Bundle xmlns:f="http://hl7.org/fhir">
  <f:type value="collection"/>
  <f:entry><f:fullUrl value="urn:uuid:1"/><f:resource><f:Parameters><f:parameter><f:name value="p"/>
    <f:resource><f:Patient><f:gender value="other"/></f:Patient></f:resource></f:parameter></f:Parameters></f:resource></f:entry>
</f:Bundle>`;
    assert.deepEqual(fhirXmlToJson(xml), {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'urn:uuid:1',
          resource: { resourceType: 'Parameters', parameter: [{ name: 'p', resource: { resourceType: 'Patient', gender: 'other' } }] },
        },
      ],
    });
  });

  it('rejects malformed, unknown or hostile documents with 400', () => {
    const fhir = (body: string): string => `<Patient xmlns="http://hl7.org/fhir">${body}</Patient>`;
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>' +
      '<Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>';
    const deep = fhir(`${'<extension url="x">'.repeat(1000)}<valueString value="v"/>${'</extension>'.repeat(1000)}`);
    for (const xml of [
      'not xml',
      '',
      fhir('<id value="x">'),
      laughs,
      '<Patient/>',
      '<Patient xmlns="http://example.org"/>',
      '<Foo xmlns="http://hl7.org/fhir"/>',
      '<DomainResource xmlns="http://hl7.org/fhir"/>',
      '<SubscriptionStatus xmlns="http://hl7.org/fhir"/>',
      '<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>',
      fhir('<colour value="red"/>'),
      fhir('<active value="true"/>hello'),
      fhir('<birthDate value="2000"/><birthDate value="2001"/>'),
      fhir('<deceasedBoolean value="true"/><deceasedDateTime value="2000"/>'),
      fhir('<active value="yes"/>'),
      fhir('<multipleBirthInteger value="1.5"/>'),
      fhir('<multipleBirthInteger value="99999999999999999999"/>'),
      fhir('<name><family value="a&nbsp;b"/></name>'),
      fhir('<name value="x"/>'),
      fhir('<gender/>'),
      fhir('<id value="a" colour="red"/>'),
      fhir('<text><status value="generated"/><div>in the FHIR namespace</div></text>'),
      fhir(`<text><status value="generated"/><div xmlns="${XHTML}">&nbsp;</div></text>`),
      fhir('<contained><Patient/><Patient/></contained>'),
      fhir('<contained><Foo/></contained>'),
      fhir('<__proto__ value="x"/>'),
      fhir('<constructor value="x"/>'),
      fhir('<x:active xmlns:x="http://example.org" value="true"/>'),
      deep,
    ]) {
      rejects400(() => fhirXmlToJson(xml));
    }
    assert.equal(({} as Record<string, unknown>).value, undefined);
  });
});

describe('FHIR JSON → XML', () => {
  it('writes elements in definition order with escaped attribute values', () => {
    const json = {
      resourceType: 'Patient',
      gender: 'male',
      _gender: { id: 'g' },
      name: [{ given: ['a'], family: 'b' }],
      id: 'x',
      active: true,
      extension: [{ valueString: '<&">\n', url: 'http://e' }],
    } as unknown as Resource;
    assert.equal(
      fhirJsonToXml(json),
      '<Patient xmlns="http://hl7.org/fhir"><id value="x"/><extension url="http://e"><valueString value="&lt;&amp;&quot;&gt;&#10;"/></extension>' +
        '<active value="true"/><name><family value="b"/><given value="a"/></name><gender id="g" value="male"/></Patient>',
    );
  });

  it('pretty-prints on request and adds the XHTML namespace to a div without one', () => {
    const json = { resourceType: 'Basic', text: { status: 'generated', div: '<div><p>x</p></div>' }, code: { text: 'c' } } as Resource;
    assert.equal(
      fhirJsonToXml(json, { pretty: true }),
      [
        '<Basic xmlns="http://hl7.org/fhir">',
        '  <text>',
        '    <status value="generated"/>',
        `    <div xmlns="${XHTML}"><p>x</p></div>`,
        '  </text>',
        '  <code>',
        '    <text value="c"/>',
        '  </code>',
        '</Basic>',
      ].join('\n'),
    );
  });

  it('rejects JSON that has no XML form with 400', () => {
    for (const json of [
      { resourceType: 'Foo' },
      { resourceType: 'Patient', colour: 'red' },
      { resourceType: 'Patient', active: 'yes' },
      { resourceType: 'Patient', birthDate: ['2000'] },
      { resourceType: 'Patient', name: { family: 'x' } },
      { resourceType: 'Patient', _gender: 'x' },
      { resourceType: 'Patient', _name: [{ id: 'x' }] },
      { resourceType: 'Patient', text: { status: 'generated', div: `<div xmlns="${XHTML}">x</div>`, _div: { id: 'd' } } },
      { resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2000' },
      { resourceType: 'Patient', multipleBirthInteger: 1.5 },
      { resourceType: 'Patient', name: [{ given: [null] }] },
      { resourceType: 'Patient', text: { status: 'generated', div: '<div><p>unclosed</div>' } },
      { resourceType: 'Patient', text: { status: 'generated', div: 'plain text' } },
      { resourceType: 'Patient', gender: 'ma\u0001le' },
      { resourceType: 'Patient', contained: [{ id: 'no-type' }] },
      JSON.parse('{"resourceType":"Patient","__proto__":{"x":1}}') as object,
    ]) {
      rejects400(() => fhirJsonToXml(json as Resource));
    }
  });
});

describe('FHIR XML round trip of the R4 examples', { skip: !existsSync(EXAMPLES) && 'shared examples not present' }, () => {
  const files = existsSync(EXAMPLES) ? readdirSync(EXAMPLES).filter((f) => f.endsWith('.json') && !f.startsWith('_')) : [];
  for (const file of files) {
    it(file, () => {
      const json = JSON.parse(readFileSync(new URL(file, EXAMPLES), 'utf8')) as Resource;
      assert.deepEqual(fhirXmlToJson(fhirJsonToXml(json)), json);
    });
  }
});

describe('FHIR XML of the FHIRPath Patch suite', { skip: !existsSync(PATCH_SUITE) && 'shared test cases not present' }, () => {
  it('parses every input, diff and output, and round-trips them', () => {
    const parser = new XMLParser({
      stopNodes: ['tests.case.input', 'tests.case.diff', 'tests.case.output'],
      isArray: (name) => name === 'case',
      ignoreAttributes: true,
      processEntities: false,
    });
    const suite = parser.parse(readFileSync(PATCH_SUITE, 'utf8')) as { tests: { case: Array<Record<string, unknown>> } };
    let parsed = 0;
    for (const c of suite.tests.case) {
      for (const part of ['input', 'diff', 'output']) {
        if (typeof c[part] !== 'string') continue;
        const json = fhirXmlToJson(c[part] as string);
        assert.deepEqual(fhirXmlToJson(fhirJsonToXml(json)), json);
        parsed++;
      }
    }
    assert.equal(parsed, 33 * 3 - 1);
  });
});
