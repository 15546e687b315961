// The sandbox's developer controls, driven as a developer would through the API: failures
// injected into a client's next requests, tokens expired now, grants withdrawn, the app
// suspended and reinstated, the client reset, synthetic patients put into a state, and the
// traffic report that tells how the app behaved. Another publisher's client, or a server that is
// not a sandbox, has none of them.
import { beforeAll, describe, expect, it } from 'vitest';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';
import { fhirRequest, seedGuardianship, seedRecord } from './fhir-helpers.js';
import { form, newKeys, pkce, postForm, type Keys } from './oauth-helpers.js';

const server = useServer();
const PATIENT = 'controls-patient';
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';

let publisherKey: string;
let clientId: string;

interface Tokens {
  token: string;
  refreshToken: string;
  keys: Keys;
}

beforeAll(async () => {
  await seedRecord(server(), PATIENT);
  const publisher = await registerPublisher(server());
  publisherKey = publisher.key;
  const app = await call(server(), 'POST', '/apps', {
    key: publisherKey,
    body: appInput({ redirectUris: [redirectUri], scopes: [{ scope: 'offline_access', justification: 'Synchroniser.' }, { scope: 'patient/Observation.rs', justification: 'Vos mesures.' }] }),
  });
  clientId = (await call(server(), 'GET', `/apps/${app.body.id}/clients`, { key: publisherKey })).body.items[0].clientId;
});

/** A new grant and tokens for `patient` through the controlled client (login_hint pre-approves). */
async function tokensFor(patient: string): Promise<Tokens> {
  const { verifier, challenge } = pkce();
  const authorized = await fetch(
    `${server().url}/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'offline_access patient/Observation.rs', code_challenge: challenge, code_challenge_method: 'S256', login_hint: patient })}`,
    { redirect: 'manual' },
  );
  const code = new URL(authorized.headers.get('location')!).searchParams.get('code')!;
  const keys = await newKeys();
  const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }), keys);
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return { token: tokens.body.access_token, refreshToken: tokens.body.refresh_token, keys };
}

const refresh = (tokens: Tokens) => postForm(server().url, '/oauth/token', form({ grant_type: 'refresh_token', client_id: clientId, refresh_token: tokens.refreshToken }), tokens.keys);
const control = (method: string, path: string, body?: unknown, key = publisherKey) => call(server(), method, `/sandbox/clients/${clientId}${path}`, { key, ...(body !== undefined ? { body } : {}) });
const fhir = (who: Pick<Tokens, 'token' | 'keys'>, path = '/fhir/Observation') => fhirRequest(server(), who, 'GET', path);

