// FHIR test helpers: a patient's small record written straight to the store, an app with a
// DPoP-bound token for one patient (obtained through the real authorization flow of the sandbox),
// and requests to the FHIR API with a fresh proof each time.
import { decodeJwt } from 'jose';
import { insertGuardianships, insertResources, type NewResource } from '../src/modules/records/index.js';
import { systems } from '../src/modules/records/vocabulary.js';
import { appInput, call, registerPublisher } from './helpers.js';
import { form, newKeys, pkce, postForm, resourceProof, type Keys } from './oauth-helpers.js';
import type { TestServer } from '../src/testing.js';

const loinc = (code: string, display: string) => ({ coding: [{ system: systems.loinc, code, display }] });
const category = (code: string) => [{ coding: [{ system: systems.observationCategory, code }] }];
const quantity = (value: number, code: string) => ({ value, unit: code, system: systems.ucum, code });

/** A small record: vital signs on five days, two lab results, vaccines, an allergy, a condition, a treatment, a document, an appointment. */
export function sampleRecord(patientId: string, options: { family?: string; given?: string; birthDate?: string } = {}): NewResource[] {
  const subject = { reference: `Patient/${patientId}` };
  const item = (id: string, resource: NewResource['resource']): NewResource => ({ patientId, id: `${patientId}-${id}`, resource });
  const weights = [71.2, 70.8, 70.5, 70.9, 70.1].map((value, i) =>
    item(`weight-${i + 1}`, {
      resourceType: 'Observation',
      status: 'final',
      category: category('vital-signs'),
      code: loinc('29463-7', 'Poids'),
      subject,
      effectiveDateTime: `2026-0${i + 1}-15T08:00:00Z`,
      valueQuantity: quantity(value, 'kg'),
    }),
  );
  // The Patient resource's id is the patient's id, as in the synthetic records (fhirUser names it).
  const patient: NewResource = {
    patientId,
    id: patientId,
    resource: {
      resourceType: 'Patient',
      identifier: [{ use: 'official', system: systems.ins, value: `2${patientId.length}0000000000000` }],
      name: [{ use: 'official', family: options.family ?? 'Martin', given: [options.given ?? 'Claire'] }],
      gender: 'female',
      birthDate: options.birthDate ?? '1980-05-04',
    },
  };
  return [
    patient,
    ...weights,
    item('bp-1', {
      resourceType: 'Observation',
      status: 'final',
      category: category('vital-signs'),
      code: loinc('85354-9', 'Pression artérielle'),
      subject,
      effectiveDateTime: '2026-03-01T07:30:00Z',
      component: [
        { code: loinc('8480-6', 'Systolique'), valueQuantity: quantity(128, 'mm[Hg]') },
        { code: loinc('8462-4', 'Diastolique'), valueQuantity: quantity(82, 'mm[Hg]') },
      ],
    }),
    item('hba1c-1', {
      resourceType: 'Observation',
      status: 'final',
      category: category('laboratory'),
      code: loinc('4548-4', 'HbA1c'),
      subject,
      effectiveDateTime: '2026-02-10T09:00:00Z',
      valueQuantity: quantity(6.1, '%'),
    }),
    item('cholesterol-1', {
      resourceType: 'Observation',
      status: 'final',
      category: category('laboratory'),
      code: loinc('2093-3', 'Cholestérol total'),
      subject,
      effectiveDateTime: '2026-04-10T09:00:00Z',
      valueQuantity: quantity(190, 'mg/dL'),
    }),
    item('vaccine-1', {
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: { coding: [{ system: systems.atc, code: 'J07CA01', display: 'dTP' }] },
      patient: subject,
      occurrenceDateTime: '2025-06-01T10:00:00Z',
    }),
    item('vaccine-2', {
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: { coding: [{ system: systems.atc, code: 'J07BB02', display: 'Grippe' }] },
      patient: subject,
      occurrenceDateTime: '2025-10-20T10:00:00Z',
    }),
    item('allergy-1', {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: systems.allergyClinical, code: 'active' }] },
      category: ['medication'],
      criticality: 'high',
      code: { coding: [{ system: systems.snomed, code: '91936005', display: 'Allergie à la pénicilline' }] },
      patient: subject,
      recordedDate: '2010-03-01T00:00:00Z',
    }),
    item('condition-1', {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: systems.conditionClinical, code: 'active' }] },
      category: [{ coding: [{ system: systems.conditionCategory, code: 'problem-list-item' }] }],
      code: { coding: [{ system: systems.icd10, code: 'I10', display: 'Hypertension artérielle essentielle' }] },
      subject,
      onsetDateTime: '2019-09-01T00:00:00Z',
    }),
    item('medication-1', {
      resourceType: 'MedicationStatement',
      status: 'active',
      medicationCodeableConcept: { coding: [{ system: systems.atc, code: 'C09AA05', display: 'Ramipril 5 mg' }] },
      subject,
      effectivePeriod: { start: '2019-09-15T00:00:00Z' },
      dosage: [{ text: '1 comprimé le matin' }],
    }),
    item('document-1', {
      resourceType: 'DocumentReference',
      status: 'current',
      type: loinc('11488-4', 'Compte rendu de consultation'),
      subject,
      date: '2026-03-02T11:00:00Z',
      content: [{ attachment: { contentType: 'application/pdf', data: Buffer.from('%PDF-1.4\n%test\n').toString('base64'), title: 'Consultation' } }],
    }),
    item('appointment-1', {
      resourceType: 'Appointment',
      status: 'booked',
      description: 'Consultation de suivi',
      start: '2026-12-10T09:00:00Z',
      end: '2026-12-10T09:20:00Z',
      participant: [{ actor: subject, status: 'accepted' }, { actor: { display: 'Dr Lefèvre' }, status: 'accepted' }],
    }),
  ];
}

