// Clients nobody here wrote, used unchanged, against the real server:
// - `fhirclient` (the SMART JS client, its Node adapter) runs a standalone launch as an existing
//   SMART app does: discovery beside the FHIR base URL, `aud`, PKCE, a public client registered
//   for Bearer tokens (it sends no DPoP proof), and reads the patient and their observations;
// - `openid-client` 6 with its default discovery (OpenID Connect Discovery 1.0) completes the
//   confidential flow: PAR, PKCE, DPoP, `private_key_jwt` with ES384 and with RS384 keys (SMART's
//   baseline), and validates the RS256 ID token's signature (non-repudiation checks on).
// Their only setting is the one that lets them talk to a loopback test server over plain HTTP.
import { decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus } from '../src/modules/catalog/index.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { seedRecord } from './fhir-helpers.js';
import { useFhirclientApp } from './fhirclient-app.js';
import { pageBrowser } from './page-browser.js';

const server = useServer();
const PATIENT = 'smart-client-claire';

beforeAll(async () => {
  await seedRecord(server(), PATIENT, { given: 'Claire', family: 'Fontaine', birthDate: '1979-02-14' });
});

/** The patient's part, as a browser does it: sign in on the sandbox's picker and approve everything offered. */
async function patientApproves(me: ReturnType<typeof pageBrowser>, authorizeUrl: string): Promise<URL> {
  const toConsent = await me.get(authorizeUrl);
  expect(toConsent.status, toConsent.html).toBe(303);
  const screen = new URL(toConsent.location!, server().url);
  expect(screen.pathname).toBe('/patient/authorize');
  const signIn = await me.get(`${screen.pathname}${screen.search}`);
  if (signIn.status === 303) {
    const signedIn = await me.post('/patient/sign-in', { patient_id: PATIENT, return_to: `${screen.pathname}${screen.search}` });
    expect(signedIn.status).toBe(303);
  }
  const page = await me.get(`${screen.pathname}${screen.search}`);
  expect(page.status).toBe(200);
  const offered = [...page.html.matchAll(/name="(grant_\d+)" value="([^"]+)"/g)].map(([, name, value]) => [name!, value!.replace(/&amp;/g, '&')]);
  const approved = await me.post('/patient/authorize', {
    interaction: screen.searchParams.get('interaction')!,
    csrf_token: me.csrfOf(page.html),
    decision: 'approve',
    duration: '3-months',
    ...Object.fromEntries(offered),
  });
  expect(approved.status, approved.html).toBe(303);
  return new URL(approved.location!);
}

