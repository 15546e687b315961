// Scope-aware typing: a client created with a literal scope list shows only the resource types
// and interactions those scopes allow. Each `@ts-expect-error` below is a call that must NOT
// compile (the type-check of the tests, `npm run typecheck`, fails if it does); at run time the
// same calls reject with a clear MesError before any request, which plain JavaScript relies on.
import {
  creatableResourceTypes,
  createClient,
  fhirResourceTypes,
  type CreatableResourceType,
  MesError,
  scopesAllow,
  type AllowedTypes,
  type FhirResource,
  type FhirResourceType,
  type Immunization,
  type Observation,
} from '@mes/sdk';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { fakeFetch } from './helpers/fake-fetch.js';

const base = { issuer: 'https://mes.test.example', clientId: 'app-1', redirectUri: 'https://app.example/cb' } as const;

describe('scope-aware typing', () => {
  it('lists at run time exactly the resource types of the spec', () => {
    expectTypeOf<(typeof fhirResourceTypes)[number]>().toEqualTypeOf<FhirResourceType>();
    expectTypeOf<(typeof creatableResourceTypes)[number]>().toEqualTypeOf<CreatableResourceType>();
    expect(new Set(fhirResourceTypes).size).toBe(fhirResourceTypes.length);
  });

  it('derives the allowed types of each interaction from the scope strings', () => {
    type Scopes = ['patient/Immunization.rs', 'patient/Observation.cs?category=vital-signs', 'patient/Condition.read', 'offline_access'];
    expectTypeOf<AllowedTypes<Scopes, 'read'>>().toEqualTypeOf<'Immunization' | 'Condition'>();
    expectTypeOf<AllowedTypes<Scopes, 'search'>>().toEqualTypeOf<'Immunization' | 'Observation' | 'Condition'>();
    expectTypeOf<AllowedTypes<Scopes, 'create'>>().toEqualTypeOf<'Observation'>();
    // patient/*.rs reads everything; a plain string[] is not known at compile time: all types.
    expectTypeOf<AllowedTypes<['patient/*.rs'], 'read'>>().toEqualTypeOf<FhirResourceType>();
    expectTypeOf<AllowedTypes<string[], 'read'>>().toEqualTypeOf<FhirResourceType>();
    expectTypeOf<AllowedTypes<['launch/patient', 'openid'], 'read'>>().toBeNever();
  });

  it('types the answers per resource type', () => {
    const client = createClient({ ...base, scope: ['patient/Immunization.rs', 'patient/Observation.crs'] });
    // Checked by the compiler only: nobody signed in, so these calls are never made.
    const typesOnly = () => {
      expectTypeOf(client.fhir.read('Immunization', 'x')).resolves.toEqualTypeOf<Immunization>();
      expectTypeOf(client.fhir.search('Observation', { code: 'http://loinc.org|29463-7', _count: 10 })).resolves.toHaveProperty('items').toEqualTypeOf<Observation[]>();
    };
    expect(typesOnly).toBeTypeOf('function');
    expectTypeOf<FhirResource<'Observation'>>().toEqualTypeOf<Observation>();
  });

  it('does not compile calls outside the scopes, and refuses them at run time', async () => {
    const { fetch, requests } = fakeFetch();
    const client = createClient({ ...base, fetch, scope: ['patient/Immunization.rs', 'patient/Observation.cs'] });
    // @ts-expect-error Condition is not in the scopes
    await expect(client.fhir.read('Condition', 'c1')).rejects.toThrow(MesError);
    // @ts-expect-error Observation.cs has no read (r)
    await expect(client.fhir.read('Observation', 'o1')).rejects.toThrow(/read of Observation is outside this client's scopes/);
    // @ts-expect-error Immunization is read-only
    await expect(client.fhir.create('Immunization', { resourceType: 'Immunization' })).rejects.toThrow(MesError);
    // @ts-expect-error not a resource type of the API at all
    await expect(client.fhir.search('Practitioner')).rejects.toThrow(/not a resource type/);
    expect(requests).toHaveLength(0);
  });

  it('does not compile a create of a type the API never accepts creates of', async () => {
    const client = createClient({ ...base, fetch: fakeFetch().fetch, scope: ['patient/*.cruds'] });
    // @ts-expect-error the API takes creates of Observation and DocumentReference only
    await expect(client.fhir.create('Condition', {})).rejects.toThrow(/accepts creates of/);
    // @ts-expect-error an Observation needs its required fields
    await expect(client.fhir.create('Observation', { resourceType: 'Observation' })).rejects.toMatchObject({ reason: 'not_authorized' });
  });

  it('applies SMART v2 letters, v1 aliases, wildcards and granular scopes at run time', () => {
    expect(scopesAllow(['patient/Observation.rs?category=vital-signs'], 'Observation', 'search')).toBe(true);
    expect(scopesAllow(['patient/Observation.rs?category=vital-signs'], 'Observation', 'create')).toBe(false);
    expect(scopesAllow(['patient/Observation.read'], 'Observation', 'search')).toBe(true);
    expect(scopesAllow(['patient/Observation.write'], 'Observation', 'create')).toBe(true);
    expect(scopesAllow(['patient/*.r'], 'Condition', 'read')).toBe(true);
    expect(scopesAllow(['patient/*.r'], 'Condition', 'search')).toBe(false);
    expect(scopesAllow(['offline_access', 'launch/patient'], 'Patient', 'read')).toBe(false);
  });
});
