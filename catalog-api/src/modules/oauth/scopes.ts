// SMART App Launch v2 scope grammar: parsing and canonical form. The authorization server builds
// its scope algebra (intersection, subset) on these parsed scopes.

/** FHIR resource types the patient-data API serves. */
export const resourceTypes = [
  'Patient',
  'DocumentReference',
  'AllergyIntolerance',
  'Immunization',
  'MedicationStatement',
  'Condition',
  'Observation',
  'Appointment',
] as const;

/** Scopes that are not resource scopes. */
export const contextScopes = ['launch/patient', 'offline_access', 'openid', 'fhirUser'] as const;

const v1Aliases: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
const interactionOrder = 'cruds';

export type ResourceType = (typeof resourceTypes)[number];
export type ContextScope = (typeof contextScopes)[number];

export type ParsedScope =
  | { kind: 'context'; scope: ContextScope }
  | {
      kind: 'resource';
      compartment: 'patient';
      resourceType: ResourceType | '*';
      /** Interactions in canonical order, a subset of `cruds`. */
      interactions: string;
      /** Granular search parameters, e.g. `category=vital-signs`. */
      parameters: [string, string][];
    };

export type ScopeParseResult = { ok: true; scope: ParsedScope; canonical: string } | { ok: false; reason: string };

const resourceScope = /^(patient|user|system)\/([A-Za-z*]+)\.([a-z*]+)(?:\?(.+))?$/;
const granularParameter = /^([a-z][a-z0-9_-]*(?::[a-z]+)?)=([A-Za-z0-9._:|/-]+)$/;

/** Parses one scope string; v1 forms are accepted and returned in their v2 canonical form. */
export function parseScope(input: string): ScopeParseResult {
  if ((contextScopes as readonly string[]).includes(input)) {
    return { ok: true, scope: { kind: 'context', scope: input as ContextScope }, canonical: input };
  }
  const match = resourceScope.exec(input);
  if (!match) return { ok: false, reason: 'not a SMART scope (expected e.g. patient/Observation.rs, launch/patient, offline_access)' };
  const [, compartment, type, rawInteractions, query] = match as unknown as [string, string, string, string, string | undefined];
  if (compartment !== 'patient') return { ok: false, reason: `only patient/ scopes are offered to apps, not ${compartment}/` };
  if (type !== '*' && !(resourceTypes as readonly string[]).includes(type)) {
    return { ok: false, reason: `unsupported resource type ${type} (supported: ${resourceTypes.join(', ')})` };
  }
  const interactions = v1Aliases[rawInteractions] ?? rawInteractions;
  let last = -1;
  for (const letter of interactions) {
    const position = interactionOrder.indexOf(letter);
    if (position <= last) {
      return { ok: false, reason: `interactions must be a subset of "cruds" in that order, got "${rawInteractions}"` };
    }
    last = position;
  }
  const parameters: [string, string][] = [];
  if (query !== undefined) {
    for (const pair of query.split('&')) {
      const parameter = granularParameter.exec(pair);
      if (!parameter) return { ok: false, reason: `malformed search parameter "${pair}"` };
      parameters.push([parameter[1]!, parameter[2]!]);
    }
  }
  const canonical = `patient/${type}.${interactions}${query !== undefined ? `?${query}` : ''}`;
  return {
    ok: true,
    scope: { kind: 'resource', compartment: 'patient', resourceType: type as ResourceType | '*', interactions, parameters },
    canonical,
  };
}
