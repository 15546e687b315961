// The automated certification checks on a subject built here: for every check id a passing and a
// failing case (and the warning of least privilege), with the document fetcher injected as a plain
// function returning what a server would answer, or failing as the safe fetcher fails.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkCatalogue, runChecks, type CheckResult, type CheckSubject, type DocumentFetcher } from '../src/modules/certification/checks.js';
import { OutboundError, type FetchedDocument } from '../src/core/outbound/safe-fetch.js';
import type { Client } from '../src/modules/oauth/index.js';
import type { Jwk } from '../src/modules/oauth/client-keys.js';
import type { TrafficReport } from '../src/modules/sandbox/index.js';

const POLICY = '<html><body><h1>Politique de confidentialité</h1></body></html>';

const page = (body = POLICY, contentType: string | null = 'text/html; charset=utf-8', status = 200): FetchedDocument => ({
  status,
  headers: contentType ? { 'content-type': contentType } : {},
  body: Buffer.from(body),
  address: '203.0.113.10',
});
const fetchesPages: DocumentFetcher = async () => page();

function jwkOf(type: 'ec' | 'rsa' | 'ed25519', kid: string, modulusLength = 2048): Jwk {
  const { publicKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength }) : generateKeyPairSync('ed25519');
  return { ...(publicKey.export({ format: 'jwk' }) as Omit<Jwk, 'kid'>), kid };
}
const ecKey = jwkOf('ec', 'ec-1');
const rsaKey = jwkOf('rsa', 'rsa-1');
const edKey = jwkOf('ed25519', 'ed-1');

function client(overrides: Partial<Client> = {}): Client {
  return {
    clientId: 'mes_backend',
    appId: '00000000-0000-4000-8000-000000000001',
    type: 'confidential',
    tokenEndpointAuthMethod: 'private_key_jwt',
    jwks: { keys: [ecKey, rsaKey, edKey] },
    jwksUri: null,
    dpopBoundAccessTokens: true,
    idTokenSignedResponseAlg: 'RS256',
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    ...overrides,
  };
}
const publicClient = client({ clientId: 'mes_mobile', type: 'public', tokenEndpointAuthMethod: 'none', jwks: null });

function report(overrides: Partial<TrafficReport> = {}): TrafficReport {
  return {
    clientId: 'mes_backend',
    firstRequestAt: '2026-11-02T10:00:00.000Z',
    lastRequestAt: '2026-11-02T10:05:00.000Z',
    requests: 14,
    grantTypes: { authorization_code: 1, refresh_token: 1 },
    authorization: { requests: 2, pushed: 2, pkce: 2 },
    dpop: { tokenRequests: 4, tokenRequestsWithProof: 4, resourceRequests: 6, resourceRequestsWithProof: 6 },
    refreshes: 1,
    scopes: { requested: ['offline_access', 'patient/Observation.rs'], resourceTypesCalled: ['Observation'], unusedResourceScopes: [], refusedCalls: 0 },
    reactions: {
      unauthorized: { count: 1, recovered: 1 },
      rateLimited: { count: 1, waitedRetryAfter: 1, retriedTooSoon: 0 },
      unavailable: { count: 0, waitedRetryAfter: 0, retriedTooSoon: 0 },
      grantEnded: { count: 1, stopped: 1, retried: 0 },
    },
    faults: { injected: 2, pending: 0 },
    ...overrides,
  };
}

type Snapshot = CheckSubject['snapshot'];
type Compliance = NonNullable<Snapshot['compliance']>;

const compliance: Compliance = {
  applicationType: 'web',
  hosting: { provider: 'Hébergeur Santé SAS', certificateReference: 'HDS-2024-0042' },
  dataProtectionOfficer: { name: 'Claire Martin', email: 'dpo@example.fr' },
  securityContact: { email: 'security@example.fr' },
  retentionPeriod: 'P2Y',
};

