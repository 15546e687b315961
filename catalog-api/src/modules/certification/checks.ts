// The automated certification checks: what the platform verifies by itself of a submitted app (its
// redirect URIs, documents, scopes, client keys, compliance answers and sandbox traffic).
// `checks` is the one table of them, in catalogue order, each with its stable id (docs/reviewers.md),
// title and remedy. Every check is a pure function of the subject, except the two documents,
// fetched (concurrently) before the checks run; a document that cannot be fetched fails its check.
import { createHash } from 'node:crypto';
import type { components } from '@mes/openapi';
import { OutboundError, outboundUrl, safeGet, type FetchedDocument, type OutboundPolicy } from '../../core/outbound/safe-fetch.js';
import { parseScope, type Client, type ScopeParseResult } from '../oauth/index.js';
import { clientAssertionAlgorithms, keyProblem, PRIVATE_KEY_MEMBERS, type Jwk } from '../oauth/client-keys.js';
import { capabilityStatement } from '../records/capabilities.js';
import type { TrafficReport } from '../sandbox/index.js';

export type CheckResult = components['schemas']['CheckResult'];
type Snapshot = components['schemas']['Snapshot'];
type ScopeRequest = components['schemas']['ScopeRequest'];
type Purpose = components['schemas']['Purpose'];

export interface CheckSubject {
  snapshot: Snapshot;
  publisher: { status: string; domains: string[]; registrationNumber: string };
  /** The app's OAuth clients. */
  clients: Client[];
  sandboxClientId: string | null;
  /** The sandbox client's traffic report; null when there is no sandbox client or no sandbox. */
  traffic: TrafficReport | null;
  /**
   * True when the checks run in a sandbox, a rehearsal that may be offline (a developer's
   * machine): a document it cannot reach is a warning there, and a failure where apps are certified.
   */
  rehearsal?: boolean;
}

export type DocumentFetcher = (url: string) => Promise<FetchedDocument>;

const DOCUMENT_MAX_BYTES = 2 * 1024 * 1024;
const DOCUMENT_TYPES = ['text/html', 'text/plain', 'application/pdf'];

/** Fetches an app's documents as any outside URL is fetched: through the safe outbound fetcher. */
export function documentFetcher(policy: OutboundPolicy): DocumentFetcher {
  return (url) => safeGet(url, { maxBytes: DOCUMENT_MAX_BYTES, accept: DOCUMENT_TYPES.join(', ') }, policy);
}

// ---------------------------------------------------------------------------------------------
// What the checks look at, prepared once

type Evidence = Record<string, unknown>;
interface Outcome {
  status: CheckResult['status'];
  summary: string;
  evidence: Evidence;
}

type DocumentFetch = { url: string; document: FetchedDocument } | { url: string; error: { code: string; message: string } };

interface RedirectUri {
  uri: string;
  url: URL | null;
  loopback: boolean;
}

interface ScopeView {
  request: ScopeRequest;
  /** `patient`, `user` or `system` for a resource scope, null for the others (openid, launch/patient…). */
  compartment: string | null;
  /** The scope parsed as the authorization server parses it, read as a patient/ scope whatever its compartment. */
  parsed: ScopeParseResult;
}

