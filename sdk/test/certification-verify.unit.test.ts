// The offline verifiers of certificates and of the decision log: canonical JSON (RFC 8785), the
// hash chain, and ES256 certificates, with every way they can be wrong.
import { createHash, webcrypto } from 'node:crypto';
import { canonicalJson, CERTIFICATE_TYPE, decisionHash, GENESIS_HASH, verdictProblems, verifyCertificate, verifyDecisionLog, type CertificateClaims, type UnhashedDecision } from '@mes/sdk/certification';
import { describe, expect, it } from 'vitest';

describe('canonicalJson', () => {
  it('sorts members by code unit, drops undefined, keeps no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: undefined, y: 'é' } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":"é"}}');
    // RFC 8785 §3.2.3: sorting by UTF-16 code units, not by code points.
    expect(canonicalJson({ '\u{1F600}': 1, '\uFB33': 2 })).toBe('{"\u{1F600}":1,"\uFB33":2}');
    expect(canonicalJson([1e21, 0.1, -0, 100])).toBe('[1e+21,0.1,0,100]');
    expect(canonicalJson('line\nbreak "quoted"')).toBe('"line\\nbreak \\"quoted\\""');
  });

  it('refuses what JSON cannot say', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
  });
});

async function chain(length: number): Promise<Awaited<ReturnType<typeof entry>>[]> {
  const entries = [];
  let previousHash = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const next = await entry(seq, previousHash);
    entries.push(next);
    previousHash = next.hash;
  }
  return entries;
}

async function entry(seq: number, previousHash: string) {
  const unhashed: UnhashedDecision = {
    seq,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    at: `2026-12-0${seq}T10:00:00.000Z`,
    kind: seq === 1 ? 'submit' : 'approve',
    appId: '11111111-1111-4111-8111-111111111111',
    version: '1.0.0',
    submissionId: '22222222-2222-4222-8222-222222222222',
    certificateId: null,
    actor: { type: 'reviewer', id: '33333333-3333-4333-8333-333333333333' },
    reason: null,
    details: { round: 1 },
    previousHash,
  };
  return { ...unhashed, hash: await decisionHash(unhashed) };
}

describe('decision log', () => {
  it('hashes the canonical JSON of an entry without its hash', async () => {
    const [first] = await chain(1);
    const { hash, ...unhashed } = first!;
    expect(hash).toBe(createHash('sha256').update(canonicalJson(unhashed)).digest('hex'));
    expect(await decisionHash(first!)).toBe(hash);
  });

  it('verifies a chain and its published head', async () => {
    const entries = await chain(3);
    await expect(verifyDecisionLog(entries, { head: { seq: 3, hash: entries[2]!.hash } })).resolves.toEqual({ valid: true, entries: 3, head: { seq: 3, hash: entries[2]!.hash } });
    await expect(verifyDecisionLog([])).resolves.toEqual({ valid: true, entries: 0, head: { seq: 0, hash: GENESIS_HASH } });
    // A run that starts later verifies from the hash before it.
    await expect(verifyDecisionLog(entries.slice(1), { previousHash: entries[0]!.hash })).resolves.toMatchObject({ valid: true, entries: 2 });
  });

  it('finds a rewritten entry, a removed one, a broken link and a stale head', async () => {
    const entries = await chain(3);
    await expect(verifyDecisionLog([entries[0]!, { ...entries[1]!, reason: 'rewritten' }, entries[2]!])).resolves.toMatchObject({ valid: false, reason: 'hash_mismatch', seq: 2, entries: 1 });
    await expect(verifyDecisionLog([entries[0]!, entries[2]!])).resolves.toMatchObject({ valid: false, reason: 'sequence_gap', seq: 3 });
    await expect(verifyDecisionLog(entries.slice(1))).resolves.toMatchObject({ valid: false, reason: 'sequence_gap', seq: 2 });
    const relinked = await entry(2, GENESIS_HASH);
    await expect(verifyDecisionLog([entries[0]!, relinked])).resolves.toMatchObject({ valid: false, reason: 'broken_link', seq: 2 });
    await expect(verifyDecisionLog(entries, { head: { seq: 4, hash: entries[2]!.hash } })).resolves.toMatchObject({ valid: false, reason: 'head_mismatch' });
  });
});

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function signer() {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const { x, y } = await webcrypto.subtle.exportKey('jwk', pair.publicKey);
  const jwk = { kty: 'EC', crv: 'P-256', x, y, kid: 'platform-1', alg: 'ES256' };
  const sign = async (claims: Partial<CertificateClaims>, header: Record<string, unknown> = { alg: 'ES256', kid: 'platform-1', typ: CERTIFICATE_TYPE }) => {
    const input = `${b64(header)}.${b64(claims)}`;
    const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, new TextEncoder().encode(input));
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  };
  return { jwk, sign };
}

