// The whole authorization code flow driven by oauth4webapi, an independent OAuth client, with no
// option that weakens its checks beyond allowing plain HTTP on the loopback test server.
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair as joseKeyPair, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULT_PATIENT } from '../src/modules/consent/index.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { startHttpsServer, type TestHttpsServer } from './https-server.js';

// The backend of a confidential client that publishes its keys at a jwks_uri (the second variant
// of the confidential flow), on loopback: the server runs as a sandbox on a developer's machine.
let backend: TestHttpsServer;
let publishedKeys: unknown[] = [];
beforeAll(async () => {
  backend = await startHttpsServer(['backend.tensiosuivi.test'], (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    response.end(JSON.stringify({ keys: publishedKeys }));
  });
});
afterAll(async () => backend?.close());

const server = useServer({ outboundAllowPrivateNetworks: true }, () => ({ outbound: { ca: backend.ca, resolve: backend.resolve } }));
const insecure = { [oauth.allowInsecureRequests]: true };
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';

async function discover() {
  const issuer = new URL(server().url);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
}

/** Retries once when the server asks for a DPoP nonce, as oauth4webapi's documentation shows. */
async function withNonceRetry<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return attempt();
    throw error;
  }
}

/** Follows the authorization endpoint's answer as a browser would, without following the redirect to the app. */
async function authorizeAt(url: URL): Promise<URL> {
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status, await response.clone().text()).toBe(303);
  return new URL(response.headers.get('location')!);
}

async function expectAccessToken(tokens: oauth.TokenEndpointResponse, dpopKeys: CryptoKeyPair, clientId: string) {
  expect(tokens.token_type).toBe('dpop');
  expect(tokens.expires_in).toBeLessThanOrEqual(600);
  const jwks = createLocalJWKSet((await call(server(), 'GET', '/jwks.json')).body);
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
    issuer: server().url,
    audience: `${server().url}/fhir`,
    typ: 'at+jwt',
  });
  expect(protectedHeader.alg).toBe('ES256');
  expect(payload).toMatchObject({
    client_id: clientId,
    scope: tokens.scope,
    patient: SANDBOX_DEFAULT_PATIENT,
    sub: SANDBOX_DEFAULT_PATIENT,
    cnf: { jkt: await calculateJwkThumbprint(await exportJWK(dpopKeys.publicKey)) },
  });
  expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(600);
  expect(typeof payload.jti).toBe('string');
}

