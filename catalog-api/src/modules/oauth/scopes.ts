// Scopes of the authorization server: the SMART App Launch v2 grammar (with v1 aliases and
// granular search-parameter scopes), the platform's own scopes for its CLI, the canonical form, and
// the algebra the ceiling and the resource server rely on (intersection, subset, access checks).
// Pure functions: no I/O, no clock, no randomness.
//
// Semantics. A resource scope `patient/<Type>.<cruds>?<p1>=<v1>&<p2>=<v2>` grants each of its
// interactions on every resource of <Type> (every supported type for `*`) that matches ALL its
// search parameters; a scope set grants the union of what its scopes grant. Internally a set is
// reduced to "atoms" (one interaction, one type, one filter); two sets are compared atom by atom.
//
// Approximations, all conservative (they can only make a set grant less, or make `isSubset` answer
// false, never the opposite):
// - A search parameter is an opaque predicate `name=value`, compared by exact string: no token
//   semantics (`category=vital-signs` and `category=<system>|vital-signs` are unrelated), no
//   modifier semantics (`code:below=X` and `code=Y` are unrelated), no knowledge of which values
//   exist. So `isSubset` only recognises a filter as covered when one scope's parameters are a
//   subset of the other's.
// - Two different constraints on the same parameter (same name before any `:modifier`) are taken to
//   be contradictory, so their conjunction is empty: `category=a` ∩ `category=b` grants nothing even
//   though, in FHIR, an Observation may carry both categories. For the same reason a single scope
//   may not repeat a parameter (it is refused as malformed, so every parsed scope is satisfiable).
// - `*` stands for every type the API serves, now or later: it covers each concrete type, but only
//   another `*` covers it (`patient/*.rs` is not a subset of the eight `patient/<Type>.rs` listed
//   one by one, since a type added later would widen it).
// - Platform scopes are atomic: `platform/apps.write` does not imply `platform/apps.read`.

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
  'Communication',
] as const;

/** Scopes that are not resource scopes, in the order in which the canonical form lists them. */
export const contextScopes = ['launch', 'launch/patient', 'offline_access', 'openid', 'fhirUser'] as const;

/**
 * The platform's own scopes, for publisher and reviewer operations through the CLI's device-flow
 * sign-in. Apps never get them: `parseScope` (app registration) refuses them and so does
 * `parseScopeString` unless asked to parse a platform request.
 */
export const platformScopes = ['platform/apps.read', 'platform/apps.write', 'platform/certification.review'] as const;

/** SMART v2 interactions, in canonical order: create, read, update, delete, search. */
export const interactions = ['c', 'r', 'u', 'd', 's'] as const;

/** Longest scope token accepted (the registration API has the same bound). */
export const MAX_SCOPE_TOKEN_LENGTH = 200;
/** Most tokens accepted in one scope string. */
export const MAX_SCOPE_TOKENS = 100;
/** Most search parameters in one granular scope. */
export const MAX_SEARCH_PARAMETERS = 4;

const v1Aliases = new Map([
  ['read', 'rs'],
  ['write', 'cud'],
  ['*', 'cruds'],
]);
const interactionOrder = 'cruds';

export type ResourceType = (typeof resourceTypes)[number];
export type ContextScope = (typeof contextScopes)[number];
export type PlatformScope = (typeof platformScopes)[number];
export type Interaction = (typeof interactions)[number];

export type ParsedScope =
  | { kind: 'context'; scope: ContextScope }
  | {
      kind: 'resource';
      compartment: 'patient';
      resourceType: ResourceType | '*';
      /** Interactions in canonical order, a non-empty subset of `cruds`. */
      interactions: string;
      /** Granular search parameters, e.g. `category=vital-signs`, sorted by name, one per name. */
      parameters: [string, string][];
    };

export type ResourceScope = Extract<ParsedScope, { kind: 'resource' }>;
export type PlatformParsedScope = { kind: 'platform'; scope: PlatformScope };
/** Any scope the authorization server knows: what apps may ask for, and the platform's own. */
export type AnyParsedScope = ParsedScope | PlatformParsedScope;

