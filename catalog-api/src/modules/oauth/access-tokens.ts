// Access tokens: JWTs per RFC 9068 (`typ: at+jwt`), short-lived, bound to the client's DPoP key
// (`cnf.jkt`), signed with the platform's active key.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SecretBox } from '../../core/secret-box.js';
import type { Queryable } from '../../core/store/db.js';
import { activeSigningKey, SIGNING_ALG, type SigningAlgorithm } from './signing-keys.js';

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
  /** The DPoP key the token is bound to; null for a Bearer token. */
  jkt: string | null;
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
  /** The client's `id_token_signed_response_alg`. */
  alg: IdTokenAlgorithm;
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

/** How ID tokens may be signed: RS256 by default, as OpenID Connect defines it, ES256 for clients that register it. */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'ES256'] as const satisfies readonly SigningAlgorithm[];
export type IdTokenAlgorithm = (typeof ID_TOKEN_ALGORITHMS)[number];

/** Lifetime of ID tokens. */
export const ID_TOKEN_LIFETIME_SECONDS = 300;

/** A signer that reuses the imported active keys for a short while, so rotation reaches every instance quickly. */
export function accessTokenSigner(db: Queryable, box: SecretBox, cacheMs = 30_000): Signer {
  const cached = new Map<SigningAlgorithm, { at: number; key: Awaited<ReturnType<typeof activeSigningKey>> }>();
  const signingKey = async (alg: SigningAlgorithm = SIGNING_ALG) => {
    let entry = cached.get(alg);
    if (!entry || Date.now() - entry.at > cacheMs) {
      entry = { at: Date.now(), key: await activeSigningKey(db, box, alg) };
      cached.set(alg, entry);
    }
    return entry.key;
  };
  const sign = async (claims: AccessTokenClaims) => {
    const { kid, key } = await signingKey();
    return new SignJWT({
      client_id: claims.clientId,
      scope: claims.scope,
      ...(claims.jkt ? { cnf: { jkt: claims.jkt } } : {}),
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
    const { kid, key } = await signingKey(claims.alg);
    return new SignJWT({ ...(claims.fhirUser ? { fhirUser: claims.fhirUser } : {}), ...(claims.nonce ? { nonce: claims.nonce } : {}) })
      .setProtectedHeader({ alg: claims.alg, typ: 'JWT', kid })
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
