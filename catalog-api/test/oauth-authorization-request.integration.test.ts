// The authorization request as SMART App Launch and RFC 6749 define it: `aud` accepted and
// validated (no code for another audience, plain or pushed), unknown parameters ignored, a pushed
// request as the whole request, and errors sent back to the app once its client and redirect URI
// are known to be valid, or shown as an HTML page (never JSON) when they are not.
import { beforeAll, describe, expect, it } from 'vitest';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { clientAssertion, createConfidentialClient, form, newKeys, pkce, postForm, type Keys } from './oauth-helpers.js';

const server = useServer();
const redirectUri = 'https://app.example.fr/oauth/callback';
const counterfeit = 'https://counterfeit.example/fhir';

let publicClientId: string;
let confidential: { clientId: string; keys: Keys };

beforeAll(async () => {
  const publisher = await registerPublisher(server());
  const app = await call(server(), 'POST', '/apps', {
    key: publisher.key,
    body: appInput({
      redirectUris: [redirectUri],
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
        { scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' },
      ],
    }),
  });
  publicClientId = (await call(server(), 'GET', `/apps/${app.body.id}/clients`, { key: publisher.key })).body.items[0].clientId;
  confidential = await createConfidentialClient(server().url, publisher.key, app.body.id);
});

const fhirBase = () => `${server().url}/fhir`;

function request(overrides: Record<string, string | undefined> = {}, challenge = pkce().challenge) {
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

/** GETs the authorization endpoint with a raw query, as a browser following a link would. */
async function authorizeRaw(query: string) {
  const response = await fetch(`${server().url}/oauth/authorize?${query}`, { redirect: 'manual' });
  const location = response.headers.get('location');
  return {
    status: response.status,
    headers: response.headers,
    location: location ? new URL(location) : null,
    page: location ? '' : await response.text(),
  };
}
const authorize = (params: Record<string, string | undefined>) => authorizeRaw(form(params).toString());

/** The redirect's parameters, when the answer went back to the app. */
function backToApp(result: Awaited<ReturnType<typeof authorizeRaw>>) {
  expect(result.status, result.page).toBe(303);
  expect(`${result.location!.origin}${result.location!.pathname}`).toBe(redirectUri);
  return Object.fromEntries(result.location!.searchParams);
}

/** An HTML error page in French and English, never JSON, never cached. */
function expectErrorPage(result: Awaited<ReturnType<typeof authorizeRaw>>, mentions: string) {
  expect(result.status).toBe(400);
  expect(result.location).toBeNull();
  expect(result.headers.get('content-type')).toMatch(/^text\/html/);
  expect(result.headers.get('cache-control')).toBe('no-store');
  expect(result.headers.get('content-security-policy')).toContain("default-src 'none'");
  expect(result.page).toContain('<html lang="fr">');
  expect(result.page).toContain('lang="en"');
  expect(result.page).toContain(mentions);
  expect(() => JSON.parse(result.page)).toThrow();
}

async function push(overrides: Record<string, string | undefined> = {}, challenge = pkce().challenge) {
  return postForm(
    server().url,
    '/oauth/par',
    form({
      ...request({ client_id: confidential.clientId, ...overrides }, challenge),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(server().url, confidential),
    }),
  );
}

async function redeemConfidential(code: string, verifier: string) {
  return postForm(
    server().url,
    '/oauth/token',
    form({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(server().url, confidential),
    }),
    await newKeys(),
  );
}

describe('aud', () => {
  it('is accepted when it names this FHIR base URL, normalized', async () => {
    const base = new URL(fhirBase());
    const forms = [fhirBase(), `${fhirBase()}/`, `${base.protocol}//${base.host.toUpperCase()}${base.pathname}`, `HTTP://${base.host}${base.pathname}`];
    for (const aud of forms) {
      const answer = backToApp(await authorize(request({ aud })));
      expect(answer.code, aud).toEqual(expect.any(String));
      expect(answer.iss).toBe(server().url);
    }
  });

  it('naming another server, refuses the request back to the app and issues no code', async () => {
    for (const aud of [counterfeit, `${server().url}/fhir/Patient`, `${server().url}`, `${fhirBase()}?x=1`, 'not a url', '']) {
      const answer = backToApp(await authorize(request({ aud })));
      expect(answer, aud).toEqual({ error: 'invalid_request', error_description: `aud must be the FHIR base URL of this server, ${fhirBase()}`, state: 'state-123', iss: server().url });
    }
  });

  it('is validated in a pushed request too: a foreign audience never gets a request_uri, so never a code or a token', async () => {
    const refused = await push({ aud: counterfeit });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('aud must be the FHIR base URL') } });
    const [stored] = await server().app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM oauth_pushed_requests WHERE client_id = $1', [confidential.clientId]);
    expect(stored!.n).toBe(0);

    const { verifier, challenge } = pkce();
    const pushed = await push({ aud: fhirBase() }, challenge);
    expect(pushed.status).toBe(201);
    const answer = backToApp(await authorize({ client_id: confidential.clientId, request_uri: pushed.body.request_uri }));
    const tokens = await redeemConfidential(answer.code!, verifier);
    expect(tokens.status).toBe(200);
    expect(JSON.parse(Buffer.from(tokens.body.access_token.split('.')[1], 'base64url').toString()).aud).toBe(fhirBase());
  });
});