interface Context {
  subject: CheckSubject;
  native: boolean;
  redirectUris: RedirectUri[];
  scopes: ScopeView[];
  documents: { privacyPolicy: DocumentFetch; terms: DocumentFetch };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function redirectUriOf(uri: string): RedirectUri {
  let url: URL | null = null;
  try {
    url = new URL(uri);
  } catch {
    // Reported by redirect_uris.https.
  }
  return { uri, url, loopback: url !== null && LOOPBACK_HOSTS.has(url.hostname) };
}

function scopeViewOf(request: ScopeRequest): ScopeView {
  const compartment = /^(patient|user|system)\//.exec(request.scope)?.[1] ?? null;
  // The server's own parser refuses user/ and system/ outright; read them as patient/ scopes to
  // tell what else is wrong with them (their type, their interactions).
  const asPatient = compartment && compartment !== 'patient' ? `patient/${request.scope.slice(compartment.length + 1)}` : request.scope;
  return { request, compartment, parsed: parseScope(asPatient) };
}

async function fetchDocument(url: string, fetch: DocumentFetcher): Promise<DocumentFetch> {
  try {
    outboundUrl(url);
    return { url, document: await fetch(url) };
  } catch (error) {
    if (error instanceof OutboundError) return { url, error: { code: error.code, message: error.message } };
    return { url, error: { code: 'network_failure', message: error instanceof Error ? error.message : String(error) } };
  }
}

// ---------------------------------------------------------------------------------------------
// Shared shapes of verdicts

interface Finding {
  /** What is at fault: a URI, a scope, a key, a field. */
  subject: string;
  problem: string;
}

const listed = (findings: readonly Finding[]) => findings.map(({ subject, problem }) => `${subject} ${problem}`).join('; ');
const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** Pass when nothing is at fault, else fail naming each fault. */
function verdict(findings: readonly Finding[], pass: string, evidence: Evidence): Outcome {
  if (findings.length === 0) return { status: 'pass', summary: pass, evidence };
  return { status: 'fail', summary: `${listed(findings)}.`, evidence: { ...evidence, problems: findings } };
}

// ---------------------------------------------------------------------------------------------
// redirect_uris

type UriRule = (uri: RedirectUri, context: Context) => string | null;

function uriCheck(rule: UriRule, pass: string): (context: Context) => Outcome {
  return (context) => {
    const findings = context.redirectUris.flatMap((uri) => {
      const problem = rule(uri, context);
      return problem ? [{ subject: `Redirect URI ${uri.uri}`, problem }] : [];
    });
    return verdict(findings, pass, { redirectUris: context.redirectUris.map(({ uri }) => uri), applicationType: context.subject.snapshot.compliance?.applicationType ?? null });
  };
}

const httpsRule: UriRule = ({ url, loopback }, { native }) => {
  if (!url) return 'is not an absolute URI';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && loopback) return native ? null : 'uses http on a loopback address, which only native apps may';
  return `uses ${url.protocol.slice(0, -1)}, not https`;
};

const fragmentRule: UriRule = ({ uri }) => (uri.includes('#') ? 'has a fragment (#…), which OAuth forbids in a redirect URI' : null);
const wildcardRule: UriRule = ({ uri }) => (uri.includes('*') ? 'contains *: redirect URIs are matched exactly, with no wildcard' : null);
const loopbackRule: UriRule = ({ loopback }, { native, subject }) =>
  loopback && !native ? `is a loopback URI, but the app is declared ${subject.snapshot.compliance ? `a ${subject.snapshot.compliance.applicationType} app` : 'neither native nor web (no compliance answers)'}, not a native one` : null;

/** The publisher's domain that `host` is or is a subdomain of (a look-alike such as evil-example.fr is neither). */
function matchingDomain(host: string, domains: readonly string[]): string | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  return domains.map((domain) => domain.toLowerCase()).find((domain) => name === domain || name.endsWith(`.${domain}`));
}

function verifiedDomain(context: Context): Outcome {
  const { publisher } = context.subject;
  const uris = context.redirectUris.map((uri) => {
    const exempt = context.native && uri.loopback;
    const host = uri.url?.hostname ?? null;
    return { uri: uri.uri, host, exempt, domain: exempt || host === null ? null : (matchingDomain(host, publisher.domains) ?? null) };
  });
  const findings: Finding[] = uris
    .filter((uri) => !uri.exempt && uri.domain === null)
    .map((uri) => ({ subject: `Redirect URI ${uri.uri}`, problem: uri.host ? `is on ${uri.host}, which is none of the publisher's domains (${publisher.domains.join(', ') || 'none declared'})` : 'has no host' }));
  if (publisher.status !== 'verified') findings.unshift({ subject: 'The publisher', problem: `is not verified (status ${publisher.status}), so none of its domains is` });
  return verdict(findings, `Every redirect URI is on a verified domain of the publisher (${publisher.domains.join(', ')}).`, {
    publisherStatus: publisher.status,
    domains: publisher.domains,
    uris,
  });
}

// ---------------------------------------------------------------------------------------------
// documents

/** Fetch failures of a place the server cannot reach, as opposed to a document that is wrong. */
const unreachable: ReadonlySet<string> = new Set(['dns_failure', 'network_failure', 'timeout', 'forbidden_address', 'tls_failure']);

