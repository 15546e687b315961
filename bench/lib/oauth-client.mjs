// What an OAuth client of the platform signs, done synchronously with node:crypto: ES256 keys,
// DPoP proofs (RFC 9449), private_key_jwt client assertions (RFC 7523), PKCE (RFC 7636).
//
// Synchronous because autocannon's setupRequest() is: each request of a token scenario gets a
// fresh proof and a fresh assertion (both have a jti the server refuses to see twice) signed
// right there, in the load generator's thread. jose signs through WebCrypto, which is async only.
// No import of the platform here: this module is loaded by the load generator too.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A fresh ES256 (P-256) key pair as plain JWKs, with the RFC 7638 thumbprint of the public one. */
export function newEs256Key() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = privateKey.export({ format: 'jwk' });
  const publicJwk = { kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x, y: privateJwk.y };
  return { privateJwk, publicJwk, thumbprint: jwkThumbprint(publicJwk) };
}

/** RFC 7638 SHA-256 thumbprint of an EC public JWK: what `cnf.jkt` and `dpop_jkt` carry. */
export function jwkThumbprint({ crv, kty, x, y }) {
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
}

/** A synchronous ES256 signer for a private JWK: (header, payload) → compact JWS. */
export function es256Signer(privateJwk) {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  return (header, payload) => {
    const input = `${b64json({ ...header, alg: 'ES256' })}.${b64json(payload)}`;
    // JWS wants the raw r||s signature (IEEE P1363), not DER.
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  };
}

const newJti = () => randomBytes(16).toString('base64url');

/**
 * A DPoP proof for one request: its own jti, `htm`/`htu` of the request, the server's nonce, and
 * at a protected resource `ath`, the hash of the access token sent with it.
 */
export function dpopProof(signer, publicJwk, { htm, htu, nonce, ath }) {
  const payload = { jti: newJti(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (nonce) payload.nonce = nonce;
  if (ath) payload.ath = ath;
  return signer({ typ: 'dpop+jwt', jwk: publicJwk }, payload);
}

/** A private_key_jwt client assertion: iss = sub = client_id, aud = the issuer, 60 s of life, own jti. */
export function clientAssertion(signer, { kid, clientId, audience }) {
  const now = Math.floor(Date.now() / 1000);
  return signer({ kid, typ: 'JWT' }, { iss: clientId, sub: clientId, aud: audience, jti: newJti(), iat: now, exp: now + 60 });
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A PKCE verifier and its S256 challenge. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The claims of a JWT, unverified (to check what a token says about itself in a pre-flight). */
export function jwtClaims(jwt) {
  const [header, payload] = String(jwt).split('.');
  return { header: JSON.parse(Buffer.from(header, 'base64url').toString()), payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) };
}