const now = new Date('2027-06-01T00:00:00Z');
const seconds = (iso: string) => Date.parse(iso) / 1000;
const claims: Partial<CertificateClaims> = {
  iss: 'https://api.mes.example.fr',
  sub: 'app-id',
  jti: 'certificate-id',
  nbf: seconds('2026-12-01T00:00:00Z'),
  iat: seconds('2026-12-01T00:00:00Z'),
  exp: seconds('2029-11-30T00:00:00Z'),
  version: '1.0.0',
  scopes: ['patient/Observation.rs'],
};

describe('verifyCertificate', () => {
  it('accepts a certificate signed by a published key, within its validity', async () => {
    const { jwk, sign } = await signer();
    await expect(verifyCertificate(await sign(claims), { keys: [jwk] }, { now })).resolves.toEqual({ valid: true, kid: 'platform-1', claims });
  });

  it('refuses forged, foreign, expired, early and malformed certificates, saying why', async () => {
    const { jwk, sign } = await signer();
    const other = await signer();
    const jws = await sign(claims);
    const [header, , signature] = jws.split('.');
    const verdict = async (token: string, keys = [jwk], at = now) => ((await verifyCertificate(token, keys, { now: at })) as { reason?: string }).reason;
    expect(await verdict(`${header}.${b64({ ...claims, scopes: ['patient/*.rs'] })}.${signature}`)).toBe('bad_signature');
    expect(await verdict(await other.sign(claims))).toBe('bad_signature');
    expect(await verdict(jws, [])).toBe('unknown_key');
    expect(await verdict(jws, [{ ...jwk, kid: 'another' }])).toBe('unknown_key');
    expect(await verdict(jws, [jwk], new Date('2030-01-01T00:00:00Z'))).toBe('expired');
    expect(await verdict(jws, [jwk], new Date('2026-01-01T00:00:00Z'))).toBe('not_yet_valid');
    expect(await verdict(await sign(claims, { alg: 'none', kid: 'platform-1', typ: CERTIFICATE_TYPE }))).toBe('unsupported_algorithm');
    expect(await verdict(await sign(claims, { alg: 'ES256', kid: 'platform-1', typ: 'JWT' }))).toBe('malformed');
    expect(await verdict('not.a-jws')).toBe('malformed');
    expect(await verdict('a.b.c!')).toBe('malformed');
  });
});

describe('verdictProblems (the rules the server enforces on a review)', () => {
  const criteria = {
    version: '2026.1',
    effectiveFrom: '2026-01-01',
    groups: [{ id: 'ethics' as const, title: { fr: 'Éthique' }, criteria: [{ id: 'ethics.purpose', title: { fr: 'Finalité' }, guidance: { fr: '…' } }, { id: 'ethics.transparency', title: { fr: 'Transparence' }, guidance: { fr: '…' } }] }],
  };

  it('approves a verdict on every criterion, none failing; refuses a refusal without a failing criterion', () => {
    const all = [{ criterion: 'ethics.purpose', verdict: 'pass' as const }, { criterion: 'ethics.transparency', verdict: 'not_applicable' as const, note: 'Sans objet.' }];
    expect(verdictProblems(criteria, 'approve', all)).toEqual([]);
    expect(verdictProblems(criteria, 'reject', all)).toEqual([{ pointer: '/verdicts', detail: expect.stringMatching(/at least one "fail"/) }]);
    expect(verdictProblems(criteria, 'request_changes', [{ criterion: 'ethics.purpose', verdict: 'fail', note: 'Finalité commerciale.' }])).toEqual([]);
  });

  it('names each problem where it is', () => {
    const problems = verdictProblems(criteria, 'approve', [{ criterion: 'ethics.purpose', verdict: 'fail' }, { criterion: 'ethics.other', verdict: 'pass' }], (index) => `/v/${index}`);
    expect(problems.map((problem) => problem.pointer)).toEqual(['/v/0/note', '/v/0/verdict', '/v/1', '/verdicts']);
  });
});