function documentCheck(which: keyof Context['documents'], name: string): (context: Context) => Outcome {
  return ({ documents, subject }) => {
    const fetched = documents[which];
    if ('error' in fetched && subject.rehearsal && unreachable.has(fetched.error.code)) {
      return {
        status: 'warn',
        summary: `The sandbox could not reach the ${name} at ${fetched.url} (${fetched.error.code}: ${fetched.error.message}); the certifying platform fetches it again and fails the check if it cannot.`,
        evidence: { url: fetched.url, error: fetched.error },
      };
    }
    if ('error' in fetched) {
      return { status: 'fail', summary: `The ${name} at ${fetched.url} could not be fetched: ${fetched.error.message} (${fetched.error.code}).`, evidence: { url: fetched.url, error: fetched.error } };
    }
    const { status, headers, body } = fetched.document;
    const header = headers['content-type'];
    const contentType = (Array.isArray(header) ? header[0] : header) ?? null;
    const mediaType = contentType?.split(';', 1)[0]!.trim().toLowerCase() ?? '';
    const evidence = { url: fetched.url, status, contentType, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
    const problems = [
      ...(status < 200 || status > 299 ? [`answered HTTP ${status}`] : []),
      ...(body.length === 0 ? ['is empty'] : []),
      ...(DOCUMENT_TYPES.includes(mediaType) ? [] : [`is served ${contentType ? `as ${contentType}` : 'with no content type'}, not as HTML, plain text or PDF`]),
    ];
    const findings = problems.length ? [{ subject: `The ${name} at ${fetched.url}`, problem: problems.join('; it ') }] : [];
    return verdict(findings, `The ${name} at ${fetched.url} is reachable (${status}, ${contentType}, ${plural(body.length, 'byte')}).`, evidence);
  };
}

// ---------------------------------------------------------------------------------------------
// scopes

/** The purposes the national record allows, checked complete against the spec's enum. */
const purposes = { prevention: true, diagnostic: true, soins: true, suivi: true } satisfies Record<Purpose, true>;
const isPurpose = (value: string | undefined): boolean => value !== undefined && Object.hasOwn(purposes, value);

type ScopeRule = (scope: ScopeView) => string | null;

function scopeCheck(rule: ScopeRule, pass: string): (context: Context) => Outcome {
  return ({ scopes }) => {
    const findings = scopes.flatMap((view) => {
      const problem = rule(view);
      return problem ? [{ subject: `Scope ${view.request.scope}`, problem }] : [];
    });
    return verdict(findings, pass, { scopes: scopes.map(({ request }) => ({ scope: request.scope, purpose: request.purpose ?? null, justified: Boolean(request.justification?.trim()) })) });
  };
}

const justifiedRule: ScopeRule = ({ request, compartment }) => {
  const missing = [
    ...(request.justification?.trim() ? [] : ['justification']),
    ...(compartment && !isPurpose(request.purpose) ? [`purpose (one of ${Object.keys(purposes).join(', ')})`] : []),
  ];
  return missing.length ? `has no ${missing.join(' and no ')}` : null;
};

const wildcardScopeRule: ScopeRule = ({ request: { scope } }) => {
  if (!scope.includes('*')) return null;
  return /^[a-z]+\/\*/.test(scope) ? 'opens every resource type (*), more than any justification of one use supports' : 'uses a wildcard (*), more than any justification of one use supports';
};

const patientContextRule: ScopeRule = ({ request, compartment }) =>
  compartment && compartment !== 'patient'
    ? `is a ${compartment}/ scope: a third-party app acts for one patient, so only patient/ scopes (patient/${request.scope.slice(compartment.length + 1)}) are allowed`
    : null;

const interactionNames: Record<string, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };
const capabilityLetters: Record<string, string> = { create: 'c', read: 'r', update: 'u', delete: 'd', 'search-type': 's' };
let offered: Map<string, string> | undefined;

/** The interactions (as scope letters) the FHIR API serves on each type, from its CapabilityStatement. */
function offeredInteractions(): Map<string, string> {
  // The issuer only shapes the statement's URLs, not the types and interactions read here.
  offered ??= new Map(
    (capabilityStatement('').rest[0]?.resource ?? []).map((resource) => [
      resource.type ?? '',
      (resource.interaction ?? []).map(({ code }) => capabilityLetters[code ?? ''] ?? '').join(''),
    ]),
  );
  return offered;
}

const supportedRule: ScopeRule = ({ parsed }) => {
  if (!parsed.ok) return `is not a scope the platform offers: ${parsed.reason}`;
  if (parsed.scope.kind !== 'resource') return null;
  const { resourceType, interactions } = parsed.scope;
  const available = resourceType === '*' ? [...offeredInteractions().values()].join('') : (offeredInteractions().get(resourceType) ?? '');
  const unsupported = [...interactions].filter((letter) => !available.includes(letter));
  if (unsupported.length === 0) return null;
  const names = (letters: Iterable<string>) => [...new Set(letters)].map((letter) => interactionNames[letter]).join(', ') || 'nothing';
  return `asks to ${names(unsupported)} ${resourceType === '*' ? 'any resource type' : resourceType}, which the FHIR API does not offer (it offers ${names([...'cruds'].filter((letter) => available.includes(letter)))})`;
};

