// The scope module of the authorization server: grammar, canonical form, and algebra. The algebra
// is checked against a brute-force model: a small universe of resources (every type, plus one
// "future" type that only `*` reaches) with every combination of the search-parameter values the
// test scopes use and one value none of them use, each resource having one value per parameter.
// In that model the algebra is exact, so intersect must give exactly the pointwise intersection,
// isSubset exactly the pointwise inclusion, and access exactly what the scopes grant.
import { describe, expect, it } from 'vitest';
import {
  access,
  allows,
  contextScopes,
  emptyScopeSet,
  equalScopes,
  formatScope,
  formatScopes,
  grantedScopes,
  hasScope,
  interactions,
  intersect,
  isEmptyScopeSet,
  isSubset,
  MAX_SCOPE_TOKEN_LENGTH,
  MAX_SCOPE_TOKENS,
  parseScope,
  parseScopeString,
  platformScopes,
  resourceTypes,
  scopeSet,
  type AnyParsedScope,
  type Interaction,
  type ResourceType,
  type ScopeErrorCode,
  type ScopeSet,
} from '../src/modules/oauth/scopes.js';

/** Parses a scope string that must be valid (any purpose); '' is the empty set. */
function set(input: string): ScopeSet {
  if (input === '') return emptyScopeSet;
  const parsed = parseScopeString(input, { purpose: 'any' });
  if (!parsed.ok) throw new Error(`test fixture ${input}: ${JSON.stringify(parsed.errors)}`);
  return parsed.scopes;
}

const canonical = (input: string) => formatScopes(set(input));

/** All subsets of `cruds`, as strings in canonical order (the empty one excluded). */
const interactionSubsets = Array.from({ length: 31 }, (_, mask) =>
  [...'cruds'].filter((_, index) => (mask + 1) & (1 << (4 - index))).join(''),
).sort();

function permutations(letters: string): string[] {
  if (letters.length <= 1) return [letters];
  return [...letters].flatMap((letter, index) => permutations(letters.slice(0, index) + letters.slice(index + 1)).map((rest) => letter + rest));
}