/**
 * Why a scope token is refused:
 * - `malformed`: not an RFC 6749 scope-token (empty, space, control or non-ASCII characters, `"` or
 *   `\`), or a token in a SMART or platform namespace that breaks its grammar (interactions out of
 *   order, bad or repeated search parameter…); also an empty token from a leading, trailing or double
 *   space, and a string or token over the size limits.
 * - `unknown`: a well-formed token naming nothing this server offers (`admin`, `profile`,
 *   `patient/Dragon.rs`, `platform/nothing.here`): an authorization server may drop it and grant
 *   the rest.
 * - `not_allowed`: a scope this server knows but never grants to this kind of client (`user/` and
 *   `system/` scopes to anyone, platform scopes to apps, patient scopes to the CLI).
 */
export type ScopeErrorCode = 'malformed' | 'unknown' | 'not_allowed';

export type ScopeParseResult =
  | { ok: true; scope: ParsedScope; canonical: string }
  | { ok: false; reason: string; code: ScopeErrorCode };

type TokenResult = { ok: true; scope: AnyParsedScope } | { ok: false; code: ScopeErrorCode; reason: string };

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const scopeTokenCharacters = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const resourceScope = /^(patient|user|system)\/([^./?]*)\.([^?]*)(?:\?(.*))?$/;
const resourceTypeName = /^(?:\*|[A-Za-z]+)$/;
const granularParameter = /^([a-z][a-z0-9_-]*(?::[a-z]+)?)=([A-Za-z0-9._:|/-]+)$/;

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isOneOf = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);
const baseName = (name: string): string => name.split(':', 1)[0]!;

function parseScopeToken(token: string): TokenResult {
  if (typeof token !== 'string' || token === '') return { ok: false, code: 'malformed', reason: 'empty scope' };
  if (token.length > MAX_SCOPE_TOKEN_LENGTH) {
    return { ok: false, code: 'malformed', reason: `scope longer than ${MAX_SCOPE_TOKEN_LENGTH} characters` };
  }
  if (!scopeTokenCharacters.test(token)) {
    return { ok: false, code: 'malformed', reason: 'contains characters not allowed in a scope (spaces, quotes, backslashes, control or non-ASCII characters)' };
  }
  if (isOneOf(contextScopes, token)) return { ok: true, scope: { kind: 'context', scope: token } };
  if (isOneOf(platformScopes, token)) return { ok: true, scope: { kind: 'platform', scope: token } };
  if (token.startsWith('platform/')) {
    return { ok: false, code: 'unknown', reason: `unknown platform scope (known: ${platformScopes.join(', ')})` };
  }
  if (token.startsWith('launch/')) {
    return { ok: false, code: 'unknown', reason: 'unsupported launch context (launch, from the patient space, and launch/patient are offered)' };
  }
  if (!/^(?:patient|user|system)\//.test(token)) {
    return { ok: false, code: 'unknown', reason: 'not a SMART scope (expected e.g. patient/Observation.rs, launch/patient, offline_access)' };
  }
  const match = resourceScope.exec(token);
  if (!match) return { ok: false, code: 'malformed', reason: 'not a SMART scope: expected <compartment>/<Type>.<interactions>, e.g. patient/Observation.rs' };
  const [, compartment, type, rawInteractions, query] = match as unknown as [string, string, string, string, string | undefined];
  if (!resourceTypeName.test(type)) return { ok: false, code: 'malformed', reason: 'malformed resource type (expected a FHIR type name or *)' };
  const interactionLetters = v1Aliases.get(rawInteractions) ?? rawInteractions;
  if (!orderedSubset(interactionLetters)) {
    return { ok: false, code: 'malformed', reason: `interactions must be a subset of "cruds" in that order, got "${rawInteractions}"` };
  }
  const parameters: [string, string][] = [];
  if (query !== undefined) {
    if (query === '') return { ok: false, code: 'malformed', reason: 'empty search parameters after ?' };
    const seen = new Set<string>();
    for (const pair of query.split('&')) {
      const parameter = granularParameter.exec(pair);
      if (!parameter) return { ok: false, code: 'malformed', reason: `malformed search parameter "${pair}"` };
      const name = parameter[1]!;
      if (seen.has(baseName(name))) {
        return {
          ok: false,
          code: 'malformed',
          reason: `search parameter ${baseName(name)} given twice: a scope grants only resources matching all its parameters, request one scope per alternative instead`,
        };
      }
      seen.add(baseName(name));
      parameters.push([name, parameter[2]!]);
    }
    if (parameters.length > MAX_SEARCH_PARAMETERS) {
      return { ok: false, code: 'malformed', reason: `more than ${MAX_SEARCH_PARAMETERS} search parameters in one scope` };
    }
  }
  if (compartment !== 'patient') return { ok: false, code: 'not_allowed', reason: `only patient/ scopes are offered to apps, not ${compartment}/` };
  if (type !== '*' && !isOneOf(resourceTypes, type)) {
    return { ok: false, code: 'unknown', reason: `unsupported resource type ${type} (supported: ${resourceTypes.join(', ')})` };
  }
  parameters.sort(([a], [b]) => compareStrings(a, b));
  return { ok: true, scope: { kind: 'resource', compartment: 'patient', resourceType: type, interactions: interactionLetters, parameters } };
}

