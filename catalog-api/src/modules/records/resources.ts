// What the API knows of each resource type: its date (for `date` searches and sorting) and its
// search tokens (`name=value` strings, the same ones granular scopes name), computed from the
// resource itself. Pure functions: the repository stores their results beside the resource, the
// resource server compares scope filters with them.
import type { components } from '@mes/openapi';

type Schemas = components['schemas'];
export type FhirResourceType =
  | 'Patient'
  | 'Observation'
  | 'Immunization'
  | 'AllergyIntolerance'
  | 'Condition'
  | 'MedicationStatement'
  | 'DocumentReference'
  | 'Appointment'
  | 'Communication';
export type FhirResource =
  | Schemas['Patient']
  | Schemas['Observation']
  | Schemas['Immunization']
  | Schemas['AllergyIntolerance']
  | Schemas['Condition']
  | Schemas['MedicationStatement']
  | Schemas['DocumentReference']
  | Schemas['Appointment']
  | Schemas['Communication'];
type CodeableConcept = Schemas['FhirCodeableConcept'];

export const fhirResourceTypes: readonly FhirResourceType[] = [
  'Patient',
  'Observation',
  'Immunization',
  'AllergyIntolerance',
  'Condition',
  'MedicationStatement',
  'DocumentReference',
  'Appointment',
  'Communication',
];

/** Token search parameters of each type (besides `_id`), as the spec lists them. */
export const tokenParameters: Record<FhirResourceType, readonly string[]> = {
  Patient: [],
  Observation: ['category', 'code', 'status'],
  Immunization: ['vaccine-code', 'status'],
  AllergyIntolerance: ['category', 'code', 'clinical-status'],
  Condition: ['category', 'code', 'clinical-status'],
  MedicationStatement: ['code', 'status'],
  DocumentReference: ['type', 'status'],
  Appointment: ['status'],
  Communication: ['category', 'status'],
};

/**
 * Choice elements (`value[x]`) of each type in FHIR R4: `_elements` names them by their base name
 * (`value`), the resource holds them with their type (`valueQuantity`).
 */
export const choiceElements: Record<FhirResourceType, readonly string[]> = {
  Patient: ['deceased', 'multipleBirth'],
  Observation: ['effective', 'value'],
  Immunization: ['occurrence'],
  AllergyIntolerance: ['onset'],
  Condition: ['onset', 'abatement'],
  MedicationStatement: ['medication', 'effective'],
  DocumentReference: [],
  Appointment: [],
  Communication: [],
};

/** `code` and `system|code` for each coding: a search (or a scope) may name either. */
function conceptTokens(name: string, concept: CodeableConcept | undefined): string[] {
  return (concept?.coding ?? []).flatMap((coding) => [`${name}=${coding.code}`, ...(coding.system ? [`${name}=${coding.system}|${coding.code}`] : [])]);
}

const statusToken = (status: string | undefined) => (status ? [`status=${status}`] : []);

/** The search tokens of a resource, without repeats, in a stable order. */
export function searchTokens(resource: FhirResource): string[] {
  let tokens: string[];
  switch (resource.resourceType) {
    case 'Patient':
      tokens = [];
      break;
    case 'Observation':
      tokens = [...(resource.category ?? []).flatMap((c) => conceptTokens('category', c)), ...conceptTokens('code', resource.code), ...statusToken(resource.status)];
      break;
    case 'Immunization':
      tokens = [...conceptTokens('vaccine-code', resource.vaccineCode), ...statusToken(resource.status)];
      break;
    case 'AllergyIntolerance':
      tokens = [
        ...(resource.category ?? []).map((category) => `category=${category}`),
        ...conceptTokens('code', resource.code),
        ...conceptTokens('clinical-status', resource.clinicalStatus),
      ];
      break;
    case 'Condition':
      tokens = [
        ...(resource.category ?? []).flatMap((c) => conceptTokens('category', c)),
        ...conceptTokens('code', resource.code),
        ...conceptTokens('clinical-status', resource.clinicalStatus),
      ];
      break;
    case 'MedicationStatement':
      tokens = [...conceptTokens('code', resource.medicationCodeableConcept), ...statusToken(resource.status)];
      break;
    case 'DocumentReference':
      tokens = [...conceptTokens('type', resource.type), ...statusToken(resource.status)];
      break;
    case 'Appointment':
      tokens = statusToken(resource.status);
      break;
    case 'Communication':
      tokens = [...(resource.category ?? []).flatMap((c) => conceptTokens('category', c)), ...statusToken(resource.status)];
      break;
  }
  return [...new Set(tokens)];
}

/** The resource's own date, if it has one (the `date` search parameter). */
export function resourceDate(resource: FhirResource): string | undefined {
  switch (resource.resourceType) {
    case 'Patient':
      return undefined;
    case 'Observation':
      return resource.effectiveDateTime ?? resource.issued;
    case 'Immunization':
      return resource.occurrenceDateTime;
    case 'AllergyIntolerance':
      return resource.recordedDate ?? resource.onsetDateTime;
    case 'Condition':
      return resource.onsetDateTime ?? resource.recordedDate;
    case 'MedicationStatement':
      return resource.effectivePeriod?.start ?? resource.dateAsserted;
    case 'DocumentReference':
      return resource.date;
    case 'Appointment':
      return resource.start;
    case 'Communication':
      return resource.sent;
  }
}

/** The patient a resource is about (`Patient/<id>` of subject or patient; its own id for a Patient). */
export function compartmentOf(resource: FhirResource): string | undefined {
  let reference: string | undefined;
  switch (resource.resourceType) {
    case 'Patient':
      return resource.id;
    case 'Immunization':
    case 'AllergyIntolerance':
      reference = resource.patient?.reference;
      break;
    case 'Appointment':
      reference = resource.participant?.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference;
      break;
    default:
      reference = resource.subject?.reference;
  }
  return reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : undefined;
}

/**
 * The facts a granular scope is checked against, from the tokens: `{ category: ['vital-signs',
 * 'http://…|vital-signs'], … }`.
 */
export function factsOf(tokens: readonly string[]): Record<string, string[]> {
  const facts: Record<string, string[]> = {};
  for (const token of tokens) {
    const index = token.indexOf('=');
    (facts[token.slice(0, index)] ??= []).push(token.slice(index + 1));
  }
  return facts;
}

/** Folds a text for accent- and case-insensitive search ("Émilie" → "emilie"). */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** The picker's search text of a Patient: every name, folded. */
export function patientSearchText(resource: FhirResource): string | null {
  if (resource.resourceType !== 'Patient') return null;
  return fold((resource.name ?? []).map((name) => [...(name.given ?? []), name.family ?? ''].join(' ')).join(' ')).trim() || null;
}
