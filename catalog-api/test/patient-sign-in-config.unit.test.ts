// The identity provider's settings read from the environment: what they become, and each
// mistake refused at start with a message that names the variable.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { clientKeyAlgorithm, ConfigError, loadConfig } from '../src/core/config.js';

const production = {
  MES_MODE: 'production',
  PUBLIC_URL: 'https://api.mes.example.fr',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};
const provider = {
  PATIENT_OIDC_ISSUER: 'https://auth.franceconnect.example.fr/api/v2',
  PATIENT_OIDC_CLIENT_ID: 'mes-platform',
  PATIENT_OIDC_CLIENT_SECRET: 'a-long-enough-client-secret',
};
const privateJwk = (type: 'ec' | 'rsa' | 'ed25519') => {
  const { privateKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'jwk' });
};

describe('patient sign-in settings', () => {
  it('are absent by default: no provider', () => {
    expect(loadConfig(production).patientIdentityProvider).toBeUndefined();
  });

  it('read the provider, with defaults for the claim, the scopes and the name', () => {
    expect(loadConfig({ ...production, ...provider }).patientIdentityProvider).toEqual({
      issuer: 'https://auth.franceconnect.example.fr/api/v2',
      clientId: 'mes-platform',
      clientSecret: 'a-long-enough-client-secret',
      scopes: [],
      patientClaim: 'sub',
      name: 'FranceConnect',
    });
    const custom = loadConfig({
      ...production,
      ...provider,
      PATIENT_OIDC_SCOPE: 'openid  given_name family_name given_name',
      PATIENT_OIDC_PATIENT_CLAIM: 'mes_patient_id',
      PATIENT_OIDC_INS_CLAIM: 'ins',
      PATIENT_OIDC_NAME: 'FranceConnect / Mon espace santé',
    }).patientIdentityProvider;
    expect(custom).toMatchObject({ scopes: ['given_name', 'family_name'], patientClaim: 'mes_patient_id', insClaim: 'ins', name: 'FranceConnect / Mon espace santé' });
  });

  it.each([
    ['ec', 'ES256'],
    ['ed25519', 'EdDSA'],
    ['rsa', 'PS256'],
  ] as const)('take a private %s JWK for private_key_jwt instead of a secret (signing with %s)', (type, alg) => {
    const key = privateJwk(type);
    expect(clientKeyAlgorithm(key)).toBe(alg);
    const config = loadConfig({ ...production, ...provider, PATIENT_OIDC_CLIENT_SECRET: '', PATIENT_OIDC_CLIENT_KEY: JSON.stringify(key) });
    expect(config.patientIdentityProvider?.clientKey).toEqual(key);
    expect(config.patientIdentityProvider?.clientSecret).toBeUndefined();
  });

  it('allow plain http only for a loopback provider on a developer machine', () => {
    const local = { ...provider, PATIENT_OIDC_ISSUER: 'http://localhost:8080/realms/mes' };
    expect(loadConfig({ MES_MODE: 'sandbox', OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true', ...local }).patientIdentityProvider?.issuer).toBe('http://localhost:8080/realms/mes');
    expect(() => loadConfig({ MES_MODE: 'sandbox', ...local })).toThrow(/PATIENT_OIDC_ISSUER must be an https URL/);
    expect(() => loadConfig({ MES_MODE: 'sandbox', OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true', ...provider, PATIENT_OIDC_ISSUER: 'http://idp.example.fr' })).toThrow(
      /PATIENT_OIDC_ISSUER must be an https URL/,
    );
  });

  it.each([
    ['an issuer that is not a URL', { PATIENT_OIDC_ISSUER: 'franceconnect' }, /PATIENT_OIDC_ISSUER must be an absolute URL/],
    ['an issuer with a query', { PATIENT_OIDC_ISSUER: 'https://idp.example.fr/?tenant=1' }, /issuer identifier alone/],
    ['no client id', { PATIENT_OIDC_CLIENT_ID: '' }, /PATIENT_OIDC_CLIENT_ID is required/],
    ['neither secret nor key', { PATIENT_OIDC_CLIENT_SECRET: '' }, /exactly one of PATIENT_OIDC_CLIENT_SECRET/],
    ['both a secret and a key', { PATIENT_OIDC_CLIENT_KEY: JSON.stringify(privateJwk('ec')) }, /exactly one of PATIENT_OIDC_CLIENT_SECRET/],
    ['a short secret', { PATIENT_OIDC_CLIENT_SECRET: 'short' }, /at least 16 characters/],
    ['a key that is not JSON', { PATIENT_OIDC_CLIENT_SECRET: '', PATIENT_OIDC_CLIENT_KEY: 'not json' }, /PATIENT_OIDC_CLIENT_KEY must be a private JWK/],
    ['a public key', { PATIENT_OIDC_CLIENT_SECRET: '', PATIENT_OIDC_CLIENT_KEY: JSON.stringify({ ...privateJwk('ec'), d: undefined }) }, /must be a private JWK/],
    ['a symmetric key', { PATIENT_OIDC_CLIENT_SECRET: '', PATIENT_OIDC_CLIENT_KEY: JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }) }, /must be a private JWK/],
    ['a key with a broken "d"', { PATIENT_OIDC_CLIENT_SECRET: '', PATIENT_OIDC_CLIENT_KEY: JSON.stringify({ ...privateJwk('ec'), d: 'AAAA' }) }, /not a usable private key/],
    ['a key whose "d" is another key’s', { PATIENT_OIDC_CLIENT_SECRET: '', PATIENT_OIDC_CLIENT_KEY: JSON.stringify({ ...privateJwk('ec'), d: privateJwk('ec').d }) }, /one key pair/],
    ['a scope with a quote', { PATIENT_OIDC_SCOPE: 'profile "x"' }, /PATIENT_OIDC_SCOPE: ""x"" is not a scope/],
    ['a claim with a space', { PATIENT_OIDC_PATIENT_CLAIM: 'patient id' }, /PATIENT_OIDC_PATIENT_CLAIM must be a claim name/],
    ['a name too long', { PATIENT_OIDC_NAME: 'x'.repeat(81) }, /PATIENT_OIDC_NAME must be 1 to 80 characters/],
  ])('refuse %s', (_case, env, message) => {
    expect(() => loadConfig({ ...production, ...provider, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...production, ...provider, ...env })).toThrow(message);
  });

  it('refuse a provider setting without the issuer', () => {
    expect(() => loadConfig({ ...production, PATIENT_OIDC_CLIENT_ID: 'mes-platform' })).toThrow(/PATIENT_OIDC_CLIENT_ID is set but PATIENT_OIDC_ISSUER is not/);
  });
});