/** True when `letters` is a non-empty subset of `cruds`, each letter once, in that order. */
function orderedSubset(letters: string): boolean {
  let last = -1;
  for (const letter of letters) {
    const position = interactionOrder.indexOf(letter);
    if (position <= last) return false;
    last = position;
  }
  return letters.length > 0;
}

/** The canonical text of one scope: v2 interactions, search parameters sorted by name. */
export function formatScope(scope: AnyParsedScope): string {
  if (scope.kind !== 'resource') return scope.scope;
  const query = scope.parameters.map(([name, value]) => `${name}=${value}`).join('&');
  return `patient/${scope.resourceType}.${scope.interactions}${query ? `?${query}` : ''}`;
}

/**
 * Parses one scope an app asks for (app registration); v1 forms are accepted and returned in their
 * v2 canonical form. Platform scopes are refused: apps must not request them.
 */
export function parseScope(input: string): ScopeParseResult {
  const parsed = parseScopeToken(input);
  if (!parsed.ok) return parsed;
  if (parsed.scope.kind === 'platform') {
    return { ok: false, code: 'not_allowed', reason: "platform/ scopes are reserved for the platform's own tools; apps cannot request them" };
  }
  return { ok: true, scope: parsed.scope, canonical: formatScope(parsed.scope) };
}

// ---------------------------------------------------------------------------------------------
// Scope sets

/**
 * A set of scopes in normal form: context and platform scopes once each in their fixed order;
 * resource scopes reduced to what they grant (no scope granting only what others already grant,
 * interactions on the same type and filter merged into one scope), sorted by type then parameters.
 * Two sets that grant the same thing (as far as the algebra can tell) are structurally equal.
 * Build them only with `parseScopeString`, `scopeSet` and `intersect`.
 */
export interface ScopeSet {
  readonly context: readonly ContextScope[];
  readonly platform: readonly PlatformScope[];
  readonly resources: readonly ResourceScope[];
}

/** One alternative of an access decision: a resource must match every `[name, value]`. */
export type SearchFilter = readonly (readonly [name: string, value: string])[];

/**
 * What a scope set grants for one interaction on one type:
 * - `denied`: nothing;
 * - `unrestricted`: every resource of the type;
 * - `filtered`: only resources matching at least one of `filters` (each a conjunction of search
 *   parameters), e.g. `[[['category', 'vital-signs']]]`. The FHIR API adds these to the search.
 */
export type ResourceAccess =
  | { readonly kind: 'denied' }
  | { readonly kind: 'unrestricted' }
  | { readonly kind: 'filtered'; readonly filters: readonly SearchFilter[] };

/**
 * What the resource server knows of one resource: for each search parameter as written in scopes
 * (`category`, `code:below`…), the values the resource has, in the form written in scopes.
 */
export type ResourceFacts = Readonly<Record<string, string | readonly string[]>>;

/** Which client the scope string comes from, and so which scopes it may carry. */
export type ScopePurpose = 'app' | 'platform' | 'any';

export interface ParseScopeStringOptions {
  /**
   * `app` (default): SMART scopes only, platform scopes refused as `not_allowed`.
   * `platform` (CLI device flow): platform scopes with `openid` and `offline_access` only.
   * `any`: everything this server knows, for internal use.
   */
  purpose?: ScopePurpose;
}

