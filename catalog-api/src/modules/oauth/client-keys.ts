// What a client may register as its signing keys: public keys only, of the algorithms the
// profile allows (ES256 on P-256, ES384 on P-384, PS256 or RS384 on RSA of at least 2048 bits,
// EdDSA on Ed25519).
import { createPublicKey } from 'node:crypto';
import type { components } from '@mes/openapi';
import type { FieldError } from '../../core/errors.js';

export type Jwk = components['schemas']['Jwk'];
export type Jwks = components['schemas']['Jwks'];

/** The algorithms of client assertions, as the metadata lists them. */
export const clientAssertionAlgorithms = ['ES256', 'ES384', 'RS384', 'PS256', 'EdDSA'] as const;
/** Members of a JWK that only a private (or symmetric) key has. */
export const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const MIN_RSA_BITS = 2048;

/** Per key type: its members, and each curve (or `*` for RSA) with the algorithms it may be registered for. */
const expected: Record<Jwk['kty'], { members: (keyof Jwk)[]; algorithms: Record<string, readonly string[]> }> = {
  EC: { members: ['crv', 'x', 'y'], algorithms: { 'P-256': ['ES256'], 'P-384': ['ES384'] } },
  RSA: { members: ['n', 'e'], algorithms: { '*': ['PS256', 'RS384'] } },
  OKP: { members: ['crv', 'x'], algorithms: { Ed25519: ['EdDSA'] } },
};
const allMembers: (keyof Jwk)[] = ['crv', 'x', 'y', 'n', 'e'];

/** Why a registered (or published) public key cannot be used, or null when it can. */
export function keyProblem(jwk: Jwk): string | null {
  const rule = expected[jwk.kty];
  for (const member of rule.members) if (jwk[member] === undefined) return `an ${jwk.kty} key needs "${member}"`;
  for (const member of allMembers) {
    if (!rule.members.includes(member) && jwk[member] !== undefined) return `"${member}" does not belong in an ${jwk.kty} key`;
  }
  const algorithms = rule.algorithms[jwk.kty === 'RSA' ? '*' : String(jwk.crv)];
  if (!algorithms) return `an ${jwk.kty} key must be on ${Object.keys(rule.algorithms).join(' or ')}`;
  if (jwk.alg && !algorithms.includes(jwk.alg)) return `an ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''} key is used with ${algorithms.join(' or ')}, not ${jwk.alg}`;
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