describe('parseScope: one scope, as apps register them', () => {
  const types = [...resourceTypes, '*'];

  it.each(types.flatMap((type) => [
    [`patient/${type}.read`, `patient/${type}.rs`],
    [`patient/${type}.write`, `patient/${type}.cud`],
    [`patient/${type}.*`, `patient/${type}.cruds`],
  ]))('maps the v1 alias %s to %s', (scope, expected) => {
    expect(parseScope(scope)).toMatchObject({ ok: true, canonical: expected });
  });

  it.each(['patient/Observation.read?category=vital-signs', 'patient/Observation.rs?category=vital-signs'])('keeps the parameters of %s through aliasing', (scope) => {
    expect(parseScope(scope)).toMatchObject({ ok: true, canonical: 'patient/Observation.rs?category=vital-signs' });
  });

  it('has 31 interaction subsets to check', () => expect(new Set(interactionSubsets).size).toBe(31));

  it.each(interactionSubsets)('accepts the interactions %s in canonical order', (letters) => {
    const parsed = parseScope(`patient/Immunization.${letters}`);
    expect(parsed).toEqual({
      ok: true,
      canonical: `patient/Immunization.${letters}`,
      scope: { kind: 'resource', compartment: 'patient', resourceType: 'Immunization', interactions: letters, parameters: [] },
    });
  });

  it.each(interactionSubsets.filter((letters) => letters.length > 1))('refuses every other order of %s', (letters) => {
    for (const permutation of permutations(letters).filter((p) => p !== letters)) {
      const parsed = parseScope(`patient/Immunization.${permutation}`);
      expect(parsed, permutation).toMatchObject({ ok: false, code: 'malformed' });
      expect(parsed.ok === false && parsed.reason).toContain('order');
    }
  });

  it.each(['rr', 'ss', 'crudss', 'ccruds', 'x', 'R', 'RS', 'READ', 'reads', 'all', '**', 'r*', '', 'c r', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'refuses the interactions "%s"',
    (letters) => expect(parseScope(`patient/Observation.${letters}`).ok).toBe(false),
  );

  it('sorts search parameters by name and accepts modifiers and token values', () => {
    expect(parseScope('patient/Observation.rs?status=final&category=vital-signs')).toMatchObject({
      ok: true,
      canonical: 'patient/Observation.rs?category=vital-signs&status=final',
      scope: { parameters: [['category', 'vital-signs'], ['status', 'final']] },
    });
    expect(parseScope('patient/Observation.rs?code:below=http://loinc.org|8716-3')).toMatchObject({
      ok: true,
      canonical: 'patient/Observation.rs?code:below=http://loinc.org|8716-3',
    });
  });

  it.each([
    ['patient/Observation.rs?category=a&category=b', 'twice'],
    ['patient/Observation.rs?category=a&category=a', 'twice'],
    ['patient/Observation.rs?code=x&code:below=y', 'twice'],
    ['patient/Observation.rs?a=1&b=2&c=3&d=4&e=5', 'more than 4'],
    ['patient/Observation.rs?', 'empty search parameters'],
    ['patient/Observation.rs?&', 'malformed search parameter'],
    ['patient/Observation.rs?category=', 'malformed search parameter'],
    ['patient/Observation.rs?=x', 'malformed search parameter'],
    ['patient/Observation.rs?Category=x', 'malformed search parameter'],
    ['patient/Observation.rs?category=a,b', 'malformed search parameter'],
    ['patient/Observation.rs?category=a?b=c', 'malformed search parameter'],
  ])('refuses %s as malformed (%s)', (scope, reason) => {
    const parsed = parseScope(scope);
    expect(parsed).toMatchObject({ ok: false, code: 'malformed' });
    expect(parsed.ok === false && parsed.reason).toContain(reason);
  });

  it.each(platformScopes)('refuses the platform scope %s: apps must not request it', (scope) => {
    expect(parseScope(scope)).toMatchObject({ ok: false, code: 'not_allowed', reason: expect.stringContaining('platform') });
  });

  it.each([
    ['user/Observation.rs', 'not_allowed', 'patient/'],
    ['system/Observation.rs', 'not_allowed', 'patient/'],
    ['user/*.read', 'not_allowed', 'patient/'],
    ['patient/Dragon.rs', 'unknown', 'unsupported resource type'],
    ['patient/observation.rs', 'unknown', 'unsupported resource type'],
    ['admin', 'unknown', 'not a SMART scope'],
    ['profile', 'unknown', 'not a SMART scope'],
    ['OPENID', 'unknown', 'not a SMART scope'],
    ['launch/encounter', 'unknown', 'launch'],
    ['launch/practitioner', 'unknown', 'launch'],
    ['platform/admin', 'unknown', 'platform'],
    ['Observation.rs', 'unknown', 'not a SMART scope'],
    ['patient/Observation', 'malformed', 'SMART'],
    ['patient/.rs', 'malformed', 'resource type'],
    ['patient/**.rs', 'malformed', 'resource type'],
    ['patient/Obs-ervation.rs', 'malformed', 'resource type'],
    ['patient/Observation.rs;drop', 'malformed', 'cruds'],
    ['', 'malformed', 'empty'],
    ['patient/Observation.rs ', 'malformed', 'characters'],
    ['patient/Observation.rs\n', 'malformed', 'characters'],
    ['patient/Observ\u0430tion.rs', 'malformed', 'characters'],
    ['openid"', 'malformed', 'characters'],
    ['openid\\', 'malformed', 'characters'],
    [`patient/Observation.rs?category=${'a'.repeat(MAX_SCOPE_TOKEN_LENGTH)}`, 'malformed', 'longer'],
  ] as const)('refuses %j as %s', (scope, code, reason) => {
    const parsed = parseScope(scope);
    expect(parsed).toMatchObject({ ok: false, code });
    expect(parsed.ok === false && parsed.reason).toContain(reason);
  });

  it('refuses values that are not strings without throwing', () => {
    expect(parseScope(undefined as unknown as string)).toMatchObject({ ok: false, code: 'malformed' });
    expect(parseScope(42 as unknown as string)).toMatchObject({ ok: false, code: 'malformed' });
  });
});

describe('parseScopeString: the scope parameter of a request', () => {
  it('parses, merges spellings and duplicates, and formats canonically', () => {
    const parsed = parseScopeString(
      'patient/Observation.read offline_access patient/Immunization.rs openid patient/Observation.rs launch/patient patient/Immunization.read fhirUser openid',
    );
    expect(parsed.ok).toBe(true);
    expect(formatScopes(parsed.scopes)).toBe('launch/patient offline_access openid fhirUser patient/Immunization.rs patient/Observation.rs');
  });

  it('puts context scopes first in a fixed order, then platform scopes, then resource scopes by type and parameters', () => {
    expect(
      canonical(
        'patient/Observation.rs?status=final patient/Immunization.cud patient/*.s patient/Observation.rs?category=vital-signs platform/certification.review fhirUser platform/apps.read offline_access patient/AllergyIntolerance.r openid launch/patient',
      ),
    ).toBe(
      // Search on Observation comes from patient/*.s, so the Observation scopes keep only read.
      'launch/patient offline_access openid fhirUser platform/apps.read platform/certification.review patient/*.s patient/AllergyIntolerance.r patient/Immunization.cud patient/Observation.r?category=vital-signs patient/Observation.r?status=final',
    );
    expect(formatScopes(set([...contextScopes].reverse().join(' ')))).toBe(contextScopes.join(' '));
    expect(formatScopes(set([...platformScopes].reverse().join(' ')))).toBe(platformScopes.join(' '));
  });

  it.each([
    ['patient/Observation.r patient/Observation.s', 'patient/Observation.rs'],
    ['patient/Observation.cu patient/Observation.ds patient/Observation.r', 'patient/Observation.cruds'],
    ['patient/*.rs patient/Observation.read', 'patient/*.rs'],
    ['patient/*.r patient/Observation.rs', 'patient/*.r patient/Observation.s'],
    ['patient/Observation.rs patient/Observation.rs?category=vital-signs', 'patient/Observation.rs'],
    ['patient/Observation.rs?category=vital-signs patient/Observation.rs?code=x&category=vital-signs', 'patient/Observation.rs?category=vital-signs'],
    ['patient/*.rs?category=vital-signs patient/Observation.rs?category=vital-signs', 'patient/*.rs?category=vital-signs'],
    ['patient/Observation.rs?code=x&category=a patient/Observation.rs?category=a&code=x', 'patient/Observation.rs?category=a&code=x'],
    ['patient/Observation.rs?category=a patient/Observation.rs?category=b', 'patient/Observation.rs?category=a patient/Observation.rs?category=b'],
    ['patient/Observation.r?category=a patient/Observation.s?category=a', 'patient/Observation.rs?category=a'],
  ])('normalizes %s to %s', (input, expected) => expect(canonical(input)).toBe(expected));

  it.each([
    ['', -1, 'malformed'],
    [' ', 0, 'malformed'],
    ['openid  fhirUser', 1, 'malformed'],
    [' openid', 0, 'malformed'],
    ['openid ', 1, 'malformed'],
    ['openid\tfhirUser', 0, 'malformed'],
    ['openid\nfhirUser', 0, 'malformed'],
    ['openid\u00a0fhirUser', 0, 'malformed'],
    ['openid admin', 1, 'unknown'],
    ['openid email profile', 1, 'unknown'],
    ['patient/Dragon.rs', 0, 'unknown'],
    ['platform/nothing.here', 0, 'unknown'],
    ['user/Observation.rs', 0, 'not_allowed'],
    ['system/Observation.rs', 0, 'not_allowed'],
    ['launch/patient system/*.read', 1, 'not_allowed'],
    ['platform/apps.read', 0, 'not_allowed'],
    ['openid platform/apps.write', 1, 'not_allowed'],
    ['patient/Observation.rs?category=<script>alert(1)</script>', 0, 'malformed'],
    ["patient/Observation.rs?category=x'--", 0, 'malformed'],
    ['patient/Observation.rs?category=x%00', 0, 'malformed'],
    ['patient/Observation.rs?category=x%20patient/*.cruds', 0, 'malformed'],
    ['patient/Observation.rs#patient/*.cruds', 0, 'malformed'],
    ['patient/Observation.rs?category=a&category=b', 0, 'malformed'],
    ['openid "fhirUser"', 1, 'malformed'],
    ['openid\u0000', 0, 'malformed'],
    ['openid\r\nSet-Cookie:x=y', 0, 'malformed'],
    ['patient/../Observation.rs', 0, 'malformed'],
    ['patient/Observation.rs%3Fcategory=x', 0, 'malformed'],
    ['patient/Observation.constructor', 0, 'malformed'],
    ['__proto__', 0, 'unknown'],
    ['constructor', 0, 'unknown'],
    ['patient/constructor.rs', 0, 'unknown'],
    ['patient/__proto__.rs', 0, 'malformed'],
  ] as const)('refuses %j: token %i is %s', (input, position, code: ScopeErrorCode) => {
    const parsed = parseScopeString(input);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toContainEqual(expect.objectContaining({ position, code }));
    for (const error of parsed.errors) expect(error.reason).toEqual(expect.any(String));
  });

  it('reports every refused token with its position, and keeps the valid ones', () => {
    const parsed = parseScopeString('openid admin patient/Observation.sr user/Patient.r patient/Immunization.read  fhirUser');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.map(({ token, position, code }) => [token, position, code])).toEqual([
      ['admin', 1, 'unknown'],
      ['patient/Observation.sr', 2, 'malformed'],
      ['user/Patient.r', 3, 'not_allowed'],
      ['', 5, 'malformed'],
    ]);
    expect(formatScopes(parsed.scopes)).toBe('openid fhirUser patient/Immunization.rs');
  });

  it('bounds the size of what it parses', () => {
    const many = Array.from({ length: MAX_SCOPE_TOKENS }, () => 'openid').join(' ');
    expect(parseScopeString(many).ok).toBe(true);
    expect(parseScopeString(`${many} openid`)).toMatchObject({ ok: false, errors: [{ position: -1, code: 'malformed' }] });
    expect(parseScopeString('x'.repeat(1_000_000))).toMatchObject({ ok: false, errors: [{ position: -1, code: 'malformed' }] });
    expect(parseScopeString(' '.repeat(1_000_000))).toMatchObject({ ok: false, errors: [{ position: -1, code: 'malformed' }] });
  });

  it('refuses what is not a string, and an unknown purpose', () => {
    expect(parseScopeString(null as unknown as string)).toMatchObject({ ok: false, errors: [{ code: 'malformed' }] });
    expect(() => parseScopeString('openid', { purpose: 'admin' as 'app' })).toThrow(TypeError);
  });

  describe('purposes', () => {
    it('gives apps SMART scopes only (the default)', () => {
      expect(parseScopeString('openid launch/patient patient/*.rs').ok).toBe(true);
      expect(parseScopeString('openid launch/patient patient/*.rs', { purpose: 'app' }).ok).toBe(true);
      for (const scope of platformScopes) expect(parseScopeString(`openid ${scope}`)).toMatchObject({ ok: false, errors: [{ position: 1, code: 'not_allowed' }] });
    });

    it('gives the CLI platform scopes with openid and offline_access only', () => {
      const parsed = parseScopeString('platform/certification.review offline_access platform/apps.read openid', { purpose: 'platform' });
      expect(parsed.ok).toBe(true);
      expect(formatScopes(parsed.scopes)).toBe('offline_access openid platform/apps.read platform/certification.review');
      for (const scope of ['patient/Observation.rs', 'patient/*.read', 'launch/patient', 'fhirUser']) {
        expect(parseScopeString(`platform/apps.read ${scope}`, { purpose: 'platform' }), scope).toMatchObject({
          ok: false,
          errors: [{ position: 1, code: 'not_allowed' }],
        });
      }
    });

    it('keeps platform scopes out of the patient algebra', () => {
      const mixed = set('platform/apps.write patient/*.cruds openid');
      expect(mixed.platform).toEqual(['platform/apps.write']);
      expect(mixed.resources.map(formatScope)).toEqual(['patient/*.cruds']);
      for (const type of resourceTypes) expect(access(set('platform/apps.read platform/apps.write platform/certification.review'), type, 'r')).toEqual({ kind: 'denied' });
      expect(formatScopes(intersect(set('platform/apps.write'), set('patient/*.cruds')))).toBe('');
      expect(formatScopes(intersect(set('platform/apps.write'), set('platform/apps.read')))).toBe('');
      expect(isSubset(set('platform/apps.read'), set('patient/*.cruds platform/apps.write'))).toBe(false);
      expect(isSubset(set('platform/apps.read'), set('platform/apps.read patient/*.cruds'))).toBe(true);
      expect(hasScope(mixed, 'platform/apps.write')).toBe(true);
      expect(hasScope(mixed, 'platform/apps.read')).toBe(false);
      expect(hasScope(mixed, 'openid')).toBe(true);
    });
  });
});

