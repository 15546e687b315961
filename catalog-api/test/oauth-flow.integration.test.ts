// Security rules of the authorization code flow, each with a test that fails if the rule goes:
// codes, pushed requests, PKCE, redirect URIs, DPoP binding, client binding.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus } from '../src/modules/catalog/repository.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { clientAssertion, createConfidentialClient, form, newKeys, pkce, postForm, type Keys } from './oauth-helpers.js';

const server = useServer();
const redirectUri = 'https://app.example.fr/oauth/callback';
const loopbackUri = 'http://127.0.0.1/callback';

let publisherKey: string;
let appId: string;
let publicClientId: string;
let confidential: { clientId: string; keys: Keys };
let other: { clientId: string; keys: Keys };


beforeAll(async () => {
  publisherKey = (await registerPublisher(server())).key;
  const app = await call(server(), 'POST', '/apps', {
    key: publisherKey,
    body: appInput({
      redirectUris: [redirectUri, loopbackUri],
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
        { scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' },
      ],
    }),
  });
  appId = app.body.id;
  publicClientId = (await call(server(), 'GET', `/apps/${appId}/clients`, { key: publisherKey })).body.items[0].clientId;
  confidential = await createConfidentialClient(server().url, publisherKey, appId);
  other = await createConfidentialClient(server().url, publisherKey, appId);
});

const assertion = (client: { clientId: string; keys: Keys }) => clientAssertion(server().url, client);
const post = (path: string, body: URLSearchParams, dpopKeys?: Keys) => postForm(server().url, path, body, dpopKeys);

function authorizeUrl(params: Record<string, string | undefined>): string {
  return `${server().url}/oauth/authorize?${form(params)}`;
}

async function authorize(params: Record<string, string | undefined>) {
  const response = await fetch(authorizeUrl(params), { redirect: 'manual' });
  const location = response.headers.get('location');
  return { status: response.status, location: location ? new URL(location) : null, page: location ? '' : await response.text() };
}

function publicRequest(overrides: Record<string, string | undefined> = {}, challenge = pkce().challenge) {
  return {
    client_id: publicClientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'launch/patient patient/Observation.rs',
    state: 'state-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: 'sandbox-patient-1',
    ...overrides,
  };
}

/** A code for the public client, and the verifier that goes with it. */
async function publicCode(overrides: Record<string, string | undefined> = {}) {
  const { verifier, challenge } = pkce();
  const result = await authorize(publicRequest(overrides, challenge));
  expect(result.status, result.page).toBe(303);
  return { code: result.location!.searchParams.get('code')!, verifier, redirect: overrides.redirect_uri ?? redirectUri };
}

async function redeem(code: { code: string; verifier: string; redirect: string }, dpopKeys: Keys, extra: Record<string, string> = {}) {
  return post('/oauth/token', form({ grant_type: 'authorization_code', client_id: publicClientId, code: code.code, code_verifier: code.verifier, redirect_uri: code.redirect, ...extra }), dpopKeys);
}