// ---------------------------------------------------------------------------------------------
// keys

/** keyProblem words its one size rule (the RSA modulus) in bits; every other problem is about the algorithm. */
const isSizeProblem = (problem: string) => /\bbits\b/.test(problem);

function problemOf(jwk: Jwk): string | null {
  try {
    return keyProblem(jwk);
  } catch {
    // keyProblem knows only the key types the profile accepts.
    return `has kty ${String(jwk.kty)}, not EC, RSA or OKP`;
  }
}

/** The size of a key, for the evidence: the RSA modulus in bits, or the curve. */
function sizeOf(jwk: Jwk): string | null {
  if (jwk.kty !== 'RSA') return jwk.crv ?? null;
  const modulus = Buffer.from(jwk.n ?? '', 'base64url');
  return modulus.length ? `${modulus.length * 8 - (Math.clz32(modulus[0]!) - 24)} bits` : null;
}

type KeyRule = (jwk: Jwk) => string | null;

const algorithmRule: KeyRule = (jwk) => {
  if (jwk.alg !== undefined && !(clientAssertionAlgorithms as readonly string[]).includes(jwk.alg)) return `uses ${jwk.alg}, not one of ${clientAssertionAlgorithms.join(', ')}`;
  const problem = problemOf(jwk);
  return problem && !isSizeProblem(problem) ? problem : null;
};
const sizeRule: KeyRule = (jwk) => {
  const problem = problemOf(jwk);
  return problem && isSizeProblem(problem) ? problem : null;
};
const publicOnlyRule: KeyRule = (jwk) => {
  const members = PRIVATE_KEY_MEMBERS.filter((member) => member in jwk);
  return members.length ? `holds private key material (${members.map((member) => `"${member}"`).join(', ')}), which the platform must never hold` : null;
};

function clientKeys(client: Client, rule: KeyRule): { evidence: Evidence; findings: Finding[]; checked: number } {
  const base = { clientId: client.clientId, type: client.type, tokenEndpointAuthMethod: client.tokenEndpointAuthMethod };
  if (client.tokenEndpointAuthMethod === 'none') return { evidence: { ...base, keys: 'none: a public client authenticates with no key' }, findings: [], checked: 0 };
  if (client.jwksUri) {
    return { evidence: { ...base, keys: 'remote', jwksUri: client.jwksUri, checked: 'at registration and at each fetch, by the rules of this check' }, findings: [], checked: 0 };
  }
  const keys = client.jwks?.keys ?? [];
  const results = keys.map((jwk) => ({ kid: jwk.kid, kty: jwk.kty, crv: jwk.crv ?? null, alg: jwk.alg ?? null, size: sizeOf(jwk), problem: rule(jwk) }));
  const findings = results.flatMap(({ kid, problem }) => (problem ? [{ subject: `Key "${kid}" of client ${client.clientId}:`, problem }] : []));
  return { evidence: { ...base, keys: results }, findings, checked: keys.length };
}

function keysCheck(rule: KeyRule, pass: string): (context: Context) => Outcome {
  return ({ subject: { clients } }) => {
    const perClient = clients.map((client) => clientKeys(client, rule));
    const evidence = { clients: perClient.map(({ evidence }) => evidence) };
    const findings = perClient.flatMap(({ findings }) => findings);
    if (findings.length) return verdict(findings, pass, evidence);
    const confidential = clients.filter((client) => client.tokenEndpointAuthMethod !== 'none');
    if (clients.length === 0) return { status: 'warn', summary: 'The app has no OAuth client: there is no key to check.', evidence };
    if (confidential.length > 0 && perClient.every(({ checked }) => checked === 0)) {
      const where = confidential.map((client) => (client.jwksUri ? `client ${client.clientId} publishes its keys at ${client.jwksUri}` : `client ${client.clientId} has no keys`));
      return { status: 'warn', summary: `No key could be checked here: ${where.join('; ')}. Remote keys are checked when registered and at each fetch.`, evidence };
    }
    const checked = perClient.reduce((sum, { checked }) => sum + checked, 0);
    return { status: 'pass', summary: checked ? `${pass} (${plural(checked, 'registered key')} checked).` : 'No client has keys to check: every client is public (token auth none).', evidence };
  };
}

/**
 * A client registered for Bearer tokens is reported, not failed: the platform may allow them (for
 * existing SMART apps), and the sandbox traffic checks already fail a flow without DPoP proofs.
 */