export interface ScopeError {
  /** The token as received; empty for a misplaced space, and when the whole string is refused. */
  readonly token: string;
  /** Index of the token in the space-separated list, or -1 when the whole string is refused. */
  readonly position: number;
  readonly code: ScopeErrorCode;
  /** English explanation; may contain `"`, so escape it before putting it in an error_description. */
  readonly reason: string;
}

export type ScopeStringParseResult =
  | { ok: true; scopes: ScopeSet }
  | { ok: false; errors: readonly ScopeError[]; /** the tokens that were valid */ scopes: ScopeSet };

const platformPurposeContext: readonly ContextScope[] = ['openid', 'offline_access'];

/** Scope strings of tokens already parsed (grantedScopes), the least recently used dropped first. */
const grantedScopeSets = new Map<string, ScopeSet>();
const MAX_GRANTED_SCOPE_SETS = 1000;

/**
 * The scope set of a token's `scope` claim, as parseScopeString reads it for any purpose. A token's
 * scope was checked when it was issued and is signed, so the same few strings come back with every
 * request: each is parsed once, and its set shared (callers only read it).
 */
export function grantedScopes(scope: string): ScopeSet {
  let set = grantedScopeSets.get(scope);
  if (set) {
    grantedScopeSets.delete(scope);
  } else {
    set = parseScopeString(scope, { purpose: 'any' }).scopes;
    if (grantedScopeSets.size >= MAX_GRANTED_SCOPE_SETS) grantedScopeSets.delete(grantedScopeSets.keys().next().value!);
  }
  grantedScopeSets.set(scope, set);
  return set;
}

/**
 * Parses the space-separated `scope` parameter of an OAuth request (RFC 6749 §3.3: tokens separated
 * by exactly one space). Duplicates, and spellings of the same scope (v1 aliases, parameter order),
 * are merged. Every refused token is reported with its position and code; an empty string is refused.
 */
export function parseScopeString(input: string, options: ParseScopeStringOptions = {}): ScopeStringParseResult {
  const purpose = options.purpose ?? 'app';
  if (purpose !== 'app' && purpose !== 'platform' && purpose !== 'any') throw new TypeError(`unknown scope purpose ${String(purpose)}`);
  const whole = (reason: string): ScopeStringParseResult => ({
    ok: false,
    errors: [{ token: '', position: -1, code: 'malformed', reason }],
    scopes: emptyScopeSet,
  });
  if (typeof input !== 'string') return whole('scope must be a string');
  if (input === '') return whole('empty scope string');
  if (input.length > MAX_SCOPE_TOKENS * (MAX_SCOPE_TOKEN_LENGTH + 1)) return whole('scope string too long');
  const tokens = input.split(' ');
  if (tokens.length > MAX_SCOPE_TOKENS) return whole(`more than ${MAX_SCOPE_TOKENS} scopes`);
  const errors: ScopeError[] = [];
  const valid: AnyParsedScope[] = [];
  tokens.forEach((token, position) => {
    if (token === '') {
      errors.push({ token, position, code: 'malformed', reason: 'scopes must be separated by exactly one space, with none before or after' });
      return;
    }
    const parsed = parseScopeToken(token);
    if (!parsed.ok) {
      errors.push({ token, position, code: parsed.code, reason: parsed.reason });
      return;
    }
    const refusal = purposeRefusal(parsed.scope, purpose);
    if (refusal) {
      errors.push({ token, position, code: 'not_allowed', reason: refusal });
      return;
    }
    valid.push(parsed.scope);
  });
  const scopes = buildScopeSet(valid);
  return errors.length === 0 ? { ok: true, scopes } : { ok: false, errors, scopes };
}

function purposeRefusal(scope: AnyParsedScope, purpose: ScopePurpose): string | null {
  if (purpose === 'app' && scope.kind === 'platform') return "platform/ scopes are reserved for the platform's own tools; apps cannot request them";
  if (purpose === 'platform') {
    if (scope.kind === 'resource') return 'patient data scopes cannot be requested by a platform sign-in';
    if (scope.kind === 'context' && !platformPurposeContext.includes(scope.scope)) {
      return `${scope.scope} cannot be requested by a platform sign-in (allowed: platform/ scopes, ${platformPurposeContext.join(', ')})`;
    }
  }
  return null;
}

