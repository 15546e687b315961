// The CapabilityStatement of `GET /fhir/metadata`, built from the spec's FHIR operations so that
// it lists exactly what the server routes: each type with its interactions and search
// parameters, and the SMART `oauth-uris` extension pointing at the authorization server.
import type { components } from '@mes/openapi';
import { loadSpec, operations, type JsonObject } from '../../core/spec.js';
import { topicUrls } from '../notifications/index.js';

type CapabilityStatement = components['schemas']['CapabilityStatement'];

/** Result parameters: they shape the answer, they are not search parameters of a type. */
const resultParameters = new Set(['_count', '_sort', '_cursor', '_format', '_summary', '_total', '_elements']);

function parameterType(name: string): string {
  if (name === 'date' || name === 'sent' || name === '_lastUpdated') return 'date';
  if (name === 'patient') return 'reference';
  return 'token';
}

type ConditionalRead = 'not-supported' | 'modified-since' | 'not-match' | 'full-support';

/** What a read honours, from the conditional headers the spec gives it. */
function conditionalRead(headers: JsonObject | undefined): ConditionalRead {
  const names = Object.keys((headers?.properties ?? {}) as JsonObject);
  const match = names.includes('if-none-match');
  const since = names.includes('if-modified-since');
  return match && since ? 'full-support' : match ? 'not-match' : since ? 'modified-since' : 'not-supported';
}

let described: { type: string; interactions: string[]; parameters: string[]; conditionalRead: ConditionalRead | undefined }[] | undefined;

/** What the spec says of each FHIR type, read once. */
function resources() {
  if (described) return described;
  const byType = new Map<string, { interactions: Set<string>; parameters: Set<string>; conditionalRead?: ConditionalRead }>();
  const spec = loadSpec();
  for (const operation of operations(spec)) {
    const match = /^\/fhir\/([A-Z][A-Za-z]+)(\/\{id\})?$/.exec(operation.path);
    if (!match) continue;
    const entry = byType.get(match[1]!) ?? { interactions: new Set<string>(), parameters: new Set<string>() };
    byType.set(match[1]!, entry);
    const instance = { GET: 'read', PUT: 'update', DELETE: 'delete' }[operation.method as string] ?? 'read';
    entry.interactions.add(match[2] ? instance : operation.method === 'POST' ? 'create' : 'search-type');
    if (match[2] && operation.method === 'GET') entry.conditionalRead = conditionalRead(operation.schema.headers);
    const querystring = operation.schema.querystring?.properties as Record<string, JsonObject> | undefined;
    for (const name of Object.keys(querystring ?? {})) if (!resultParameters.has(name)) entry.parameters.add(name);
  }
  described = [...byType].map(([type, entry]) => ({
    type,
    interactions: [...entry.interactions].sort(),
    parameters: [...entry.parameters].sort(),
    conditionalRead: entry.conditionalRead,
  }));
  return described;
}

export function capabilityStatement(issuer: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-01',
    publisher: 'Mon espace santé — plateforme des applications',
    kind: 'instance',
    software: { name: 'mes-platform', version: '0.1.0' },
    implementation: { description: 'API des données de santé du patient (FHIR R4)', url: `${issuer}/fhir` },
    fhirVersion: '4.0.1',
    // JSON only: `_format` and `Accept` asking for XML answer 406.
    format: ['json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [
                { url: 'authorize', valueUri: `${issuer}/oauth/authorize` },
                { url: 'token', valueUri: `${issuer}/oauth/token` },
                { url: 'revoke', valueUri: `${issuer}/oauth/revoke` },
                { url: 'introspect', valueUri: `${issuer}/oauth/introspect` },
                { url: 'manage', valueUri: `${issuer}/patient/apps` },
              ],
            },
          ],
          description: 'SMART App Launch v2 : jetons d’accès JWT liés par DPoP (RFC 9449), un patient par jeton, portées patient/<Type>.<cruds> (granulaires acceptées).',
        },
        resource: resources().map((resource) => ({
          type: resource.type,
          // Each resource carries its versionId (also its ETag); an update makes the next one, and
          // `If-Match` makes it conditional on the version the app read.
          versioning: 'versioned',
          ...(resource.interactions.includes('update') ? { updateCreate: false } : {}),
          ...(resource.conditionalRead ? { conditionalRead: resource.conditionalRead } : {}),
          // The topics apps may subscribe to (Subscriptions R5 Backport IG).
          ...(resource.type === 'Subscription'
            ? { extension: topicUrls(`${issuer}/fhir`).map((valueCanonical) => ({ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical', valueCanonical })) }
            : {}),
          interaction: resource.interactions.map((code) => ({ code })),
          searchParam: resource.parameters.map((name) => ({ name, type: parameterType(name) })),
        })),
      },
    ],
  };
}