function subject(overrides: { snapshot?: Partial<Snapshot>; compliance?: Partial<Compliance> | null } & Partial<Omit<CheckSubject, 'snapshot'>> = {}): CheckSubject {
  const { snapshot, compliance: answers, ...rest } = overrides;
  return {
    snapshot: {
      name: 'TensioSuivi',
      redirectUris: ['https://app.example.fr/oauth/callback'],
      scopes: [
        { scope: 'offline_access', justification: 'Rester connecté entre deux visites.' },
        { scope: 'patient/Observation.rs', justification: 'Afficher vos mesures de tension.', purpose: 'suivi' },
      ],
      privacyPolicyUrl: 'https://example.fr/confidentialite',
      termsUrl: 'https://example.fr/cgu',
      compliance: answers === null ? null : { ...compliance, ...answers },
      ...snapshot,
    },
    publisher: { status: 'verified', domains: ['example.fr'], registrationNumber: '12345678900012' },
    clients: [client()],
    sandboxClientId: 'mes_backend',
    traffic: report(),
    ...rest,
  };
}

async function results(of: CheckSubject, fetch: DocumentFetcher = fetchesPages): Promise<Record<string, CheckResult>> {
  return Object.fromEntries((await runChecks(of, fetch)).map((result) => [result.id, result]));
}
async function check(id: string, of: CheckSubject, fetch?: DocumentFetcher): Promise<CheckResult> {
  const result = (await results(of, fetch))[id];
  if (!result) throw new Error(`no check ${id}`);
  return result;
}
const evidence = (result: CheckResult) => result.evidence as Record<string, unknown>;

const catalogueIds = [
  'redirect_uris.https',
  'redirect_uris.no_fragment',
  'redirect_uris.no_wildcard',
  'redirect_uris.verified_domain',
  'redirect_uris.loopback_native_only',
  'documents.privacy_policy',
  'documents.terms',
  'scopes.justified',
  'scopes.no_wildcard',
  'scopes.patient_context',
  'scopes.supported_interactions',
  'keys.algorithms',
  'keys.sizes',
  'keys.public_only',
  'keys.dpop_bound',
  'submission.compliance',
  'sandbox.complete_flow',
  'sandbox.refresh',
  'sandbox.withdrawn_grant',
  'sandbox.rate_limit',
  'sandbox.scope_adherence',
  'sandbox.least_privilege',
];

describe('the catalogue', () => {
  it('lists every check once, in order, each with a title and a remedy', () => {
    expect(checkCatalogue.map(({ id }) => id)).toEqual(catalogueIds);
    for (const entry of checkCatalogue) {
      expect(entry.id.startsWith(`${entry.group}.`), entry.id).toBe(true);
      expect(entry.title.length, entry.id).toBeGreaterThan(5);
      expect(entry.remedy.length, entry.id).toBeGreaterThan(20);
    }
  });

  it('a good app passes every check, with results in catalogue order carrying the catalogue’s titles and remedies', async () => {
    const all = await runChecks(subject(), fetchesPages);
    expect(all.map(({ id, status }) => [id, status])).toEqual(catalogueIds.map((id) => [id, 'pass']));
    all.forEach((result, index) => {
      expect(result).toMatchObject({ group: checkCatalogue[index]!.group, title: checkCatalogue[index]!.title, remedy: checkCatalogue[index]!.remedy });
      expect(result.summary.length).toBeGreaterThan(10);
    });
  });
});