// ------------------------------------------------------------------------------------------------
// A corpus of scope sets for the laws.

const singleScopes = [
  'patient/*.cruds',
  'patient/*.rs',
  'patient/*.r',
  'patient/*.s',
  'patient/*.cud',
  'patient/Observation.cruds',
  'patient/Observation.rs',
  'patient/Observation.r',
  'patient/Observation.s',
  'patient/Observation.cu',
  'patient/Observation.d',
  'patient/Observation.rs?category=vital-signs',
  'patient/Observation.r?category=vital-signs',
  'patient/Observation.rs?category=laboratory',
  'patient/Observation.s?category=laboratory',
  'patient/Observation.rs?category=vital-signs&code=x',
  'patient/Observation.cruds?code=x',
  'patient/Observation.rs?code=y&status=final',
  'patient/Immunization.cruds',
  'patient/Immunization.rs',
  'patient/Immunization.write',
  'patient/*.rs?category=vital-signs',
  'patient/*.s?status=final',
  'patient/Patient.r',
  'patient/Condition.rs?category=laboratory',
  'patient/AllergyIntolerance.cruds',
  'launch',
  'launch/patient',
  'offline_access',
  'openid',
  'fhirUser',
  'platform/apps.read',
  'platform/apps.write',
  'platform/certification.review',
];

