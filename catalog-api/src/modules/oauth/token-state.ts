// Whether a token the server issued is still good: signature and claims of access tokens, and for
// every token the state behind it (grant withdrawn or ended, app no longer certified, client
// deleted, token revoked). The state lives in the store, so every instance sees a change at once.
// When the grant has ended, `grantEnded` says why, in the one word clients are told (`grant_ended`).
import type { KeyObject } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { components } from '@mes/openapi';
import type { AppConfig } from '../../core/config.js';
import type { CertificationStatus } from '../catalog/index.js';
import type { Queryable } from '../../core/store/db.js';
import * as grants from './grant-repository.js';
import { platformSessionState } from './platform-sessions.js';
import { jwkThumbprint, parseCompactJws, payloadJson, publicKeyFromJwk, verifySignature, type ParsedJws } from './jws.js';
import { publishedKeys, type PublishedKey } from './signing-keys.js';
import { fhirBaseOf } from './audience.js';
import type { PendingFirstUse } from './replay-cache.js';

export interface AccessTokenPayload extends JWTPayload {
  client_id: string;
  scope: string;
  patient: string;
  grant_id: string;
  /** The DPoP key the token is bound to; absent from a Bearer token. */
  cnf?: { jkt: string };
}

/**
 * Whether an app in this certification status may obtain and use tokens: only certified apps,
 * except in the sandbox, where any app may until it is suspended or revoked.
 */
export function appMayUseTokens(status: CertificationStatus, config: AppConfig): boolean {
  return config.mode === 'sandbox' ? !['suspended', 'revoked'].includes(status) : status === 'certified';
}

/** Why a grant's tokens stopped working, as the token endpoint and the FHIR API say it (`grant_ended`). */
export type GrantEnded = components['schemas']['GrantEnded'];

/** Why an app in this certification status may not use tokens, or null when it may (appMayUseTokens). */
export function appCutOff(status: CertificationStatus, config: AppConfig): Extract<GrantEnded, 'app_suspended' | 'app_not_certified'> | null {
  if (appMayUseTokens(status, config)) return null;
  return status === 'suspended' ? 'app_suspended' : 'app_not_certified';
}

/** Revocations the patient (or their guardian) decided: consent withdrawn. Every other reason is a revocation. */
const withdrawals: ReadonlySet<string> = new Set<string>([grants.RevocationReason.withdrawnByPatient, grants.RevocationReason.opposedToApps]);

/**
 * Why the grant's tokens no longer work, or null while they do: the only place that judges a
 * grant's state. A grant that is gone (`null`) went with its client: grants are kept otherwise
 * (they are the patient's history), and only deleting the client (or its app) deletes them. The
 * grant's own end comes before the app's state, which may be reinstated.
 */
export function grantEnded(state: grants.GrantState | null, config: AppConfig): GrantEnded | null {
  if (!state || !state.clientExists) return 'client_deleted';
  if (state.revoked) return state.revokedReason !== null && withdrawals.has(state.revokedReason) ? 'consent_withdrawn' : 'grant_revoked';
  if (state.expired) return 'grant_expired';
  return appCutOff(state.certificationStatus, config);
}

/** True when the grant's state lets its tokens work now. */
export function grantAllowsTokens(state: grants.GrantState | null, config: AppConfig): boolean {
  return grantEnded(state, config) === null;
}

/**
 * Each end in plain words, for `error_description` (token endpoint) and the challenge's
 * `error_description` (FHIR API): printable ASCII without `"` or `\`, as RFC 6749 and 6750 allow.
 */
export const grantEndedDescriptions: Readonly<Record<GrantEnded, string>> = {
  consent_withdrawn: 'the patient withdrew consent to this app',
  grant_expired: 'the access the patient granted has reached its end date',
  grant_revoked: 'the grant was revoked',
  app_suspended: "the app's certification is suspended",
  app_not_certified: 'the app is not certified',
  client_deleted: 'the OAuth client was deleted',
};

export interface PlatformTokenPayload extends JWTPayload {
  client_id: string;
  scope: string;
  /** The platform session the token belongs to. */
  sid: string;
  cnf: { jkt: string };
}

type SignedTokenVerifier = (token: string, expected: { issuer: string; audience: string }) => Promise<JWTPayload | null>;

