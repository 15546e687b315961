// The checks of the identity provider's token answer, one by one, against a scripted provider
// (a real HTTPS server whose token endpoint answers what each test says): an ID token with the
// wrong nonce, audience or issuer, signed by a key the provider does not publish, expired, or
// missing is refused and opens no session; a provider error is a page, not a crash. A correct
// answer from the same script signs in, so each refusal is the check's doing.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRecord } from './fhir-helpers.js';
import { startHttpsServer, type TestHttpsServer } from './https-server.js';
import { form } from './oauth-helpers.js';
import { startTestServer, type TestServer } from '../src/testing.js';

const PUBLIC = 'https://api.mes.example.fr';
const CLIENT_ID = 'mes-platform';
const CLIENT_SECRET = 'scripted-provider-secret';

interface TokenScript {
  status?: number;
  body?: (idToken: (claims?: Record<string, unknown>, key?: CryptoKey) => Promise<string>) => Promise<unknown>;
}

let provider: TestHttpsServer;
let issuer: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
/** What the token endpoint answers next, and the nonce the last authorization request carried. */
let script: TokenScript = {};
let nonce = '';
let server: TestServer;

beforeAll(async () => {
  const keys = await generateKeyPair('ES256');
  signingKey = keys.privateKey;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const publicJwk = { ...(await exportJWK(keys.publicKey)), kid: 'scripted-1', alg: 'ES256', use: 'sig' };
  provider = await startHttpsServer(['scripted-idp.test'], (request, response) => {
    const url = new URL(request.url ?? '/', issuer);
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (url.pathname === '/jwks') return json(200, { keys: [publicJwk] });
    if (url.pathname === '/token' && request.method === 'POST') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const sent = new URLSearchParams(Buffer.concat(chunks).toString());
        // client_secret_basic: both parts form-urlencoded, then base64 (RFC 6749 §2.3.1).
        const [id, secret] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map((part) => decodeURIComponent(part));
        if (id !== CLIENT_ID || secret !== CLIENT_SECRET || sent.get('code') !== 'scripted-code' || !sent.get('code_verifier')) {
          return json(400, { error: 'invalid_grant' });
        }
        const idToken = async (claims: Record<string, unknown> = {}, key = signingKey) =>
          new SignJWT({ nonce, ...claims })
            .setProtectedHeader({ alg: 'ES256', kid: 'scripted-1' })
            .setIssuer((claims.iss as string) ?? issuer)
            .setAudience((claims.aud as string) ?? CLIENT_ID)
            .setSubject('token-patient')
            .setIssuedAt()
            .setExpirationTime((claims.exp as number) ?? '5m')
            .sign(key);
        const body = script.body ? await script.body(idToken) : { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: await idToken() };
        json(script.status ?? 200, body);
      });
      return;
    }
    json(404, { error: 'not_found' });
  });
  issuer = provider.origin;
  server = await startTestServer(
    {
      mode: 'production',
      publicUrl: PUBLIC,
      patientIdentityProvider: { issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: [], patientClaim: 'sub', name: 'FranceConnect' },
    },
    { outbound: { ca: provider.ca, resolve: provider.resolve } },
  );
  await seedRecord(server, 'token-patient', { given: 'Rosalind', family: 'Franklin' });
});

afterAll(async () => {
  await server?.close();
  await provider?.close();
});

/** Starts a sign-in in a fresh browser and comes back with the scripted code: the platform's answer. */
async function signInWith(next: TokenScript) {
  script = next;
  const started = await fetch(`${server.url}/patient/sign-in/start`, { redirect: 'manual' });
  expect(started.status).toBe(303);
  const authorization = new URL(started.headers.get('location')!);
  nonce = authorization.searchParams.get('nonce')!;
  const cookie = started.headers.getSetCookie()[0]!.split(';')[0]!;
  const callback = `/patient/sign-in/callback?${form({ code: 'scripted-code', state: authorization.searchParams.get('state')!, iss: issuer })}`;
  const answer = await fetch(`${server.url}${callback}`, { headers: { cookie }, redirect: 'manual' });
  return { status: answer.status, cookies: answer.headers.getSetCookie(), html: await answer.text(), location: answer.headers.get('location') };
}

describe('the ID token from the identity provider', () => {
  it('signs in when everything checks out (the script itself is right)', async () => {
    const result = await signInWith({});
    expect(result.status, result.html).toBe(303);
    expect(result.location).toBe('/patient/apps');
    expect(result.cookies[0]).toMatch(/^__Host-mes_patient=/);
  });

  it.each([
    ['another nonce (a code injected from another sign-in)', () => ({ nonce: 'A'.repeat(43) })],
    ['no nonce', () => ({ nonce: undefined })],
    ['another audience', () => ({ aud: 'some-other-client' })],
    ['another issuer', () => ({ iss: 'https://other-idp.example.fr' })],
    ['an expiry in the past', () => ({ exp: Math.floor(Date.now() / 1000) - 3600 })],
  ])('is refused with %s', async (_case, claims) => {
    const result = await signInWith({ body: async (idToken) => ({ access_token: 'at', token_type: 'Bearer', id_token: await idToken(claims()) }) });
    expect(result.status).toBe(400);
    expect(result.html).toContain('La réponse de FranceConnect n’a pas pu être vérifiée');
    expect(result.cookies).toEqual([]);
  });

  it('is refused when signed by a key the provider does not publish', async () => {
    const result = await signInWith({ body: async (idToken) => ({ access_token: 'at', token_type: 'Bearer', id_token: await idToken({}, strangerKey) }) });
    expect(result.status).toBe(400);
    expect(result.cookies).toEqual([]);
  });

  it('is required: an answer without one is refused', async () => {
    const result = await signInWith({ body: async () => ({ access_token: 'at', token_type: 'Bearer' }) });
    expect(result.status).toBe(400);
    expect(result.cookies).toEqual([]);
  });

  it('is never reached when the provider refuses the code, or fails', async () => {
    const refused = await signInWith({ status: 400, body: async () => ({ error: 'invalid_grant', error_description: 'code expired' }) });
    expect(refused.status).toBe(400);
    const failing = await signInWith({ status: 500, body: async () => 'oops' });
    expect(failing.status).toBe(502);
    expect(failing.html).toContain('FranceConnect ne répond pas pour le moment');
    expect([...refused.cookies, ...failing.cookies]).toEqual([]);
  });
});