const multiScopes = [
  '',
  'launch/patient openid fhirUser patient/Observation.rs?category=vital-signs patient/Immunization.rs',
  'patient/Observation.rs?category=vital-signs patient/Observation.rs?category=laboratory',
  'offline_access patient/*.rs',
  'patient/*.r?category=vital-signs patient/Observation.s',
  'platform/apps.read platform/apps.write openid offline_access',
  'patient/Observation.r patient/Observation.s?code=x',
  'patient/*.cruds?status=final patient/Observation.r?category=laboratory&code=y',
  resourceTypes.map((type) => `patient/${type}.rs`).join(' '),
];

// Deterministic pseudo-random unions of 2 to 4 single scopes.
const randomScopes = (() => {
  let seed = 20240611;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: 30 }, () =>
    Array.from({ length: 2 + Math.floor(next() * 3) }, () => singleScopes[Math.floor(next() * singleScopes.length)]!).join(' '),
  );
})();

const corpus = [...singleScopes, ...multiScopes, ...randomScopes];
const corpusSets = corpus.map(set);

// The brute-force model.
const futureType = 'FutureType';
const modelTypes = [...resourceTypes, futureType];
const modelParameters: Record<string, string[]> = {
  category: ['vital-signs', 'laboratory', 'other'],
  code: ['x', 'y', 'other'],
  status: ['final', 'other'],
};
const modelFacts: Record<string, string>[] = Object.entries(modelParameters).reduce<Record<string, string>[]>(
  (facts, [name, values]) => facts.flatMap((fact) => values.map((value) => ({ ...fact, [name]: value }))),
  [{}],
);
const points = modelTypes.flatMap((type) => interactions.flatMap((letter) => modelFacts.map((facts) => ({ type, letter, facts }))));

type Model = { grants: boolean[]; named: Set<string> };

/** What a set grants in the model, computed from its scopes' definition only. */
function model(scopes: Iterable<AnyParsedScope>): Model {
  const list = [...scopes];
  const named = new Set<string>();
  for (const scope of list) if (scope.kind !== 'resource') named.add(scope.scope);
  const grants = points.map(({ type, letter, facts }) =>
    list.some(
      (scope) =>
        scope.kind === 'resource' &&
        (scope.resourceType === '*' || scope.resourceType === type) &&
        scope.interactions.includes(letter) &&
        scope.parameters.every(([name, value]) => facts[name] === value),
    ),
  );
  return { grants, named };
}

/** The model of a scope string from its tokens parsed one by one, before any normalization. */
function rawModel(input: string): Model {
  const tokens = input === '' ? [] : input.split(' ');
  return model(
    tokens.map((token): AnyParsedScope => {
      if ((platformScopes as readonly string[]).includes(token)) return { kind: 'platform', scope: token as (typeof platformScopes)[number] };
      const parsed = parseScope(token);
      if (!parsed.ok) throw new Error(token);
      return parsed.scope;
    }),
  );
}