describe('parameters', () => {
  it('unknown to the server are ignored, never refused (RFC 6749 §3.1)', async () => {
    const answer = backToApp(await authorize(request({ foo: 'bar', prompt: 'consent', resource: 'urn:x', ui_locales: 'fr' })));
    expect(answer.code).toEqual(expect.any(String));
    const { challenge } = pkce();
    const pushed = await push({ foo: 'bar' }, challenge);
    expect(pushed.status).toBe(201);
  });

  it('sent beside request_uri are ignored, except client_id: the pushed request is the request (RFC 9126)', async () => {
    const pushed = await push({ state: 'pushed-state', scope: 'patient/Observation.rs' });
    expect(pushed.status).toBe(201);
    const answer = backToApp(
      await authorize({
        client_id: confidential.clientId,
        request_uri: pushed.body.request_uri,
        redirect_uri: 'https://evil.example.com/cb',
        state: 'other-state',
        scope: 'launch/patient patient/Observation.rs',
        aud: counterfeit,
        response_type: 'token',
        foo: 'bar',
      }),
    );
    expect(answer.state).toBe('pushed-state');
    const tokens = await redeemConfidential(answer.code!, 'x'.repeat(43));
    // The code is the pushed request's: its PKCE challenge, not one of the query.
    expect(tokens).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'code_verifier does not match the code_challenge' } });
  });

  it('sent twice, are refused back to the app once its client and redirect URI are valid', async () => {
    const query = `${form(request())}&scope=patient%2FObservation.rs`;
    expect(backToApp(await authorizeRaw(query))).toEqual({ error: 'invalid_request', error_description: 'scope must be sent once, as a string', state: 'state-123', iss: server().url });
    // A repeated state cannot be echoed: the error goes back without one.
    expect(backToApp(await authorizeRaw(`${form(request())}&state=again`))).toEqual({ error: 'invalid_request', error_description: 'state must be sent once, as a string', iss: server().url });
  });
});

describe('errors that cannot go back to the app', () => {
  it('are an HTML page in French and English, never JSON', async () => {
    expectErrorPage(await authorize(request({ client_id: undefined })), 'client_id is required');
    expectErrorPage(await authorizeRaw(`${form(request())}&client_id=${publicClientId}`), 'client_id is sent more than once');
    expectErrorPage(await authorize(request({ client_id: 'mes_unknown' })), 'This app is not known to the platform.');
    expectErrorPage(await authorize(request({ redirect_uri: 'https://evil.example.com/cb' })), 'redirect_uri is not registered');
    expectErrorPage(await authorizeRaw(`${form(request())}&redirect_uri=${encodeURIComponent(redirectUri)}`), 'redirect_uri must be sent once');
    expectErrorPage(await authorize(request({ redirect_uri: undefined })), 'redirect_uri is required');
    expectErrorPage(await authorize({ client_id: confidential.clientId, request_uri: 'urn:ietf:params:oauth:request_uri:unknown' }), 'has expired or was already used');
    expectErrorPage(await authorizeRaw(`client_id=${confidential.clientId}&request_uri=a&request_uri=b`), 'has expired or was already used');
  });

  it('are a page too when the server refuses the request before the endpoint (a token in the URL)', async () => {
    const result = await authorize(request({ access_token: 'abc' }));
    expectErrorPage(result, 'Access tokens are never accepted in the query string');
  });
});
