// Discovery where clients look for it: RFC 8414 metadata, OpenID Connect Discovery 1.0, the SMART
// configuration at the issuer and beside the FHIR base URL; each document claims only what the
// server does (and what the tests exercise). ID tokens: RS256 by default, ES256 on request.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { form, newKeys, pkce, postForm } from './oauth-helpers.js';

const server = useServer();

/**
 * Every capability the SMART configuration lists, and where a test exercises it. A capability
 * added to the document without a test here fails.
 */
const exercised: Record<string, string> = {
  'launch-standalone': 'oauth-interop (oauth4webapi), smart-clients (fhirclient standalone launch)',
  'launch-ehr': 'ehr-launch (launch from the patient pages, single-use launch bound to patient and app)',
  'client-public': 'oauth-interop (public client flow), smart-clients (fhirclient)',
  'client-confidential-asymmetric': 'oauth-interop (private_key_jwt), smart-clients (openid-client with ES384 and RS384 keys), client-auth',
  'context-standalone-patient': 'oauth-interop (patient in the token response with launch/patient)',
  'context-ehr-patient': 'ehr-launch (the launch names the patient, or the child a guardian acts for)',
  'permission-patient': 'fhir-security (patient/ scopes confine every answer to the token patient)',
  'permission-offline': 'oauth-interop (offline_access gives a refresh token), oauth-tokens',
  'permission-v1': 'scopes.unit (v1 .read/.write aliases), oauth-interop (patient/Observation.read)',
  'permission-v2': 'scopes.unit (v2 cruds letters and granular scopes), oauth-interop',
  'sso-openid-connect': 'this file and oauth-interop (RS256 and ES256 ID tokens with fhirUser), smart-clients (openid-client)',
};

describe('discovery documents', () => {
  it('serve the SMART configuration at the issuer and beside the FHIR base URL, identical', async () => {
    const root = await call(server(), 'GET', '/.well-known/smart-configuration');
    const fhir = await call(server(), 'GET', '/fhir/.well-known/smart-configuration');
    expect(root.status).toBe(200);
    expect(fhir.status).toBe(200);
    expect(fhir.body).toEqual(root.body);
    expect(fhir.headers.get('content-type')).toMatch(/^application\/json/);
    // Browser apps (fhirclient in a page) read both cross-origin.
    expect(fhir.headers.get('access-control-allow-origin')).toBe('*');
    expect(root.body).toMatchObject({
      issuer: server().url,
      authorization_endpoint: `${server().url}/oauth/authorize`,
      token_endpoint: `${server().url}/oauth/token`,
      jwks_uri: `${server().url}/jwks.json`,
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'RS384', 'PS256', 'EdDSA'],
      management_endpoint: `${server().url}/patient/apps`,
    });
    expect(root.body.scopes_supported).toEqual(expect.arrayContaining(['launch', 'launch/patient', 'openid', 'fhirUser', 'offline_access']));
  });

  it('list only capabilities that a test exercises', async () => {
    const { capabilities } = (await call(server(), 'GET', '/.well-known/smart-configuration')).body as { capabilities: string[] };
    const unexercised = capabilities.filter((capability) => !exercised[capability]);
    expect(unexercised).toEqual([]);
    expect(capabilities).toEqual(expect.arrayContaining(['launch-ehr', 'context-ehr-patient', 'launch-standalone', 'sso-openid-connect']));
  });

  it('serve OpenID Connect Discovery 1.0 at /.well-known/openid-configuration', async () => {
    const openid = await call(server(), 'GET', '/.well-known/openid-configuration');
    expect(openid.status).toBe(200);
    expect(openid.headers.get('access-control-allow-origin')).toBe('*');
    expect(openid.body).toMatchObject({
      issuer: server().url,
      authorization_endpoint: `${server().url}/oauth/authorize`,
      token_endpoint: `${server().url}/oauth/token`,
      jwks_uri: `${server().url}/jwks.json`,
      pushed_authorization_request_endpoint: `${server().url}/oauth/par`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      claims_supported: expect.arrayContaining(['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'fhirUser']),
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
      request_uri_parameter_supported: false,
      authorization_response_iss_parameter_supported: true,
    });
    expect(openid.body.scopes_supported).toContain('openid');
    // What a client nobody here wrote makes of it.
    const issuer = new URL(server().url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.allowInsecureRequests]: true }));
    expect(as.issuer).toBe(server().url);
    // The RFC 8414 document says the same of ID tokens.
    expect((await call(server(), 'GET', '/.well-known/oauth-authorization-server')).body.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
  });
});

