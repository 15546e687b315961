// What the CLI signs for the sandbox's patient-data tokens, with node:crypto alone: ES256 keys as
// JWKs, DPoP proofs (RFC 9449) with `ath` at the FHIR API, and PKCE S256 (RFC 7636).
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** A P-256 private key as a JWK: what the saved token keeps so that later proofs use the same key. */
export interface EcPrivateJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
}

export type EcPublicJwk = Omit<EcPrivateJwk, 'd'>;

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

export function newEs256Key(): EcPrivateJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y, d } = privateKey.export({ format: 'jwk' });
  if (!x || !y || !d) throw new Error('node:crypto exported an EC key without x, y or d.');
  return { kty: 'EC', crv: 'P-256', x, y, d };
}

export function publicJwk({ kty, crv, x, y }: EcPrivateJwk): EcPublicJwk {
  return { kty, crv, x, y };
}

/** True when the value has the fields of a P-256 private JWK (a saved file may have been edited). */
export function isEcPrivateJwk(value: unknown): value is EcPrivateJwk {
  if (typeof value !== 'object' || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return jwk.kty === 'EC' && jwk.crv === 'P-256' && ['x', 'y', 'd'].every((name) => typeof jwk[name] === 'string' && jwk[name] !== '');
}

/** A compact ES256 JWS. */
function signEs256(privateJwk: EcPrivateJwk, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const key = createPrivateKey({ key: { ...privateJwk }, format: 'jwk' });
  const input = `${base64url(JSON.stringify({ ...header, alg: 'ES256' }))}.${base64url(JSON.stringify(payload))}`;
  // JWS wants the raw r||s signature (IEEE P1363), not the DER that node:crypto gives by default.
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export interface ProofRequest {
  /** The HTTP method, upper case. */
  htm: string;
  /** The request URL without query or fragment. */
  htu: string;
  /** The server's `DPoP-Nonce`, when it asked for one (the token endpoint does). */
  nonce?: string | undefined;
  /** The access token sent with the request, at a protected resource: the proof carries its hash. */
  accessToken?: string | undefined;
}

/** A DPoP proof for one request; each has its own jti, which the server refuses to see twice. */
export function dpopProof(privateJwk: EcPrivateJwk, request: ProofRequest): string {
  const payload: Record<string, unknown> = {
    jti: randomBytes(16).toString('base64url'),
    htm: request.htm,
    htu: request.htu,
    iat: Math.floor(Date.now() / 1000),
  };
  if (request.nonce) payload.nonce = request.nonce;
  if (request.accessToken) payload.ath = sha256(request.accessToken);
  return signEs256(privateJwk, { typ: 'dpop+jwt', jwk: publicJwk(privateJwk) }, payload);
}

/** The `htu` of a URL: RFC 9449 compares the URL without its query and fragment. */
export function proofTarget(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** A PKCE verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: sha256(verifier) };
}

export function randomState(): string {
  return randomBytes(16).toString('base64url');
}