describe('injected failures', () => {
  let tokens: Tokens;
  beforeAll(async () => {
    tokens = await tokensFor(PATIENT);
  });

  it('answer 429 with Retry-After for the next N FHIR requests, then the real answers again', async () => {
    const injected = await control('POST', '/faults', { kind: 'rate_limited', count: 2, target: 'fhir', retryAfterSeconds: 7 });
    expect(injected.status).toBe(201);
    expect(injected.body).toMatchObject({ kind: 'rate_limited', target: 'fhir', remaining: 2, retryAfterSeconds: 7 });
    expect((await control('GET', '/faults')).body.items).toHaveLength(1);
    for (let i = 0; i < 2; i++) {
      const limited = await fhir(tokens);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect(limited.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
    }
    expect((await fhir(tokens)).status).toBe(200);
    expect((await control('GET', '/faults')).body.items).toEqual([]);
  });

  it.each([
    ['expired_token', 401, 'login', /error="invalid_token".*expired/],
    ['revoked_grant', 401, 'login', /error="invalid_token".*revoked/],
    ['unavailable', 503, 'transient', null],
  ] as const)('answer %s at the FHIR API', async (kind, status, code, challenge) => {
    await control('POST', '/faults', { kind, target: 'fhir' });
    const result = await fhir(tokens);
    expect(result.status).toBe(status);
    expect(result.body.issue[0].code).toBe(code);
    if (challenge) expect(result.headers.get('www-authenticate')).toMatch(challenge);
    expect((await fhir(tokens)).status).toBe(200);
  });

  it('come after the access check: a withdrawn grant is refused as such, not answered with the fault', async () => {
    const withdrawn = await tokensFor(PATIENT);
    expect((await fhir(withdrawn)).status).toBe(200);
    await control('POST', '/withdrawal', { patient: PATIENT });
    await control('POST', '/faults', { kind: 'unavailable', target: 'fhir' });
    const refused = await fhir(withdrawn);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('grant_ended="consent_withdrawn"');
    tokens = await tokensFor(PATIENT);
    expect((await fhir(tokens)).status).toBe(200);
  });

  it('answer invalid_client, invalid_scope, invalid_grant and 429 at the token endpoint', async () => {
    for (const [kind, status, error] of [
      ['invalid_client', 401, 'invalid_client'],
      ['invalid_scope', 400, 'invalid_scope'],
      ['revoked_grant', 400, 'invalid_grant'],
      ['rate_limited', 429, 'temporarily_unavailable'],
    ] as const) {
      await control('POST', '/faults', { kind, target: 'token' });
      const answer = await refresh(tokens);
      expect(answer.status, kind).toBe(status);
      // A simulated revoked grant says why, as a real one does (grant_ended).
      expect(answer.body).toEqual({ error, error_description: `${error} (injected by the sandbox)`, ...(kind === 'revoked_grant' ? { grant_ended: 'grant_revoked' } : {}) });
    }
    // The refresh token was never reached: the real answer comes next.
    const real = await refresh(tokens);
    expect(real.status).toBe(200);
    tokens = { token: real.body.access_token, refreshToken: real.body.refresh_token, keys: tokens.keys };
  });

  it('delay the real answer by the latency asked for', async () => {
    await control('POST', '/faults', { kind: 'latency', latencyMs: 400, target: 'fhir' });
    const started = Date.now();
    expect((await fhir(tokens)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('refuse a fault where it cannot apply, and can be cleared', async () => {
    expectProblem(await control('POST', '/faults', { kind: 'invalid_client', target: 'fhir' }), 400, 'validation_failed');
    expectProblem(await control('POST', '/faults', { kind: 'teapot' }), 400, 'validation_failed');
    await control('POST', '/faults', { kind: 'unavailable', count: 5 });
    expect((await control('DELETE', '/faults')).body).toMatchObject({ count: 1 });
    expect((await fhir(tokens)).status).toBe(200);
  });
});

describe('controls of the client’s state', () => {
  it('expire every access token now, while refresh tokens keep working', async () => {
    const tokens = await tokensFor(PATIENT);
    expect((await fhir(tokens)).status).toBe(200);
    await control('POST', '/token-expiry');
    const expired = await fhir(tokens);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const refreshed = await refresh(tokens);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect((await fhir({ token: refreshed.body.access_token, keys: tokens.keys })).status).toBe(200);
  });

  it('suspend the app (tokens stop at once) and reinstate it', async () => {
    const tokens = await tokensFor(PATIENT);
    expect((await control('PUT', '/suspension')).body.done).toMatch(/suspended/);
    expect((await fhir(tokens)).status).toBe(401);
    expect((await control('PUT', '/suspension')).body.done).toBe('the app was already suspended');
    expect((await control('DELETE', '/suspension')).body.done).toBe('app reinstated');
    expect((await fhir(tokens)).status).toBe(200);
  });

  it('withdraw the client’s grants as the patient would, of one patient or all', async () => {
    const other = 'controls-other';
    await seedRecord(server(), other);
    const mine = await tokensFor(PATIENT);
    const theirs = await tokensFor(other);
    expect((await control('POST', '/withdrawal', { patient: PATIENT })).body.count).toBeGreaterThanOrEqual(1);
    expect((await fhir(mine)).status).toBe(401);
    expect((await fhir(theirs)).status).toBe(200);
    await control('POST', '/withdrawal', {});
    expect((await fhir(theirs)).status).toBe(401);
  });

  it('reset the client: faults, token expiry and traffic cleared, app reinstated', async () => {
    await control('POST', '/faults', { kind: 'unavailable', count: 3 });
    await control('POST', '/token-expiry');
    await control('PUT', '/suspension');
    const reset = await control('POST', '/reset');
    expect(reset.body.done).toMatch(/faults, token expiry and traffic cleared, app reinstated/);
    expect((await control('GET', '/faults')).body.items).toEqual([]);
    expect((await control('GET', '/report')).body.requests).toBe(0);
    expect((await fhir(await tokensFor(PATIENT))).status).toBe(200);
  });

  it('belong to the client’s publisher only', async () => {
    const stranger = await registerPublisher(server());
    expectProblem(await control('POST', '/faults', { kind: 'unavailable' }, stranger.key), 404, 'not_found');
    expectProblem(await control('PUT', '/suspension', undefined, stranger.key), 404, 'not_found');
    expectProblem(await control('GET', '/report', undefined, stranger.key), 404, 'not_found');
    expectProblem(await call(server(), 'POST', '/sandbox/clients/mes_nothing/faults', { key: publisherKey, body: { kind: 'unavailable' } }), 404, 'not_found');
    expectProblem(await call(server(), 'POST', `/sandbox/clients/${clientId}/faults`, { body: { kind: 'unavailable' } }), 401, 'authentication_required');
    expect((await control('GET', '/faults')).body.items).toEqual([]);
  });
});

describe('scenarios', () => {
  const scenario = (body: Record<string, string>) => call(server(), 'POST', '/sandbox/scenarios', { key: publisherKey, body });
  const authorizeAgain = async (patient: string) => {
    const again = await fetch(
      `${server().url}/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'patient/Observation.rs', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', login_hint: patient })}`,
      { redirect: 'manual' },
    );
    return new URL(again.headers.get('location')!).searchParams.get('error');
  };

  it.each([
    ['consent-withdrawn', 'scenario-1', null],
    ['account-closed', 'scenario-2', 'access_denied'],
    ['patient-opposed', 'scenario-3', 'access_denied'],
  ] as const)('%s: tokens fail at the next request (and new authorizations: %s)', async (name, patient, next) => {
    await seedRecord(server(), patient);
    const tokens = await tokensFor(patient);
    expect((await fhir(tokens)).status).toBe(200);
    const applied = await scenario({ scenario: name, patient });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body).toMatchObject({ scenario: name, patient, done: expect.any(String) });
    expect((await fhir(tokens)).status).toBe(401);
    expect(await authorizeAgain(patient)).toBe(next);
  });

  it('child-turns-18: the guardian’s access ends', async () => {
    await seedRecord(server(), 'scenario-teen');
    await seedGuardianship(server(), 'scenario-parent', 'scenario-teen', '2030-01-01');
    const tokens = await tokensFor('scenario-parent:scenario-teen');
    expect((await fhir(tokens)).status).toBe(200);
    expect((await scenario({ scenario: 'child-turns-18', patient: 'scenario-teen' })).body.done).toMatch(/^1 guardianship/);
    expect((await fhir(tokens)).status).toBe(403);
    expect(await authorizeAgain('scenario-parent:scenario-teen')).toBe('access_denied');
  });

  it('app-suspended: the client’s app is suspended; it needs clientId', async () => {
    expectProblem(await scenario({ scenario: 'app-suspended', patient: PATIENT }), 400, 'validation_failed');
    const tokens = await tokensFor(PATIENT);
    expect((await scenario({ scenario: 'app-suspended', patient: PATIENT, clientId })).status).toBe(200);
    expect((await fhir(tokens)).status).toBe(401);
    await control('DELETE', '/suspension');
  });
});

describe('the sandbox’s patients', () => {
  it('lists synthetic patients by name, with the children they may act for', async () => {
    await seedRecord(server(), 'listed-parent', { family: 'Lefèvre', given: 'Élodie' });
    await seedRecord(server(), 'listed-child', { family: 'Lefèvre', given: 'Noé' });
    await seedGuardianship(server(), 'listed-parent', 'listed-child', '2040-01-01');
    const found = await call(server(), 'GET', '/sandbox/patients?q=elodie%20lefevre', { key: publisherKey });
    expect(found.body.items).toEqual([{ id: 'listed-parent', name: 'Élodie Lefèvre', birthDate: '1980-05-04', children: ['listed-child'] }]);
  });
});

describe('the traffic report', () => {
  it('tells how the client behaved: grant types, DPoP, refreshes, scopes against calls, reactions to 401 and 429', async () => {
    await control('POST', '/reset');
    const tokens = await tokensFor(PATIENT);
    expect((await fhir(tokens)).status).toBe(200);
    // A 429, retried at once: too soon.
    await control('POST', '/faults', { kind: 'rate_limited', target: 'fhir', retryAfterSeconds: 30 });
    expect((await fhir(tokens)).status).toBe(429);
    expect((await fhir(tokens)).status).toBe(200);
    // A 401, then a refresh before calling again: recovered.
    await control('POST', '/faults', { kind: 'expired_token', target: 'fhir' });
    expect((await fhir(tokens)).status).toBe(401);
    const refreshed = await refresh(tokens);
    expect(refreshed.status).toBe(200);
    expect((await fhir({ token: refreshed.body.access_token, keys: tokens.keys })).status).toBe(200);

    const report = (await control('GET', '/report')).body;
    expect(report).toMatchObject({
      clientId,
      // Each token request is made twice: the first proof has no nonce, the server answers use_dpop_nonce.
      requests: 10,
      grantTypes: { authorization_code: 1, refresh_token: 1 },
      authorization: { requests: 1, pushed: 0, pkce: 1 },
      dpop: { tokenRequests: 4, tokenRequestsWithProof: 4, resourceRequests: 5, resourceRequestsWithProof: 5 },
      refreshes: 1,
      scopes: { requested: ['offline_access', 'patient/Observation.rs'], resourceTypesCalled: ['Observation'], unusedResourceScopes: [], refusedCalls: 0 },
      reactions: { unauthorized: { count: 1, recovered: 1 }, rateLimited: { count: 1, waitedRetryAfter: 0, retriedTooSoon: 1 }, unavailable: { count: 0 } },
      faults: { injected: 2, pending: 0 },
    });
  });

  it('tells whether the client stopped using a grant it was told had ended, injected or real', async () => {
    await control('POST', '/reset');
    const first = await tokensFor(PATIENT);
    // An injected revocation at the FHIR API, and the client calls again with the same grant: retried.
    await control('POST', '/faults', { kind: 'revoked_grant', target: 'fhir', count: 2 });
    const revoked = await fhir(first);
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toContain('grant_ended="grant_revoked"');
    expect((await fhir(first)).status).toBe(401);
    // The second one is followed by a new authorization: stopped.
    const second = await tokensFor(PATIENT);
    // An injected revocation at the token endpoint, followed by a new authorization: stopped.
    await control('POST', '/faults', { kind: 'revoked_grant', target: 'token' });
    expect((await refresh(second)).body).toMatchObject({ error: 'invalid_grant', grant_ended: 'grant_revoked' });
    const third = await tokensFor(PATIENT);
    expect((await control('GET', '/report')).body).toMatchObject({ reactions: { grantEnded: { count: 3, stopped: 2, retried: 1 } }, faults: { injected: 3, pending: 0 } });

    // A real withdrawal, told by the FHIR API's challenge and the token endpoint's JSON.
    await control('POST', '/withdrawal', { patient: PATIENT });
    expect((await fhir(third)).headers.get('www-authenticate')).toContain('grant_ended="consent_withdrawn"');
    expect((await refresh(third)).body).toMatchObject({ error: 'invalid_grant', grant_ended: 'consent_withdrawn' });
    const report = (await control('GET', '/report')).body;
    expect(report.reactions.grantEnded).toEqual({ count: 5, stopped: 4, retried: 1 });
    expect(report.faults.injected).toBe(3);
  });
});

describe('outside the sandbox', () => {
  const production = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });
  it('has no developer controls', async () => {
    const publisher = await registerPublisher(production());
    expectProblem(await call(production(), 'GET', '/sandbox/patients', { key: publisher.key }), 404, 'sandbox_only');
    expectProblem(await call(production(), 'POST', '/sandbox/clients/mes_x/faults', { key: publisher.key, body: { kind: 'unavailable' } }), 404, 'sandbox_only');
  });
});
