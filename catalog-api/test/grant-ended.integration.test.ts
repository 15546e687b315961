// `grant_ended`: when a grant's tokens stop working, the token endpoint (in its RFC 6749 error
// JSON) and the FHIR API (as an auth-param of its WWW-Authenticate challenge) say why, so that a
// client tells "the patient withdrew consent" from "your token merely expired, refresh it". Each
// way a grant really ends is driven as it happens (the patient's API, the sandbox's controls and
// scenarios, a replay, the client's revocation, the client's deletion); the negative cases check
// that nothing else carries grant_ended.
import { decodeJwt } from 'jose';
import { grantEndedDescriptions } from '../src/modules/oauth/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus } from '../src/modules/catalog/index.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { fhirRequest, seedGuardianship } from './fhir-helpers.js';
import { form, newKeys, pkce, postForm, type Keys } from './oauth-helpers.js';

const server = useServer();
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
const scope = 'offline_access patient/Observation.rs';

let publisherKey: string;
/** The shared app's public client: every test that does not change the app's own state uses it, each with its own patient. */
let shared: App;

interface App {
  appId: string;
  clientId: string;
}

interface Tokens {
  accessToken: string;
  refreshToken: string;
  keys: Keys;
  grantId: string;
  clientId: string;
}

async function newApp(): Promise<App> {
  const app = await call(server(), 'POST', '/apps', {
    key: publisherKey,
    body: appInput({ redirectUris: [redirectUri], scopes: [{ scope: 'offline_access', justification: 'Synchroniser.' }, { scope: 'patient/Observation.rs', justification: 'Vos mesures.' }] }),
  });
  expect(app.status).toBe(201);
  const [client] = (await call(server(), 'GET', `/apps/${app.body.id}/clients`, { key: publisherKey })).body.items;
  return { appId: app.body.id, clientId: client.clientId };
}

beforeAll(async () => {
  publisherKey = (await registerPublisher(server())).key;
  shared = await newApp();
});

/** An authorization code for `patient` (the sandbox's login_hint pre-approves), with its verifier. */
async function codeFor(clientId: string, patient: string) {
  const { verifier, challenge } = pkce();
  const authorized = await fetch(
    `${server().url}/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope, code_challenge: challenge, code_challenge_method: 'S256', login_hint: patient })}`,
    { redirect: 'manual' },
  );
  return { code: new URL(authorized.headers.get('location')!).searchParams.get('code')!, verifier };
}

const exchange = (clientId: string, code: { code: string; verifier: string }, keys: Keys) =>
  postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code: code.code, code_verifier: code.verifier, redirect_uri: redirectUri }), keys);

async function tokensFor(patient: string, app: App = shared): Promise<Tokens> {
  const keys = await newKeys();
  const tokens = await exchange(app.clientId, await codeFor(app.clientId, patient), keys);
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return { accessToken: tokens.body.access_token, refreshToken: tokens.body.refresh_token, keys, grantId: decodeJwt(tokens.body.access_token).grant_id as string, clientId: app.clientId };
}

const refresh = (tokens: Pick<Tokens, 'refreshToken' | 'keys' | 'clientId'>, keys = tokens.keys) =>
  postForm(server().url, '/oauth/token', form({ grant_type: 'refresh_token', client_id: tokens.clientId, refresh_token: tokens.refreshToken }), keys);

const fhir = (tokens: Pick<Tokens, 'accessToken' | 'keys'>, keys = tokens.keys) => fhirRequest(server(), { token: tokens.accessToken, keys }, 'GET', '/fhir/Observation');

/** The auth-params of a `DPoP …` challenge. */
function challengeOf(header: string | null): Record<string, string> {
  expect(header).toMatch(/^DPoP /);
  return Object.fromEntries([...header!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
}

// The plain words the server uses for each end; the tests check they reach both endpoints.
const descriptions = grantEndedDescriptions;
type Reason = keyof typeof descriptions;

/** The FHIR API refuses the token with 401 invalid_token, grant_ended and the plain words; the OperationOutcome as before. */
async function expectFhirEnded(tokens: Pick<Tokens, 'accessToken' | 'keys'>, reason: Reason) {
  const answer = await fhir(tokens);
  expect(answer.status).toBe(401);
  expect(challengeOf(answer.headers.get('www-authenticate'))).toEqual({
    algs: 'ES256 PS256 EdDSA',
    error: 'invalid_token',
    error_description: descriptions[reason],
    grant_ended: reason,
  });
  expect(answer.body).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: descriptions[reason] }] });
}