function dpopBound({ subject: { clients } }: Context): Outcome {
  const evidence = { clients: clients.map((client) => ({ clientId: client.clientId, dpopBoundAccessTokens: client.dpopBoundAccessTokens })) };
  const bearer = clients.filter((client) => !client.dpopBoundAccessTokens);
  if (bearer.length) {
    return { status: 'warn', summary: `${bearer.map((client) => `Client ${client.clientId}`).join(', ')} ${bearer.length > 1 ? 'get' : 'gets'} Bearer access tokens, bound to no key (dpopBoundAccessTokens false).`, evidence };
  }
  return { status: 'pass', summary: clients.length ? 'Every client gets DPoP-bound access tokens.' : 'The app has no OAuth client.', evidence };
}

// ---------------------------------------------------------------------------------------------
// submission

const MAX_RETENTION = 'P20Y';
const DAYS = { Y: 365.25, M: 365.25 / 12, W: 7, D: 1, H: 1 / 24, S: 1 / 86_400 } as const;
const durationPattern = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** An ISO 8601 duration (P2Y, P6M, P1Y6M, P90D…) in days, years and months at their average length; null if it is not one. */
function durationInDays(value: string): number | null {
  const match = durationPattern.exec(value);
  if (!match) return null;
  const [years, months, weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number, number];
  return years * DAYS.Y + months * DAYS.M + weeks * DAYS.W + days * DAYS.D + hours * DAYS.H + minutes * 60 * DAYS.S + seconds * DAYS.S;
}

const present = (value: string | undefined | null) => typeof value === 'string' && value.trim() !== '';

function compliance({ subject }: Context): Outcome {
  const { compliance: answers } = subject.snapshot;
  const { registrationNumber } = subject.publisher;
  const findings: Finding[] = [];
  if (!answers) findings.push({ subject: 'The compliance answers', problem: 'are missing' });
  else {
    const fields: [string, string | undefined][] = [
      ['applicationType', answers.applicationType],
      ['hosting.provider', answers.hosting?.provider],
      ['hosting.certificateReference (HDS)', answers.hosting?.certificateReference],
      ['dataProtectionOfficer.name', answers.dataProtectionOfficer?.name],
      ['dataProtectionOfficer.email', answers.dataProtectionOfficer?.email],
      ['securityContact.email', answers.securityContact?.email],
    ];
    for (const [field, value] of fields) if (!present(value)) findings.push({ subject: `compliance.${field}`, problem: 'is missing' });
    const retention = answers.retentionPeriod ?? '';
    const days = durationInDays(retention);
    if (days === null) findings.push({ subject: `compliance.retentionPeriod "${retention}"`, problem: 'is not an ISO 8601 duration (e.g. P2Y, P6M, P1Y6M)' });
    else if (days > durationInDays(MAX_RETENTION)! + 1e-9) findings.push({ subject: `compliance.retentionPeriod ${retention}`, problem: `is longer than ${MAX_RETENTION}` });
  }
  if (!/^(?:\d{9}|\d{14})$/.test(registrationNumber ?? '')) {
    findings.push({ subject: `The publisher's registration number "${registrationNumber ?? ''}"`, problem: 'is not a SIREN (9 digits) or SIRET (14 digits)' });
  }
  return verdict(findings, `The compliance answers are complete (hosting ${answers?.hosting.provider}, retention ${answers?.retentionPeriod}) and the publisher is registered (${registrationNumber}).`, {
    compliance: answers,
    registrationNumber,
  });
}

// ---------------------------------------------------------------------------------------------
// sandbox

type TrafficRule = (report: TrafficReport) => Omit<Outcome, 'evidence'>;

/** A check of the sandbox traffic; without a sandbox client or traffic it fails with nothing to read. */
function sandboxCheck(rule: TrafficRule): (context: Context) => Outcome {
  return ({ subject: { sandboxClientId, traffic } }) => {
    const evidence = { sandboxClientId, report: traffic };
    if (!sandboxClientId) return { status: 'fail', summary: 'The app has no sandbox client, so there is no sandbox traffic to read.', evidence };
    if (!traffic || traffic.requests === 0) return { status: 'fail', summary: `The sandbox recorded no traffic for client ${sandboxClientId}.`, evidence };
    return { ...rule(traffic), evidence };
  };
}

const passOrFail = (missing: string[], pass: string): Omit<Outcome, 'evidence'> =>
  missing.length ? { status: 'fail', summary: `${missing.join('; ')}.` } : { status: 'pass', summary: pass };

