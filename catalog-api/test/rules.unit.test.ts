import { describe, expect, it } from 'vitest';
import { canonicalScopes, foldText, generateApiKey, hashApiKey, redirectUriProblem } from '../src/modules/catalog/rules.js';
import { parseScope } from '../src/modules/oauth/scopes.js';
import { jsonDepthExceeds, parseJsonBody } from '../src/core/json-body.js';
import { decodeCursor, encodeCursor } from '../src/core/pagination.js';
import { loadConfig, ConfigError } from '../src/core/config.js';

describe('redirect URIs', () => {
  it.each([
    'https://app.example.fr/callback',
    'https://app.example.fr:8443/oauth/callback?client=web',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:51004/callback',
    'http://[::1]/callback',
    'http://localhost:3000/callback',
  ])('accepts %s', (uri) => expect(redirectUriProblem(uri)).toBeNull());

  it.each([
    ['https://app.example.fr/cb#', 'fragment'],
    ['https://app.example.fr/*', 'wildcard'],
    ['https://*.example.fr/cb', 'wildcard'],
    ['http://app.example.fr/cb', 'https'],
    ['http://127.0.0.2.example.fr/cb', 'https'],
    ['javascript:alert(1)', 'javascript'],
    ['data:text/html,hi', 'data'],
    ['file:///etc/passwd', 'file'],
    ['com.example.app:/callback', 'com.example.app'],
    ['https://user:secret@app.example.fr/cb', 'user information'],
    ['app.example.fr/cb', 'absolute'],
  ])('refuses %s', (uri, reason) => expect(redirectUriProblem(uri)).toContain(reason));
});

describe('SMART scopes', () => {
  it.each([
    ['patient/Observation.rs', 'patient/Observation.rs'],
    ['patient/Observation.read', 'patient/Observation.rs'],
    ['patient/Observation.write', 'patient/Observation.cud'],
    ['patient/Observation.*', 'patient/Observation.cruds'],
    ['patient/*.rs', 'patient/*.rs'],
    ['patient/Observation.rs?category=vital-signs', 'patient/Observation.rs?category=vital-signs'],
    ['patient/Observation.rs?code=http://loinc.org|29463-7', 'patient/Observation.rs?code=http://loinc.org|29463-7'],
    ['launch/patient', 'launch/patient'],
    ['offline_access', 'offline_access'],
    ['openid', 'openid'],
    ['fhirUser', 'fhirUser'],
    ['launch', 'launch'],
  ])('parses %s as %s', (scope, canonical) => {
    const parsed = parseScope(scope);
    expect(parsed).toMatchObject({ ok: true, canonical });
  });

  it.each(['patient/Observation.sr', 'patient/Observation.rr', 'patient/Observation.x', 'patient/Observation.', 'user/Observation.rs', 'patient/Dragon.rs', 'patient/Observation.rs?category', 'launch/encounter', 'Observation.rs', ''])(
    'refuses %s',
    (scope) => expect(parseScope(scope).ok).toBe(false),
  );

  it('canonicalizes a list and reports duplicates by pointer', () => {
    const { scopes, errors } = canonicalScopes([
      { scope: 'patient/Immunization.read', justification: 'a' },
      { scope: 'patient/Immunization.rs', justification: 'b' },
      { scope: 'bogus', justification: 'c' },
    ]);
    expect(scopes).toEqual([{ scope: 'patient/Immunization.rs', justification: 'a' }]);
    expect(errors.map((e) => e.pointer)).toEqual(['/body/scopes/1/scope', '/body/scopes/2/scope']);
  });
});

describe('text folding', () => {
  it('removes accents, case and extra spaces', () => {
    expect(foldText('  Équilibre   Santé ')).toBe('equilibre sante');
    expect(foldText('ŒUF Noël')).toBe('œuf noel');
  });
});

describe('API keys', () => {
  it('are random, prefixed, and hashed deterministically', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).not.toBe(b.key);
    expect(a.key).toMatch(/^mes_pk_[A-Za-z0-9_-]{43}$/);
    expect(a.hash).toBe(hashApiKey(a.key));
    expect(a.hash).not.toContain(a.key.slice(7));
  });
});

