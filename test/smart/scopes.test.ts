import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { covers, grantFor, narrowScopes, parseResourceScope, parseScopes, type ResourceScope } from '../../src/smart/scopes.js';

const scope = (text: string): ResourceScope => {
  const s = parseResourceScope(text);
  assert.ok(s, `${text} should parse`);
  return s;
};
const perms = (text: string): string => [...scope(text).permissions].sort().join('');

describe('SMART scopes', () => {
  it('reads v1 actions as their v2 equivalents (read = rs, write = cud, * = cruds)', () => {
    assert.equal(perms('patient/Observation.read'), 'rs');
    assert.equal(perms('user/*.write'), 'cdu');
    assert.equal(perms('system/Patient.*'), 'cdrsu');
    assert.equal(scope('patient/Observation.read').version, 1);
    assert.equal(scope('patient/Observation.rs').version, 2);
  });

  it('accepts v2 permissions only as an ordered subset of cruds', () => {
    assert.equal(perms('user/Patient.cruds'), 'cdrsu');
    assert.equal(perms('patient/Condition.cud'), 'cdu');
    for (const bad of ['patient/Observation.sr', 'patient/Observation.rr', 'patient/Observation.x', 'patient/Observation.', 'doctor/Observation.rs',
      'patient/observation.rs', 'patient/Observation.read?category=x', 'patient/Observation.rs?']) {
      assert.equal(parseResourceScope(bad), undefined, bad);
    }
  });

  it('keeps granular query constraints', () => {
    const s = scope('patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs');
    assert.equal(s.query?.get('category'), 'http://terminology.hl7.org/CodeSystem/observation-category|vital-signs');
  });

  it('sorts a scope string into clinical, launch and identity scopes, keeping the unknown ones', () => {
    const s = parseScopes('launch launch/patient openid fhirUser offline_access patient/*.rs user/Encounter.read banana  launch/encounter');
    assert.deepEqual(s.launch, { ehr: true, patient: true, encounter: true });
    assert.ok(s.openid && s.fhirUser && s.offlineAccess && !s.onlineAccess && !s.profile);
    assert.deepEqual(s.resources.map((r) => r.text), ['patient/*.rs', 'user/Encounter.read']);
    assert.deepEqual(s.unknown, ['banana']);
  });

  it('grants per context, with constraints ORed and an unconstrained scope winning', () => {
    const { resources } = parseScopes([
      'patient/Observation.rs?category=vital-signs', 'patient/Observation.rs?category=laboratory', 'user/*.r', 'user/Patient.s',
    ].join(' '));
    const search = grantFor(resources, 'Observation', 's');
    assert.deepEqual([...search.contexts], ['patient']);
    assert.deepEqual(search.constraints.get('patient')?.map((q) => q?.get('category')), ['vital-signs', 'laboratory']);
    const read = grantFor(resources, 'Observation', 'r');
    assert.deepEqual([...read.contexts].sort(), ['patient', 'user']);
    assert.deepEqual(read.constraints.get('user'), [null]);
    assert.deepEqual([...grantFor(resources, 'Observation', 'c').contexts], []);
    assert.deepEqual([...grantFor(resources, 'Patient', 's').contexts], ['user']);
    const widened = grantFor(parseScopes('patient/Observation.rs?category=a patient/Observation.rs').resources, 'Observation', 'r');
    assert.deepEqual(widened.constraints.get('patient'), [null]);
  });

  it('covers only requests within the grant', () => {
    assert.ok(covers(scope('user/*.cruds'), scope('user/Patient.rs')));
    assert.ok(covers(scope('patient/Observation.read'), scope('patient/Observation.rs')));
    assert.ok(!covers(scope('patient/Observation.rs'), scope('user/Observation.rs')));
    assert.ok(!covers(scope('patient/Observation.rs'), scope('patient/Observation.cruds')));
    assert.ok(!covers(scope('patient/Observation.rs'), scope('patient/*.rs')));
    assert.ok(covers(scope('patient/Observation.rs?category=a'), scope('patient/Observation.r?category=a&code=x')));
    assert.ok(!covers(scope('patient/Observation.rs?category=a'), scope('patient/Observation.rs')));
    assert.ok(!covers(scope('patient/Observation.rs?category=a'), scope('patient/Observation.rs?category=b')));
  });

  it('narrows on refresh and never widens', () => {
    const granted = 'openid fhirUser offline_access patient/*.rs launch/patient';
    assert.deepEqual(narrowScopes(granted, 'patient/Observation.rs openid'), { scope: 'patient/Observation.rs openid', refused: [] });
    assert.deepEqual(narrowScopes(granted, 'patient/Observation.cruds user/*.rs profile'), {
      scope: '', refused: ['patient/Observation.cruds', 'user/*.rs', 'profile'],
    });
  });
});
