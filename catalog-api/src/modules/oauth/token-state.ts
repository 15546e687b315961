// Whether a token the server issued is still good: signature and claims of access tokens, and for
// every token the state behind it (grant withdrawn or ended, app no longer certified, client
// deleted, token revoked). The state lives in the store, so every instance sees a change at once.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { AppConfig } from '../../core/config.js';
import type { CertificationStatus } from '../catalog/index.js';
import type { Queryable } from '../../core/store/db.js';
import * as grants from './grant-repository.js';
import { platformSessionState } from './platform-sessions.js';
import { publishedKeys } from './signing-keys.js';

export interface AccessTokenPayload extends JWTPayload {
  client_id: string;
  scope: string;
  patient: string;
  grant_id: string;
  cnf: { jkt: string };
}

/**
 * Whether an app in this certification status may obtain and use tokens: only certified apps,
 * except in the sandbox, where any app may until it is suspended or revoked.
 */
export function appMayUseTokens(status: CertificationStatus, config: AppConfig): boolean {
  return config.mode === 'sandbox' ? !['suspended', 'revoked'].includes(status) : status === 'certified';
}

/** True when the grant's state lets its tokens work now. */
export function grantAllowsTokens(state: grants.GrantState | null, config: AppConfig): boolean {
  return !!state && state.active && state.clientExists && appMayUseTokens(state.certificationStatus, config);
}

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
 * ES256, issuer, audience, expiry); null when it is not one. The published keys are kept for a
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
      if (typeof payload.jti !== 'string' || typeof (payload.cnf as { jkt?: unknown } | undefined)?.jkt !== 'string') return null;
      return payload;
    } catch {
      return null;
    }
  };
}

export type AccessTokenVerifier = (token: string, issuer: string) => Promise<AccessTokenPayload | null>;

/** A patient-data token that is active, with the state of its grant (its app, patient and approver). */
export interface ActiveAccessToken {
  payload: AccessTokenPayload;
  grant: grants.GrantState;
}

/** Verifies patient-data access tokens (audience `<issuer>/fhir`) and checks their grant; null when not active. */
export function activeAccessTokenVerifier(
  db: Queryable,
  config: AppConfig,
  signed = signedTokenVerifier(db, config),
): (token: string, issuer: string) => Promise<ActiveAccessToken | null> {
  return async (token, issuer) => {
    const payload = (await signed(token, { issuer, audience: `${issuer}/fhir` })) as AccessTokenPayload | null;
    if (!payload || typeof payload.grant_id !== 'string' || typeof payload.patient !== 'string' || typeof payload.scope !== 'string') return null;
    if (await grants.accessTokenRevoked(db, payload.jti!)) return null;
    const grant = await grants.grantState(db, payload.grant_id);
    if (!grant || !grantAllowsTokens(grant, config) || grant.patientId !== payload.patient) return null;
    if (grant.tokensNotBefore && payload.iat! * 1000 < grant.tokensNotBefore.getTime()) return null;
    return { payload, grant };
  };
}

/** The same, for introspection and revocation: the payload alone. */
export function accessTokenVerifier(db: Queryable, config: AppConfig, signed = signedTokenVerifier(db, config)): AccessTokenVerifier {
  const verify = activeAccessTokenVerifier(db, config, signed);
  return async (token, issuer) => (await verify(token, issuer))?.payload ?? null;
}

export type PlatformTokenVerifier = (token: string, issuer: string) => Promise<PlatformTokenPayload | null>;

/** Verifies the command line's platform tokens (audience `<issuer>/platform`) and checks their session; null when not active. */
export function platformTokenVerifier(db: Queryable, config: AppConfig, signed = signedTokenVerifier(db, config)): PlatformTokenVerifier {
  return async (token, issuer) => {
    const payload = (await signed(token, { issuer, audience: `${issuer}/platform` })) as PlatformTokenPayload | null;
    if (!payload || typeof payload.sid !== 'string' || typeof payload.scope !== 'string') return null;
    const session = await platformSessionState(db, payload.sid);
    if (!session?.active || session.subject !== payload.sub) return null;
    return payload;
  };
}
