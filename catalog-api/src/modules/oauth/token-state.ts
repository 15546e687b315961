// Whether a token the server issued is still good: signature and claims of access tokens, and for
// every token the state behind it (grant withdrawn or ended, app no longer certified, client
// deleted, token revoked). The state lives in the store, so every instance sees a change at once.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { AppConfig } from '../../core/config.js';
import type { CertificationStatus } from '../catalog/index.js';
import type { Queryable } from '../../core/store/db.js';
import * as grants from './grant-repository.js';
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

export type AccessTokenVerifier = (token: string, issuer: string) => Promise<AccessTokenPayload | null>;

/**
 * Verifies access tokens issued by this server and checks their state; null when not active.
 * The published keys are kept for a short while, and read again when a token names a key not
 * seen yet (a rotation by another instance), at most once a second.
 */
export function accessTokenVerifier(db: Queryable, config: AppConfig, cacheMs = 30_000): AccessTokenVerifier {
  let cached: { at: number; kids: Set<string>; jwks: ReturnType<typeof createLocalJWKSet> } | undefined;
  async function keySet(kid: unknown) {
    const age = cached ? Date.now() - cached.at : Infinity;
    if (age > cacheMs || (typeof kid === 'string' && !cached!.kids.has(kid) && age > 1000)) {
      const keys = await publishedKeys(db, config.retiredKeyPublishSeconds);
      cached = { at: Date.now(), kids: new Set(keys.map((key) => key.kid)), jwks: createLocalJWKSet({ keys }) };
    }
    return cached!.jwks;
  }
  return async (token, issuer) => {
    let payload: AccessTokenPayload;
    try {
      const jwks = await keySet(decodeProtectedHeader(token).kid);
      ({ payload } = (await jwtVerify(token, jwks, { issuer, typ: 'at+jwt', algorithms: ['ES256'] })) as { payload: AccessTokenPayload });
    } catch {
      return null;
    }
    if (typeof payload.grant_id !== 'string' || typeof payload.jti !== 'string') return null;
    if (await grants.accessTokenRevoked(db, payload.jti)) return null;
    if (!grantAllowsTokens(await grants.grantState(db, payload.grant_id), config)) return null;
    return payload;
  };
}