/** The canonical scope string of a set: context scopes, platform scopes, then resource scopes. */
export function formatScopes(set: ScopeSet): string {
  return [...set.context, ...set.platform, ...set.resources.map(formatScope)].join(' ');
}

export const emptyScopeSet: ScopeSet = Object.freeze({ context: Object.freeze([]), platform: Object.freeze([]), resources: Object.freeze([]) });

/**
 * Builds a normalized set from parsed scopes (for instance the canonical scopes certified for an app
 * version, parsed one by one). Throws a TypeError on a scope that is not one `parseScope` or
 * `parseScopeString` could have produced.
 */
export function scopeSet(scopes: Iterable<AnyParsedScope>): ScopeSet {
  const checked: AnyParsedScope[] = [];
  for (const scope of scopes) {
    const reparsed = parseScopeToken(formatScope(scope));
    if (!reparsed.ok || formatScope(reparsed.scope) !== formatScope(scope) || reparsed.scope.kind !== scope.kind) {
      throw new TypeError(`not a valid scope: ${JSON.stringify(scope)}`);
    }
    checked.push(reparsed.scope);
  }
  return buildScopeSet(checked);
}

export function isEmptyScopeSet(set: ScopeSet): boolean {
  return set.context.length === 0 && set.platform.length === 0 && set.resources.length === 0;
}

/** Whether the set holds a given context or platform scope. */
export function hasScope(set: ScopeSet, scope: ContextScope | PlatformScope): boolean {
  return (set.context as readonly string[]).includes(scope) || (set.platform as readonly string[]).includes(scope);
}

/** Same grants, as far as the algebra can tell (`isSubset` both ways). */
export function equalScopes(a: ScopeSet, b: ScopeSet): boolean {
  return formatScopes(a) === formatScopes(b);
}

// ---------------------------------------------------------------------------------------------
// Atoms: one interaction on one type (or `*`) for the resources matching one filter.

interface Filter {
  /** Sorted by name, one per base name. */
  readonly parameters: readonly (readonly [string, string])[];
  /** Canonical query (`a=1&b=2`), '' for no restriction; identifies the filter. */
  readonly query: string;
  /** `name=value` of each parameter, in the same order. */
  readonly constraints: readonly string[];
  /** Base name (before any `:modifier`) → [name, value]. */
  readonly byBase: ReadonlyMap<string, readonly [string, string]>;
}

interface Atom {
  readonly letter: Interaction;
  readonly type: ResourceType | '*';
  readonly filter: Filter;
}

function makeFilter(parameters: Iterable<readonly [string, string]>): Filter {
  const byBase = new Map<string, readonly [string, string]>();
  for (const parameter of parameters) byBase.set(baseName(parameter[0]), [parameter[0], parameter[1]]);
  const sorted = [...byBase.values()].sort(([a], [b]) => compareStrings(a, b));
  const constraints = sorted.map(([name, value]) => `${name}=${value}`);
  return { parameters: sorted, constraints, query: constraints.join('&'), byBase };
}

/** The conjunction of two filters, or null when they contradict (see the approximations above). */
function conjoin(f: Filter, g: Filter): Filter | null {
  if (f.query === '') return g;
  if (g.query === '') return f;
  const merged = new Map(f.byBase);
  for (const [base, constraint] of g.byBase) {
    const other = merged.get(base);
    if (other && (other[0] !== constraint[0] || other[1] !== constraint[1])) return null;
    merged.set(base, constraint);
  }
  return makeFilter(merged.values());
}

function atomsOf(resources: readonly ResourceScope[]): Atom[] {
  const atoms: Atom[] = [];
  for (const scope of resources) {
    const filter = makeFilter(scope.parameters);
    for (const letter of scope.interactions) atoms.push({ letter: letter as Interaction, type: scope.resourceType, filter });
  }
  return atoms;
}

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  /** The atom whose filter is exactly the path to this node. */
  atom: Atom | null;
}