const completeFlow: TrafficRule = ({ authorization, dpop, grantTypes, scopes }) => {
  const withoutProof = (all: number, proved: number, what: string) => (all === 0 ? [`no ${what}`] : proved < all ? [`${all - proved} of ${plural(all, what)} without a DPoP proof`] : []);
  const codeGrants = grantTypes.authorization_code ?? 0;
  const missing = [
      ...(authorization.pushed === 0 ? ['no authorization request pushed first (PAR)'] : []),
      ...(authorization.pkce === 0 ? ['no authorization request with PKCE'] : []),
      ...withoutProof(dpop.tokenRequests, dpop.tokenRequestsWithProof, 'token request'),
      ...withoutProof(dpop.resourceRequests, dpop.resourceRequestsWithProof, 'FHIR request'),
      ...(codeGrants === 0 ? ['no successful authorization_code grant'] : []),
      ...(scopes.resourceTypesCalled.length === 0 ? ['no successful FHIR call'] : []),
  ];
  return passOrFail(
    missing.length ? [`The sandbox traffic shows no complete flow: ${missing.join('; ')}`] : [],
    `A complete flow: ${plural(authorization.pushed, 'pushed authorization')} with PKCE, ${plural(codeGrants, 'code grant')}, DPoP proofs on all ${plural(dpop.tokenRequests, 'token request')} and ${plural(dpop.resourceRequests, 'FHIR request')} (${scopes.resourceTypesCalled.join(', ')} called).`,
  );
};

const refreshed: TrafficRule = ({ grantTypes }) =>
  passOrFail(
    (grantTypes.refresh_token ?? 0) === 0 ? ['The app never refreshed an access token (no successful refresh_token grant)'] : [],
    `The app refreshed its access token (${plural(grantTypes.refresh_token ?? 0, 'successful refresh_token grant')}).`,
  );

const withdrawnGrant: TrafficRule = ({ reactions: { grantEnded } }) =>
  passOrFail(
    [
      ...(grantEnded.count === 0 ? ['The app was never told that its grant had ended (grant_ended), so its reaction is unknown'] : []),
      ...(grantEnded.retried > 0 ? [`The app kept using its dead grant after ${grantEnded.retried} of ${plural(grantEnded.count, 'answer')} saying it had ended`] : []),
    ],
    grantEnded.count === 1 ? 'Told that its grant had ended, the app stopped using it.' : `Told ${grantEnded.count} times that its grant had ended, the app stopped using it each time.`,
  );

const rateLimit: TrafficRule = ({ reactions: { rateLimited } }) =>
  passOrFail(
    [
      ...(rateLimited.count === 0 ? ['The app never met a 429, so its respect of Retry-After is unknown'] : []),
      ...(rateLimited.retriedTooSoon > 0 ? [`The app retried before Retry-After after ${rateLimited.retriedTooSoon} of ${plural(rateLimited.count, 'rate-limited answer')} (429)`] : []),
    ],
    rateLimited.count === 1 ? 'The app waited for Retry-After after its rate-limited answer (429).' : `The app waited for Retry-After after each of its ${rateLimited.count} rate-limited answers (429).`,
  );

const scopeAdherence: TrafficRule = ({ scopes }) => {
  const covered = (type: string) =>
    scopes.requested.some((scope) => {
      const parsed = parseScope(scope);
      return parsed.ok && parsed.scope.kind === 'resource' && (parsed.scope.resourceType === type || parsed.scope.resourceType === '*');
    });
  const uncovered = scopes.resourceTypesCalled.filter((type) => !covered(type));
  return passOrFail(
    [
      ...(scopes.refusedCalls > 0 ? [`${plural(scopes.refusedCalls, 'FHIR call')} refused for ${scopes.refusedCalls === 1 ? 'its' : 'their'} scope (403)`] : []),
      ...(uncovered.length ? [`${uncovered.join(', ')} called without a requested scope for ${uncovered.length === 1 ? 'it' : 'them'}`] : []),
    ],
    `Every FHIR call stayed within the requested scopes (${scopes.resourceTypesCalled.join(', ') || 'no type'} called).`,
  );
};

const leastPrivilege: TrafficRule = ({ scopes: { unusedResourceScopes } }) =>
  unusedResourceScopes.length
    ? { status: 'warn', summary: `The app asked for ${unusedResourceScopes.join(', ')} but never called ${unusedResourceScopes.length === 1 ? 'it' : 'them'} in the sandbox.` }
    : { status: 'pass', summary: 'The app called every resource type it asked for.' };

// ---------------------------------------------------------------------------------------------
// The table

interface Check {
  id: string;
  group: CheckResult['group'];
  title: string;
  remedy: string;
  evaluate: (context: Context) => Outcome;
}

const exercise = 'Run the app against the sandbox with its sandbox client, then check with `mes sandbox report <clientId>`';

