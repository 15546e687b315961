// The certification settings read from the environment: the certificates' validity, and the
// sandbox trusted for signed evidence, each mistake refused at start naming the variable.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/core/config.js';

const production = {
  MES_MODE: 'production',
  PUBLIC_URL: 'https://api.mes.example.fr',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'sandbox-1', alg: 'ES256' };

describe('certification settings', () => {
  it('certificates are valid three years unless CERTIFICATE_VALIDITY_DAYS says otherwise', () => {
    expect(loadConfig(production).certificateValidityDays).toBe(1095);
    expect(loadConfig({ ...production, CERTIFICATE_VALIDITY_DAYS: '365' }).certificateValidityDays).toBe(365);
    for (const wrong of ['0', '3651', 'three years']) {
      expect(() => loadConfig({ ...production, CERTIFICATE_VALIDITY_DAYS: wrong })).toThrow(/CERTIFICATE_VALIDITY_DAYS/);
    }
  });

  it('trusts a sandbox for evidence with its issuer and public keys, together', () => {
    expect(loadConfig(production).trustedSandbox).toBeUndefined();
    const trusted = loadConfig({ ...production, SANDBOX_EVIDENCE_ISSUER: 'https://sandbox.mes.example.fr/', SANDBOX_EVIDENCE_JWKS: JSON.stringify({ keys: [publicJwk] }) });
    expect(trusted.trustedSandbox).toEqual({ issuer: 'https://sandbox.mes.example.fr', keys: [publicJwk] });
    // The sandbox's /jwks.json as it is: its RSA key (ID tokens) is left out, the EC key kept.
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const asPublished = loadConfig({ ...production, SANDBOX_EVIDENCE_ISSUER: 'https://sandbox.mes.example.fr', SANDBOX_EVIDENCE_JWKS: JSON.stringify({ keys: [publicJwk, rsa] }) });
    expect(asPublished.trustedSandbox?.keys).toEqual([publicJwk]);
  });

  it('refuses half a setting, a key set that is not one, and private keys', () => {
    const refuse = (env: Record<string, string>, message: RegExp) => {
      expect(() => loadConfig({ ...production, ...env })).toThrow(ConfigError);
      expect(() => loadConfig({ ...production, ...env })).toThrow(message);
    };
    refuse({ SANDBOX_EVIDENCE_ISSUER: 'https://sandbox.mes.example.fr' }, /go together/);
    refuse({ SANDBOX_EVIDENCE_JWKS: JSON.stringify({ keys: [publicJwk] }) }, /go together/);
    refuse({ SANDBOX_EVIDENCE_ISSUER: 'https://sandbox.mes.example.fr', SANDBOX_EVIDENCE_JWKS: '{not json' }, /SANDBOX_EVIDENCE_JWKS must be the JSON/);
    refuse({ SANDBOX_EVIDENCE_ISSUER: 'https://sandbox.mes.example.fr', SANDBOX_EVIDENCE_JWKS: '{"keys":[]}' }, /public EC keys/);
    const rsaOnly = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    refuse({ SANDBOX_EVIDENCE_ISSUER: 'https://sandbox.mes.example.fr', SANDBOX_EVIDENCE_JWKS: JSON.stringify({ keys: [rsaOnly] }) }, /public EC keys/);
    refuse({ SANDBOX_EVIDENCE_ISSUER: 'https://sandbox.mes.example.fr', SANDBOX_EVIDENCE_JWKS: JSON.stringify({ keys: [privateKey.export({ format: 'jwk' })] }) }, /no private member/);
  });
});
