// Refresh tokens, revocation, introspection and the cut-off: tokens of a withdrawn grant, a
// suspended app or a deleted client stop working at their next use.
import { SANDBOX_DEFAULT_PATIENT } from '../src/modules/consent/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus } from '../src/modules/catalog/repository.js';
import { startServer } from '../src/server.js';
import { closePatientAccount, withdrawGrant } from '../src/modules/consent/index.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { clientAssertion, createConfidentialClient, dpopProof, form, newKeys, pkce, postForm, type Keys } from './oauth-helpers.js';
import { CLIENT_ASSERTION_TYPE } from '../src/modules/oauth/client-auth.js';
import { refreshState } from '../src/modules/oauth/grant-repository.js';

const server = useServer();
const redirectUri = 'https://app.example.fr/oauth/callback';

let publisherKey: string;
let appId: string;
let publicClientId: string;
let confidential: { clientId: string; keys: Keys };
let otherConfidential: { clientId: string; keys: Keys };


beforeAll(async () => {
  publisherKey = (await registerPublisher(server())).key;
  const app = await call(server(), 'POST', '/apps', {
    key: publisherKey,
    body: appInput({
      redirectUris: [redirectUri],
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
        { scope: 'offline_access', justification: 'Synchroniser sans vous redemander.' },
        { scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' },
        { scope: 'patient/Immunization.rs', justification: 'Lire vos vaccinations.' },
      ],
    }),
  });
  appId = app.body.id;
  publicClientId = (await call(server(), 'GET', `/apps/${appId}/clients`, { key: publisherKey })).body.items[0].clientId;
  confidential = await createConfidentialClient(server().url, publisherKey, appId);
  otherConfidential = await createConfidentialClient(server().url, publisherKey, appId);
});

const post = (path: string, body: URLSearchParams, keys?: Keys) => postForm(server().url, path, body, keys);
const auth = async (client: { clientId: string; keys: Keys } | string) =>
  typeof client === 'string'
    ? { client_id: client }
    : { client_id: client.clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await clientAssertion(server().url, client) };

/** Runs the code flow for a client and returns its tokens and DPoP keys. */
async function tokensFor(
  client: { clientId: string; keys: Keys } | string,
  scope = 'launch/patient offline_access patient/Observation.rs patient/Immunization.rs',
  loginHint?: string,
) {
  const clientId = typeof client === 'string' ? client : client.clientId;
  const { verifier, challenge } = pkce();
  const request = {
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    // Consent pre-approved for this patient (the sandbox's login_hint), as automated tests do.
    login_hint: loginHint ?? SANDBOX_DEFAULT_PATIENT,
  };
  let authorizeQuery: Record<string, string>;
  if (typeof client === 'string') {
    authorizeQuery = { client_id: clientId, ...request };
  } else {
    const pushed = await post('/oauth/par', form({ ...(await auth(client)), ...request }));
    authorizeQuery = { client_id: clientId, request_uri: pushed.body.request_uri };
  }
  const redirect = await fetch(`${server().url}/oauth/authorize?${form(authorizeQuery)}`, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
  const dpop = await newKeys();
  const tokens = await post('/oauth/token', form({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, ...(await auth(client)) }), dpop);
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return { ...tokens.body, dpop } as { access_token: string; refresh_token?: string; scope: string; dpop: Keys };
}

const refresh = async (client: { clientId: string; keys: Keys } | string, refreshToken: string, dpop: Keys, extra: Record<string, string> = {}) =>
  post('/oauth/token', form({ grant_type: 'refresh_token', refresh_token: refreshToken, ...(await auth(client)), ...extra }), dpop);
const introspect = async (client: { clientId: string; keys: Keys } | string, token: string) =>
  (await post('/oauth/introspect', form({ token, ...(await auth(client)) }))).body;
const grantIdOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).grant_id as string;

