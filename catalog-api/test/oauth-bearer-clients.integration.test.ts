// Bearer access tokens for existing SMART apps, without weakening the profile: a client registered
// with `dpopBoundAccessTokens: false` may ask for tokens without a DPoP proof and gets Bearer
// tokens (always in the sandbox, elsewhere only where the operator allows it); a proof still binds
// its tokens; a DPoP-bound token is never accepted as a Bearer token; a public Bearer client's
// refresh tokens rotate with reuse detection.
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';
import { seedRecord } from './fhir-helpers.js';
import { form, newKeys, pkce, postForm, resourceProof, type Keys } from './oauth-helpers.js';

const redirectUri = 'https://smart-app.example.fr/callback';
const patient = 'bearer-patient';

describe('in the sandbox', () => {
  const server = useServer();
  let publisherKey: string;
  let appId: string;

  beforeAll(async () => {
    await seedRecord(server(), patient);
    publisherKey = (await registerPublisher(server())).key;
    const app = await call(server(), 'POST', '/apps', {
      key: publisherKey,
      body: appInput({
        redirectUris: [redirectUri],
        scopes: [
          { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
          { scope: 'offline_access', justification: 'Rester connecté.' },
          { scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' },
        ],
      }),
    });
    appId = app.body.id;
  });

  async function bearerClient(): Promise<string> {
    const created = await call(server(), 'POST', `/apps/${appId}/clients`, { key: publisherKey, body: { type: 'public', dpopBoundAccessTokens: false } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'public', dpopBoundAccessTokens: false });
    return created.body.clientId;
  }

  async function code(clientId: string, extra: Record<string, string> = {}) {
    const { verifier, challenge } = pkce();
    const response = await fetch(
      `${server().url}/oauth/authorize?${form({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'launch/patient offline_access patient/Observation.rs',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        login_hint: patient,
        ...extra,
      })}`,
      { redirect: 'manual' },
    );
    const value = new URL(response.headers.get('location')!).searchParams.get('code');
    expect(value).toEqual(expect.any(String));
    return { code: value!, verifier };
  }

  const redeem = (clientId: string, grant: { code: string; verifier: string }, keys?: Keys) =>
    postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code: grant.code, code_verifier: grant.verifier, redirect_uri: redirectUri }), keys);
  const refresh = (clientId: string, refreshToken: string, keys?: Keys) =>
    postForm(server().url, '/oauth/token', form({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }), keys);
  const fhir = (authorization: string, headers: Record<string, string> = {}) =>
    fetch(`${server().url}/fhir/Observation`, { headers: { authorization, ...headers } }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.json() }));

  it('gives a client registered for them Bearer tokens without a proof, which the FHIR API takes as Bearer only', async () => {
    const clientId = await bearerClient();
    const tokens = await redeem(clientId, await code(clientId));
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect(tokens.body.token_type).toBe('Bearer');
    expect(tokens.headers.get('dpop-nonce')).toBeNull();
    const claims = decodeJwt(tokens.body.access_token);
    expect(claims.cnf).toBeUndefined();
    expect(claims).toMatchObject({ client_id: clientId, patient, aud: `${server().url}/fhir` });

    const read = await fhir(`Bearer ${tokens.body.access_token}`);
    expect(read.status).toBe(200);
    expect(read.body.entry.length).toBeGreaterThan(0);
    // The access history records it like any other read.
    const [history] = await server().app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_history WHERE client_id = $1', [clientId]);
    expect(history!.n).toBe(1);

    // Sent in the DPoP scheme, a token bound to no key is refused, whatever the proof.
    const keys = await newKeys();
    const asDpop = await fhir(`DPoP ${tokens.body.access_token}`, {
      dpop: await resourceProof(keys, { method: 'GET', url: `${server().url}/fhir/Observation`, accessToken: tokens.body.access_token }),
    });
    expect(asDpop.status).toBe(401);
    expect(asDpop.body.issue[0].diagnostics).toContain('this is a Bearer token');

    const introspected = await postForm(server().url, '/oauth/introspect', form({ client_id: clientId, token: tokens.body.access_token }));
    expect(introspected.body).toMatchObject({ active: true, token_type: 'Bearer' });
    expect(introspected.body.cnf).toBeUndefined();
  });

  it('binds the tokens of a Bearer client that sends a proof anyway, and then refuses them as Bearer', async () => {
    const clientId = await bearerClient();
    const keys = await newKeys();
    const tokens = await redeem(clientId, await code(clientId), keys);
    expect(tokens.body.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.body.access_token).cnf).toMatchObject({ jkt: expect.any(String) });
    const asBearer = await fhir(`Bearer ${tokens.body.access_token}`);
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="this token is DPoP-bound/);
  });

  it('keeps a code bound to a DPoP key (dpop_jkt) to that key, even for a Bearer client', async () => {
    const clientId = await bearerClient();
    const bound = await code(clientId, { dpop_jkt: 'A'.repeat(43) });
    expect(await redeem(clientId, bound)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'the code is bound to a DPoP key (dpop_jkt): send a DPoP proof made with it' },
    });
  });

  it('rotates a public Bearer client’s refresh tokens, and a reuse ends the grant', async () => {
    const clientId = await bearerClient();
    const first = await redeem(clientId, await code(clientId));
    expect(first.body.refresh_token).toEqual(expect.any(String));
    const second = await refresh(clientId, first.body.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.token_type).toBe('Bearer');
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    // A proof with a Bearer client's refresh token does not fit it: it is bound to no key.
    expect(await refresh(clientId, second.body.refresh_token, await newKeys())).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    const reused = await refresh(clientId, first.body.refresh_token);
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant', grant_ended: 'grant_revoked' } });
    expect((await refresh(clientId, second.body.refresh_token)).status).toBe(400);
    const cut = await fhir(`Bearer ${second.body.access_token}`);
    expect(cut.status).toBe(401);
    expect(cut.headers.get('www-authenticate')).toContain('grant_ended="grant_revoked"');
  });

  it('still requires a proof of every DPoP-bound client (the default)', async () => {
    const [defaultClient] = (await call(server(), 'GET', `/apps/${appId}/clients`, { key: publisherKey })).body.items;
    expect(defaultClient.dpopBoundAccessTokens).toBe(true);
    expect(await redeem(defaultClient.clientId, await code(defaultClient.clientId))).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } });
  });
});