describe('JSON bodies', () => {
  it('measures depth without being fooled by brackets in strings', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[\\"[[[["}', 2)).toBe(false);
  });

  it('refuses prototype poisoning and bad JSON with coded errors', () => {
    expect(() => parseJsonBody('{"__proto__":{}}', 32)).toThrow(expect.objectContaining({ code: 'malformed_json' }));
    expect(() => parseJsonBody('{"constructor":{"prototype":{}}}', 32)).toThrow(expect.objectContaining({ code: 'malformed_json' }));
    expect(() => parseJsonBody('{', 32)).toThrow(expect.objectContaining({ code: 'malformed_json' }));
    expect(() => parseJsonBody('[[[]]]', 2)).toThrow(expect.objectContaining({ code: 'json_too_deep' }));
    expect(parseJsonBody('{"a":[1,{"b":null}]}', 32)).toEqual({ a: [1, { b: null }] });
  });
});

describe('cursors', () => {
  it('round-trip and refuse anything else', () => {
    expect(decodeCursor(encodeCursor(['abc', 'def']), ['string', 'string'])).toEqual(['abc', 'def']);
    expect(() => decodeCursor(encodeCursor([1]), ['string'])).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    expect(() => decodeCursor('%%%', ['number'])).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    expect(() => decodeCursor(Buffer.from('{"a":1}').toString('base64url'), ['number'])).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
  });
});

describe('configuration', () => {
  it('reads the environment with defaults', () => {
    const key = Buffer.alloc(32, 7);
    const config = loadConfig({ KEY_ENCRYPTION_KEY: key.toString('base64'), PUBLIC_URL: 'https://api.example.fr/' });
    expect(config.publicUrl).toBe('https://api.example.fr');
    expect(config).toMatchObject({ mode: 'production', port: 4010, dataDir: './.data', bodyLimit: 1048576, jsonMaxDepth: 32, keyEncryptionKey: key });
    expect(loadConfig({ PORT: '0', MES_MODE: 'sandbox', DATABASE_URL: 'postgres://x/y' })).toMatchObject({ port: 0, mode: 'sandbox', databaseUrl: 'postgres://x/y' });
    expect(config).toMatchObject({ outboundAllowPrivateNetworks: false, outboundTimeoutMs: 5000, sweepIntervalSeconds: 600 });
    expect(loadConfig({ MES_MODE: 'sandbox', SWEEP_INTERVAL_SECONDS: '0' }).sweepIntervalSeconds).toBe(0);
    expect(loadConfig({ MES_MODE: 'sandbox', OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true', OUTBOUND_TIMEOUT_MS: '2500' })).toMatchObject({
      outboundAllowPrivateNetworks: true,
      outboundTimeoutMs: 2500,
    });
    // The environment wins over the sandbox's own default (npm start turns it on for a loopback HOST).
    expect(loadConfig({ MES_MODE: 'sandbox', OUTBOUND_ALLOW_PRIVATE_NETWORKS: '0' }, { outboundAllowPrivateNetworks: true }).outboundAllowPrivateNetworks).toBe(false);
  });

  it.each([
    [{ MES_MODE: 'sandbox', PORT: 'eighty' }, 'PORT'],
    [{ MES_MODE: 'sandbox', PORT: '70000' }, 'PORT'],
    [{ MES_MODE: 'dev' }, 'MES_MODE'],
    [{ MES_MODE: 'sandbox', DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ MES_MODE: 'sandbox', OPERATOR_TOKEN: 'short' }, 'OPERATOR_TOKEN'],
    [{ PUBLIC_URL: 'https://api.example.fr' }, 'KEY_ENCRYPTION_KEY is required'],
    [{ PUBLIC_URL: 'https://api.example.fr', KEY_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'KEY_ENCRYPTION_KEY must be 32 bytes'],
    [{}, 'PUBLIC_URL is required'],
    [{ MES_MODE: 'sandbox', OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'yes' }, 'OUTBOUND_ALLOW_PRIVATE_NETWORKS must be true or false'],
    [{ MES_MODE: 'sandbox', OUTBOUND_TIMEOUT_MS: '10' }, 'OUTBOUND_TIMEOUT_MS'],
    [{ MES_MODE: 'sandbox', SWEEP_INTERVAL_SECONDS: '-1' }, 'SWEEP_INTERVAL_SECONDS'],
    [
      { PUBLIC_URL: 'https://api.example.fr', KEY_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'), OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true' },
      'OUTBOUND_ALLOW_PRIVATE_NETWORKS is for a sandbox',
    ],
  ])('refuses %o', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
