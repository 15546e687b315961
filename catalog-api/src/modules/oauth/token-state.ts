// Whether a token the server issued is still good: signature and claims of access tokens, and for
// every token the state behind it (grant withdrawn or ended, app no longer certified, client
// deleted, token revoked). The state lives in the store, so every instance sees a change at once.
// When the grant has ended, `grantEnded` says why, in the one word clients are told (`grant_ended`).
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { components } from '@mes/openapi';
import type { AppConfig } from '../../core/config.js';
import type { CertificationStatus } from '../catalog/index.js';
import type { Queryable } from '../../core/store/db.js';
import * as grants from './grant-repository.js';
import { platformSessionState } from './platform-sessions.js';
import { publishedKeys } from './signing-keys.js';
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

/**
 * Verifies the signature and the claims of a JWT access token this server issued (`typ: at+jwt`,
 * ES256, issuer, audience, expiry, a well-formed `cnf` when bound); null when it is not one. The published keys are kept for a
 * short while, and read again when a token names a key not seen yet (a rotation by another
 * instance), at most once a second.
 */
export function signedTokenVerifier(db: Queryable, config: AppConfig, cacheMs = 30_000): SignedTokenVerifier {
  let cached: { at: number; kids: Set<string>; jwks: ReturnType<typeof createLocalJWKSet> } | undefined;
  async function keySet(kid: unknown) {
    const age = cached ? Date.now() - cached.at : Infinity;
    if (age > cacheMs || (typeof kid === 'string' && !cached!.kids.has(kid) && age > 1000)) {
      const keys = await publishedKeys(db, config.retiredKeyPublishSeconds);
      cached = { at: Date.now(), kids: new Set(keys.map((key) => key.kid)), jwks: createLocalJWKSet({ keys }) };
    }
    return cached!.jwks;
  }
  return async (token, expected) => {
    try {
      const jwks = await keySet(decodeProtectedHeader(token).kid);
      const { payload } = await jwtVerify(token, jwks, { ...expected, typ: 'at+jwt', algorithms: ['ES256'], requiredClaims: ['jti', 'exp', 'sub'] });
      // A bound token names its key; a Bearer token has no cnf at all.
      if (typeof payload.jti !== 'string' || (payload.cnf !== undefined && typeof (payload.cnf as { jkt?: unknown }).jkt !== 'string')) return null;
      return payload;
    } catch {
      return null;
    }
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

/**
 * Verifies patient-data access tokens (audience `<issuer>/fhir`) and checks their grant. Null when
 * the token is not one of ours, has expired, was revoked alone or cut off by the sandbox's "expire
 * now" (a refresh helps); an EndedAccessToken when its grant has ended (no refresh can help).
 */
export function activeAccessTokenVerifier(
  db: Queryable,
  config: AppConfig,
  signed = signedTokenVerifier(db, config),
): (token: string, issuer: string, proof?: PendingFirstUse) => Promise<ActiveAccessToken | EndedAccessToken | ReplayedProof | null> {
  return async (token, issuer, proof) => {
    const payload = (await signed(token, { issuer, audience: fhirBaseOf(issuer) })) as AccessTokenPayload | null;
    if (!payload || typeof payload.grant_id !== 'string' || typeof payload.patient !== 'string' || typeof payload.scope !== 'string') return null;
    // One statement: the proof's identifier recorded, the grant, the token's revocation, the guardianship.
    const state = await grants.accessState(db, payload.grant_id, payload.jti!, proof);
    if (!state.firstUse) return { replayed: true };
    const { grant } = state;
    const ended = grantEnded(grant, config);
    if (ended) return { active: false, payload, grantEnded: ended };
    if (!grant || grant.patientId !== payload.patient) return null;
    if (state.tokenRevoked) return null;
    if (grant.tokensNotBefore && payload.iat! * 1000 < grant.tokensNotBefore.getTime()) return null;
    return { active: true, payload, grant, mayAct: state.mayAct };
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