describe('ID tokens', () => {
  const redirectUri = 'https://app.example.fr/callback';
  let publisherKey: string;
  let appId: string;

  beforeAll(async () => {
    publisherKey = (await registerPublisher(server())).key;
    const app = await call(server(), 'POST', '/apps', {
      key: publisherKey,
      body: appInput({
        redirectUris: [redirectUri],
        scopes: [
          { scope: 'openid', justification: 'Savoir qui est connecté.' },
          { scope: 'fhirUser', justification: 'Afficher votre nom.' },
          { scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' },
        ],
      }),
    });
    appId = app.body.id;
  });

  async function idTokenOf(clientId: string): Promise<string> {
    const { verifier, challenge } = pkce();
    const response = await fetch(
      `${server().url}/oauth/authorize?${form({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid fhirUser patient/Observation.rs',
        nonce: 'n-0S6_WzA2Mj',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        login_hint: 'sandbox-patient-1',
      })}`,
      { redirect: 'manual' },
    );
    const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
    const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }), await newKeys());
    expect(tokens.status).toBe(200);
    return tokens.body.id_token;
  }

  it('are signed RS256 by default, as OpenID Connect defines it, ES256 for a client that registers it', async () => {
    const jwks = createLocalJWKSet((await call(server(), 'GET', '/jwks.json')).body);
    const byDefault = await call(server(), 'POST', `/apps/${appId}/clients`, { key: publisherKey, body: { type: 'public' } });
    expect(byDefault.body.idTokenSignedResponseAlg).toBe('RS256');
    const rs256 = await idTokenOf(byDefault.body.clientId);
    expect(decodeProtectedHeader(rs256)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const verified = await jwtVerify(rs256, jwks, { issuer: server().url, audience: byDefault.body.clientId, algorithms: ['RS256'] });
    expect(verified.payload).toMatchObject({ sub: 'sandbox-patient-1', nonce: 'n-0S6_WzA2Mj', fhirUser: `${server().url}/fhir/Patient/sandbox-patient-1` });

    const ec = await call(server(), 'POST', `/apps/${appId}/clients`, { key: publisherKey, body: { type: 'public', idTokenSignedResponseAlg: 'ES256' } });
    expect(ec.body.idTokenSignedResponseAlg).toBe('ES256');
    const es256 = await idTokenOf(ec.body.clientId);
    expect(decodeProtectedHeader(es256).alg).toBe('ES256');
    await expect(jwtVerify(es256, jwks, { audience: ec.body.clientId, algorithms: ['ES256'] })).resolves.toBeTruthy();

    const refused = await call(server(), 'POST', `/apps/${appId}/clients`, { key: publisherKey, body: { type: 'public', idTokenSignedResponseAlg: 'HS256' } });
    expect(refused.status).toBe(400);
  });

  it('stay verifiable through a key rotation of both algorithms', async () => {
    const client = await call(server(), 'POST', `/apps/${appId}/clients`, { key: publisherKey, body: { type: 'public' } });
    const before = await idTokenOf(client.body.clientId);
    const { rotateSigningKey } = await import('../src/modules/oauth/signing-keys.js');
    const { secretBox } = await import('../src/core/secret-box.js');
    await rotateSigningKey(server().app.db, secretBox(server().config.keyEncryptionKey));
    // The signer keeps its imported keys for up to 30 s: a new server instance would sign with the new key at once.
    const jwks = createLocalJWKSet((await call(server(), 'GET', '/jwks.json')).body);
    await expect(jwtVerify(before, jwks, { audience: client.body.clientId })).resolves.toBeTruthy();
    expect((await call(server(), 'GET', '/jwks.json')).body.keys.filter((key: { alg: string }) => key.alg === 'RS256')).toHaveLength(2);
  });
});