const checks: readonly Check[] = [
  {
    id: 'redirect_uris.https',
    group: 'redirect_uris',
    title: 'Redirect URIs use HTTPS',
    remedy: 'Register https:// redirect URIs only; a native app may use http://127.0.0.1, http://[::1] or http://localhost with any port.',
    evaluate: uriCheck(httpsRule, 'Every redirect URI uses https (or, for a native app, a loopback address).'),
  },
  {
    id: 'redirect_uris.no_fragment',
    group: 'redirect_uris',
    title: 'Redirect URIs have no fragment',
    remedy: 'Remove the #fragment from each redirect URI (RFC 6749 §3.1.2); keep state in the `state` parameter instead.',
    evaluate: uriCheck(fragmentRule, 'No redirect URI has a fragment.'),
  },
  {
    id: 'redirect_uris.no_wildcard',
    group: 'redirect_uris',
    title: 'Redirect URIs have no wildcard',
    remedy: 'List every redirect URI in full: they are compared exactly, and * is never expanded.',
    evaluate: uriCheck(wildcardRule, 'No redirect URI contains a wildcard.'),
  },
  {
    id: 'redirect_uris.verified_domain',
    group: 'redirect_uris',
    title: "Redirect URIs are on the publisher's verified domains",
    remedy: "Use redirect URIs on one of the publisher's domains (or its subdomains); add the domain to the publisher's profile and have it verified before submitting.",
    evaluate: verifiedDomain,
  },
  {
    id: 'redirect_uris.loopback_native_only',
    group: 'redirect_uris',
    title: 'Loopback redirect URIs only for native apps',
    remedy: 'Remove loopback redirect URIs from a web app; if the app is a native (mobile, desktop, command-line) app, declare compliance.applicationType `native`.',
    evaluate: uriCheck(loopbackRule, 'Loopback redirect URIs, if any, belong to a native app.'),
  },
  {
    id: 'documents.privacy_policy',
    group: 'documents',
    title: 'The privacy policy is published',
    remedy: 'Publish the privacy policy at a public https URL that answers 200 with an HTML, plain-text or PDF document (no redirect, at most 2 MiB), and give that URL.',
    evaluate: documentCheck('privacyPolicy', 'privacy policy'),
  },
  {
    id: 'documents.terms',
    group: 'documents',
    title: 'The terms of use are published',
    remedy: 'Publish the terms of use at a public https URL that answers 200 with an HTML, plain-text or PDF document (no redirect, at most 2 MiB), and give that URL.',
    evaluate: documentCheck('terms', 'terms of use'),
  },
  {
    id: 'scopes.justified',
    group: 'scopes',
    title: 'Every scope is justified',
    remedy: 'Give each scope a justification, and each patient/ scope a purpose: prevention, diagnostic, soins or suivi.',
    evaluate: scopeCheck(justifiedRule, 'Every scope has a justification, and every resource scope a purpose.'),
  },
  {
    id: 'scopes.no_wildcard',
    group: 'scopes',
    title: 'No wildcard scope',
    remedy: 'Replace each wildcard scope (patient/*.rs) with one scope per resource type the app uses, each with its own justification.',
    evaluate: scopeCheck(wildcardScopeRule, 'No scope uses a wildcard.'),
  },
  {
    id: 'scopes.patient_context',
    group: 'scopes',
    title: 'Only patient scopes',
    remedy: 'Replace user/ and system/ scopes with the matching patient/ scopes: a third-party app acts for the one patient who authorized it.',
    evaluate: scopeCheck(patientContextRule, 'Every resource scope is a patient/ scope.'),
  },
  {
    id: 'scopes.supported_interactions',
    group: 'scopes',
    title: 'Scopes name what the FHIR API offers',
    remedy: 'Ask only for resource types and interactions the FHIR API serves (see GET /fhir/metadata): read and search on every type, create on Observation and DocumentReference.',
    evaluate: scopeCheck(supportedRule, 'Every scope names a resource type and interactions the FHIR API offers.'),
  },
  {
    id: 'keys.algorithms',
    group: 'keys',
    title: 'Client keys use an allowed algorithm',
    remedy: `Register signing keys for ${clientAssertionAlgorithms.join(', ')} only: EC P-256 (ES256), EC P-384 (ES384), RSA (PS256 or RS384) or Ed25519 (EdDSA).`,
    evaluate: keysCheck(algorithmRule, 'Every registered key uses an allowed algorithm'),
  },
  {
    id: 'keys.sizes',
    group: 'keys',
    title: 'Client keys are large enough',
    remedy: 'Replace RSA keys shorter than 2048 bits (or use EC P-256 or Ed25519 keys).',
    evaluate: keysCheck(sizeRule, 'Every registered key is large enough'),
  },
  {
    id: 'keys.public_only',
    group: 'keys',
    title: 'Client keys are public keys',
    remedy: 'Register public keys only, and replace any key whose private part was sent: it must be considered compromised.',
    evaluate: keysCheck(publicOnlyRule, 'Every registered key is a public key'),
  },
  {
    id: 'keys.dpop_bound',
    group: 'keys',
    title: 'Clients bind their tokens with DPoP',
    remedy: 'Register the app’s clients with DPoP-bound access tokens (dpopBoundAccessTokens true, the default) and send a DPoP proof with every token and FHIR request: Bearer tokens are for trying an existing SMART app, and only where the operator allows them.',
    evaluate: dpopBound,
  },
  {
    id: 'submission.compliance',
    group: 'submission',
    title: 'Compliance answers are complete',
    remedy:
      "Fill in the app's compliance answers: application type, HDS-certified host and its certificate reference, data protection officer (name and email), security contact email, and a retention period as an ISO 8601 duration of at most P20Y; the publisher needs its SIREN or SIRET.",
    evaluate: compliance,
  },
  {
    id: 'sandbox.complete_flow',
    group: 'sandbox',
    title: 'A complete, secure flow in the sandbox',
    remedy: `${exercise}: push the authorization request (PAR) with PKCE S256, exchange the code, and call the FHIR API, with a DPoP proof on every token and FHIR request.`,
    evaluate: sandboxCheck(completeFlow),
  },
  {
    id: 'sandbox.refresh',
    group: 'sandbox',
    title: 'The app refreshes its tokens',
    remedy: `${exercise}: ask for offline_access and let the app refresh its access token (\`mes sandbox expire-tokens <clientId>\` makes it expire now).`,
    evaluate: sandboxCheck(refreshed),
  },
  {
    id: 'sandbox.withdrawn_grant',
    group: 'sandbox',
    title: 'The app stops when its grant ends',
    remedy: `${exercise}: withdraw the grant (\`mes sandbox withdraw <clientId>\`, or \`mes sandbox inject <clientId> --fault revoked_grant\`) and make the app stop using it, forgetting its tokens and asking for a new authorization, instead of calling again.`,
    evaluate: sandboxCheck(withdrawnGrant),
  },
  {
    id: 'sandbox.rate_limit',
    group: 'sandbox',
    title: 'The app honours Retry-After',
    remedy: `${exercise}: inject a 429 (\`mes sandbox inject <clientId> --fault rate_limited\`) and make the app wait the Retry-After seconds before its next request.`,
    evaluate: sandboxCheck(rateLimit),
  },
  {
    id: 'sandbox.scope_adherence',
    group: 'sandbox',
    title: 'The app stays within its scopes',
    remedy: `${exercise}: call only the resource types the app asked scopes for, and ask for a scope for each type it calls.`,
    evaluate: sandboxCheck(scopeAdherence),
  },
  {
    id: 'sandbox.least_privilege',
    group: 'sandbox',
    title: 'The app uses every scope it asks for',
    remedy: `${exercise}: exercise every feature that uses each scope, or stop asking for the scopes the app does not use.`,
    evaluate: sandboxCheck(leastPrivilege),
  },
];