const setModel = (scopes: ScopeSet): Model =>
  model([
    ...scopes.context.map((scope) => ({ kind: 'context' as const, scope })),
    ...scopes.platform.map((scope) => ({ kind: 'platform' as const, scope })),
    ...scopes.resources,
  ]);

const modelSubset = (a: Model, b: Model) => a.grants.every((granted, index) => !granted || b.grants[index]) && [...a.named].every((name) => b.named.has(name));
const modelIntersection = (a: Model, b: Model): Model => ({
  grants: a.grants.map((granted, index) => granted && b.grants[index]!),
  named: new Set([...a.named].filter((name) => b.named.has(name))),
});
const modelEqual = (a: Model, b: Model) => modelSubset(a, b) && modelSubset(b, a);

const corpusModels = corpusSets.map(setModel);

describe('canonical form', () => {
  it('has a corpus of distinct scope strings to check', () => {
    expect(singleScopes.length).toBeGreaterThanOrEqual(30);
    expect(corpus.length).toBeGreaterThanOrEqual(70);
  });

  it.each(corpus)('round-trips %j and keeps its meaning', (input) => {
    const scopes = set(input);
    const text = formatScopes(scopes);
    if (input === '') expect(text).toBe('');
    else expect(formatScopes(set(text))).toBe(text);
    expect(set(text === '' ? '' : text)).toEqual(scopes);
    expect(modelEqual(setModel(scopes), rawModel(input))).toBe(true);
  });

  it('gives the same text to every order and spelling of the same scopes', () => {
    const reversedSpelled = (input: string) =>
      input
        .split(' ')
        .reverse()
        .map((token) => token.replace(/\.rs(\?|$)/, '.read$1').replace(/\.cud(\?|$)/, '.write$1').replace(/\.cruds(\?|$)/, '.*$1'))
        .join(' ');
    for (const input of corpus.filter(Boolean)) expect(canonical(reversedSpelled(input)), input).toBe(canonical(input));
  });

  it('is a fixed point of scopeSet and is frozen', () => {
    for (const scopes of corpusSets) {
      const rebuilt = scopeSet([
        ...scopes.context.map((scope) => ({ kind: 'context' as const, scope })),
        ...scopes.platform.map((scope) => ({ kind: 'platform' as const, scope })),
        ...scopes.resources,
      ]);
      expect(rebuilt).toEqual(scopes);
      expect(Object.isFrozen(rebuilt) && Object.isFrozen(rebuilt.resources)).toBe(true);
    }
  });

  it('builds a set from the canonical scopes certified for an app version', () => {
    const certified = ['patient/Observation.crs?category=vital-signs', 'launch/patient', 'patient/Immunization.rs'].map((scope) => {
      const parsed = parseScope(scope);
      if (!parsed.ok) throw new Error(scope);
      return parsed.scope;
    });
    expect(formatScopes(scopeSet(certified))).toBe('launch/patient patient/Immunization.rs patient/Observation.crs?category=vital-signs');
  });

  it('refuses to build a set from hand-made invalid scopes', () => {
    const invalid = [
      { kind: 'resource', compartment: 'patient', resourceType: 'Observation', interactions: 'sr', parameters: [] },
      { kind: 'resource', compartment: 'patient', resourceType: 'Observation', interactions: '', parameters: [] },
      { kind: 'resource', compartment: 'patient', resourceType: 'Dragon', interactions: 'r', parameters: [] },
      { kind: 'resource', compartment: 'patient', resourceType: 'Observation', interactions: 'r', parameters: [['category', 'a'], ['category', 'b']] },
      { kind: 'resource', compartment: 'patient', resourceType: 'Observation', interactions: 'r', parameters: [['status', 'a'], ['category', 'b']] },
      { kind: 'context', scope: 'admin' },
      { kind: 'platform', scope: 'openid' },
      { kind: 'context', scope: 'platform/apps.read' },
    ];
    for (const scope of invalid) expect(() => scopeSet([scope as AnyParsedScope]), JSON.stringify(scope)).toThrow(TypeError);
  });

  it('formats the empty set as an empty string, which is not a valid request', () => {
    expect(formatScopes(emptyScopeSet)).toBe('');
    expect(isEmptyScopeSet(emptyScopeSet)).toBe(true);
    expect(isEmptyScopeSet(set('openid'))).toBe(false);
    expect(parseScopeString('').ok).toBe(false);
  });
});

