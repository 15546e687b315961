// The authorization server applies the certified version of an app (its redirect URIs and scopes)
// outside the sandbox, while a newer version is being prepared or reviewed; the sandbox applies
// the working copy, which developers exercise before submitting.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/core/config.js';
import { appScopeCeiling, validateAuthorizationRequest, versionInForce } from '../src/modules/oauth/authorization.js';
import type { ClientWithApp } from '../src/modules/oauth/client-repository.js';
import { formatScopes } from '../src/modules/oauth/scopes.js';

const client = {
  clientId: 'client-1',
  appId: 'app-1',
  type: 'public',
  appCertificationStatus: 'certified',
  appName: 'TensioSuivi',
  redirectUris: ['https://tensio.example.fr/v2/callback'],
  appScopes: ['patient/Observation.rs', 'patient/Immunization.rs'],
  certified: { redirectUris: ['https://tensio.example.fr/callback'], scopes: ['patient/Observation.rs'] },
} as unknown as ClientWithApp;

const production = { ...defaultConfig, mode: 'production' as const };
const fhirBase = 'https://api.mes.example.fr/fhir';
const sandbox = { ...defaultConfig, mode: 'sandbox' as const };
const request = (redirectUri: string) => ({
  response_type: 'code',
  client_id: 'client-1',
  redirect_uri: redirectUri,
  scope: 'patient/Observation.rs patient/Immunization.rs',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
  state: 'state-1',
});

describe('the version in force', () => {
  it('is the certified one outside the sandbox, the working copy in it', () => {
    expect(versionInForce(client, production)).toEqual(client.certified);
    expect(versionInForce(client, sandbox)).toEqual({ redirectUris: client.redirectUris, scopes: client.appScopes });
    expect(versionInForce({ ...client, certified: null }, production)).toEqual({ redirectUris: client.redirectUris, scopes: client.appScopes });
  });

  it('caps the scopes and the redirect URIs an authorization may use', () => {
    expect(formatScopes(appScopeCeiling(client, production))).toBe('patient/Observation.rs');
    expect(formatScopes(appScopeCeiling(client, sandbox))).toBe('patient/Immunization.rs patient/Observation.rs');
    expect(() => validateAuthorizationRequest(client, request('https://tensio.example.fr/v2/callback'), production, fhirBase)).toThrow(/redirect_uri is not registered/);
    expect(validateAuthorizationRequest(client, request('https://tensio.example.fr/callback'), production, fhirBase).redirect_uri).toBe('https://tensio.example.fr/callback');
    expect(validateAuthorizationRequest(client, request('https://tensio.example.fr/v2/callback'), sandbox, fhirBase).redirect_uri).toBe('https://tensio.example.fr/v2/callback');
  });
});