/** Every check, in catalogue order: the one source of ids, titles and remedies. */
export const checkCatalogue: readonly { id: string; group: CheckResult['group']; title: string; remedy: string }[] = checks.map(({ id, group, title, remedy }) => ({ id, group, title, remedy }));

/** Runs every check on the subject, in catalogue order; the two documents are fetched concurrently. */
export async function runChecks(subject: CheckSubject, fetch: DocumentFetcher): Promise<CheckResult[]> {
  const [privacyPolicy, terms] = await Promise.all([fetchDocument(subject.snapshot.privacyPolicyUrl, fetch), fetchDocument(subject.snapshot.termsUrl, fetch)]);
  const context: Context = {
    subject,
    native: subject.snapshot.compliance?.applicationType === 'native',
    redirectUris: subject.snapshot.redirectUris.map(redirectUriOf),
    scopes: subject.snapshot.scopes.map(scopeViewOf),
    documents: { privacyPolicy, terms },
  };
  return checks.map(({ id, group, title, remedy, evaluate }) => {
    const { status, summary, evidence } = evaluate(context);
    // The spec types evidence as an open object, which openapi-typescript renders as Record<string, never>.
    return { id, group, title, status, summary, evidence: evidence as unknown as CheckResult['evidence'], remedy };
  });
}