describe('redirect URIs', () => {
  const uris = (redirectUris: string[], applicationType: Compliance['applicationType'] = 'web') => subject({ snapshot: { redirectUris }, compliance: { applicationType } });

  it('https: fails http and custom schemes, naming the URI', async () => {
    const result = await check('redirect_uris.https', uris(['https://app.example.fr/cb', 'http://app.example.fr/cb', 'fr.example.app:/cb']));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('http://app.example.fr/cb uses http, not https');
    expect(result.summary).toContain('fr.example.app:/cb uses fr.example.app, not https');
    expect(result.summary).not.toContain('https://app.example.fr/cb ');
  });

  it('https: a native app may use http on a loopback address, a web app may not', async () => {
    const loopbacks = ['http://127.0.0.1:51004/cb', 'http://[::1]/cb', 'http://localhost:3000/cb'];
    expect((await check('redirect_uris.https', uris(loopbacks, 'native'))).status).toBe('pass');
    const web = await check('redirect_uris.https', uris(loopbacks, 'web'));
    expect(web.status).toBe('fail');
    expect(web.summary).toContain('http://127.0.0.1:51004/cb uses http on a loopback address');
  });

  it('no_fragment', async () => {
    expect((await check('redirect_uris.no_fragment', uris(['https://app.example.fr/cb?x=1']))).status).toBe('pass');
    const result = await check('redirect_uris.no_fragment', uris(['https://app.example.fr/cb#done', 'https://app.example.fr/cb2#']));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('https://app.example.fr/cb#done has a fragment');
    expect(result.summary).toContain('https://app.example.fr/cb2# has a fragment');
  });

  it('no_wildcard: no * anywhere', async () => {
    for (const uri of ['https://*.example.fr/cb', 'https://app.example.fr/*', 'https://app.example.fr/cb?next=*']) {
      const result = await check('redirect_uris.no_wildcard', uris([uri]));
      expect(result.status, uri).toBe('fail');
      expect(result.summary).toContain(uri);
    }
  });

  it('verified_domain: the domain itself and its subdomains pass; a look-alike fails', async () => {
    expect((await check('redirect_uris.verified_domain', uris(['https://example.fr/cb', 'https://app.example.fr/cb', 'https://a.b.example.fr/cb']))).status).toBe('pass');
    for (const uri of ['https://evil-example.fr/cb', 'https://example.fr.evil.com/cb', 'https://notexample.fr/cb']) {
      const result = await check('redirect_uris.verified_domain', uris(['https://app.example.fr/cb', uri]));
      expect(result.status, uri).toBe('fail');
      expect(result.summary).toContain(`${uri} is on ${new URL(uri).hostname}, which is none of the publisher's domains (example.fr)`);
      expect(result.summary).not.toContain('https://app.example.fr/cb is');
    }
  });

  it('verified_domain: fails when the publisher is not verified, even on its own domain', async () => {
    const result = await check('redirect_uris.verified_domain', subject({ publisher: { status: 'pending_verification', domains: ['example.fr'], registrationNumber: '12345678900012' } }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('The publisher is not verified (status pending_verification)');
    expect(evidence(result)).toMatchObject({ publisherStatus: 'pending_verification', domains: ['example.fr'] });
  });

  it('verified_domain: loopback URIs of native apps are exempt, not those of web apps', async () => {
    expect((await check('redirect_uris.verified_domain', uris(['http://127.0.0.1/cb', 'https://app.example.fr/cb'], 'native'))).status).toBe('pass');
    expect((await check('redirect_uris.verified_domain', uris(['http://127.0.0.1/cb'], 'web'))).status).toBe('fail');
  });

  it('loopback_native_only', async () => {
    expect((await check('redirect_uris.loopback_native_only', uris(['http://localhost:8080/cb'], 'native'))).status).toBe('pass');
    expect((await check('redirect_uris.loopback_native_only', uris(['https://app.example.fr/cb'], 'web'))).status).toBe('pass');
    const web = await check('redirect_uris.loopback_native_only', uris(['https://app.example.fr/cb', 'http://[::1]:9000/cb'], 'web'));
    expect(web.status).toBe('fail');
    expect(web.summary).toContain('http://[::1]:9000/cb is a loopback URI, but the app is declared a web app');
    const undeclared = await check('redirect_uris.loopback_native_only', subject({ snapshot: { redirectUris: ['http://127.0.0.1/cb'] }, compliance: null }));
    expect(undeclared.status).toBe('fail');
  });
});

describe('documents', () => {
  it('a reachable document passes, with its status, type, size and hash as evidence', async () => {
    const result = await check('documents.privacy_policy', subject());
    expect(result.status).toBe('pass');
    expect(result.evidence).toEqual({
      url: 'https://example.fr/confidentialite',
      status: 200,
      contentType: 'text/html; charset=utf-8',
      bytes: Buffer.byteLength(POLICY),
      sha256: createHash('sha256').update(POLICY).digest('hex'),
    });
  });

  it('accepts plain text and PDF; refuses other types, empty documents and non-2xx answers', async () => {
    const terms = (document: FetchedDocument) => check('documents.terms', subject(), async (url) => (url.endsWith('/cgu') ? document : page()));
    expect((await terms(page('CGU', 'text/plain'))).status).toBe('pass');
    expect((await terms(page('%PDF-1.7', 'application/pdf'))).status).toBe('pass');
    const json = await terms(page('{}', 'application/json'));
    expect(json.status).toBe('fail');
    expect(json.summary).toContain('The terms of use at https://example.fr/cgu is served as application/json, not as HTML, plain text or PDF');
    expect((await terms(page('CGU', null))).summary).toContain('is served with no content type');
    const empty = await terms(page('', 'text/html'));
    expect(empty.status).toBe('fail');
    expect(empty.summary).toContain('is empty');
    expect(evidence(empty)).toMatchObject({ bytes: 0 });
    const missing = await terms(page('Not found', 'text/html', 404));
    expect(missing.status).toBe('fail');
    expect(missing.summary).toContain('answered HTTP 404');
    expect(evidence(missing)).toMatchObject({ status: 404 });
  });

  it('a fetch error fails the check with its code and message, and never throws', async () => {
    const failing: DocumentFetcher = async (url) => {
      if (url.endsWith('/cgu')) throw new OutboundError('timeout', 'no complete answer within 5000 ms');
      throw new Error('socket hang up');
    };
    const all = await results(subject(), failing);
    expect(all['documents.terms']).toMatchObject({
      status: 'fail',
      summary: 'The terms of use at https://example.fr/cgu could not be fetched: no complete answer within 5000 ms (timeout).',
      evidence: { url: 'https://example.fr/cgu', error: { code: 'timeout', message: 'no complete answer within 5000 ms' } },
    });
    expect(all['documents.privacy_policy']).toMatchObject({ status: 'fail', evidence: { error: { code: 'network_failure', message: 'socket hang up' } } });
    expect(all['redirect_uris.https']!.status).toBe('pass');
  });

  it('a URL that is not https fails without being fetched', async () => {
    const fetched: string[] = [];
    const result = await check('documents.privacy_policy', subject({ snapshot: { privacyPolicyUrl: 'http://example.fr/confidentialite' } }), async (url) => {
      fetched.push(url);
      return page();
    });
    expect(result).toMatchObject({ status: 'fail', evidence: { url: 'http://example.fr/confidentialite', error: { code: 'invalid_url', message: 'must use https' } } });
    expect(fetched).toEqual(['https://example.fr/cgu']);
  });

  it('in a sandbox (a rehearsal, maybe offline), a document it cannot reach is a warning; a wrong one still fails', async () => {
    const offline = async () => {
      throw new OutboundError('dns_failure', 'the name tensiosuivi.example.fr does not resolve');
    };
    expect(await check('documents.privacy_policy', subject({ rehearsal: true }), offline)).toMatchObject({
      status: 'warn',
      summary: expect.stringContaining('the certifying platform fetches it again'),
      evidence: { error: { code: 'dns_failure' } },
    });
    expect(await check('documents.privacy_policy', subject(), offline)).toMatchObject({ status: 'fail' });
    expect(await check('documents.privacy_policy', subject({ rehearsal: true }), async () => page(POLICY, 'text/html', 404))).toMatchObject({ status: 'fail' });
    expect(await check('documents.privacy_policy', subject({ rehearsal: true, snapshot: { privacyPolicyUrl: 'http://example.fr/p' } }))).toMatchObject({ status: 'fail' });
  });

  it('fetches both documents concurrently', async () => {
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = runChecks(subject(), async (url) => {
      started.push(url);
      if (started.length === 2) release();
      await gate;
      return page();
    });
    await expect(running).resolves.toHaveLength(catalogueIds.length);
    expect(started).toHaveLength(2);
  });
});

describe('scopes', () => {
  const scoped = (...scopes: CheckSubject['snapshot']['scopes']) => subject({ snapshot: { scopes } });
  const why = 'Afficher vos mesures de tension.';

  it('justified: resource scopes need a justification and a purpose, other scopes a justification', async () => {
    expect((await check('scopes.justified', scoped({ scope: 'openid', justification: 'Vous identifier.' }, { scope: 'patient/Observation.rs', justification: why, purpose: 'soins' }))).status).toBe('pass');
    const noPurpose = await check('scopes.justified', scoped({ scope: 'patient/Observation.rs', justification: why }, { scope: 'user/Condition.rs', justification: why }));
    expect(noPurpose.status).toBe('fail');
    expect(noPurpose.summary).toContain('Scope patient/Observation.rs has no purpose');
    expect(noPurpose.summary).toContain('Scope user/Condition.rs has no purpose (one of prevention, diagnostic, soins, suivi)');
    const notAPurpose = await check('scopes.justified', scoped({ scope: 'patient/Observation.rs', justification: why, purpose: 'marketing' as never }));
    expect(notAPurpose.status).toBe('fail');
    const unjustified = await check('scopes.justified', scoped({ scope: 'fhirUser', justification: '   ' }, { scope: 'patient/Patient.rs', justification: '' }));
    expect(unjustified.status).toBe('fail');
    expect(unjustified.summary).toBe('Scope fhirUser has no justification; Scope patient/Patient.rs has no justification and no purpose (one of prevention, diagnostic, soins, suivi).');
  });

  it('no_wildcard: patient/*.rs and user/*.rs fail', async () => {
    for (const scope of ['patient/*.rs', 'user/*.read', 'patient/Observation.*']) {
      const result = await check('scopes.no_wildcard', scoped({ scope, justification: why, purpose: 'suivi' }));
      expect(result.status, scope).toBe('fail');
      expect(result.summary).toContain(`Scope ${scope}`);
    }
    expect((await check('scopes.no_wildcard', scoped({ scope: 'patient/*.rs', justification: why, purpose: 'suivi' }))).summary).toContain('opens every resource type');
    expect((await check('scopes.no_wildcard', scoped({ scope: 'patient/Observation.rs?category=vital-signs', justification: why, purpose: 'suivi' }))).status).toBe('pass');
  });

  it('patient_context: user/ and system/ scopes fail', async () => {
    const result = await check('scopes.patient_context', scoped({ scope: 'user/Observation.rs', justification: why, purpose: 'suivi' }, { scope: 'system/Patient.rs', justification: why, purpose: 'suivi' }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('Scope user/Observation.rs is a user/ scope');
    expect(result.summary).toContain('(patient/Observation.rs)');
    expect(result.summary).toContain('Scope system/Patient.rs is a system/ scope');
    expect((await check('scopes.patient_context', scoped({ scope: 'launch/patient', justification: why }, { scope: 'patient/Patient.rs', justification: why, purpose: 'soins' }))).status).toBe('pass');
  });

  it('supported_interactions: types and interactions the FHIR API serves', async () => {
    const good = scoped(
      { scope: 'patient/Observation.crs', justification: why, purpose: 'suivi' },
      { scope: 'patient/DocumentReference.c', justification: why, purpose: 'suivi' },
      { scope: 'patient/Immunization.rs?status=completed', justification: why, purpose: 'prevention' },
      { scope: 'offline_access', justification: why },
    );
    expect((await check('scopes.supported_interactions', good)).status).toBe('pass');
    const bad = await check(
      'scopes.supported_interactions',
      scoped(
        { scope: 'patient/Observation.cruds', justification: why, purpose: 'suivi' },
        { scope: 'patient/Patient.c', justification: why, purpose: 'suivi' },
        { scope: 'patient/Dragon.rs', justification: why, purpose: 'suivi' },
        { scope: 'user/Condition.d', justification: why, purpose: 'suivi' },
      ),
    );
    expect(bad.status).toBe('fail');
    expect(bad.summary).toContain('Scope patient/Observation.cruds asks to update, delete Observation, which the FHIR API does not offer (it offers create, read, search)');
    expect(bad.summary).toContain('Scope patient/Patient.c asks to create Patient');
    expect(bad.summary).toContain('Scope patient/Dragon.rs is not a scope the platform offers: unsupported resource type Dragon');
    expect(bad.summary).toContain('Scope user/Condition.d asks to delete Condition');
  });
});

describe('keys', () => {
  const keyed = (...keys: Jwk[]) => subject({ clients: [client({ jwks: { keys } })] });

  it('EC P-256, RSA 2048 and Ed25519 keys pass the three checks', async () => {
    const all = await results(keyed(ecKey, rsaKey, edKey));
    for (const id of ['keys.algorithms', 'keys.sizes', 'keys.public_only']) expect(all[id]!.status, id).toBe('pass');
    expect(all['keys.sizes']!.summary).toContain('3 registered keys checked');
    expect(evidence(all['keys.sizes']!)).toMatchObject({ clients: [{ clientId: 'mes_backend', keys: [{ kid: 'ec-1', size: 'P-256' }, { kid: 'rsa-1', size: '2048 bits' }, { kid: 'ed-1', size: 'Ed25519' }] }] });
  });

  it('sizes: an RSA key of 1024 bits fails sizes, not algorithms', async () => {
    const small = jwkOf('rsa', 'rsa-small', 1024);
    const all = await results(keyed(ecKey, small));
    expect(all['keys.sizes']!.status).toBe('fail');
    expect(all['keys.sizes']!.summary).toContain('Key "rsa-small" of client mes_backend: RSA keys must have at least 2048 bits, this one has 1024');
    expect(all['keys.algorithms']!.status).toBe('pass');
  });

  it('algorithms: a key declared for another algorithm, or on another curve, fails', async () => {
    const all = await results(keyed({ ...ecKey, kid: 'ec-ps', alg: 'PS256' }, { ...ecKey, kid: 'ec-hs', alg: 'HS256' as never }));
    expect(all['keys.algorithms']!.status).toBe('fail');
    expect(all['keys.algorithms']!.summary).toContain('Key "ec-ps" of client mes_backend: an EC P-256 key is used with ES256, not PS256');
    expect(all['keys.algorithms']!.summary).toContain('Key "ec-hs" of client mes_backend: uses HS256, not one of ES256, ES384, RS384, PS256, EdDSA');
    expect(all['keys.sizes']!.status).toBe('pass');
    const curve = await check('keys.algorithms', keyed({ ...ecKey, kid: 'ec-521', crv: 'P-521' as never }));
    expect(curve.status).toBe('fail');
    expect(curve.summary).toContain('must be on P-256 or P-384');
  });

  it('dpop_bound: a client registered for Bearer tokens is reported as a warning', async () => {
    expect(await check('keys.dpop_bound', subject({ clients: [client()] }))).toMatchObject({ status: 'pass', summary: 'Every client gets DPoP-bound access tokens.' });
    const bearer = await check('keys.dpop_bound', subject({ clients: [client(), client({ clientId: 'mes_smart', type: 'public', dpopBoundAccessTokens: false })] }));
    expect(bearer).toMatchObject({ status: 'warn', summary: 'Client mes_smart gets Bearer access tokens, bound to no key (dpopBoundAccessTokens false).' });
    expect(evidence(bearer)).toEqual({ clients: [{ clientId: 'mes_backend', dpopBoundAccessTokens: true }, { clientId: 'mes_smart', dpopBoundAccessTokens: false }] });
  });

  it('public_only: private key material fails', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leaked = { ...(privateKey.export({ format: 'jwk' }) as Jwk), kid: 'leaked' };
    const all = await results(keyed(ecKey, leaked, { kty: 'oct' as never, k: 'c2VjcmV0', kid: 'symmetric' } as never));
    expect(all['keys.public_only']!.status).toBe('fail');
    expect(all['keys.public_only']!.summary).toContain('Key "leaked" of client mes_backend: holds private key material ("d")');
    expect(all['keys.public_only']!.summary).toContain('Key "symmetric" of client mes_backend: holds private key material ("k")');
    expect(all['keys.algorithms']!.summary).toContain('Key "symmetric" of client mes_backend: has kty oct, not EC, RSA or OKP');
  });

  it('a public client passes, saying it has no keys', async () => {
    const result = await check('keys.public_only', subject({ clients: [publicClient] }));
    expect(result.status).toBe('pass');
    expect(result.summary).toContain('every client is public');
    expect(evidence(result)).toEqual({ clients: [{ clientId: 'mes_mobile', type: 'public', tokenEndpointAuthMethod: 'none', keys: 'none: a public client authenticates with no key' }] });
  });

  it('keys at a jwks_uri are remote: a warning when no key could be checked here', async () => {
    const remote = client({ clientId: 'mes_remote', jwks: null, jwksUri: 'https://app.example.fr/jwks.json' });
    const only = await check('keys.algorithms', subject({ clients: [remote, publicClient] }));
    expect(only.status).toBe('warn');
    expect(only.summary).toContain('client mes_remote publishes its keys at https://app.example.fr/jwks.json');
    expect(evidence(only)).toMatchObject({ clients: [{ clientId: 'mes_remote', keys: 'remote', jwksUri: 'https://app.example.fr/jwks.json', checked: expect.stringContaining('registration') }, { clientId: 'mes_mobile' }] });
    expect((await check('keys.algorithms', subject({ clients: [remote, client()] }))).status).toBe('pass');
    expect((await check('keys.sizes', subject({ clients: [] }))).status).toBe('warn');
  });
});

describe('submission.compliance', () => {
  const compliant = (overrides: Parameters<typeof subject>[0]) => check('submission.compliance', subject(overrides));

  it('passes with every answer and a SIRET or a SIREN', async () => {
    expect((await compliant({})).status).toBe('pass');
    for (const retentionPeriod of ['P6M', 'P1Y6M', 'P20Y', 'P90D', 'P240M', 'P2W', 'PT48H']) {
      expect((await compliant({ compliance: { retentionPeriod } })).status, retentionPeriod).toBe('pass');
    }
    expect((await compliant({ publisher: { status: 'verified', domains: ['example.fr'], registrationNumber: '123456789' } })).status).toBe('pass');
  });

  it('fails without compliance answers', async () => {
    const result = await compliant({ compliance: null });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('The compliance answers are missing');
  });

  it('fails naming each missing answer', async () => {
    const result = await compliant({ compliance: { hosting: { provider: 'Hébergeur', certificateReference: '' }, dataProtectionOfficer: { name: 'Claire Martin', email: ' ' } } });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('compliance.hosting.certificateReference (HDS) is missing');
    expect(result.summary).toContain('compliance.dataProtectionOfficer.email is missing');
    expect(result.summary).not.toContain('securityContact');
  });

  it('fails a retention period that is not an ISO 8601 duration, or longer than 20 years', async () => {
    for (const retentionPeriod of ['2 ans', 'P', 'PT', 'P2', '2Y', 'p2y', 'P1.5Y']) {
      const result = await compliant({ compliance: { retentionPeriod } });
      expect(result.status, retentionPeriod).toBe('fail');
      expect(result.summary).toContain('is not an ISO 8601 duration');
    }
    for (const retentionPeriod of ['P21Y', 'P19Y13M', 'P7306D']) {
      const result = await compliant({ compliance: { retentionPeriod } });
      expect(result.status, retentionPeriod).toBe('fail');
      expect(result.summary).toContain(`compliance.retentionPeriod ${retentionPeriod} is longer than P20Y`);
    }
  });

  it('fails without a SIREN or SIRET', async () => {
    for (const registrationNumber of ['', '1234', '1234567890', 'ABCDEFGHI']) {
      const result = await compliant({ publisher: { status: 'verified', domains: ['example.fr'], registrationNumber } });
      expect(result.status, registrationNumber).toBe('fail');
      expect(result.summary).toContain('is not a SIREN (9 digits) or SIRET (14 digits)');
    }
  });
});

describe('sandbox', () => {
  const sandboxIds = catalogueIds.filter((id) => id.startsWith('sandbox.'));
  const traffic = (overrides: Partial<TrafficReport>) => subject({ traffic: report(overrides) });

  it('evidence is the traffic report of the sandbox client', async () => {
    const result = await check('sandbox.refresh', subject());
    expect(result.evidence).toEqual({ sandboxClientId: 'mes_backend', report: report() });
  });

  it('every sandbox check fails without a sandbox client or traffic, telling how to exercise the app', async () => {
    for (const without of [subject({ sandboxClientId: null, traffic: null }), subject({ traffic: null }), traffic({ requests: 0 })]) {
      const all = await results(without);
      for (const id of sandboxIds) {
        expect(all[id]!.status, id).toBe('fail');
        expect(all[id]!.remedy).toContain('mes sandbox report');
      }
    }
    expect((await check('sandbox.refresh', subject({ sandboxClientId: null, traffic: null }))).summary).toContain('no sandbox client');
    expect((await check('sandbox.refresh', subject({ traffic: null }))).summary).toBe('The sandbox recorded no traffic for client mes_backend.');
  });

  it('complete_flow: PAR, PKCE, DPoP everywhere, a code grant and a FHIR call', async () => {
    const unpushed = await check('sandbox.complete_flow', traffic({ authorization: { requests: 1, pushed: 0, pkce: 1 } }));
    expect(unpushed.status).toBe('fail');
    expect(unpushed.summary).toContain('no authorization request pushed first (PAR)');
    const unproved = await check('sandbox.complete_flow', traffic({ dpop: { tokenRequests: 4, tokenRequestsWithProof: 3, resourceRequests: 6, resourceRequestsWithProof: 5 } }));
    expect(unproved.status).toBe('fail');
    expect(unproved.summary).toBe('The sandbox traffic shows no complete flow: 1 of 4 token requests without a DPoP proof; 1 of 6 FHIR requests without a DPoP proof.');
    const noCall = await check(
      'sandbox.complete_flow',
      traffic({ grantTypes: {}, dpop: { tokenRequests: 0, tokenRequestsWithProof: 0, resourceRequests: 0, resourceRequestsWithProof: 0 }, scopes: { ...report().scopes, resourceTypesCalled: [] } }),
    );
    expect(noCall.summary).toBe('The sandbox traffic shows no complete flow: no token request; no FHIR request; no successful authorization_code grant; no successful FHIR call.');
  });

  it('refresh', async () => {
    const result = await check('sandbox.refresh', traffic({ grantTypes: { authorization_code: 2 }, refreshes: 0 }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('never refreshed');
  });

  it('withdrawn_grant: told at least once, and never used the ended grant again', async () => {
    const reactions = report().reactions;
    const never = await check('sandbox.withdrawn_grant', traffic({ reactions: { ...reactions, grantEnded: { count: 0, stopped: 0, retried: 0 } } }));
    expect(never.status).toBe('fail');
    expect(never.summary).toContain('never told that its grant had ended');
    const retried = await check('sandbox.withdrawn_grant', traffic({ reactions: { ...reactions, grantEnded: { count: 3, stopped: 1, retried: 2 } } }));
    expect(retried.status).toBe('fail');
    expect(retried.summary).toContain('kept using its dead grant after 2 of 3 answers');
  });

  it('rate_limit: at least one 429, never retried before Retry-After', async () => {
    const reactions = report().reactions;
    const never = await check('sandbox.rate_limit', traffic({ reactions: { ...reactions, rateLimited: { count: 0, waitedRetryAfter: 0, retriedTooSoon: 0 } } }));
    expect(never.status).toBe('fail');
    const tooSoon = await check('sandbox.rate_limit', traffic({ reactions: { ...reactions, rateLimited: { count: 2, waitedRetryAfter: 1, retriedTooSoon: 1 } } }));
    expect(tooSoon.status).toBe('fail');
    expect(tooSoon.summary).toContain('retried before Retry-After after 1 of 2 rate-limited answers');
  });

  it('scope_adherence: no call refused for its scope, every type called covered by a requested scope', async () => {
    const refused = await check('sandbox.scope_adherence', traffic({ scopes: { ...report().scopes, refusedCalls: 2 } }));
    expect(refused.status).toBe('fail');
    expect(refused.summary).toContain('2 FHIR calls refused for their scope (403)');
    const uncovered = await check('sandbox.scope_adherence', traffic({ scopes: { ...report().scopes, resourceTypesCalled: ['Condition', 'Observation'] } }));
    expect(uncovered.status).toBe('fail');
    expect(uncovered.summary).toContain('Condition called without a requested scope for it');
  });

  it('least_privilege: a warning, not a failure, naming the scopes never used', async () => {
    const result = await check('sandbox.least_privilege', traffic({ scopes: { ...report().scopes, requested: ['patient/Observation.rs', 'patient/Immunization.rs'], unusedResourceScopes: ['Immunization'] } }));
    expect(result.status).toBe('warn');
    expect(result.summary).toBe('The app asked for Immunization but never called it in the sandbox.');
  });
});
