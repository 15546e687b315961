// The built package as Node resolves it for an app (its exports map, not this repository's
// aliases): `@mes/sdk` for an app's client, `@mes/sdk/publisher` for the publisher's,
// `@mes/sdk/certification` for the offline checks of certification records, each in ESM and
// CommonJS. The publisher's namespaces and the certification helpers are not in the app's entry,
// so an app that bundles the client does not carry them; the two clients share one set of
// classes, so `instanceof` holds across the entries.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const node = (code: string, type: 'module' | 'commonjs') =>
  execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' }).trim();

describe('the package’s entry points', () => {
  it('exports the certification helpers from @mes/sdk/certification, in ESM and CommonJS', () => {
    const names = ['verifyCertificate', 'verifyDecisionLog', 'decisionHash', 'canonicalJson', 'sha256Hex', 'verdictProblems', 'criterionIds'];
    const esm = node(`const m = await import('@mes/sdk/certification'); console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => typeof m[n])))`, 'module');
    expect(JSON.parse(esm)).toEqual(names.map(() => 'function'));
    const cjs = node(`const m = require('@mes/sdk/certification'); console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => typeof m[n])))`, 'commonjs');
    expect(JSON.parse(cjs)).toEqual(names.map(() => 'function'));
    expect(node(`const m = await import('@mes/sdk/certification'); console.log(m.canonicalJson({ b: 1, a: [true, null] }))`, 'module')).toBe('{"a":[true,null],"b":1}');
  });

  it('exports the notification verifier from @mes/sdk/webhooks, in ESM and CommonJS, and not from the client’s entry', () => {
    const names = ['verifyNotification', 'NotificationVerificationError'];
    for (const [load, type] of [['await import', 'module'], ['require', 'commonjs']] as const) {
      const types = node(`const m = ${load}('@mes/sdk/webhooks'); console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => typeof m[n])))`, type);
      expect(JSON.parse(types)).toEqual(['function', 'function']);
    }
    expect(node("const m = await import('@mes/sdk'); console.log(typeof m.verifyNotification)", 'module')).toBe('undefined');
  });

  it('keeps them out of the client’s entry', () => {
    const esm = node("const m = await import('@mes/sdk'); console.log(typeof m.createClient, typeof m.verifyCertificate, typeof m.canonicalJson)", 'module');
    expect(esm).toBe('function undefined undefined');
    const cjs = node("const m = require('@mes/sdk'); console.log(typeof m.createClient, typeof m.verifyCertificate)", 'commonjs');
    expect(cjs).toBe('function undefined');
  });

  it('keeps the publisher API out of the app’s client, in @mes/sdk/publisher', () => {
    const app = "const c = m.createClient({ baseUrl: 'http://localhost:1' }); console.log(['catalog', 'fhir', 'apps', 'sandbox', 'certification', 'deviceAuthorization'].map((k) => typeof c[k]).join(' '))";
    expect(node(`const m = await import('@mes/sdk'); ${app}`, 'module')).toBe('object object undefined undefined undefined undefined');
    expect(node(`const m = require('@mes/sdk'); ${app}`, 'commonjs')).toBe('object object undefined undefined undefined undefined');
    const publisher = "const c = p.createPublisherClient({ baseUrl: 'http://localhost:1' }); console.log(['catalog', 'fhir', 'apps', 'sandbox', 'certification', 'deviceAuthorization'].map((k) => typeof c[k]).join(' '), typeof m.createPublisherClient, typeof m.faultKinds)";
    const expected = 'object object object object object function undefined undefined';
    expect(node(`const m = await import('@mes/sdk'); const p = await import('@mes/sdk/publisher'); ${publisher}`, 'module')).toBe(expected);
    expect(node(`const m = require('@mes/sdk'); const p = require('@mes/sdk/publisher'); ${publisher}`, 'commonjs')).toBe(expected);
  });

  it('shares one client class and one set of errors between the two entries', () => {
    // A publisher call that fails (nothing listens on port 1) rejects with the app entry's classes.
    const check = `const c = p.createPublisherClient({ baseUrl: 'http://127.0.0.1:1', maxRetries: 0 });
      const error = await c.apps.list().catch((e) => e);
      console.log(c instanceof m.MesClient, error instanceof m.ConnectionError, error instanceof m.MesError, p.ApiError === m.ApiError)`;
    expect(node(`const m = await import('@mes/sdk'); const p = await import('@mes/sdk/publisher'); ${check}`, 'module')).toBe('true true true true');
    expect(node(`(async () => { const m = require('@mes/sdk'); const p = require('@mes/sdk/publisher'); ${check} })()`, 'commonjs')).toBe('true true true true');
  });
});