describe('fhirclient (SMART JS client), standalone launch with a Bearer client', () => {
  const app = useFhirclientApp({
    scope: 'launch/patient openid fhirUser patient/Patient.rs patient/Observation.rs',
    async render(fhir) {
      const patient = await fhir.patient.read();
      const observations = await fhir.request(`Observation?category=vital-signs`);
      const body = JSON.stringify({ patientId: fhir.getPatientId(), fhirUser: fhir.getFhirUser(), tokenType: fhir.state.tokenResponse?.token_type, patient, observations });
      return { type: 'application/json', body };
    },
  });

  beforeAll(async () => {
    const publisher = await registerPublisher(server(), 'Éditeur SMART');
    const created = await call(server(), 'POST', '/apps', {
      key: publisher.key,
      body: appInput({
        name: 'Appli SMART existante',
        redirectUris: [`${app().origin}/callback`],
        scopes: [
          { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
          { scope: 'openid', justification: 'Savoir qui est connecté.' },
          { scope: 'fhirUser', justification: 'Afficher votre nom.' },
          { scope: 'patient/Patient.rs', justification: 'Afficher votre identité.' },
          { scope: 'patient/Observation.rs', justification: 'Afficher vos mesures.' },
        ],
      }),
    });
    expect(created.status).toBe(201);
    await setCertificationStatus(server().app.db, created.body.id, 'certified');
    // An existing SMART app speaks Bearer only: in the sandbox it registers for Bearer tokens.
    const registered = await call(server(), 'POST', `/apps/${created.body.id}/clients`, { key: publisher.key, body: { type: 'public', dpopBoundAccessTokens: false } });
    app().clientId = registered.body.clientId;
  });

  it('discovers the server beside the FHIR base URL, sends aud and PKCE, and reads the patient and their observations', async () => {
    const fhirBase = `${server().url}/fhir`;
    const launch = await fetch(`${app().origin}/launch?iss=${encodeURIComponent(fhirBase)}`, { redirect: 'manual' });
    expect(launch.status).toBe(302);
    const authorizeUrl = new URL(launch.headers.get('location')!);
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${server().url}/oauth/authorize`);
    // What the client found in /fhir/.well-known/smart-configuration made it send PKCE; SMART's aud is the FHIR base.
    expect(authorizeUrl.searchParams.get('aud')).toBe(fhirBase);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');

    const callback = await patientApproves(pageBrowser(server), `${authorizeUrl.pathname}${authorizeUrl.search}`);
    expect(callback.origin).toBe(app().origin);
    expect(callback.searchParams.get('iss')).toBe(server().url);
    const answer = await fetch(callback);
    const text = await answer.text();
    expect(answer.status, text).toBe(200);
    const result = JSON.parse(text);
    expect(result.tokenType).toBe('Bearer');
    expect(result.patientId).toBe(PATIENT);
    expect(result.fhirUser).toBe(`Patient/${PATIENT}`);
    expect(result.patient).toMatchObject({ resourceType: 'Patient', id: PATIENT, name: [{ family: 'Fontaine', given: ['Claire'] }] });
    expect(result.observations.resourceType).toBe('Bundle');
    expect(result.observations.entry.length).toBeGreaterThan(0);
    expect(result.observations.entry.every((entry: { resource: { subject?: { reference: string } } }) => entry.resource.subject?.reference === `Patient/${PATIENT}`)).toBe(true);
  });
});

describe('openid-client 6, default discovery, confidential client', () => {
  const redirectUri = 'https://backend.example.fr/oauth/callback';
  let appId: string;
  let publisherKey: string;

  beforeAll(async () => {
    const publisher = await registerPublisher(server(), 'Éditeur OpenID');
    publisherKey = publisher.key;
    const created = await call(server(), 'POST', '/apps', {
      key: publisherKey,
      body: appInput({
        name: 'Portail OpenID',
        redirectUris: [redirectUri],
        scopes: [
          { scope: 'openid', justification: 'Savoir qui est connecté.' },
          { scope: 'fhirUser', justification: 'Afficher votre nom.' },
          { scope: 'offline_access', justification: 'Synchroniser sans vous redemander.' },
          { scope: 'patient/Observation.rs', justification: 'Afficher vos mesures.' },
        ],
      }),
    });
    appId = created.body.id;
    await setCertificationStatus(server().app.db, appId, 'certified');
  });

  it.each(['ES384', 'RS384'] as const)('completes PAR, PKCE, DPoP and private_key_jwt (%s), and validates the RS256 ID token', async (alg) => {
    const keys = await generateKeyPair(alg, { extractable: true });
    const kid = `backend-${alg.toLowerCase()}`;
    const registered = await call(server(), 'POST', `/apps/${appId}/clients`, {
      key: publisherKey,
      body: { type: 'confidential', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid, alg }] } },
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);

    const config = await client.discovery(new URL(server().url), registered.body.clientId, undefined, client.PrivateKeyJwt({ key: keys.privateKey, kid }), {
      execute: [client.allowInsecureRequests],
    });
    // The ID token's signature is checked against /jwks.json, not only its claims.
    client.enableNonRepudiationChecks(config);
    expect(config.serverMetadata()).toMatchObject({ issuer: server().url, pushed_authorization_request_endpoint: `${server().url}/oauth/par` });
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(
      config,
      {
        redirect_uri: redirectUri,
        scope: 'openid fhirUser offline_access patient/Observation.rs',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        aud: `${server().url}/fhir`,
        // The sandbox pre-approves for the patient named here (automated tests).
        login_hint: PATIENT,
      },
      { DPoP },
    );
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const authorized = await fetch(url, { redirect: 'manual' });
    expect(authorized.status).toBe(303);

    const tokens = await client.authorizationCodeGrant(config, new URL(authorized.headers.get('location')!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, undefined, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
    expect(tokens.claims()).toMatchObject({ iss: server().url, aud: registered.body.clientId, sub: PATIENT, nonce, fhirUser: `${server().url}/fhir/Patient/${PATIENT}` });

    // The access token works with the same DPoP handle, and the refresh too.
    const observations = await client.fetchProtectedResource(config, tokens.access_token, new URL(`${server().url}/fhir/Observation?_count=5`), 'GET', undefined, undefined, { DPoP });
    expect(observations.status).toBe(200);
    expect(((await observations.json()) as { entry: unknown[] }).entry.length).toBeGreaterThan(0);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.access_token).toEqual(expect.any(String));
  });
});