/** A heart-rate measurement as an app posts it, with `overrides` merged over it. */
export function heartRate(value: number, effectiveDateTime: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: category('vital-signs'),
    code: loinc('8867-4', 'Fréquence cardiaque'),
    effectiveDateTime,
    valueQuantity: { value, unit: 'battements/min', system: systems.ucum, code: '/min' },
    ...overrides,
  };
}

export async function seedRecord(server: TestServer, patientId: string, options?: Parameters<typeof sampleRecord>[1]): Promise<NewResource[]> {
  const record = sampleRecord(patientId, options);
  await insertResources(server.app.db, record);
  return record;
}

export async function seedGuardianship(server: TestServer, guardianId: string, childId: string, validUntil: string | null): Promise<void> {
  await insertGuardianships(server.app.db, [{ guardianId, childId, relationship: 'MTH', validUntil }]);
}

export interface PatientSession {
  token: string;
  keys: Keys;
  grantId: string;
  clientId: string;
  appId: string;
  scope: string;
}

const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';

/** Every patient-data scope an app can ask for: read and search all, create measurements and documents. */
export const ALL_PATIENT_SCOPES = [
  'patient/Patient.rs',
  'patient/Observation.crs',
  'patient/Immunization.rs',
  'patient/AllergyIntolerance.rs',
  'patient/Condition.rs',
  'patient/MedicationStatement.rs',
  'patient/DocumentReference.crs',
  'patient/Appointment.crus',
  'patient/Communication.crs',
];

/**
 * An app (registered for `appScopes`, default: what is asked) with a token for `patient`,
 * through the sandbox's authorization flow: authorize with login_hint, code exchange with DPoP.
 */
export async function patientToken(server: TestServer, patient: string, scope: string, appScopes: string[] = scope.split(' ')): Promise<PatientSession> {
  const publisher = await registerPublisher(server);
  const app = await call(server, 'POST', '/apps', {
    key: publisher.key,
    body: appInput({ redirectUris: [redirectUri], scopes: appScopes.map((s) => ({ scope: s, justification: 'Pour les tests.' })) }),
  });
  if (app.status !== 201) throw new Error(`app creation failed: ${JSON.stringify(app.body)}`);
  const [client] = (await call(server, 'GET', `/apps/${app.body.id}/clients`, { key: publisher.key })).body.items;
  const { verifier, challenge } = pkce();
  const authorize = await fetch(
    `${server.url}/oauth/authorize?${form({ client_id: client.clientId, response_type: 'code', redirect_uri: redirectUri, scope, code_challenge: challenge, code_challenge_method: 'S256', login_hint: patient })}`,
    { redirect: 'manual' },
  );
  const location = new URL(authorize.headers.get('location')!);
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`authorization failed: ${location}`);
  const keys = await newKeys();
  const tokens = await postForm(server.url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: client.clientId, code, code_verifier: verifier, redirect_uri: redirectUri }), keys);
  if (tokens.status !== 200) throw new Error(`token failed: ${JSON.stringify(tokens.body)}`);
  return {
    token: tokens.body.access_token,
    keys,
    grantId: decodeJwt(tokens.body.access_token).grant_id as string,
    clientId: client.clientId,
    appId: app.body.id,
    scope: tokens.body.scope,
  };
}

export interface FhirResult {
  status: number;
  headers: Headers;
  body: any;
}

/** A request to the FHIR API with the session's token and a fresh DPoP proof. */
export async function fhirRequest(
  server: TestServer,
  session: Pick<PatientSession, 'token' | 'keys'>,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<FhirResult> {
  const url = path.startsWith('http') ? path : `${server.url}${path}`;
  const htu = url.split('?')[0]!;
  const headers: Record<string, string> = {
    authorization: `DPoP ${session.token}`,
    dpop: await resourceProof(session.keys, { method, url: htu, accessToken: session.token }),
    ...options.headers,
  };
  let body: string | undefined;
  if (options.raw !== undefined || options.body !== undefined) {
    body = options.raw ?? JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/fhir+json';
  }
  const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Every resource of a search, following `next` links. */
export async function searchAll(server: TestServer, session: Pick<PatientSession, 'token' | 'keys'>, path: string): Promise<{ pages: FhirResult[]; resources: any[] }> {
  const pages: FhirResult[] = [];
  let next: string | undefined = path;
  while (next) {
    const page = await fhirRequest(server, session, 'GET', next);
    if (page.status !== 200) throw new Error(`search page answered ${page.status}: ${JSON.stringify(page.body)}`);
    pages.push(page);
    next = page.body.link.find((link: { relation: string }) => link.relation === 'next')?.url;
    if (pages.length > 100) throw new Error('too many pages');
  }
  // A page without results has no entry (FHIR JSON has no empty arrays).
  return { pages, resources: pages.flatMap((page) => (page.body.entry ?? []).map((entry: { resource: unknown }) => entry.resource)) };
}