/**
 * Atoms indexed by interaction and type, then in a trie of their sorted constraints: finding what
 * covers an atom visits only the stored filters made of that atom's constraints, not every atom.
 */
class AtomIndex {
  private readonly buckets = new Map<string, TrieNode>();
  private readonly all: Atom[] = [];

  constructor(atoms: Iterable<Atom>) {
    for (const atom of atoms) {
      const key = `${atom.letter} ${atom.type}`;
      let node: TrieNode | undefined = this.buckets.get(key);
      if (!node) this.buckets.set(key, (node = { children: new Map(), atom: null }));
      for (const constraint of atom.filter.constraints) {
        let child: TrieNode | undefined = node.children.get(constraint);
        if (!child) node.children.set(constraint, (child = { children: new Map(), atom: null }));
        node = child;
      }
      if (!node.atom) {
        node.atom = atom;
        this.all.push(atom);
      }
    }
  }

  /** All atoms, each once. */
  atoms(): readonly Atom[] {
    return this.all;
  }

  /** Whether some atom grants everything `atom` grants (other than `atom` itself when `strictly`). */
  covers(atom: Atom, strictly: boolean): boolean {
    const constraints = atom.filter.constraints;
    // Depth-first through the trie, following only the atom's own constraints, in order.
    const search = (node: TrieNode, from: number, self: boolean): boolean => {
      if (node.atom && !(self && node.atom.filter.query === atom.filter.query)) return true;
      for (let index = from; index < constraints.length; index++) {
        const child = node.children.get(constraints[index]!);
        if (child && search(child, index + 1, self)) return true;
      }
      return false;
    };
    for (const type of atom.type === '*' ? (['*'] as const) : [atom.type, '*' as const]) {
      const root = this.buckets.get(`${atom.letter} ${type}`);
      if (root && search(root, 0, strictly && type === atom.type)) return true;
    }
    return false;
  }
}

function buildScopeSet(scopes: readonly AnyParsedScope[]): ScopeSet {
  const context = new Set<string>();
  const platform = new Set<string>();
  const resources: ResourceScope[] = [];
  for (const scope of scopes) {
    if (scope.kind === 'context') context.add(scope.scope);
    else if (scope.kind === 'platform') platform.add(scope.scope);
    else resources.push(scope);
  }
  return freezeSet({
    context: contextScopes.filter((scope) => context.has(scope)),
    platform: platformScopes.filter((scope) => platform.has(scope)),
    resources: normalizeAtoms(atomsOf(resources)),
  });
}

function freezeSet(set: ScopeSet): ScopeSet {
  for (const scope of set.resources) {
    for (const parameter of scope.parameters) Object.freeze(parameter);
    Object.freeze(scope.parameters);
    Object.freeze(scope);
  }
  Object.freeze(set.context);
  Object.freeze(set.platform);
  Object.freeze(set.resources);
  return Object.freeze(set);
}