describe('outside the sandbox', () => {
  const operatorToken = 'operator-token-for-bearer-tests-0123456789';
  const strict = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr', operatorToken });
  const allowing = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr', operatorToken, allowBearerTokenClients: true });

  async function newApp(server: () => { url: string }) {
    const publisher = await registerPublisher(server());
    await call(server(), 'POST', `/operator/publishers/${publisher.id}/verification`, { key: operatorToken });
    const app = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput() });
    expect(app.status).toBe(201);
    return { key: publisher.key, clients: `/apps/${app.body.id}/clients` };
  }

  it('refuses Bearer clients unless the operator allows them, and registers nothing', async () => {
    const { key, clients } = await newApp(strict);
    const refused = await call(strict(), 'POST', clients, { key, body: { type: 'public', dpopBoundAccessTokens: false } });
    expectProblem(refused, 400, 'invalid_client_metadata');
    expect(refused.body.errors).toEqual([{ pointer: '/body/dpopBoundAccessTokens', detail: 'Bearer access tokens are not allowed here' }]);
    expect((await call(strict(), 'GET', clients, { key })).body.items).toEqual([]);
    // DPoP-bound clients register as before.
    expect((await call(strict(), 'POST', clients, { key, body: { type: 'public' } })).status).toBe(201);

    const allowed = await newApp(allowing);
    const created = await call(allowing(), 'POST', allowed.clients, { key: allowed.key, body: { type: 'public', dpopBoundAccessTokens: false } });
    expect(created.status).toBe(201);
    expect(created.body.dpopBoundAccessTokens).toBe(false);
  });

  it('offers and takes no Bearer token on the FHIR API where they are not allowed', async () => {
    const none = await fetch(`${strict().url}/fhir/Observation`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).not.toContain('Bearer');
    const bearer = await fetch(`${strict().url}/fhir/Observation`, { headers: { authorization: 'Bearer abc.def.ghi' } });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate')).toMatch(/^DPoP algs=/);
    expect(((await bearer.json()) as { issue: { diagnostics: string }[] }).issue[0]!.diagnostics).toBe(
      'Bearer tokens are not accepted here: send the access token as Authorization: DPoP <token> with a DPoP proof',
    );
    expect((await fetch(`${allowing().url}/fhir/Observation`)).headers.get('www-authenticate')).toMatch(/, Bearer$/);
  });
});
