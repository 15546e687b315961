// The token manager and the DPoP-bound requests against a scripted authorization server and FHIR
// API (an injected fetch): single-flight refresh, rotation, DPoP nonces, the refusal of a token,
// the end of a grant, and the checks of the callback. The real server's flows are in
// fhir.integration.test.ts; here each server answer is chosen to reach one branch.
import { ConsentWithdrawnError, createClient, MesError, OAuthError, ReauthorizationRequiredError, memoryStorage } from '@mes/sdk';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it, vi } from 'vitest';

const issuer = 'https://mes.test.example';
const redirectUri = 'https://app.test.example/callback';

interface TokenRequest {
  form: URLSearchParams;
  dpop: string | null;
}

interface FakeServerOptions {
  /** Answers a token request; the default issues tokens that expire in `expiresIn` seconds. */
  token?: (request: TokenRequest, count: number) => Response | undefined;
  /** Answers a FHIR request; the default answers an empty searchset. */
  fhir?: (request: Request, count: number) => Response | undefined;
  expiresIn?: number;
  metadata?: Record<string, unknown>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const bundle = { resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'self', url: `${issuer}/fhir/Immunization` }], entry: [] };

function fakeServer(options: FakeServerOptions = {}) {
  const tokenRequests: TokenRequest[] = [];
  const fhirRequests: Request[] = [];
  const parRequests: URLSearchParams[] = [];
  let issued = 0;
  const fetch = async (input: Request | URL | string, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.pathname === '/.well-known/oauth-authorization-server') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/oauth/authorize`,
        token_endpoint: `${issuer}/oauth/token`,
        pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
        revocation_endpoint: `${issuer}/oauth/revoke`,
        authorization_response_iss_parameter_supported: true,
        dpop_signing_alg_values_supported: ['ES256'],
        ...options.metadata,
      });
    }
    if (url.pathname === '/oauth/par') {
      parRequests.push(new URLSearchParams(await request.text()));
      return json(201, { request_uri: 'urn:ietf:params:oauth:request_uri:abc', expires_in: 60 });
    }
    if (url.pathname === '/oauth/token') {
      const recorded = { form: new URLSearchParams(await request.text()), dpop: request.headers.get('dpop') };
      tokenRequests.push(recorded);
      const scripted = options.token?.(recorded, tokenRequests.length);
      if (scripted) return scripted;
      issued += 1;
      return json(200, {
        access_token: `at-${issued}`,
        token_type: 'DPoP',
        expires_in: options.expiresIn ?? 300,
        scope: 'patient/Immunization.rs offline_access',
        refresh_token: `rt-${issued}`,
        patient: 'p1',
      });
    }
    if (url.pathname.startsWith('/fhir/')) {
      fhirRequests.push(request);
      const scripted = options.fhir?.(request, fhirRequests.length);
      if (scripted) return scripted;
      return new Response(JSON.stringify(bundle), { status: 200, headers: { 'content-type': 'application/fhir+json' } });
    }
    return json(404, { error: 'not_found' });
  };
  return { fetch, tokenRequests, fhirRequests, parRequests };
}

/** A client that went through authorize() and handleCallback() against the fake server. */
async function signedIn(server: ReturnType<typeof fakeServer>, extra: Parameters<typeof createClient>[0] = {}) {
  const client = createClient({ issuer, clientId: 'app-1', redirectUri, scope: ['patient/Immunization.rs', 'offline_access'], fetch: server.fetch, ...extra });
  const { state } = await client.authorize();
  await client.handleCallback(`${redirectUri}?code=c1&state=${state}&iss=${encodeURIComponent(issuer)}`);
  return client;
}

const challenge = (params: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] }), {
    status: 401,
    headers: { 'content-type': 'application/fhir+json', 'www-authenticate': `DPoP algs="ES256", ${params}`, ...headers },
  });

describe('the token manager', () => {
  it('makes exactly one refresh for 20 concurrent calls with an expiring token', async () => {
    // 10 s left is inside the refresh margin: every call wants a fresh token.
    const server = fakeServer({ expiresIn: 10 });
    const client = await signedIn(server);
    server.tokenRequests.length = 0;
    await Promise.all(Array.from({ length: 20 }, () => client.fhir.search('Immunization')));
    expect(server.tokenRequests.map((request) => request.form.get('grant_type'))).toEqual(['refresh_token']);
    expect(server.fhirRequests).toHaveLength(20);
    // Every request after the refresh carries the new token, each with its own proof.
    expect(new Set(server.fhirRequests.map((request) => request.headers.get('authorization')))).toEqual(new Set(['DPoP at-2']));
    expect(new Set(server.fhirRequests.map((request) => decodeJwt(request.headers.get('dpop')!).jti)).size).toBe(20);
  });

  it('keeps the rotated refresh token and sends it at the next refresh', async () => {
    const server = fakeServer({ expiresIn: 10 });
    const client = await signedIn(server);
    await client.fhir.search('Immunization');
    await client.fhir.search('Immunization');
    const refreshes = server.tokenRequests.filter((request) => request.form.get('grant_type') === 'refresh_token');
    expect(refreshes.map((request) => request.form.get('refresh_token'))).toEqual(['rt-1', 'rt-2']);
  });

  it('does not refresh a token that is good for longer than the margin', async () => {
    const server = fakeServer({ expiresIn: 300 });
    const client = await signedIn(server);
    await client.fhir.search('Immunization');
    expect(server.tokenRequests).toHaveLength(1);
  });

  it('refreshes once when the API refuses the token, then sends the request again', async () => {
    const server = fakeServer({ fhir: (_request, count) => (count === 1 ? challenge('error="invalid_token", error_description="expired"') : undefined) });
    const client = await signedIn(server);
    await expect(client.fhir.search('Immunization')).resolves.toMatchObject({ items: [] });
    expect(server.tokenRequests.map((request) => request.form.get('grant_type'))).toEqual(['authorization_code', 'refresh_token']);
    expect(server.fhirRequests.map((request) => request.headers.get('authorization'))).toEqual(['DPoP at-1', 'DPoP at-2']);
  });

  it('surfaces a withdrawal as ConsentWithdrawnError, without refreshing, and forgets the tokens', async () => {
    const server = fakeServer({ fhir: () => challenge('error="invalid_token", error_description="withdrawn", grant_ended="consent_withdrawn"') });
    const client = await signedIn(server);
    const error = await client.fhir.search('Immunization').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConsentWithdrawnError);
    expect(server.tokenRequests).toHaveLength(1);
    expect(server.fhirRequests).toHaveLength(1);
    await expect(client.authorization()).resolves.toBeUndefined();
  });

  it('maps a refused refresh to ReauthorizationRequiredError with the grant_ended reason', async () => {
    const server = fakeServer({
      expiresIn: 10,
      token: (request) =>
        request.form.get('grant_type') === 'refresh_token'
          ? json(400, { error: 'invalid_grant', error_description: 'the grant is no longer active', grant_ended: 'app_suspended' })
          : undefined,
    });
    const client = await signedIn(server);
    const error = await client.fhir.search('Immunization').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(error).not.toBeInstanceOf(ConsentWithdrawnError);
    expect(error).toMatchObject({ reason: 'app_suspended', cause: expect.any(OAuthError) });
    expect(server.fhirRequests).toHaveLength(0);
  });

  it('answers the token endpoint’s use_dpop_nonce by signing again with the nonce', async () => {
    const server = fakeServer({
      token: (_request, count) =>
        count === 1 ? json(400, { error: 'use_dpop_nonce', error_description: 'nonce needed' }, { 'dpop-nonce': 'n-1' }) : undefined,
    });
    await signedIn(server);
    expect(server.tokenRequests).toHaveLength(2);
    expect(decodeJwt(server.tokenRequests[0]!.dpop!).nonce).toBeUndefined();
    expect(decodeJwt(server.tokenRequests[1]!.dpop!).nonce).toBe('n-1');
  });

  it('answers the API’s use_dpop_nonce the same way', async () => {
    const server = fakeServer({
      fhir: (_request, count) => (count === 1 ? challenge('error="use_dpop_nonce", error_description="nonce needed"', { 'dpop-nonce': 'n-2' }) : undefined),
    });
    const client = await signedIn(server);
    await client.fhir.search('Immunization');
    expect(server.fhirRequests).toHaveLength(2);
    expect(decodeJwt(server.fhirRequests[1]!.headers.get('dpop')!)).toMatchObject({ nonce: 'n-2', htm: 'GET', htu: `${issuer}/fhir/Immunization`, ath: expect.any(String) });
  });

  it('binds everything to one non-extractable ES256 key', async () => {
    const server = fakeServer();
    const client = await signedIn(server);
    await client.fhir.search('Immunization');
    const tokenProof = decodeProtectedHeader(server.tokenRequests[0]!.dpop!);
    const apiProof = decodeProtectedHeader(server.fhirRequests[0]!.headers.get('dpop')!);
    expect(tokenProof).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(apiProof.jwk).toEqual(tokenProof.jwk);
    expect(tokenProof.jwk).not.toHaveProperty('d');
  });

  it('stores the DPoP key as a JWK pair when the storage serializes, and works from it', async () => {
    const values = new Map<string, string>();
    const jsonStorage = {
      get: (key: string) => (values.has(key) ? JSON.parse(values.get(key)!) : undefined),
      set: (key: string, value: unknown) => void values.set(key, JSON.stringify(value)),
      delete: (key: string) => void values.delete(key),
    };
    const server = fakeServer({
      fhir: (_request, count) => (count === 1 ? challenge('error="use_dpop_nonce", error_description="nonce needed"', { 'dpop-nonce': 'n-3' }) : undefined),
    });
    const client = await signedIn(server, { storage: jsonStorage });
    await client.fhir.search('Immunization');
    await client.fhir.search('Immunization');
    const stored = JSON.parse(values.get('mes:app-1:default:session')!);
    expect(stored.key.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.any(String) });
    // The key is imported once: the next call reuses its DPoP handle and the nonce it learnt.
    expect(server.fhirRequests).toHaveLength(3);
    expect(decodeJwt(server.fhirRequests[2]!.headers.get('dpop')!).nonce).toBe('n-3');
  });
});

describe('authorize and handleCallback', () => {
  it('pushes the request (PAR) for a confidential client and sends only its handle', async () => {
    const server = fakeServer();
    const { privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const client = createClient({ issuer, clientId: 'backend-1', clientAuth: { method: 'private_key_jwt', privateKey, kid: 'k1' }, redirectUri, scope: ['patient/Immunization.rs'], fetch: server.fetch });
    const { url } = await client.authorize();
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const [pushed] = server.parRequests;
    expect(pushed!.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(decodeProtectedHeader(pushed!.get('client_assertion')!)).toMatchObject({ alg: 'ES256', kid: 'k1' });
    expect(pushed!.get('code_challenge_method')).toBe('S256');
  });

  it('pushes a public client’s request too when the server offers PAR, with PKCE S256, bound to the DPoP key', async () => {
    const server = fakeServer();
    const client = createClient({ issuer, clientId: 'app-1', redirectUri, scope: ['patient/Immunization.rs'], fetch: server.fetch });
    const { url, state } = await client.authorize({ state: 'my-state' });
    expect(state).toBe('my-state');
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const [pushed] = server.parRequests;
    expect(Object.fromEntries(pushed!)).toMatchObject({
      client_id: 'app-1',
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'patient/Immunization.rs',
      state: 'my-state',
      code_challenge_method: 'S256',
    });
    expect(pushed!.get('client_assertion')).toBeNull();
  });

  it('sends a public client’s request in the URL, with PKCE S256 and dpop_jkt, to a server without PAR', async () => {
    const server = fakeServer({ metadata: { pushed_authorization_request_endpoint: undefined } });
    const client = createClient({ issuer, clientId: 'app-1', redirectUri, scope: ['patient/Immunization.rs'], fetch: server.fetch });
    const { url } = await client.authorize({ state: 'my-state' });
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'app-1',
      response_type: 'code',
      code_challenge_method: 'S256',
      dpop_jkt: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(server.parRequests).toHaveLength(0);
  });

  it('refuses a callback from another issuer, without a state, or with an unknown state', async () => {
    const server = fakeServer();
    const client = createClient({ issuer, clientId: 'app-1', redirectUri, scope: ['patient/Immunization.rs'], fetch: server.fetch });
    const { state } = await client.authorize();
    await expect(client.handleCallback(`${redirectUri}?code=c&state=${state}&iss=https%3A%2F%2Fevil.example`)).rejects.toBeInstanceOf(OAuthError);
    await expect(client.handleCallback(`${redirectUri}?code=c`)).rejects.toMatchObject({ error: 'invalid_state' });
    await expect(client.handleCallback(`${redirectUri}?code=c&state=never-issued&iss=${encodeURIComponent(issuer)}`)).rejects.toMatchObject({ error: 'invalid_state' });
    await expect(client.handleCallback('not a url')).rejects.toBeInstanceOf(MesError);
    expect(server.tokenRequests).toHaveLength(0);
  });

  it('refuses plain http for a server that is not on this machine, and calls that need a clientId', async () => {
    expect(() => createClient({ issuer: 'http://mes.example', clientId: 'app-1' })).toThrow(/must use https/);
    expect(() => createClient({ baseUrl: 'https://a.example', issuer: 'https://b.example' })).toThrow(/not two different URLs/);
    await expect(createClient({ baseUrl: issuer }).authorize()).rejects.toThrow(/needs the clientId option/);
    await expect(createClient({ issuer, clientId: 'app-1', fetch: fakeServer().fetch }).authorize({ scope: 'x' })).rejects.toThrow(/needs the redirectUri option/);
  });

  it('forgets authorizations abandoned for more than 10 minutes, so the storage does not grow', async () => {
    const values = new Map<string, unknown>();
    const storage = { keepsObjects: true, get: (key: string) => values.get(key), set: (key: string, value: unknown) => void values.set(key, value), delete: (key: string) => void values.delete(key) };
    const client = createClient({ issuer, clientId: 'app-1', redirectUri, scope: ['patient/Immunization.rs'], fetch: fakeServer().fetch, storage });
    const abandoned = await client.authorize();
    await client.authorize();
    expect([...values.keys()].filter((key) => key.includes(':pending:'))).toHaveLength(2);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 11 * 60_000);
      const fresh = await client.authorize();
      expect([...values.keys()].filter((key) => key.includes(':pending:'))).toEqual([`mes:app-1:pending:${fresh.state}`]);
      await expect(client.handleCallback(`${redirectUri}?code=c&state=${abandoned.state}&iss=${encodeURIComponent(issuer)}`)).rejects.toMatchObject({ error: 'invalid_state' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('stores the tokens under the session that finishes the authorization, and leaves nothing pending', async () => {
    const server = fakeServer();
    const values = new Map<string, unknown>();
    const storage = { keepsObjects: true, get: (key: string) => values.get(key), set: (key: string, value: unknown) => void values.set(key, value), delete: (key: string) => void values.delete(key) };
    const options = { issuer, clientId: 'app-1', redirectUri, scope: ['patient/Immunization.rs'], fetch: server.fetch, storage };
    // A backend renews its session at sign-in: the login and the callback have different ones.
    const { state } = await createClient({ ...options, session: 'before-sign-in' }).authorize();
    const signedInClient = createClient({ ...options, session: 'user-42' });
    await signedInClient.handleCallback(`${redirectUri}?code=c1&state=${state}&iss=${encodeURIComponent(issuer)}`);
    await expect(signedInClient.authorization()).resolves.toMatchObject({ patient: 'p1' });
    expect([...values.keys()]).toEqual(['mes:app-1:user-42:session']);
  });

  it('uses a separate session per name in one storage', async () => {
    const server = fakeServer();
    const storage = memoryStorage();
    const alice = await signedIn(server, { storage, session: 'alice' });
    const bob = createClient({ issuer, clientId: 'app-1', redirectUri, scope: ['patient/Immunization.rs'], fetch: server.fetch, storage, session: 'bob' });
    await expect(alice.authorization()).resolves.toMatchObject({ patient: 'p1' });
    await expect(bob.authorization()).resolves.toBeUndefined();
  });
});
