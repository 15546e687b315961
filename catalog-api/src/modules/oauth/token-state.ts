// Whether a token the server issued is still good: signature and claims of access tokens, and for
// every token the state behind it (grant withdrawn or ended, app no longer certified, client
// deleted, token revoked). The state lives in the store, so every instance sees a change at once.
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
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

/** Verifies an access token issued by this server and checks its state; null when it is not active. */
export async function activeAccessToken(db: Queryable, config: AppConfig, token: string, issuer: string): Promise<AccessTokenPayload | null> {
  let payload: AccessTokenPayload;
  try {
    const jwks = createLocalJWKSet({ keys: await publishedKeys(db, config.retiredKeyPublishSeconds) });
    ({ payload } = (await jwtVerify(token, jwks, { issuer, typ: 'at+jwt', algorithms: ['ES256'] })) as { payload: AccessTokenPayload });
  } catch {
    return null;
  }
  if (typeof payload.grant_id !== 'string' || typeof payload.jti !== 'string') return null;
  if (await grants.accessTokenRevoked(db, payload.jti)) return null;
  if (!grantAllowsTokens(await grants.grantState(db, payload.grant_id), config)) return null;
  return payload;
}
