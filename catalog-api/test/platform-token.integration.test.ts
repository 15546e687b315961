// The platform API with the command line's DPoP-bound tokens (from the device sign-in): what they
// may do, every way a request with one is refused (RFC 9449 §7 at a protected resource), and the
// session behind them: refresh with rotation and reuse detection, sign-out, the approving API
// key revoked, the end of a session.
import { decodeJwt, SignJWT } from 'jose';
import { secretBox } from '../src/core/secret-box.js';
import { activeSigningKey } from '../src/modules/oauth/signing-keys.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { appInput, call, expectProblem, registerPublisher, useServer, type CallResult } from './helpers.js';
import { commandLineSignIn, form, newKeys, pkce, postForm, resourceProof, type CommandLineSession, type Keys } from './oauth-helpers.js';

const server = useServer();
let publisher: { id: string; key: string };
let session: CommandLineSession;

beforeAll(async () => {
  publisher = await registerPublisher(server());
  session = await commandLineSignIn(server().url, publisher.key);
});

interface DpopCall {
  token?: string;
  keys?: Keys;
  body?: unknown;
  /** Claims of the proof to change (`undefined` removes one). */
  proof?: Record<string, unknown>;
  /** The DPoP header(s) to send instead of a fresh proof. */
  dpop?: string | string[] | null;
  scheme?: string;
}