describe('refresh tokens', () => {
  it('are issued only with offline_access', async () => {
    const without = await tokensFor(confidential, 'patient/Observation.rs');
    expect(without.refresh_token).toBeUndefined();
    const withOffline = await tokensFor(confidential);
    expect(withOffline.refresh_token).toEqual(expect.any(String));
  });

  it('refresh a confidential client, with the same DPoP key, narrowing the scope at most', async () => {
    const tokens = await tokensFor(confidential);
    const refreshed = await refresh(confidential, tokens.refresh_token!, tokens.dpop);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.scope).toBe(tokens.scope);
    expect(refreshed.body.refresh_token).toBeUndefined(); // confidential clients keep theirs
    const narrowed = await refresh(confidential, tokens.refresh_token!, tokens.dpop, { scope: 'patient/Observation.rs' });
    expect(narrowed.body.scope).toBe('patient/Observation.rs');
    const widened = await refresh(confidential, tokens.refresh_token!, tokens.dpop, { scope: 'patient/Observation.rs patient/Condition.rs' });
    expect(widened).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });

  it('refuse a replayed DPoP proof or client assertion, and then refresh with new ones', async () => {
    const tokens = await tokensFor(confidential);
    const nonce = (await refresh(confidential, tokens.refresh_token!, tokens.dpop)).headers.get('dpop-nonce')!;
    const proof = await dpopProof(tokens.dpop, `${server().url}/oauth/token`, nonce);
    const assertion = await clientAssertion(server().url, confidential);
    const send = (dpop: string, clientAssertionValue: string) =>
      fetch(`${server().url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop },
        body: form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: confidential.clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: clientAssertionValue }),
      });
    expect((await send(proof, assertion)).status).toBe(200);
    // The proof's and the assertion's identifiers are recorded in the statement that reads the refresh token.
    const proofAgain = await send(proof, await clientAssertion(server().url, confidential));
    expect(proofAgain.status).toBe(400);
    expect(await proofAgain.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'DPoP proof "jti" was already used: every request needs a new proof' });
    const assertionAgain = await send(await dpopProof(tokens.dpop, `${server().url}/oauth/token`, nonce), assertion);
    expect(assertionAgain.status).toBe(401);
    expect(await assertionAgain.json()).toEqual({ error: 'invalid_client', error_description: 'client_assertion was already used (same jti): every assertion is single-use' });
    expect((await send(await dpopProof(tokens.dpop, `${server().url}/oauth/token`, nonce), await clientAssertion(server().url, confidential))).status).toBe(200);
  });

  it('are refused to another client and with another DPoP key', async () => {
    const tokens = await tokensFor(confidential);
    expect(await refresh(otherConfidential, tokens.refresh_token!, tokens.dpop)).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('another client') } });
    expect(await refresh(confidential, tokens.refresh_token!, await newKeys())).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('DPoP key') } });
    expect((await refresh(confidential, tokens.refresh_token!, tokens.dpop)).status).toBe(200);
  });

  it('rotate for public clients; reusing a rotated token revokes the whole grant', async () => {
    const tokens = await tokensFor(publicClientId);
    const first = await refresh(publicClientId, tokens.refresh_token!, tokens.dpop);
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).toEqual(expect.any(String));
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);

    const reuse = await refresh(publicClientId, tokens.refresh_token!, tokens.dpop);
    expect(reuse).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('revoked') } });
    // The thief's use ended the grant: the legitimate successor token and the access tokens fail too.
    expect(await refresh(publicClientId, first.body.refresh_token, tokens.dpop)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await introspect(publicClientId, first.body.access_token)).toEqual({ active: false });
  });

  it('are refused after revocation', async () => {
    const tokens = await tokensFor(confidential);
    const revoked = await post('/oauth/revoke', form({ token: tokens.refresh_token!, ...(await auth(confidential)) }));
    expect(revoked.status).toBe(200);
    expect(await refresh(confidential, tokens.refresh_token!, tokens.dpop)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await introspect(confidential, tokens.access_token)).toEqual({ active: false });
  });
});

describe('introspection', () => {
  it('describes an active access token to its client, and nothing to another client', async () => {
    const tokens = await tokensFor(confidential);
    const active = await introspect(confidential, tokens.access_token);
    expect(active).toMatchObject({ active: true, token_type: 'DPoP', client_id: confidential.clientId, scope: tokens.scope, iss: server().url, cnf: { jkt: expect.any(String) } });
    expect(await introspect(otherConfidential, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(confidential, 'not-a-token')).toEqual({ active: false });
    expect(await introspect(confidential, tokens.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token' });
  });

  it('requires client authentication', async () => {
    const tokens = await tokensFor(confidential);
    const anonymous = await post('/oauth/introspect', form({ token: tokens.access_token }));
    expect(anonymous).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('answers active: false at once when the patient withdraws the grant', async () => {
    const tokens = await tokensFor(confidential);
    expect((await introspect(confidential, tokens.access_token)).active).toBe(true);
    expect(await withdrawGrant(server().app.db, grantIdOf(tokens.access_token))).toBe(true);
    expect(await introspect(confidential, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(confidential, tokens.refresh_token!)).toEqual({ active: false });
    expect(await refresh(confidential, tokens.refresh_token!, tokens.dpop)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('answers active: false when the app is suspended, and true again when reinstated', async () => {
    const tokens = await tokensFor(confidential);
    await setCertificationStatus(server().app.db, appId, 'suspended');
    try {
      expect(await introspect(confidential, tokens.access_token)).toEqual({ active: false });
      expect(await refresh(confidential, tokens.refresh_token!, tokens.dpop)).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    } finally {
      await setCertificationStatus(server().app.db, appId, 'draft');
    }
    expect((await introspect(confidential, tokens.access_token)).active).toBe(true);
  });

  it('answers active: false for a revoked access token, which only its client may revoke', async () => {
    const tokens = await tokensFor(confidential);
    await post('/oauth/revoke', form({ token: tokens.access_token, ...(await auth(otherConfidential)) }));
    expect((await introspect(confidential, tokens.access_token)).active).toBe(true);
    const revoked = await post('/oauth/revoke', form({ token: tokens.access_token, ...(await auth(confidential)) }));
    expect(revoked.status).toBe(200);
    expect(await introspect(confidential, tokens.access_token)).toEqual({ active: false });
    // The refresh token of the grant still works: only that access token was revoked.
    expect((await refresh(confidential, tokens.refresh_token!, tokens.dpop)).status).toBe(200);
  });
});

describe('closing a patient account', () => {
  it('ends every grant of the patient at once and refuses new authorizations for them', async () => {
    const patient = 'sandbox-patient-closing';
    const first = await tokensFor(confidential, undefined, patient);
    const second = await tokensFor(publicClientId, undefined, patient);
    const bystander = await tokensFor(confidential, undefined, 'sandbox-patient-staying');
    expect(await closePatientAccount(server().app.db, patient)).toEqual({ grantsEnded: 2 });
    expect(await introspect(confidential, first.access_token)).toEqual({ active: false });
    expect(await refresh(publicClientId, second.refresh_token!, second.dpop)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await introspect(confidential, bystander.access_token)).active).toBe(true);

    const { challenge } = pkce();
    const denied = await fetch(
      `${server().url}/oauth/authorize?${form({ client_id: publicClientId, response_type: 'code', redirect_uri: redirectUri, scope: 'patient/Observation.rs', state: 's', code_challenge: challenge, code_challenge_method: 'S256', login_hint: patient })}`,
      { redirect: 'manual' },
    );
    const location = new URL(denied.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('error_description')).toContain('closed');
  });
});

describe('the cut-off across instances', () => {
  it("a client's new keys and its app's suspension through one instance hold at the next refresh through another", async () => {
    const config = server().config;
    const other = await startServer({ ...config, port: 0 }, config.databaseUrl ? {} : { db: server().app.db });
    const client = await createConfidentialClient(server().url, publisherKey, appId);
    try {
      const tokens = await tokensFor(client);
      const refreshAt = async (url: string, signer: { clientId: string; keys: Keys }) =>
        postForm(url, '/oauth/token', form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, ...(await authAt(url, signer)) }), tokens.dpop);
      // The other instance now remembers the client and its key.
      expect((await refreshAt(other.url, client)).status).toBe(200);

      // The publisher replaces the client's key through the first instance.
      const replacement = { clientId: client.clientId, keys: await newKeys() };
      const replaced = await call(server(), 'PUT', `/apps/${appId}/clients/${client.clientId}/keys`, { key: publisherKey, body: { jwks: { keys: [{ ...replacement.keys.publicJwk, kid: 'k1' }] } } });
      expect(replaced.status).toBe(200);
      // The other instance has not necessarily heard of the change yet: the refresh's statement finds the keys changed.
      expect(await refreshAt(other.url, client)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect((await refreshAt(other.url, replacement)).status).toBe(200);
      // What guards an instance that has not heard of the change: the statement compares the keys
      // the request was authenticated with, and records nothing when they differ.
      const db = server().app.db;
      const use = (jti: string) => [{ namespace: 'dpop', jti, expiresAt: new Date(Date.now() + 60_000) }];
      const stale = await refreshState(db, tokens.refresh_token!, { clientId: client.clientId, jwks: { keys: [{ ...client.keys.publicJwk, kid: 'k1' }] }, jwksUri: null }, use('stale-keys'), false);
      expect(stale).toMatchObject({ sameClient: false, firstUses: new Set() });
      expect(await db.query("SELECT 1 FROM oauth_replay WHERE namespace = 'dpop' AND jti = 'stale-keys'")).toEqual([]);
      const current = await refreshState(db, tokens.refresh_token!, { clientId: client.clientId, jwks: { keys: [{ ...replacement.keys.publicJwk, kid: 'k1' }] }, jwksUri: null }, use('current-keys'), false);
      expect(current).toMatchObject({ sameClient: true, firstUses: new Set(['dpop']), token: { clientId: client.clientId } });

      // The app is suspended through the first instance: the other refuses the next refresh, saying why.
      await setCertificationStatus(server().app.db, appId, 'suspended');
      try {
        expect(await refreshAt(other.url, replacement)).toMatchObject({ status: 400, body: { error: 'unauthorized_client', grant_ended: 'app_suspended' } });
      } finally {
        await setCertificationStatus(server().app.db, appId, 'draft');
      }
      expect((await refreshAt(other.url, replacement)).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('a withdrawal through one instance is seen at once by another on the same store', async () => {
    // A second instance on the same store: the same PostgreSQL schema, or the same PGlite database.
    const config = server().config;
    const other = await startServer({ ...config, port: 0 }, config.databaseUrl ? {} : { db: server().app.db });
    try {
      const tokens = await tokensFor(confidential);
      const introspectAt = async (url: string) =>
        (await postForm(url, '/oauth/introspect', form({ token: tokens.access_token, ...(await auth(confidential)) }))).body;
      // The other instance has its own issuer URL (its own port), so it must be reached at the token's issuer
      // for access tokens; refresh tokens are opaque and checked anywhere.
      expect((await postForm(other.url, '/oauth/introspect', form({ token: tokens.refresh_token!, ...(await authAt(other.url, confidential)) }))).body.active).toBe(true);
      expect(await withdrawGrant(server().app.db, grantIdOf(tokens.access_token))).toBe(true);
      expect((await postForm(other.url, '/oauth/introspect', form({ token: tokens.refresh_token!, ...(await authAt(other.url, confidential)) }))).body).toEqual({ active: false });
      expect(await introspectAt(server().url)).toEqual({ active: false });
    } finally {
      await other.close();
    }
  });
});

async function authAt(issuer: string, client: { clientId: string; keys: Keys }) {
  return { client_id: client.clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await clientAssertion(issuer, client) };
}
