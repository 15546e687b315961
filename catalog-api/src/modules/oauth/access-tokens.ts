// Access tokens: JWTs per RFC 9068 (`typ: at+jwt`), short-lived, bound to the client's DPoP key
// (`cnf.jkt`), signed with the platform's active key.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SecretBox } from '../../core/secret-box.js';
import type { Queryable } from '../../core/store/db.js';
import { activeSigningKey, SIGNING_ALG } from './signing-keys.js';

/** Lifetime of access tokens: the profile allows at most 10 minutes. */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 300;

export interface AccessTokenClaims {
  issuer: string;
  /** The FHIR base URL the token is for. */
  audience: string;
  /** The person who approved the grant. */
  subject: string;
  clientId: string;
  scope: string;
  jkt: string;
  patient: string;
  grantId: string;
}

export interface IdTokenClaims {
  issuer: string;
  clientId: string;
  /** The person who signed in. */
  subject: string;
  /** Their FHIR resource, e.g. `https://…/fhir/Patient/123` (SMART `fhirUser`). */
  fhirUser?: string | undefined;
  nonce?: string | undefined;
}

/** A token of the platform's own API (not patient data), e.g. for the command line after a device sign-in. */
export interface PlatformTokenClaims {
  issuer: string;
  subject: string;
  clientId: string;
  scope: string;
  jkt: string;
  /** The platform session: ending it ends the token. */
  sessionId: string;
}

export interface Signer {
  (claims: AccessTokenClaims): Promise<string>;
  idToken(claims: IdTokenClaims): Promise<string>;
  platformAccessToken(claims: PlatformTokenClaims): Promise<string>;
}

/** How ID tokens may be signed, the default first. */
export const ID_TOKEN_ALGORITHMS = ['ES256'] as const;

/** Lifetime of ID tokens. */
export const ID_TOKEN_LIFETIME_SECONDS = 300;

/** A signer that reuses the imported active key for a short while, so rotation reaches every instance quickly. */
export function accessTokenSigner(db: Queryable, box: SecretBox, cacheMs = 30_000): Signer {
  let cached: { at: number; key: Awaited<ReturnType<typeof activeSigningKey>> } | undefined;
  const signingKey = async () => {
    if (!cached || Date.now() - cached.at > cacheMs) cached = { at: Date.now(), key: await activeSigningKey(db, box) };
    return cached.key;
  };
  const sign = async (claims: AccessTokenClaims) => {
    const { kid, key } = await signingKey();
    return new SignJWT({
      client_id: claims.clientId,
      scope: claims.scope,
      cnf: { jkt: claims.jkt },
      patient: claims.patient,
      grant_id: claims.grantId,
    })
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'at+jwt', kid })
      .setIssuer(claims.issuer)
      .setSubject(claims.subject)
      .setAudience(claims.audience)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_LIFETIME_SECONDS}s`)
      .setJti(randomUUID())
      .sign(key);
  };
  const idToken = async (claims: IdTokenClaims) => {
    const { kid, key } = await signingKey();
    return new SignJWT({ ...(claims.fhirUser ? { fhirUser: claims.fhirUser } : {}), ...(claims.nonce ? { nonce: claims.nonce } : {}) })
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'JWT', kid })
      .setIssuer(claims.issuer)
      .setSubject(claims.subject)
      .setAudience(claims.clientId)
      .setIssuedAt()
      .setExpirationTime(`${ID_TOKEN_LIFETIME_SECONDS}s`)
      .sign(key);
  };
  const platformAccessToken = async (claims: PlatformTokenClaims) => {
    const { kid, key } = await signingKey();
    return new SignJWT({ client_id: claims.clientId, scope: claims.scope, cnf: { jkt: claims.jkt }, sid: claims.sessionId })
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'at+jwt', kid })
      .setIssuer(claims.issuer)
      .setSubject(claims.subject)
      .setAudience(`${claims.issuer}/platform`)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_LIFETIME_SECONDS}s`)
      .setJti(randomUUID())
      .sign(key);
  };
  return Object.assign(sign, { idToken, platformAccessToken });
}