/** A request to the platform API with a platform token and a fresh proof for it. */
async function withToken(method: string, path: string, options: DpopCall = {}): Promise<CallResult> {
  const token = options.token ?? session.accessToken;
  const url = `${server().url}${path}`;
  const headers = new Headers({ authorization: `${options.scheme ?? 'DPoP'} ${token}` });
  if (options.dpop === undefined) {
    const claims = { ...options.proof };
    const proof = await resourceProof(options.keys ?? session.keys, { method, url, accessToken: token }, claims);
    headers.set('dpop', proof);
  } else if (options.dpop !== null) {
    for (const value of [options.dpop].flat()) headers.append('dpop', value);
  }
  if (options.body !== undefined) headers.set('content-type', 'application/json');
  const response = await fetch(url, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

function expectChallenge(result: CallResult, error: string) {
  const challenge = result.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^DPoP algs="ES256 PS256 EdDSA"/);
  expect(challenge).toContain(`error="${error}"`);
}

const appCount = async () => (await call(server(), 'GET', '/apps', { key: publisher.key })).body.items.length as number;

describe('the platform API with a command-line token', () => {
  it('reads and writes the publisher’s own apps and profile', async () => {
    expect(decodeJwt(session.accessToken)).toMatchObject({ aud: `${server().url}/platform`, sub: `publisher:${publisher.id}`, sid: expect.any(String) });
    const created = await withToken('POST', '/apps', { body: appInput({ name: 'Appli du terminal' }) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const listed = await withToken('GET', '/apps');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((app: { id: string }) => app.id)).toContain(created.body.id);
    expect((await withToken('GET', `/apps/${created.body.id}?`)).status).toBe(200);
    expect((await withToken('GET', '/publishers/me')).body.id).toBe(publisher.id);
    const clients = await withToken('GET', `/apps/${created.body.id}/clients`);
    expect(clients.status).toBe(200);
  });

  it('keeps to the publisher’s own apps', async () => {
    const other = await registerPublisher(server(), 'Autre éditeur');
    const foreign = await call(server(), 'POST', '/apps', { key: other.key, body: appInput() });
    expectProblem(await withToken('GET', `/apps/${foreign.body.id}`), 404, 'not_found');
    expectProblem(await withToken('DELETE', `/apps/${foreign.body.id}`), 404, 'not_found');
  });

  it('needs platform/apps.write to change anything, and refuses it with insufficient_scope', async () => {
    const readOnly = await commandLineSignIn(server().url, publisher.key, 'platform/apps.read');
    expect((await withToken('GET', '/apps', { token: readOnly.accessToken, keys: readOnly.keys })).status).toBe(200);
    const before = await appCount();
    const refused = await withToken('POST', '/apps', { token: readOnly.accessToken, keys: readOnly.keys, body: appInput() });
    expectProblem(refused, 403, 'insufficient_scope');
    expectChallenge(refused, 'insufficient_scope');
    expect(refused.headers.get('www-authenticate')).toContain('scope="platform/apps.write"');
    expect(await appCount()).toBe(before);
  });

  it('leaves API keys to API keys', async () => {
    const refused = await withToken('GET', '/publishers/me/api-keys');
    expectProblem(refused, 401, 'invalid_api_key');
  });

  it('asks for one of the two credentials when none is sent', async () => {
    const result = await call(server(), 'GET', '/apps');
    expectProblem(result, 401, 'authentication_required');
    expect(result.headers.get('www-authenticate')).toBe('Bearer realm="mes", DPoP algs="ES256 PS256 EdDSA"');
    expect(result.body.detail).toMatch(/API key.*or a platform token/);
  });
});

describe('requests refused at the platform API', () => {
  const url = () => `${server().url}/apps`;

  it.each([
    ['without a DPoP proof', { dpop: null }, 'invalid_dpop_proof', /missing DPoP header/],
    ['with two DPoP headers', { dpop: ['a.b.c', 'd.e.f'] }, 'invalid_dpop_proof', /more than one DPoP header/],
    ['with a proof for another method', { proof: { htm: 'PUT' } }, 'invalid_dpop_proof', /"htm"/],
    ['with a proof for another URL', { proof: { htu: 'http://127.0.0.1:1/apps' } }, 'invalid_dpop_proof', /"htu"/],
    ['with a proof without ath', { proof: { ath: undefined } }, 'invalid_dpop_proof', /no "ath"/],
    ['with a proof whose ath is another token’s', { proof: { ath: 'x'.repeat(43) } }, 'invalid_dpop_proof', /"ath" does not match/],
    ['with a proof from an hour ago', { proof: { iat: Math.floor(Date.now() / 1000) - 3600 } }, 'invalid_dpop_proof', /iat/],
    ['with a malformed token', { token: 'not-a-jwt' }, 'invalid_token', /not active/],
    ['with a token as a bearer token (downgrade)', { scheme: 'Bearer' }, 'invalid_token', /API key/],
  ])('refuses a request %s', async (_case, options: DpopCall, error, detail) => {
    const before = await appCount();
    // Every case is also tried on a write, which must leave nothing behind.
    for (const [method, body] of [['GET', undefined], ['POST', appInput({ name: 'Ne doit pas exister' })]] as const) {
      const result = await withToken(method, '/apps', { ...options, ...(body ? { body } : {}) });
      if (options.scheme === 'Bearer') {
        // A bound token sent as a bearer credential meets the API-key scheme, which knows nothing of it.
        expectProblem(result, 401, 'invalid_api_key');
        expect(result.headers.get('www-authenticate')).toContain(`error="${error}"`);
      } else {
        expectProblem(result, 401, error);
        expectChallenge(result, error);
      }
      expect(result.body.detail).toMatch(detail);
    }
    expect(await appCount()).toBe(before);
  });

  it('refuses a proof made with another key than the token’s (DPoP key binding)', async () => {
    const result = await withToken('GET', '/apps', { keys: await newKeys() });
    expectProblem(result, 401, 'invalid_token');
    expect(result.body.detail).toMatch(/invalid DPoP key binding/);
  });

  it('refuses a replayed request (same proof twice)', async () => {
    const proof = await resourceProof(session.keys, { method: 'GET', url: url(), accessToken: session.accessToken });
    expect((await withToken('GET', '/apps', { dpop: proof })).status).toBe(200);
    const replay = await withToken('GET', '/apps', { dpop: proof });
    expectProblem(replay, 401, 'invalid_dpop_proof');
    expect(replay.body.detail).toMatch(/already used|replay/i);
  });

  it('refuses a token signed by the platform for another audience, even with a live session', async () => {
    // Everything right but aud: the FHIR API's audience instead of the platform API's.
    const claims = decodeJwt(session.accessToken);
    const { kid, key } = await activeSigningKey(server().app.db, secretBox(server().config.keyEncryptionKey));
    const token = await new SignJWT({ ...claims, aud: `${server().url}/fhir` }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(key);
    expectProblem(await withToken('GET', '/apps', { token }), 401, 'invalid_token');
    // The same claims with the right audience pass: only aud made the difference.
    const control = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(key);
    expect((await withToken('GET', '/apps', { token: control })).status).toBe(200);
  });

  it('refuses a patient-data token, which is for the FHIR API', async () => {
    // A sandbox app's public client obtains a patient token, DPoP-bound, as a real app would.
    const app = await call(server(), 'POST', '/apps', {
      key: publisher.key,
      body: appInput({ scopes: [{ scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' }] }),
    });
    const [client] = (await call(server(), 'GET', `/apps/${app.body.id}/clients`, { key: publisher.key })).body.items;
    const { verifier, challenge } = pkce();
    const authorize = await fetch(
      `${server().url}/oauth/authorize?${form({ client_id: client.clientId, response_type: 'code', redirect_uri: 'https://tensiosuivi.example.fr/oauth/callback', scope: 'patient/Observation.rs', code_challenge: challenge, code_challenge_method: 'S256', login_hint: 'sandbox-patient-1' })}`,
      { redirect: 'manual' },
    );
    const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
    const keys = await newKeys();
    const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: client.clientId, code, code_verifier: verifier, redirect_uri: 'https://tensiosuivi.example.fr/oauth/callback' }), keys);
    expect(tokens.status).toBe(200);
    const result = await withToken('GET', '/apps', { token: tokens.body.access_token, keys });
    expectProblem(result, 401, 'invalid_token');
  });
});

describe('command-line sessions', () => {
  it('refresh with rotation: a new access token and refresh token, bound to the same key', async () => {
    const signedIn = await commandLineSignIn(server().url, publisher.key, 'platform/apps.read offline_access');
    expect(signedIn.refreshToken).toEqual(expect.any(String));
    const refresh = (token: string, keys: Keys, extra: Record<string, string> = {}) =>
      postForm(server().url, '/oauth/token', form({ grant_type: 'refresh_token', client_id: 'mes-cli', refresh_token: token, ...extra }), keys);

    expect(await refresh(signedIn.refreshToken!, await newKeys())).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/another DPoP key/) } });
    expect(await refresh(signedIn.refreshToken!, signedIn.keys, { scope: 'platform/apps.read platform/apps.write' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_scope' },
    });
    const first = await refresh(signedIn.refreshToken!, signedIn.keys);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body).toMatchObject({ token_type: 'DPoP', scope: 'offline_access platform/apps.read', refresh_token: expect.any(String) });
    expect(first.body.refresh_token).not.toBe(signedIn.refreshToken);
    expect(decodeJwt(first.body.access_token).sid).toBe(decodeJwt(signedIn.accessToken).sid);
    expect((await withToken('GET', '/apps', { token: first.body.access_token, keys: signedIn.keys })).status).toBe(200);

    // The old refresh token presented again: taken as stolen, the whole session ends.
    expect(await refresh(signedIn.refreshToken!, signedIn.keys)).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/session is ended/) } });
    expectProblem(await withToken('GET', '/apps', { token: first.body.access_token, keys: signedIn.keys }), 401, 'invalid_token');
    expect(await refresh(first.body.refresh_token, signedIn.keys)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('gives no refresh token without offline_access, and ends the session with its one token', async () => {
    const signedIn = await commandLineSignIn(server().url, publisher.key, 'platform/apps.read');
    expect(signedIn.refreshToken).toBeUndefined();
    const [row] = await server().app.db.query<{ seconds: number }>(
      'SELECT extract(epoch FROM expires_at - created_at)::int AS seconds FROM platform_sessions WHERE id = $1',
      [decodeJwt(signedIn.accessToken).sid],
    );
    expect(row!.seconds).toBe(300);
  });

  it('signs out: revoking the refresh token (or the access token) ends the session at once', async () => {
    for (const which of ['refresh', 'access'] as const) {
      const signedIn = await commandLineSignIn(server().url, publisher.key, 'platform/apps.read offline_access');
      expect((await withToken('GET', '/apps', { token: signedIn.accessToken, keys: signedIn.keys })).status).toBe(200);
      const token = which === 'refresh' ? signedIn.refreshToken! : signedIn.accessToken;
      const revoked = await postForm(server().url, '/oauth/revoke', form({ client_id: 'mes-cli', token }));
      expect(revoked.status).toBe(200);
      expectProblem(await withToken('GET', '/apps', { token: signedIn.accessToken, keys: signedIn.keys }), 401, 'invalid_token');
      const refresh = await postForm(server().url, '/oauth/token', form({ grant_type: 'refresh_token', client_id: 'mes-cli', refresh_token: signedIn.refreshToken! }), signedIn.keys);
      expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/session has ended/) } });
    }
    // Revoking something unknown is not an error (RFC 7009 §2.2).
    expect((await postForm(server().url, '/oauth/revoke', form({ client_id: 'mes-cli', token: 'nothing' }))).status).toBe(200);
  });

  it('ends when the API key that approved it is revoked', async () => {
    const owner = await registerPublisher(server(), 'Éditeur à clé révoquée');
    const extra = await call(server(), 'POST', '/publishers/me/api-keys', { key: owner.key, body: { label: 'poste de travail' } });
    const signedIn = await commandLineSignIn(server().url, extra.body.key, 'platform/apps.read offline_access');
    expect((await withToken('GET', '/apps', { token: signedIn.accessToken, keys: signedIn.keys })).status).toBe(200);
    expect((await call(server(), 'DELETE', `/publishers/me/api-keys/${extra.body.id}`, { key: owner.key })).status).toBe(204);
    expectProblem(await withToken('GET', '/apps', { token: signedIn.accessToken, keys: signedIn.keys }), 401, 'invalid_token');
    const refresh = await postForm(server().url, '/oauth/token', form({ grant_type: 'refresh_token', client_id: 'mes-cli', refresh_token: signedIn.refreshToken! }), signedIn.keys);
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('ends at the end of its life', async () => {
    const signedIn = await commandLineSignIn(server().url, publisher.key, 'platform/apps.read offline_access');
    await server().app.db.query(`UPDATE platform_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [decodeJwt(signedIn.accessToken).sid]);
    expectProblem(await withToken('GET', '/apps', { token: signedIn.accessToken, keys: signedIn.keys }), 401, 'invalid_token');
  });

  it('cannot be opened with reviewer access by a publisher key', async () => {
    await expect(commandLineSignIn(server().url, publisher.key, 'platform/certification.review')).rejects.toThrow(/device approval failed: 400.*aucun des droits/s);
  });
});