describe('intersect', () => {
  it.each([
    // The granular cases.
    ['patient/Observation.rs', 'patient/Observation.rs?category=vital-signs', 'patient/Observation.rs?category=vital-signs'],
    ['patient/Observation.r?category=a', 'patient/Observation.rs?category=b', ''],
    ['patient/Observation.r?category=a', 'patient/Observation.rs?category=a', 'patient/Observation.r?category=a'],
    ['patient/Observation.rs?category=a', 'patient/Observation.rs?code=x', 'patient/Observation.rs?category=a&code=x'],
    ['patient/Observation.rs?code:below=x', 'patient/Observation.rs?code=y', ''],
    ['patient/Observation.rs?code:below=x', 'patient/Observation.rs?code:below=x&status=final', 'patient/Observation.rs?code:below=x&status=final'],
    ['patient/Observation.rs?category=a patient/Observation.rs?category=b', 'patient/Observation.r?category=b', 'patient/Observation.r?category=b'],
    ['patient/Observation.rs?category=a patient/Observation.rs?category=b', 'patient/Observation.s', 'patient/Observation.s?category=a patient/Observation.s?category=b'],
    // Wildcards.
    ['patient/*.rs', 'patient/Immunization.cruds', 'patient/Immunization.rs'],
    ['patient/*.cruds', 'patient/*.rs', 'patient/*.rs'],
    ['patient/*.cud', 'patient/*.rs', ''],
    ['patient/*.rs', 'patient/Observation.rs?category=a patient/Immunization.s', 'patient/Immunization.s patient/Observation.rs?category=a'],
    ['patient/*.rs?category=a', 'patient/Observation.cruds', 'patient/Observation.rs?category=a'],
    ['patient/*.rs?category=a', 'patient/*.rs?status=final', 'patient/*.rs?category=a&status=final'],
    ['patient/*.rs?category=a', 'patient/*.rs?category=b', ''],
    // Letter-wise interactions; an empty intersection is no scope.
    ['patient/Observation.crs', 'patient/Observation.rud', 'patient/Observation.r'],
    ['patient/Observation.cu', 'patient/Observation.ds', ''],
    ['patient/Observation.rs', 'patient/Immunization.rs', ''],
    // Context and platform scopes by equality.
    ['launch/patient openid fhirUser', 'openid offline_access fhirUser', 'openid fhirUser'],
    ['launch/patient patient/*.rs', 'offline_access patient/*.rs', 'patient/*.rs'],
    ['platform/apps.read platform/apps.write', 'platform/apps.write platform/certification.review', 'platform/apps.write'],
    // The ceiling: requested ∩ certified ∩ approved.
  ])('%s ∩ %s = %j', (a, b, expected) => {
    expect(formatScopes(intersect(set(a), set(b)))).toBe(expected);
    expect(formatScopes(intersect(set(b), set(a)))).toBe(expected);
  });

  it('computes the ceiling of a grant from three sets', () => {
    const requested = set('launch/patient openid fhirUser offline_access patient/Observation.rs patient/Immunization.rs patient/Patient.r patient/Condition.rs');
    const certified = set('launch/patient openid fhirUser patient/Observation.crs?category=vital-signs patient/Immunization.read patient/Patient.r');
    const approved = set('launch/patient openid fhirUser offline_access patient/Observation.rs patient/Patient.r');
    const granted = intersect(requested, certified, approved);
    expect(formatScopes(granted)).toBe('launch/patient openid fhirUser patient/Observation.rs?category=vital-signs patient/Patient.r');
    expect(equalScopes(granted, intersect(approved, intersect(certified, requested)))).toBe(true);
  });

  it('is exact in the model: it grants what both sides grant, for every pair of the corpus', () => {
    corpusSets.forEach((a, i) =>
      corpusSets.forEach((b, j) => {
        const result = intersect(a, b);
        expect(modelEqual(setModel(result), modelIntersection(corpusModels[i]!, corpusModels[j]!)), `${corpus[i]} ∩ ${corpus[j]}`).toBe(true);
      }),
    );
  });

  it('is commutative, idempotent, below both sides, and the greatest such set', () => {
    corpusSets.forEach((a, i) => {
      expect(formatScopes(intersect(a, a))).toBe(formatScopes(a));
      expect(formatScopes(intersect(a, emptyScopeSet))).toBe('');
      corpusSets.forEach((b, j) => {
        const label = `${corpus[i]} ∩ ${corpus[j]}`;
        const ab = intersect(a, b);
        expect(formatScopes(ab), label).toBe(formatScopes(intersect(b, a)));
        expect(isSubset(ab, a), label).toBe(true);
        expect(isSubset(ab, b), label).toBe(true);
        // a ⊆ b exactly when a ∩ b = a.
        expect(isSubset(a, b), label).toBe(equalScopes(ab, a));
      });
    });
  });

  it('is associative and the greatest lower bound, on every triple of a sub-corpus', () => {
    const sample = corpusSets.filter((_, index) => index % 3 === 0);
    for (const a of sample) {
      for (const b of sample) {
        const ab = intersect(a, b);
        for (const c of sample) {
          expect(formatScopes(intersect(ab, c))).toBe(formatScopes(intersect(a, intersect(b, c))));
          expect(formatScopes(intersect(a, b, c))).toBe(formatScopes(intersect(ab, c)));
          if (isSubset(c, a) && isSubset(c, b)) expect(isSubset(c, ab)).toBe(true);
        }
      }
    }
  });

  it('never grants a permission a conjunction of different values would need (documented approximation)', () => {
    // In FHIR an Observation may carry both categories; the algebra treats them as exclusive and
    // grants nothing rather than a scope no parser accepts.
    const result = intersect(set('patient/Observation.rs?category=vital-signs'), set('patient/Observation.rs?category=laboratory'));
    expect(formatScopes(result)).toBe('');
    expect(allows(result, 'Observation', 's', { category: ['vital-signs', 'laboratory'] })).toBe(false);
  });
});

