// Sessions of the platform's own command line, opened when a person approves a device sign-in:
// their state (checked on every request a platform token makes), their end (sign-out, the
// approving API key revoked, the end of their life), and their refresh tokens, which rotate on
// every use with reuse detection, as the profile asks of public clients.
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../core/store/db.js';
import { OAuthError } from '../../core/oauth-error.js';
import { randomToken, sha256 } from './grant-repository.js';
import { formatScopes, isSubset, parseScopeString } from './scopes.js';

/** Longest life of a signed-in command line, refreshed or not. */
export const PLATFORM_SESSION_LIFETIME_SECONDS = 30 * 24 * 3600;

export interface PlatformSessionState {
  id: string;
  subject: string;
  scope: string;
  /** Not ended and not past its end. */
  active: boolean;
}

export async function openPlatformSession(
  db: Queryable,
  session: { clientId: string; subject: string; apiKeyId: string | null; reviewerKeyId: string | null; scope: string; lifetimeSeconds: number },
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO platform_sessions (id, client_id, subject, api_key_id, reviewer_key_id, scope, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
    [id, session.clientId, session.subject, session.apiKeyId, session.reviewerKeyId, session.scope, session.lifetimeSeconds],
  );
  return id;
}

export async function platformSessionState(db: Queryable, id: string): Promise<PlatformSessionState | null> {
  const rows = await db.query<{ id: string; subject: string; scope: string; active: boolean }>(
    `SELECT id, subject, scope, (revoked_at IS NULL AND expires_at > now()) AS active FROM platform_sessions WHERE id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

/** Ends a session: its access and refresh tokens stop working at their next use. */
export async function endPlatformSession(db: Queryable, id: string, reason: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE platform_sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
    [id, reason],
  );
  return rows.length === 1;
}

/** Ends every session a revoked API key approved; returns how many. */
export async function endPlatformSessionsApprovedWith(db: Queryable, apiKeyId: string): Promise<number> {
  const rows = await db.query(
    `UPDATE platform_sessions SET revoked_at = now(), revoked_reason = 'the approving API key was revoked'
     WHERE api_key_id = $1 AND revoked_at IS NULL RETURNING id`,
    [apiKeyId],
  );
  return rows.length;
}

export async function insertPlatformRefreshToken(db: Queryable, sessionId: string, jkt: string): Promise<string> {
  const value = randomToken();
  await db.query('INSERT INTO platform_refresh_tokens (token_hash, session_id, jkt) VALUES ($1, $2, $3)', [sha256(value), sessionId, jkt]);
  return value;
}

export interface PlatformRefresh {
  sessionId: string;
  subject: string;
  /** The scope of the new access token: the session's, or narrower when asked. */
  scope: string;
  refreshToken: string;
}

/**
 * Exchanges a command line's refresh token for a new access token and a new refresh token, bound
 * to the same DPoP key. A rotated token presented again is taken as stolen: the session ends.
 */
export async function exchangePlatformRefreshToken(
  db: Db,
  form: Record<string, string | undefined>,
  jkt: string,
): Promise<PlatformRefresh> {
  const token = form.refresh_token;
  if (!token) throw new OAuthError('invalid_request', 'refresh_token is required');
  const invalid = (description: string) => ({ refused: new OAuthError('invalid_grant', description) });
  type Outcome = { refused: OAuthError } | { refresh: PlatformRefresh };
  // Refusals are returned, not thrown, so that ending the session on a reuse commits.
  const outcome = await db.transaction(async (tx): Promise<Outcome> => {
    const rows = await tx.query<{ token_hash: string; session_id: string; jkt: string; rotated: boolean; subject: string; scope: string; active: boolean }>(
      `SELECT r.token_hash, r.session_id, r.jkt, r.rotated_at IS NOT NULL AS rotated, s.subject, s.scope,
              (s.revoked_at IS NULL AND s.expires_at > now()) AS active
       FROM platform_refresh_tokens r JOIN platform_sessions s ON s.id = r.session_id
       WHERE r.token_hash = $1 FOR UPDATE OF r`,
      [sha256(token)],
    );
    const row = rows[0];
    if (!row) return invalid('the refresh token is unknown');
    if (row.jkt !== jkt) return invalid('the refresh token is bound to another DPoP key');
    if (row.rotated) {
      await endPlatformSession(tx, row.session_id, 'rotated refresh token reused');
      return invalid('the refresh token was already exchanged; the session is ended, sign in again');
    }
    if (!row.active) return invalid('the session has ended; sign in again');
    let scope = row.scope;
    if (form.scope !== undefined) {
      const requested = parseScopeString(form.scope, { purpose: 'platform' });
      if (!requested.ok || !isSubset(requested.scopes, parseScopeString(row.scope, { purpose: 'platform' }).scopes)) {
        return { refused: new OAuthError('invalid_scope', 'a refresh may narrow the scope of the session, never widen it') };
      }
      scope = formatScopes(requested.scopes);
    }
    await tx.query('UPDATE platform_refresh_tokens SET rotated_at = now() WHERE token_hash = $1', [row.token_hash]);
    const refreshToken = await insertPlatformRefreshToken(tx, row.session_id, jkt);
    return { refresh: { sessionId: row.session_id, subject: row.subject, scope, refreshToken } };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.refresh;
}

/** The session a refresh token belongs to, if any (for revocation). */
export async function platformSessionOfRefreshToken(db: Queryable, token: string): Promise<string | null> {
  const rows = await db.query<{ session_id: string }>('SELECT session_id FROM platform_refresh_tokens WHERE token_hash = $1', [sha256(token)]);
  return rows[0]?.session_id ?? null;
}