/** A published key, imported: a verifier creates the KeyObject of each key once. */
interface VerificationKey {
  jwk: PublishedKey;
  thumbprint: string;
  key: KeyObject;
}

/** Whether a published key may verify ES256, as a JWK Set's key selection says (RFC 7517 §4): type, curve, `alg`, `use`. */
const fitsEs256 = (jwk: PublishedKey) =>
  jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg === undefined || jwk.alg === 'ES256') && (jwk.use === undefined || jwk.use === 'sig');

/** `typ` compared as a media type: case-insensitive, `application/` optional (RFC 7515 §4.1.9). */
const normalizedTyp = (typ: string) => (typ.includes('/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`);

/** The claims of a signed access token, checked as RFC 9068 and RFC 7519 say; null when they fail. */
function checkedClaims(parsed: ParsedJws, expected: { issuer: string; audience: string }): JWTPayload | null {
  const { typ } = parsed.header;
  if (typeof typ !== 'string' || normalizedTyp(typ) !== 'application/at+jwt') return null;
  let claims: Record<string, unknown>;
  try {
    claims = payloadJson(parsed);
  } catch {
    return null;
  }
  for (const claim of ['iss', 'aud', 'jti', 'exp', 'sub']) if (!Object.hasOwn(claims, claim)) return null;
  if (claims.iss !== expected.issuer) return null;
  const { aud } = claims;
  if (typeof aud === 'string' ? aud !== expected.audience : !Array.isArray(aud) || !aud.includes(expected.audience)) return null;
  const now = Math.floor(Date.now() / 1000);
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== 'number') return null;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return null;
  if (typeof exp !== 'number' || exp <= now) return null;
  // A bound token names its key; a Bearer token has no cnf at all.
  if (typeof claims.jti !== 'string' || (claims.cnf !== undefined && typeof (claims.cnf as { jkt?: unknown } | null)?.jkt !== 'string')) return null;
  return claims as JWTPayload;
}

/**
 * Verifies the signature and the claims of a JWT access token this server issued (`typ: at+jwt`,
 * ES256, issuer, audience, expiry, a well-formed `cnf` when bound); null when it is not one. The published keys are kept for a
 * short while, and read again when a token names a key not seen yet (a rotation by another
 * instance), at most once a second. Each key's KeyObject is created once and kept, by kid, while
 * the key is published (retired keys stay published until the tokens they signed have expired).
 */
export function signedTokenVerifier(db: Queryable, config: AppConfig, cacheMs = 30_000): SignedTokenVerifier {
  // `kids` names every published key (an RS256 kid is known, not a reason to read the keys again);
  // `keys` holds those that may verify an access token.
  let cached: { at: number; kids: Set<string>; keys: Map<string, VerificationKey> } | undefined;
  async function keySet(kid: unknown): Promise<Map<string, VerificationKey>> {
    const age = cached ? Date.now() - cached.at : Infinity;
    if (age > cacheMs || (typeof kid === 'string' && !cached!.kids.has(kid) && age > 1000)) {
      const published = await publishedKeys(db, config.retiredKeyPublishSeconds);
      const keys = new Map<string, VerificationKey>();
      for (const jwk of published) {
        if (!fitsEs256(jwk)) continue;
        const thumbprint = jwkThumbprint(jwk);
        const known = cached?.keys.get(jwk.kid);
        keys.set(jwk.kid, known?.thumbprint === thumbprint ? known : { jwk, thumbprint, key: publicKeyFromJwk(jwk) });
      }
      cached = { at: Date.now(), kids: new Set(published.map((jwk) => jwk.kid)), keys };
    }
    return cached!.keys;
  }
  return async (token, expected) => {
    let parsed: ParsedJws;
    try {
      parsed = parseCompactJws(token);
    } catch {
      return null;
    }
    const { alg, kid } = parsed.header;
    if (alg !== 'ES256') return null;
    try {
      const keys = await keySet(kid);
      // A token names its key by kid; one without (none of ours) may be verified by any ES256 key published.
      const candidates = kid === undefined ? [...keys.values()] : typeof kid === 'string' && keys.has(kid) ? [keys.get(kid)!] : [];
      if (!candidates.some(({ key }) => verifySignature(parsed, 'ES256', key))) return null;
    } catch {
      return null;
    }
    return checkedClaims(parsed, expected);
  };
}

export type AccessTokenVerifier = (token: string, issuer: string) => Promise<AccessTokenPayload | null>;

/** A patient-data token that is active, with the state of its grant (its app, patient and approver). */
export interface ActiveAccessToken {
  active: true;
  payload: AccessTokenPayload;
  grant: grants.GrantState;
  /** The grant's approver may still act for its patient (a guardian whose guardianship holds, or the patient). */
  mayAct: boolean;
}

/** The proof sent with the token was used before: the request is a replay. */
export interface ReplayedProof {
  replayed: true;
}

/** A patient-data token this server issued and that has not expired, whose grant has ended: why. */
export interface EndedAccessToken {
  active: false;
  payload: AccessTokenPayload;
  grantEnded: GrantEnded;
}

/** What a token's state says of it, as activeAccessTokenVerifier answers (see there). */
export type AccessTokenFound = ActiveAccessToken | EndedAccessToken | ReplayedProof | null;

/** The signed part of a patient-data access token (audience `<issuer>/fhir`): its payload, or null when it is not one. */
export async function patientDataTokenPayload(signed: SignedTokenVerifier, token: string, issuer: string): Promise<AccessTokenPayload | null> {
  const payload = (await signed(token, { issuer, audience: fhirBaseOf(issuer) })) as AccessTokenPayload | null;
  if (!payload || typeof payload.grant_id !== 'string' || typeof payload.patient !== 'string' || typeof payload.scope !== 'string') return null;
  return payload;
}

/** Judges a verified token's payload with the state the store holds of it (grants.accessState). */
export function judgeAccessToken(payload: AccessTokenPayload, state: grants.AccessState, config: AppConfig): AccessTokenFound {
  if (!state.firstUse) return { replayed: true };
  const { grant } = state;
  const ended = grantEnded(grant, config);
  if (ended) return { active: false, payload, grantEnded: ended };
  if (!grant || grant.patientId !== payload.patient) return null;
  if (state.tokenRevoked) return null;
  if (grant.tokensNotBefore && payload.iat! * 1000 < grant.tokensNotBefore.getTime()) return null;
  return { active: true, payload, grant, mayAct: state.mayAct };
}

/**
 * Verifies patient-data access tokens (audience `<issuer>/fhir`) and checks their grant. Null when
 * the token is not one of ours, has expired, was revoked alone or cut off by the sandbox's "expire
 * now" (a refresh helps); an EndedAccessToken when its grant has ended (no refresh can help).
 */
export function activeAccessTokenVerifier(
  db: Queryable,
  config: AppConfig,
  signed = signedTokenVerifier(db, config),
): (token: string, issuer: string, proof?: PendingFirstUse) => Promise<AccessTokenFound> {
  return async (token, issuer, proof) => {
    const payload = await patientDataTokenPayload(signed, token, issuer);
    if (!payload) return null;
    // One statement: the proof's identifier recorded, the grant, the token's revocation, the guardianship.
    return judgeAccessToken(payload, await grants.accessState(db, payload.grant_id, payload.jti!, proof), config);
  };
}

/** The same, for introspection and revocation: the payload of an active token alone. */
export function accessTokenVerifier(db: Queryable, config: AppConfig, signed = signedTokenVerifier(db, config)): AccessTokenVerifier {
  const verify = activeAccessTokenVerifier(db, config, signed);
  return async (token, issuer) => {
    const found = await verify(token, issuer);
    return found && 'active' in found && found.active ? found.payload : null;
  };
}

export type PlatformTokenVerifier = (token: string, issuer: string) => Promise<PlatformTokenPayload | null>;

/** Verifies the command line's platform tokens (audience `<issuer>/platform`) and checks their session; null when not active. */
export function platformTokenVerifier(db: Queryable, config: AppConfig, signed = signedTokenVerifier(db, config)): PlatformTokenVerifier {
  return async (token, issuer) => {
    const payload = (await signed(token, { issuer, audience: `${issuer}/platform` })) as PlatformTokenPayload | null;
    // The command line's tokens are always DPoP-bound.
    if (!payload?.cnf || typeof payload.sid !== 'string' || typeof payload.scope !== 'string') return null;
    const session = await platformSessionState(db, payload.sid);
    if (!session?.active || session.subject !== payload.sub) return null;
    return payload;
  };
}