/** Drops atoms that others cover, merges interactions per (type, filter), and sorts. */
function normalizeAtoms(atoms: Iterable<Atom>): ResourceScope[] {
  const index = new AtomIndex(atoms);
  const groups = new Map<string, { type: ResourceType | '*'; filter: Filter; letters: Set<string> }>();
  for (const atom of index.atoms()) {
    if (index.covers(atom, true)) continue;
    const key = `${atom.type} ${atom.filter.query}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { type: atom.type, filter: atom.filter, letters: new Set() }));
    group.letters.add(atom.letter);
  }
  return [...groups.values()]
    .sort((a, b) => compareStrings(a.type, b.type) || compareStrings(a.filter.query, b.filter.query))
    .map(({ type, filter, letters }) => ({
      kind: 'resource' as const,
      compartment: 'patient' as const,
      resourceType: type,
      interactions: [...interactionOrder].filter((letter) => letters.has(letter)).join(''),
      parameters: filter.parameters.map(([name, value]): [string, string] => [name, value]),
    }));
}

// ---------------------------------------------------------------------------------------------
// The algebra

/**
 * Whether every permission of `a` is granted by `b` (context and platform scopes by equality).
 * Used to refuse a refresh that asks for more than the grant. Conservative: may answer false for a
 * set that FHIR semantics would consider covered (see the approximations at the top).
 */
export function isSubset(a: ScopeSet, b: ScopeSet): boolean {
  if (!a.context.every((scope) => b.context.includes(scope))) return false;
  if (!a.platform.every((scope) => b.platform.includes(scope))) return false;
  const index = new AtomIndex(atomsOf(b.resources));
  return atomsOf(a.resources).every((atom) => index.covers(atom, false));
}

/**
 * The greatest set granted by every argument: context and platform scopes by equality, interactions
 * letter by letter, `*` meeting a type gives that type, search parameters are conjoined (and a
 * contradiction drops the permission). For the ceiling: `intersect(requested, certified, approved)`.
 */
export function intersect(a: ScopeSet, b: ScopeSet, ...more: ScopeSet[]): ScopeSet {
  const result = intersectTwo(a, b);
  return more.reduce(intersectTwo, result);
}

function intersectTwo(a: ScopeSet, b: ScopeSet): ScopeSet {
  const right = b.resources.map((scope) => ({ scope, filter: makeFilter(scope.parameters) }));
  const atoms: Atom[] = [];
  for (const leftScope of a.resources) {
    const leftFilter = makeFilter(leftScope.parameters);
    for (const { scope: rightScope, filter: rightFilter } of right) {
      const left = leftScope.resourceType;
      const type = left === '*' ? rightScope.resourceType : rightScope.resourceType === '*' || rightScope.resourceType === left ? left : null;
      if (type === null) continue;
      const letters = [...leftScope.interactions].filter((letter) => rightScope.interactions.includes(letter));
      if (letters.length === 0) continue;
      const filter = conjoin(leftFilter, rightFilter);
      if (filter) for (const letter of letters) atoms.push({ letter: letter as Interaction, type, filter });
    }
  }
  const context = new Set<string>(b.context);
  const platform = new Set<string>(b.platform);
  return freezeSet({
    context: a.context.filter((scope) => context.has(scope)),
    platform: a.platform.filter((scope) => platform.has(scope)),
    resources: normalizeAtoms(atoms),
  });
}

/**
 * What `set` grants for `interaction` on `resourceType`: denied, unrestricted, or only the resources
 * matching one of a list of filters (each filter minimal, none implied by another, sorted).
 */
export function access(set: ScopeSet, resourceType: ResourceType, interaction: Interaction): ResourceAccess {
  if (!isOneOf(resourceTypes, resourceType) || !isOneOf(interactions, interaction)) return { kind: 'denied' };
  const filters = new Map<string, Filter>();
  for (const atom of atomsOf(set.resources)) {
    if (atom.letter !== interaction || (atom.type !== '*' && atom.type !== resourceType)) continue;
    if (atom.filter.query === '') return { kind: 'unrestricted' };
    filters.set(atom.filter.query, atom.filter);
  }
  if (filters.size === 0) return { kind: 'denied' };
  const index = new AtomIndex([...filters.values()].map((filter) => ({ letter: interaction, type: '*' as const, filter })));
  const minimal = index
    .atoms()
    .filter((atom) => !index.covers(atom, true))
    .map((atom) => atom.filter);
  minimal.sort((a, b) => compareStrings(a.query, b.query));
  return { kind: 'filtered', filters: minimal.map((filter) => filter.parameters.map(([name, value]) => [name, value] as const)) };
}

/**
 * Whether `set` grants `interaction` on one resource of `resourceType` described by `resourceFacts`.
 * A constraint holds only when the facts show it (own property named exactly as in the scope, with
 * that exact value among its values); without facts, only an unrestricted grant allows.
 */
export function allows(set: ScopeSet, resourceType: ResourceType, interaction: Interaction, resourceFacts?: ResourceFacts): boolean {
  const decision = access(set, resourceType, interaction);
  if (decision.kind !== 'filtered') return decision.kind === 'unrestricted';
  if (!resourceFacts) return false;
  return decision.filters.some((filter) =>
    filter.every(([name, value]) => {
      if (!Object.hasOwn(resourceFacts, name)) return false;
      const facts = resourceFacts[name];
      return typeof facts === 'string' ? facts === value : Array.isArray(facts) && facts.includes(value);
    }),
  );
}
