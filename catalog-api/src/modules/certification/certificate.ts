// Certificates as issued: a compact JWS (ES256, the platform's active signing key) over what the
// certification covers. Anyone verifies one offline with the SDK's verifyCertificate and the keys
// published at /certification/keys.
import { CERTIFICATE_TYPE, sha256Hex, type CertificateClaims } from '@mes/sdk/certification';
import { SignJWT } from 'jose';
import type { Queryable } from '../../core/store/db.js';
import type { SecretBox } from '../../core/secret-box.js';
import { activeSigningKey, SIGNING_ALG } from '../oauth/index.js';

/** Signs a certificate's claims; returns the JWS and the id of the key that signed it. */
export async function signCertificate(db: Queryable, box: SecretBox, claims: CertificateClaims): Promise<{ jws: string; kid: string }> {
  const { kid, key } = await activeSigningKey(db, box);
  const { iss, sub, jti, iat, nbf, exp, ...rest } = claims;
  const jws = await new SignJWT({ ...rest })
    .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: CERTIFICATE_TYPE })
    .setIssuer(iss)
    .setSubject(sub)
    .setJti(jti)
    .setIssuedAt(iat)
    .setNotBefore(nbf)
    .setExpirationTime(exp)
    .sign(key);
  return { jws, kid };
}

/** The SHA-256 of a certificate's JWS, as the decision log records it. */
export const certificateSha256 = (jws: string): Promise<string> => sha256Hex(jws);
