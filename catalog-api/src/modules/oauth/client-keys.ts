// What a client may register as its signing keys: public keys only, of the algorithms the
// profile allows (ES256 on P-256, PS256 on RSA of at least 2048 bits, EdDSA on Ed25519).
import { createPublicKey } from 'node:crypto';
import type { components } from '@mes/openapi';
import type { FieldError } from '../../core/errors.js';

export type Jwk = components['schemas']['Jwk'];
export type Jwks = components['schemas']['Jwks'];

export const clientAssertionAlgorithms = ['ES256', 'PS256', 'EdDSA'] as const;
/** Members of a JWK that only a private (or symmetric) key has. */
export const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const MIN_RSA_BITS = 2048;

const expected: Record<Jwk['kty'], { alg: string; members: (keyof Jwk)[]; crv?: string }> = {
  EC: { alg: 'ES256', members: ['crv', 'x', 'y'], crv: 'P-256' },
  RSA: { alg: 'PS256', members: ['n', 'e'] },
  OKP: { alg: 'EdDSA', members: ['crv', 'x'], crv: 'Ed25519' },
};
const allMembers: (keyof Jwk)[] = ['crv', 'x', 'y', 'n', 'e'];

/** Why a registered (or published) public key cannot be used, or null when it can. */
export function keyProblem(jwk: Jwk): string | null {
  const rule = expected[jwk.kty];
  for (const member of rule.members) if (jwk[member] === undefined) return `an ${jwk.kty} key needs "${member}"`;
  for (const member of allMembers) {
    if (!rule.members.includes(member) && jwk[member] !== undefined) return `"${member}" does not belong in an ${jwk.kty} key`;
  }
  if (rule.crv && jwk.crv !== rule.crv) return `an ${jwk.kty} key must be on ${rule.crv}`;
  if (jwk.alg && jwk.alg !== rule.alg) return `an ${jwk.kty} key is used with ${rule.alg}, not ${jwk.alg}`;
  let details: { modulusLength?: number } | undefined;
  try {
    const { kty, crv, x, y, n, e } = jwk;
    details = createPublicKey({ key: { kty, crv, x, y, n, e } as never, format: 'jwk' }).asymmetricKeyDetails;
  } catch {
    return 'is not a valid public key';
  }
  if (jwk.kty === 'RSA' && (details?.modulusLength ?? 0) < MIN_RSA_BITS) {
    return `RSA keys must have at least ${MIN_RSA_BITS} bits, this one has ${details?.modulusLength ?? 0}`;
  }
  return null;
}

/** Problems with a key set, each pointing at the key at fault (under `pointerBase`). */
export function jwksProblems(jwks: Jwks, pointerBase: string): FieldError[] {
  const problems: FieldError[] = [];
  const kids = new Set<string>();
  jwks.keys.forEach((jwk, index) => {
    const pointer = `${pointerBase}/keys/${index}`;
    if (kids.has(jwk.kid)) problems.push({ pointer: `${pointer}/kid`, detail: `kid "${jwk.kid}" is used twice` });
    kids.add(jwk.kid);
    const problem = keyProblem(jwk);
    if (problem) problems.push({ pointer, detail: `key "${jwk.kid}" ${problem}` });
  });
  return problems;
}