describe('oauth4webapi against the authorization server', () => {
  it('discovers the server', async () => {
    const as = await discover();
    expect(as).toMatchObject({
      issuer: server().url,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      pushed_authorization_request_endpoint: `${server().url}/oauth/par`,
    });
    const smart = await call(server(), 'GET', '/.well-known/smart-configuration');
    expect(smart.body.capabilities).toContain('client-confidential-asymmetric');
    expect(smart.body.issuer).toBe(server().url);
  });

  it('completes the public-client flow: PKCE, DPoP, iss in the response, an ID token with fhirUser', async () => {
    const publisher = await registerPublisher(server());
    const app = await call(server(), 'POST', '/apps', {
      key: publisher.key,
      body: appInput({
        scopes: [
          { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
          { scope: 'openid', justification: 'Savoir qui est connecté.' },
          { scope: 'fhirUser', justification: 'Afficher le nom de la personne connectée.' },
          { scope: 'patient/Observation.rs', justification: 'Lire vos mesures de tension.' },
        ],
      }),
    });
    const [publicClient] = (await call(server(), 'GET', `/apps/${app.body.id}/clients`, { key: publisher.key })).body.items;
    const as = await discover();
    const client: oauth.Client = { client_id: publicClient.clientId };
    const dpopKeys = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, dpopKeys);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();

    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid fhirUser launch/patient patient/Observation.read',
      nonce,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      // The sandbox pre-approves consent for the patient named here (automated tests).
      login_hint: SANDBOX_DEFAULT_PATIENT,
    }).toString();
    const callback = await authorizeAt(url);
    expect(callback.searchParams.get('iss')).toBe(server().url);
    const params = oauth.validateAuthResponse(as, client, callback, state);

    const tokens = await withNonceRetry(async () =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, { DPoP, ...insecure }),
        { expectedNonce: nonce, requireIdToken: true },
      ),
    );
    expect(tokens.scope).toBe('launch/patient openid fhirUser patient/Observation.rs');
    const idToken = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(idToken).toMatchObject({ iss: server().url, aud: client.client_id, sub: SANDBOX_DEFAULT_PATIENT, nonce });
    expect(idToken.fhirUser).toBe(`${server().url}/fhir/Patient/${SANDBOX_DEFAULT_PATIENT}`);
    // The ID token is signed with the platform key, as the JWKS says.
    const jwks = createLocalJWKSet((await call(server(), 'GET', '/jwks.json')).body);
    await expect(jwtVerify(tokens.id_token!, jwks, { audience: client.client_id })).resolves.toBeTruthy();
    expect(tokens.patient).toBe(SANDBOX_DEFAULT_PATIENT);
    await expectAccessToken(tokens, dpopKeys, client.client_id);
  });

  it.each(['jwks', 'jwksUri'] as const)('completes the confidential-client flow (keys registered as %s): PAR, private_key_jwt, PKCE, DPoP, then refresh, introspect, revoke', async (keysAs) => {
    const publisher = await registerPublisher(server());
    const app = await call(server(), 'POST', '/apps', {
      key: publisher.key,
      body: appInput({
        scopes: [
          { scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension.' },
          { scope: 'offline_access', justification: 'Synchroniser les mesures sans vous redemander.' },
        ],
      }),
    });
    const signing = await joseKeyPair('ES256', { extractable: true });
    const keys = [{ ...(await exportJWK(signing.publicKey)), kid: 'backend-1' }];
    publishedKeys = keys;
    const created = await call(server(), 'POST', `/apps/${app.body.id}/clients`, {
      key: publisher.key,
      body: { type: 'confidential', ...(keysAs === 'jwks' ? { jwks: { keys } } : { jwksUri: `${backend.origin}/jwks.json` }) },
    });
    expect(created.status).toBe(201);
    const as = await discover();
    const client: oauth.Client = { client_id: created.body.clientId };
    const clientAuth = oauth.PrivateKeyJwt({ key: signing.privateKey, kid: 'backend-1' });
    const dpopKeys = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, dpopKeys);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();

    const pushed = await withNonceRetry(async () =>
      oauth.processPushedAuthorizationResponse(
        as,
        client,
        await oauth.pushedAuthorizationRequest(
          as,
          client,
          clientAuth,
          {
            response_type: 'code',
            redirect_uri: redirectUri,
            scope: 'offline_access patient/Observation.rs?category=vital-signs',
            state,
            code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
            code_challenge_method: 'S256',
            login_hint: SANDBOX_DEFAULT_PATIENT,
          },
          { DPoP, ...insecure },
        ),
      ),
    );
    expect(pushed.expires_in).toBeLessThanOrEqual(60);

    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: client.client_id, request_uri: pushed.request_uri }).toString();
    const params = oauth.validateAuthResponse(as, client, await authorizeAt(url), state);
    const tokens = await withNonceRetry(async () =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, verifier, { DPoP, ...insecure }),
      ),
    );
    // The app registered patient/Observation.crs?category=vital-signs: the ceiling keeps the read and search part.
    expect(tokens.scope).toBe('offline_access patient/Observation.rs?category=vital-signs');
    await expectAccessToken(tokens, dpopKeys, client.client_id);
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const refreshed = await withNonceRetry(async () =>
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, { DPoP, ...insecure }),
      ),
    );
    await expectAccessToken(refreshed, dpopKeys, client.client_id);

    const introspected = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure),
    );
    expect(introspected).toMatchObject({ active: true, client_id: client.client_id, token_type: 'DPoP' });

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, clientAuth, tokens.refresh_token!, insecure));
    const after = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure),
    );
    expect(after.active).toBe(false);
  });
});