/** The token endpoint refuses the refresh with invalid_grant and grant_ended. */
async function expectRefreshEnded(tokens: Pick<Tokens, 'refreshToken' | 'keys' | 'clientId'>, reason: Reason, description = `the grant is no longer active: ${descriptions[reason]}`) {
  const answer = await refresh(tokens);
  expect({ status: answer.status, body: answer.body }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: description, grant_ended: reason } });
  expect(answer.headers.get('cache-control')).toBe('no-store');
}

describe('consent_withdrawn', () => {
  it('when the patient withdraws the app through their API', async () => {
    const patient = 'grant-ended-patient-api';
    const tokens = await tokensFor(patient);
    expect((await fhir(tokens)).status).toBe(200);
    const signedIn = await fetch(`${server().url}/patient/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server().url },
      body: form({ patient_id: patient, return_to: '/patient/apps' }),
      redirect: 'manual',
    });
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.getSetCookie().map((set) => set.split(';')[0]).join('; ');
    const withdrawn = await fetch(`${server().url}/patient/grants/${tokens.grantId}`, { method: 'DELETE', headers: { cookie, origin: server().url } });
    expect(withdrawn.status).toBe(204);

    await expectFhirEnded(tokens, 'consent_withdrawn');
    await expectRefreshEnded(tokens, 'consent_withdrawn');
  });

  it('when the sandbox withdraws the client’s grants as the patient would', async () => {
    const patient = 'grant-ended-sandbox-withdrawal';
    const tokens = await tokensFor(patient);
    const control = await call(server(), 'POST', `/sandbox/clients/${shared.clientId}/withdrawal`, { key: publisherKey, body: { patient } });
    expect(control.body.count).toBe(1);

    await expectFhirEnded(tokens, 'consent_withdrawn');
    await expectRefreshEnded(tokens, 'consent_withdrawn');
  });

  it('when the patient opposes access to their record by apps', async () => {
    const patient = 'grant-ended-opposed';
    const tokens = await tokensFor(patient);
    expect((await call(server(), 'POST', '/sandbox/scenarios', { key: publisherKey, body: { scenario: 'patient-opposed', patient } })).status).toBe(200);

    await expectFhirEnded(tokens, 'consent_withdrawn');
    await expectRefreshEnded(tokens, 'consent_withdrawn');
  });
});

describe('grant_expired', () => {
  it('when the duration the patient chose has run out', async () => {
    const tokens = await tokensFor('grant-ended-expiry');
    expect((await fhir(tokens)).status).toBe(200);
    // Time passes: the end date of the grant (a one-time or 3-month access) is now behind.
    await server().app.db.query(`UPDATE grants SET expires_at = now() - interval '1 second' WHERE id = $1`, [tokens.grantId]);

    await expectFhirEnded(tokens, 'grant_expired');
    await expectRefreshEnded(tokens, 'grant_expired');
  });
});

describe('grant_revoked', () => {
  it('when a rotated refresh token is presented again: the reuse itself, then every token of the grant', async () => {
    const tokens = await tokensFor('grant-ended-reuse');
    const first = await refresh(tokens);
    expect(first.status).toBe(200);
    const successor = { ...tokens, accessToken: first.body.access_token as string, refreshToken: first.body.refresh_token as string };

    await expectRefreshEnded(tokens, 'grant_revoked', 'the refresh token was already exchanged; the grant is revoked');
    await expectRefreshEnded(successor, 'grant_revoked');
    await expectFhirEnded(successor, 'grant_revoked');
    await expectFhirEnded(tokens, 'grant_revoked');
  });

  it('when the client revokes its refresh token', async () => {
    const tokens = await tokensFor('grant-ended-client-revocation');
    expect((await postForm(server().url, '/oauth/revoke', form({ client_id: tokens.clientId, token: tokens.refreshToken }))).status).toBe(200);

    await expectFhirEnded(tokens, 'grant_revoked');
    await expectRefreshEnded(tokens, 'grant_revoked');
  });

  it('when the patient’s account is closed', async () => {
    const patient = 'grant-ended-closed';
    const tokens = await tokensFor(patient);
    expect((await call(server(), 'POST', '/sandbox/scenarios', { key: publisherKey, body: { scenario: 'account-closed', patient } })).status).toBe(200);

    await expectFhirEnded(tokens, 'grant_revoked');
    await expectRefreshEnded(tokens, 'grant_revoked');
  });

  it('when an authorization code is redeemed twice', async () => {
    const code = await codeFor(shared.clientId, 'grant-ended-code-replay');
    const keys = await newKeys();
    const first = await exchange(shared.clientId, code, keys);
    expect(first.status).toBe(200);
    const replay = await exchange(shared.clientId, code, keys);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: 'the code was already used; the grant issued from it is revoked', grant_ended: 'grant_revoked' });
    const tokens = { accessToken: first.body.access_token, refreshToken: first.body.refresh_token, keys, clientId: shared.clientId };

    await expectFhirEnded(tokens, 'grant_revoked');
    await expectRefreshEnded(tokens, 'grant_revoked');
  });

  it('at the FHIR API, when the guardianship behind a guardian’s grant has ended (403)', async () => {
    await seedGuardianship(server(), 'grant-ended-guardian', 'grant-ended-child', null);
    const tokens = await tokensFor('grant-ended-guardian:grant-ended-child');
    expect((await fhir(tokens)).status).toBe(200);
    expect((await call(server(), 'POST', '/sandbox/scenarios', { key: publisherKey, body: { scenario: 'child-turns-18', patient: 'grant-ended-child' } })).status).toBe(200);
    const answer = await fhir(tokens);
    expect(answer.status).toBe(403);
    expect(challengeOf(answer.headers.get('www-authenticate'))).toMatchObject({ error: 'invalid_token', grant_ended: 'grant_revoked' });
  });
});

describe('app_suspended and app_not_certified', () => {
  it('when the sandbox suspends the app; reinstated, the same tokens work again', async () => {
    const app = await newApp();
    const tokens = await tokensFor('grant-ended-suspension', app);
    expect((await call(server(), 'PUT', `/sandbox/clients/${app.clientId}/suspension`, { key: publisherKey })).status).toBe(200);

    await expectFhirEnded(tokens, 'app_suspended');
    // The app may obtain no token at all: unauthorized_client, and why.
    const refused = await refresh(tokens);
    expect(refused.body).toEqual({ error: 'unauthorized_client', error_description: expect.stringContaining('may not obtain tokens now'), grant_ended: 'app_suspended' });
    expect(refused.status).toBe(400);

    expect((await call(server(), 'DELETE', `/sandbox/clients/${app.clientId}/suspension`, { key: publisherKey })).status).toBe(200);
    expect((await fhir(tokens)).status).toBe(200);
    expect((await refresh(tokens)).status).toBe(200);
  });

  it('when the app’s certification is revoked', async () => {
    const app = await newApp();
    const tokens = await tokensFor('grant-ended-certification-revoked', app);
    await setCertificationStatus(server().app.db, app.appId, 'revoked');

    await expectFhirEnded(tokens, 'app_not_certified');
    const refused = await refresh(tokens);
    expect(refused.body).toMatchObject({ error: 'unauthorized_client', grant_ended: 'app_not_certified' });
  });

  it('the grant’s own end comes first: a withdrawn grant of a suspended app says consent_withdrawn', async () => {
    const app = await newApp();
    const patient = 'grant-ended-both';
    const tokens = await tokensFor(patient, app);
    await call(server(), 'POST', `/sandbox/clients/${app.clientId}/withdrawal`, { key: publisherKey, body: { patient } });
    await call(server(), 'PUT', `/sandbox/clients/${app.clientId}/suspension`, { key: publisherKey });
    await expectFhirEnded(tokens, 'consent_withdrawn');
  });
});

describe('client_deleted', () => {
  it('when the publisher deletes the client: the FHIR API says so; the token endpoint no longer knows the client', async () => {
    const created = await call(server(), 'POST', `/apps/${shared.appId}/clients`, { key: publisherKey, body: { type: 'public' } });
    expect(created.status).toBe(201);
    const tokens = await tokensFor('grant-ended-deleted-client', { appId: shared.appId, clientId: created.body.clientId });
    expect((await fhir(tokens)).status).toBe(200);
    expect((await call(server(), 'DELETE', `/apps/${shared.appId}/clients/${created.body.clientId}`, { key: publisherKey })).status).toBe(204);

    await expectFhirEnded(tokens, 'client_deleted');
    // A deleted client cannot authenticate: invalid_client comes before any grant (its grants went with it).
    const refused = await refresh(tokens);
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(refused.body.grant_ended).toBeUndefined();
  });
});

describe('what carries no grant_ended', () => {
  it('an unknown refresh token, another client, another DPoP key', async () => {
    const tokens = await tokensFor('grant-ended-negative-refresh');
    const unknown = await refresh({ ...tokens, refreshToken: 'not-a-refresh-token' });
    expect(unknown.body).toEqual({ error: 'invalid_grant', error_description: 'the refresh token is unknown' });

    const other = await newApp();
    const otherClient = await refresh({ ...tokens, clientId: other.clientId });
    expect(otherClient.body).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was issued to another client' });
    const otherKey = await refresh(tokens, await newKeys());
    expect(otherKey.body).toEqual({ error: 'invalid_grant', error_description: 'the refresh token is bound to another DPoP key' });

    // Even once the grant has ended, a request that fails an earlier check learns nothing of it.
    await call(server(), 'POST', `/sandbox/clients/${shared.clientId}/withdrawal`, { key: publisherKey, body: { patient: 'grant-ended-negative-refresh' } });
    expect((await refresh(tokens, await newKeys())).body.grant_ended).toBeUndefined();
    const wrongProofKey = await fhir(tokens, await newKeys());
    expect(wrongProofKey.status).toBe(401);
    expect(challengeOf(wrongProofKey.headers.get('www-authenticate')).grant_ended).toBeUndefined();
  });

  it('the sandbox’s "expire tokens now": invalid_token without grant_ended, and the refresh then works', async () => {
    const app = await newApp();
    const tokens = await tokensFor('grant-ended-expire-now', app);
    expect((await call(server(), 'POST', `/sandbox/clients/${app.clientId}/token-expiry`, { key: publisherKey })).status).toBe(200);
    const expired = await fhir(tokens);
    expect(expired.status).toBe(401);
    const challenge = challengeOf(expired.headers.get('www-authenticate'));
    expect(challenge).toMatchObject({ error: 'invalid_token', error_description: expect.stringContaining('not active') });
    expect(challenge.grant_ended).toBeUndefined();

    const refreshed = await refresh(tokens);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect((await fhir({ accessToken: refreshed.body.access_token, keys: tokens.keys })).status).toBe(200);
  });

  it('an access token revoked alone: its grant lives on', async () => {
    const tokens = await tokensFor('grant-ended-access-token-revoked');
    expect((await postForm(server().url, '/oauth/revoke', form({ client_id: tokens.clientId, token: tokens.accessToken }))).status).toBe(200);
    const answer = await fhir(tokens);
    expect(answer.status).toBe(401);
    expect(challengeOf(answer.headers.get('www-authenticate')).grant_ended).toBeUndefined();
    expect((await refresh(tokens)).status).toBe(200);
  });
});

describe('the sandbox’s simulated revoked grant', () => {
  it('says grant_revoked, as a real revocation does, at the token endpoint and at the FHIR API', async () => {
    const app = await newApp();
    const tokens = await tokensFor('grant-ended-fault', app);
    const inject = (target: string) => call(server(), 'POST', `/sandbox/clients/${app.clientId}/faults`, { key: publisherKey, body: { kind: 'revoked_grant', target } });

    expect((await inject('token')).status).toBe(201);
    const token = await refresh(tokens);
    expect({ status: token.status, body: token.body }).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'invalid_grant (injected by the sandbox)', grant_ended: 'grant_revoked' },
    });

    expect((await inject('fhir')).status).toBe(201);
    const answer = await fhir(tokens);
    expect(answer.status).toBe(401);
    expect(challengeOf(answer.headers.get('www-authenticate'))).toEqual({
      algs: 'ES256 PS256 EdDSA',
      error: 'invalid_token',
      error_description: descriptions.grant_revoked,
      grant_ended: 'grant_revoked',
    });
    // The grant itself is fine: the real answers come next.
    expect((await fhir(tokens)).status).toBe(200);
  });
});