describe('isSubset', () => {
  it.each([
    ['patient/Observation.rs?category=vital-signs', 'patient/Observation.rs', true],
    ['patient/Observation.rs', 'patient/Observation.rs?category=vital-signs', false],
    ['patient/Observation.rs', 'patient/*.rs', true],
    ['patient/*.rs', 'patient/Observation.rs', false],
    ['patient/*.rs', resourceTypes.map((type) => `patient/${type}.rs`).join(' '), false],
    [resourceTypes.map((type) => `patient/${type}.rs`).join(' '), 'patient/*.rs', true],
    ['patient/Observation.rs', 'patient/Observation.r patient/Observation.s', true],
    ['patient/Observation.rs', 'patient/Observation.r', false],
    ['patient/Observation.read', 'patient/Observation.rs', true],
    ['patient/Observation.*', 'patient/Observation.cud patient/Observation.rs', true],
    ['patient/Observation.rs?category=a&code=x', 'patient/Observation.rs?code=x', true],
    ['patient/Observation.rs?category=a', 'patient/Observation.rs?category=a&code=x', false],
    ['patient/Observation.rs?category=a', 'patient/Observation.rs?category=b', false],
    ['patient/Observation.rs?code=y', 'patient/Observation.rs?code:below=x', false],
    ['patient/Observation.rs?category=a', 'patient/*.rs?category=a', true],
    ['patient/*.rs?category=a', 'patient/*.rs', true],
    ['patient/*.rs', 'patient/*.rs?category=a', false],
    ['openid offline_access', 'openid offline_access launch/patient', true],
    ['openid offline_access', 'openid', false],
    ['offline_access', 'patient/*.cruds', false],
    ['', 'openid', true],
    ['', '', true],
    ['patient/Patient.r', '', false],
    ['platform/apps.read', 'platform/apps.write', false],
  ])('%s ⊆ %s is %s', (a, b, expected) => expect(isSubset(set(a), set(b))).toBe(expected));

  it('is exact in the model for every pair of the corpus', () => {
    corpusSets.forEach((a, i) =>
      corpusSets.forEach((b, j) => {
        expect(isSubset(a, b), `${corpus[i]} ⊆ ${corpus[j]}`).toBe(modelSubset(corpusModels[i]!, corpusModels[j]!));
      }),
    );
  });

  it('is reflexive, antisymmetric up to the canonical form, and transitive', () => {
    corpusSets.forEach((a) => expect(isSubset(a, a)).toBe(true));
    corpusSets.forEach((a, i) =>
      corpusSets.forEach((b, j) => {
        if (isSubset(a, b) && isSubset(b, a)) expect(formatScopes(a), `${corpus[i]} = ${corpus[j]}`).toBe(formatScopes(b));
      }),
    );
    let chains = 0;
    for (const a of corpusSets) {
      for (const b of corpusSets) {
        if (!isSubset(a, b)) continue;
        for (const c of corpusSets) {
          if (!isSubset(b, c)) continue;
          chains++;
          expect(isSubset(a, c)).toBe(true);
        }
      }
    }
    expect(chains).toBeGreaterThan(1000);
  });

  it('refuses a refresh that widens, accepts one that narrows', () => {
    const grant = set('launch/patient offline_access patient/Observation.rs?category=vital-signs patient/Immunization.rs');
    expect(isSubset(set('patient/Immunization.read'), grant)).toBe(true);
    expect(isSubset(set('patient/Observation.s?category=vital-signs'), grant)).toBe(true);
    expect(isSubset(set('patient/Observation.rs'), grant)).toBe(false);
    expect(isSubset(set('patient/Immunization.rs?status=final'), grant)).toBe(true);
    expect(isSubset(set('patient/Immunization.cruds'), grant)).toBe(false);
    expect(isSubset(set('patient/*.rs'), grant)).toBe(false);
    expect(isSubset(set('openid'), grant)).toBe(false);
  });
});