describe('authorization codes', () => {
  it('are single-use: a replay after a second fails and revokes the grant', async () => {
    const keys = await newKeys();
    const code = await publicCode();
    const first = await redeem(code, keys);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const replay = await redeem(code, keys);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const grantId = JSON.parse(Buffer.from(first.body.access_token.split('.')[1], 'base64url').toString()).grant_id;
    const [grant] = await server().app.db.query<{ revoked_at: Date | null; revoked_reason: string }>('SELECT revoked_at, revoked_reason FROM grants WHERE id = $1', [grantId]);
    expect(grant!.revoked_at).not.toBeNull();
    expect(grant!.revoked_reason).toContain('replayed');
  });

  it('give one token when redeemed twice at once', async () => {
    const code = await publicCode();
    const results = await Promise.all([redeem(code, await newKeys()), redeem(code, await newKeys())]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  });

  it('expire after 60 seconds', async () => {
    const code = await publicCode();
    await server().app.db.query(`UPDATE oauth_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1`, [
      createHash('sha256').update(code.code).digest('base64url'),
    ]);
    expect(await redeem(code, await newKeys())).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('expired') } });
  });

  it('cannot be redeemed by another client', async () => {
    const code = await publicCode();
    const stolen = await post(
      '/oauth/token',
      form({
        grant_type: 'authorization_code',
        code: code.code,
        code_verifier: code.verifier,
        redirect_uri: code.redirect,
        client_id: other.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(other),
      }),
      await newKeys(),
    );
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('another client') } });
  });

  it('need the right PKCE verifier and the same redirect URI', async () => {
    const keys = await newKeys();
    const wrong = await publicCode();
    expect(await redeem({ ...wrong, verifier: pkce().verifier }, keys)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const missing = await publicCode();
    expect(await redeem({ ...missing, verifier: '' }, keys)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const otherRedirect = await publicCode();
    expect(await redeem({ ...otherRedirect, redirect: loopbackUri }, keys)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('are bound to the DPoP key named in dpop_jkt', async () => {
    const keys = await newKeys();
    const code = await publicCode({ dpop_jkt: await calculateJwkThumbprint(keys.publicJwk) });
    expect(await redeem(code, await newKeys())).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('dpop_jkt') } });
    const again = await publicCode({ dpop_jkt: await calculateJwkThumbprint(keys.publicJwk) });
    expect((await redeem(again, keys)).status).toBe(200);
  });

  it('are refused without DPoP: no bearer downgrade', async () => {
    const code = await publicCode();
    const response = await post('/oauth/token', form({ grant_type: 'authorization_code', client_id: publicClientId, code: code.code, code_verifier: code.verifier, redirect_uri: code.redirect }));
    expect(response).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } });
  });

  it('refuse other grant types and repeated parameters', async () => {
    expect(await post('/oauth/token', form({ grant_type: 'password', client_id: publicClientId, username: 'a', password: 'b' }), await newKeys())).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
    const repeated = await fetch(`${server().url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=a&code=b',
    });
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('repeated') });
  });
});

describe('the authorization endpoint', () => {
  it('requires PKCE with S256: missing, plain and malformed challenges are refused back to the app', async () => {
    for (const [overrides, fragment] of [
      [{ code_challenge: undefined, code_challenge_method: undefined }, 'PKCE is required'],
      [{ code_challenge_method: 'plain' }, 'plain'],
      [{ code_challenge: 'short' }, 'code_challenge'],
      [{ code_challenge_method: undefined }, 'PKCE is required'],
    ] as const) {
      const result = await authorize(publicRequest(overrides));
      expect(result.status).toBe(303);
      expect(result.location!.origin + result.location!.pathname).toBe(redirectUri);
      expect(result.location!.searchParams.get('error')).toBe('invalid_request');
      expect(result.location!.searchParams.get('error_description')).toContain(fragment);
      expect(result.location!.searchParams.get('state')).toBe('state-123');
      expect(result.location!.searchParams.get('iss')).toBe(server().url);
      expect(result.location!.searchParams.get('code')).toBeNull();
    }
  });

  it.each([
    ['an extra path', `${redirectUri}/extra`],
    ['a suffix', `${redirectUri}x`],
    ['a case change', redirectUri.replace('callback', 'Callback')],
    ['a host case change', redirectUri.replace('app.example', 'APP.example')],
    ['a port', 'https://app.example.fr:8443/oauth/callback'],
    ['a query', `${redirectUri}?next=/admin`],
    ['a fragment', `${redirectUri}#frag`],
    ['http instead of https', redirectUri.replace('https:', 'http:')],
    ['javascript:', 'javascript:alert(1)'],
    ['another loopback path', 'http://127.0.0.1/other'],
  ])('never redirects to a redirect URI with %s: it shows a page', async (_case, uri) => {
    const result = await authorize(publicRequest({ redirect_uri: uri }));
    expect(result.status).toBe(400);
    expect(result.location).toBeNull();
    expect(result.page).toContain('redirect_uri is not registered');
  });

  it('lets only the port of a loopback redirect URI vary', async () => {
    const result = await authorize(publicRequest({ redirect_uri: 'http://127.0.0.1:53117/callback' }));
    expect(result.status).toBe(303);
    expect(result.location!.toString()).toMatch(/^http:\/\/127\.0\.0\.1:53117\/callback\?code=/);
  });

  it('shows a page for an unknown client', async () => {
    const result = await authorize(publicRequest({ client_id: 'mes_unknown' }));
    expect(result.status).toBe(400);
    expect(result.page).toContain('invalid_client');
  });

  it('refuses response types other than code, and unknown scopes, back to the app', async () => {
    const token = await authorize(publicRequest({ response_type: 'token' }));
    expect(token.location!.searchParams.get('error')).toBe('unsupported_response_type');
    const scope = await authorize(publicRequest({ scope: 'patient/Observation.rs admin' }));
    expect(scope.location!.searchParams.get('error')).toBe('invalid_scope');
  });

  it('grants no more than the app registered', async () => {
    const keys = await newKeys();
    const code = await publicCode({ scope: 'launch/patient patient/Observation.cruds patient/Immunization.rs' });
    const tokens = await redeem(code, keys);
    expect(tokens.body.scope).toBe('launch/patient patient/Observation.rs');
    const none = await authorize(publicRequest({ scope: 'patient/Immunization.rs' }));
    expect(none.location!.searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('pushed authorization requests', () => {
  async function push(client: { clientId: string; keys: Keys }, overrides: Record<string, string | undefined> = {}) {
    const { challenge } = pkce();
    return post(
      '/oauth/par',
      form({
        client_id: client.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(client),
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'patient/Observation.rs',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        login_hint: 'sandbox-patient-1',
        state: 's',
        ...overrides,
      }),
    );
  }

  it('are required for confidential clients: the refusal goes back to a registered redirect URI, else it is a page', async () => {
    const result = await authorize({ ...publicRequest(), client_id: confidential.clientId });
    expect(result.status).toBe(303);
    expect(Object.fromEntries(result.location!.searchParams)).toEqual({
      error: 'invalid_request',
      error_description: 'this app must push its authorization request first (PAR)',
      state: 'state-123',
      iss: server().url,
    });
    const unverified = await authorize({ ...publicRequest({ redirect_uri: 'https://evil.example.com/cb' }), client_id: confidential.clientId });
    expect(unverified.status).toBe(400);
    expect(unverified.page).toContain('push its authorization request');
  });

  it('answer a single-use request_uri, valid at most 60 s, bound to the client', async () => {
    const pushed = await push(confidential);
    expect(pushed.status).toBe(201);
    expect(pushed.headers.get('cache-control')).toBe('no-store');
    expect(pushed.body.expires_in).toBeLessThanOrEqual(60);
    expect(pushed.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);

    const byOther = await authorize({ client_id: other.clientId, request_uri: pushed.body.request_uri });
    expect(byOther.status).toBe(400);
    expect(byOther.page).toContain('invalid_request_uri');

    const first = await authorize({ client_id: confidential.clientId, request_uri: pushed.body.request_uri });
    expect(first.status).toBe(303);
    expect(first.location!.searchParams.get('code')).toBeTruthy();
    const replayed = await authorize({ client_id: confidential.clientId, request_uri: pushed.body.request_uri });
    expect(replayed.status).toBe(400);
    expect(replayed.page).toContain('invalid_request_uri');
  });

  it('expire', async () => {
    const pushed = await push(confidential);
    await server().app.db.query(`UPDATE oauth_pushed_requests SET expires_at = now() - interval '1 second' WHERE request_uri = $1`, [pushed.body.request_uri]);
    const result = await authorize({ client_id: confidential.clientId, request_uri: pushed.body.request_uri });
    expect(result.page).toContain('invalid_request_uri');
  });

  it('bind the code to the key of a DPoP proof sent with them', async () => {
    const keys = await newKeys();
    const { verifier, challenge } = pkce();
    const pushed = await post(
      '/oauth/par',
      form({
        client_id: confidential.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(confidential),
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'patient/Observation.rs',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        login_hint: 'sandbox-patient-1',
      }),
      keys,
    );
    expect(pushed.status).toBe(201);
    const redirect = await authorize({ client_id: confidential.clientId, request_uri: pushed.body.request_uri });
    const code = redirect.location!.searchParams.get('code')!;
    const exchange = async (dpop: Keys) =>
      post(
        '/oauth/token',
        form({
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: redirectUri,
          client_id: confidential.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(confidential),
        }),
        dpop,
      );
    expect(await exchange(await newKeys())).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('dpop_jkt') } });
    // The proof's key and a dpop_jkt sent beside it must be one key: otherwise nothing is pushed.
    const conflicting = await post(
      '/oauth/par',
      form({
        client_id: confidential.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(confidential),
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'patient/Observation.rs',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        dpop_jkt: await calculateJwkThumbprint((await newKeys()).publicJwk),
      }),
      keys,
    );
    expect(conflicting).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'dpop_jkt differs from the key of the DPoP proof' } });
  });

  it('need client authentication and a valid request', async () => {
    const unauthenticated = await push(confidential, { client_assertion: undefined, client_assertion_type: undefined });
    expect(unauthenticated).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await push(confidential, { code_challenge_method: 'plain' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await push(confidential, { redirect_uri: 'https://evil.example.com/cb' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await push(confidential, { request_uri: 'urn:ietf:params:oauth:request_uri:x' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('outside the sandbox', () => {
  const production = useServer({ mode: 'production', publicUrl: 'https://platform.test' });

  it('issues nothing to an app that is not certified, and shows the consent step is not configured', async () => {
    const { key } = await registerPublisher(production());
    const app = await call(production(), 'POST', '/apps', { key, body: appInput({ redirectUris: [redirectUri] }) });
    const created = await call(production(), 'POST', `/apps/${app.body.id}/clients`, { key, body: { type: 'public' } });
    const url = `${production().url}/oauth/authorize?${form({ ...publicRequest(), client_id: created.body.clientId, scope: 'patient/Observation.rs' })}`;
    const draft = await fetch(url, { redirect: 'manual' });
    expect(new URL(draft.headers.get('location')!).searchParams.get('error')).toBe('unauthorized_client');

    await setCertificationStatus(production().app.db, app.body.id, 'certified');
    const certified = await fetch(url, { redirect: 'manual' });
    expect(new URL(certified.headers.get('location')!).searchParams.get('error')).toBe('temporarily_unavailable');
  });
});
