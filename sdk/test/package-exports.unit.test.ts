// The built package as Node resolves it for an app (its exports map, not this repository's
// aliases): `@mes/sdk` for the client, `@mes/sdk/certification` for the offline checks of
// certification records, each in ESM and CommonJS; the certification helpers are not in the
// client's entry, so an app that bundles the client does not carry them.
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

  it('keeps them out of the client’s entry', () => {
    const esm = node("const m = await import('@mes/sdk'); console.log(typeof m.createClient, typeof m.verifyCertificate, typeof m.canonicalJson)", 'module');
    expect(esm).toBe('function undefined undefined');
    const cjs = node("const m = require('@mes/sdk'); console.log(typeof m.createClient, typeof m.verifyCertificate)", 'commonjs');
    expect(cjs).toBe('function undefined');
  });
});