describe('access and allows', () => {
  const every = (scopes: ScopeSet) =>
    Object.fromEntries(interactions.map((letter) => [letter, access(scopes, 'Observation', letter).kind]));

  it('lets a granular token search and read only the matching resources', () => {
    const token = set('patient/Observation.rs?category=vital-signs');
    expect(access(token, 'Observation', 's')).toEqual({ kind: 'filtered', filters: [[['category', 'vital-signs']]] });
    expect(access(token, 'Observation', 'r')).toEqual({ kind: 'filtered', filters: [[['category', 'vital-signs']]] });
    expect(access(token, 'Observation', 'c')).toEqual({ kind: 'denied' });
    expect(access(token, 'Immunization', 's')).toEqual({ kind: 'denied' });
    expect(allows(token, 'Observation', 'r', { category: 'vital-signs' })).toBe(true);
    expect(allows(token, 'Observation', 'r', { category: ['laboratory', 'vital-signs'] })).toBe(true);
    expect(allows(token, 'Observation', 'r', { category: 'laboratory' })).toBe(false);
    expect(allows(token, 'Observation', 'r', {})).toBe(false);
    expect(allows(token, 'Observation', 'r')).toBe(false);
    expect(allows(token, 'Observation', 'c', { category: 'vital-signs' })).toBe(false);
  });

  it('lists alternatives, each minimal, and drops the filters when one scope is unrestricted', () => {
    expect(access(set('patient/Observation.rs?category=b patient/Observation.rs?category=a patient/*.s?category=a&status=final'), 'Observation', 's')).toEqual({
      kind: 'filtered',
      filters: [[['category', 'a']], [['category', 'b']]],
    });
    expect(access(set('patient/Observation.s?code=x&status=final patient/*.s?status=final'), 'Observation', 's')).toEqual({
      kind: 'filtered',
      filters: [[['status', 'final']]],
    });
    expect(access(set('patient/Observation.rs?category=a patient/*.s'), 'Observation', 's')).toEqual({ kind: 'unrestricted' });
    expect(access(set('patient/Observation.rs?category=a patient/*.s'), 'Observation', 'r')).toEqual({ kind: 'filtered', filters: [[['category', 'a']]] });
  });

  it('requires every parameter of a filter', () => {
    const token = set('patient/Observation.rs?category=a&code=x');
    expect(allows(token, 'Observation', 's', { category: 'a', code: 'x' })).toBe(true);
    expect(allows(token, 'Observation', 's', { category: 'a' })).toBe(false);
    expect(allows(token, 'Observation', 's', { category: 'a', code: 'y' })).toBe(false);
  });

  it.each(resourceTypes)('gives patient/*.rs unrestricted read and search on %s, nothing else', (type) => {
    const token = set('patient/*.rs');
    expect(Object.fromEntries(interactions.map((letter) => [letter, access(token, type, letter).kind]))).toEqual({
      c: 'denied',
      r: 'unrestricted',
      u: 'denied',
      d: 'denied',
      s: 'unrestricted',
    });
    expect(allows(token, type, 'r')).toBe(true);
    expect(allows(token, type, 'u')).toBe(false);
  });

  it.each(interactionSubsets)('gives patient/Observation.%s exactly its interactions', (letters) => {
    const token = set(`patient/Observation.${letters}`);
    expect(every(token)).toEqual(Object.fromEntries(interactions.map((letter) => [letter, letters.includes(letter) ? 'unrestricted' : 'denied'])));
    expect(every(set(`patient/Immunization.${letters}`))).toEqual({ c: 'denied', r: 'denied', u: 'denied', d: 'denied', s: 'denied' });
  });

  it('denies what no scope names, at run time too', () => {
    expect(access(emptyScopeSet, 'Observation', 'r')).toEqual({ kind: 'denied' });
    expect(access(set('openid launch/patient fhirUser offline_access'), 'Patient', 'r')).toEqual({ kind: 'denied' });
    expect(access(set('patient/*.cruds'), 'Dragon' as ResourceType, 'r')).toEqual({ kind: 'denied' });
    expect(access(set('patient/*.cruds'), 'constructor' as ResourceType, 'r')).toEqual({ kind: 'denied' });
    expect(access(set('patient/*.cruds'), 'Observation', 'x' as Interaction)).toEqual({ kind: 'denied' });
    expect(access(set('patient/*.cruds'), 'Observation', 'rs' as Interaction)).toEqual({ kind: 'denied' });
  });

  it('reads facts as own properties only', () => {
    const token = set('patient/Observation.rs?constructor=x');
    expect(allows(token, 'Observation', 'r', {})).toBe(false);
    expect(allows(token, 'Observation', 'r', Object.create({ constructor: 'x' }))).toBe(false);
    expect(allows(token, 'Observation', 'r', { constructor: 'x' })).toBe(true);
    expect(allows(token, 'Observation', 'r', { constructor: 42 } as unknown as Record<string, string>)).toBe(false);
  });

  it('agrees with the model for every type, interaction and resource, on the whole corpus', () => {
    corpusSets.forEach((scopes, i) => {
      const grants = corpusModels[i]!.grants;
      points.forEach(({ type, letter, facts }, index) => {
        if (type === futureType) return;
        expect(allows(scopes, type as ResourceType, letter, facts), `${corpus[i]} ${letter} ${type} ${JSON.stringify(facts)}`).toBe(grants[index]);
      });
    });
  });

  it('agrees with isSubset: unrestricted is the whole type, each filter is covered', () => {
    corpusSets.forEach((scopes, i) => {
      for (const type of resourceTypes) {
        for (const letter of interactions) {
          const decision = access(scopes, type, letter);
          const label = `${corpus[i]} ${letter} ${type}`;
          expect(isSubset(set(`patient/${type}.${letter}`), scopes), label).toBe(decision.kind === 'unrestricted');
          if (decision.kind === 'filtered') {
            expect(decision.filters.length, label).toBeGreaterThan(0);
            for (const filter of decision.filters) {
              const query = filter.map(([name, value]) => `${name}=${value}`).join('&');
              expect(isSubset(set(`patient/${type}.${letter}?${query}`), scopes), `${label} ${query}`).toBe(true);
            }
          }
        }
      }
    });
  });
});

describe('grantedScopes: the scope claim of a token, parsed once', () => {
  it('gives what parseScopeString gives, the same set for the same string, and refuses nothing it would refuse', () => {
    const claim = 'launch/patient patient/Observation.rs?category=vital-signs patient/Immunization.rs';
    expect(grantedScopes(claim)).toEqual(set(claim));
    expect(grantedScopes(claim)).toBe(grantedScopes(claim));
    // An invalid claim gives the empty set, as parseScopeString's result does: nothing is granted.
    expect(grantedScopes('patient/Observation.xyz')).toEqual(emptyScopeSet);
    expect(access(grantedScopes('patient/Observation.xyz'), 'Observation', 'r').kind).toBe('denied');
  });

  it('keeps a bounded number of strings', () => {
    const first = grantedScopes('patient/Observation.r');
    for (let i = 0; i < 1500; i += 1) grantedScopes(`patient/Observation.rs?code=${i}`);
    // The first string was dropped: it is parsed again into an equal, new set.
    const again = grantedScopes('patient/Observation.r');
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });
});
