// Access tokens: JWTs per RFC 9068 (`typ: at+jwt`), short-lived, bound to the client's DPoP key
// (`cnf.jkt`), signed with the platform's active key.
import { randomUUID, type KeyObject } from 'node:crypto';
import type { SecretBox } from '../../core/secret-box.js';
import type { Queryable } from '../../core/store/db.js';
import { BoundedCache, signCompactJws, signDetachedJws } from './jws.js';
import { activeSigningKeyRow, openPrivateKey, SIGNING_ALG, type SigningAlgorithm } from './signing-keys.js';

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
  /**
   * A detached JWS (`<header>..<signature>`, RFC 7515 appendix F) over `payload`'s exact bytes,
   * with the active ES256 key; `header` adds its members after `alg`, `kid` and `typ`.
   */
  detached(typ: string, header: Record<string, unknown>, payload: Buffer): Promise<string>;
}

/** How ID tokens may be signed: RS256 by default, as OpenID Connect defines it, ES256 for clients that register it. */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'ES256'] as const satisfies readonly SigningAlgorithm[];
export type IdTokenAlgorithm = (typeof ID_TOKEN_ALGORITHMS)[number];

/** Lifetime of ID tokens. */
export const ID_TOKEN_LIFETIME_SECONDS = 300;

/**
 * Private keys a signer keeps, by kid: the active one of each algorithm and, for a short while
 * after a rotation, the one before.
 */
export const SIGNING_KEY_CACHE_SIZE = 8;

/**
 * A signer that asks the store which key is active at most every `cacheMs` (so a rotation reaches
 * every instance quickly) and decrypts and imports each private key once, kept by kid.
 */
export function accessTokenSigner(db: Queryable, box: SecretBox, cacheMs = 30_000): Signer {
  const active = new Map<SigningAlgorithm, { at: number; kid: string; key: KeyObject }>();
  const privateKeys = new BoundedCache<string, KeyObject>(SIGNING_KEY_CACHE_SIZE);
  const signingKey = async (alg: SigningAlgorithm = SIGNING_ALG) => {
    let entry = active.get(alg);
    if (!entry || Date.now() - entry.at > cacheMs) {
      const { kid, sealed } = await activeSigningKeyRow(db, alg);
      entry = { at: Date.now(), kid, key: privateKeys.getOrCreate(kid, () => openPrivateKey(box, sealed)) };
      active.set(alg, entry);
    }
    return entry;
  };
  // Claims in the order jose's SignJWT wrote them: the token's own, then iss, sub, aud, iat, exp, jti.
  const sign = async (claims: AccessTokenClaims) => {
    const { kid, key } = await signingKey();
    const iat = Math.floor(Date.now() / 1000);
    return signCompactJws(
      { alg: SIGNING_ALG, typ: 'at+jwt', kid },
      {
        client_id: claims.clientId,
        scope: claims.scope,
        ...(claims.jkt ? { cnf: { jkt: claims.jkt } } : {}),
        patient: claims.patient,
        grant_id: claims.grantId,
        iss: claims.issuer,
        sub: claims.subject,
        aud: claims.audience,
        iat,
        exp: iat + ACCESS_TOKEN_LIFETIME_SECONDS,
        jti: randomUUID(),
      },
      key,
    );
  };
  const idToken = async (claims: IdTokenClaims) => {
    const { kid, key } = await signingKey(claims.alg);
    const iat = Math.floor(Date.now() / 1000);
    return signCompactJws(
      { alg: claims.alg, typ: 'JWT', kid },
      {
        ...(claims.fhirUser ? { fhirUser: claims.fhirUser } : {}),
        ...(claims.nonce ? { nonce: claims.nonce } : {}),
        iss: claims.issuer,
        sub: claims.subject,
        aud: claims.clientId,
        iat,
        exp: iat + ID_TOKEN_LIFETIME_SECONDS,
      },
      key,
    );
  };
  const platformAccessToken = async (claims: PlatformTokenClaims) => {
    const { kid, key } = await signingKey();
    const iat = Math.floor(Date.now() / 1000);
    return signCompactJws(
      { alg: SIGNING_ALG, typ: 'at+jwt', kid },
      {
        client_id: claims.clientId,
        scope: claims.scope,
        cnf: { jkt: claims.jkt },
        sid: claims.sessionId,
        iss: claims.issuer,
        sub: claims.subject,
        aud: `${claims.issuer}/platform`,
        iat,
        exp: iat + ACCESS_TOKEN_LIFETIME_SECONDS,
        jti: randomUUID(),
      },
      key,
    );
  };
  const detached = async (typ: string, header: Record<string, unknown>, payload: Buffer) => {
    const { kid, key } = await signingKey();
    return signDetachedJws({ alg: SIGNING_ALG, kid, typ, ...header }, payload, key);
  };
  return Object.assign(sign, { idToken, platformAccessToken, detached });
}
