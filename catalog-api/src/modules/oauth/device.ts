// The device authorization grant (RFC 8628) for the platform's own command line, `mes`: the CLI
// shows a short code, a person approves it in a browser, and the CLI polls the token endpoint.
import { randomInt } from 'node:crypto';
import type { Queryable } from '../../core/store/db.js';
import { OAuthError } from '../../core/oauth-error.js';
import { randomToken, sha256 } from './grant-repository.js';
import { formatScopes, parseScopeString } from './scopes.js';

/** The CLI's client id: a public client built into the platform, not an app's. */
export const CLI_CLIENT_ID = 'mes-cli';
export const DEVICE_CODE_LIFETIME_SECONDS = 600;
export const DEVICE_POLL_INTERVAL_SECONDS = 5;
// Every platform scope: the approver's role narrows it (scopeForRole).
const DEFAULT_CLI_SCOPE = 'platform/apps.read platform/apps.write platform/certification.review';

// No vowels (no words), no look-alikes: 20^8 codes, typed as XXXX-XXXX (RFC 8628 §6.1).
const userCodeAlphabet = 'BCDFGHJKLMNPQRSTVWXZ';

export function newUserCode(): string {
  const letters = Array.from({ length: 8 }, () => userCodeAlphabet[randomInt(userCodeAlphabet.length)]);
  return `${letters.slice(0, 4).join('')}-${letters.slice(4).join('')}`;
}

/** Normalizes what a person typed: case, spaces and dashes do not matter. */
export function normalizeUserCode(input: string): string | null {
  const letters = input.toUpperCase().replace(/[\s-]/g, '');
  if (letters.length !== 8 || [...letters].some((c) => !userCodeAlphabet.includes(c))) return null;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

export async function startDeviceAuthorization(
  db: Queryable,
  form: Record<string, string | undefined>,
): Promise<{ deviceCode: string; userCode: string; scope: string }> {
  if (form.client_id !== CLI_CLIENT_ID) {
    throw new OAuthError('unauthorized_client', `the device flow is for the platform's command line (client_id ${CLI_CLIENT_ID})`);
  }
  const parsed = parseScopeString(form.scope ?? DEFAULT_CLI_SCOPE, { purpose: 'platform' });
  if (!parsed.ok) {
    throw new OAuthError('invalid_scope', parsed.errors.map((e) => `${e.token ? `${e.token}: ` : ''}${e.reason}`).join('; ').replace(/["\\]/g, "'"));
  }
  const scope = formatScopes(parsed.scopes);
  const deviceCode = randomToken();
  // A user code collision is astronomically rare; retry rather than fail if it happens.
  for (let attempt = 0; ; attempt++) {
    const userCode = newUserCode();
    const rows = await db.query(
      `INSERT INTO device_authorizations (device_code_hash, user_code, client_id, scope, expires_at, interval_seconds)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6)
       ON CONFLICT (user_code) DO NOTHING RETURNING user_code`,
      [sha256(deviceCode), userCode, CLI_CLIENT_ID, scope, DEVICE_CODE_LIFETIME_SECONDS, DEVICE_POLL_INTERVAL_SECONDS],
    );
    if (rows.length === 1) return { deviceCode, userCode, scope };
    if (attempt > 5) throw new Error('could not allocate a user code');
  }
}

export interface PendingDevice {
  userCode: string;
  scope: string;
}

/** The pending authorization of a user code, if it is still waiting for a decision. */
export async function pendingDevice(db: Queryable, userCode: string): Promise<PendingDevice | null> {
  const rows = await db.query<{ user_code: string; scope: string }>(
    `SELECT user_code, scope FROM device_authorizations WHERE user_code = $1 AND status = 'pending' AND expires_at > now()`,
    [userCode],
  );
  return rows[0] ? { userCode: rows[0].user_code, scope: rows[0].scope } : null;
}

/** Who approved a sign-in, and the scope their role allows of what the command line asked for. */
export type DeviceApproval = {
  approved: true;
  /** `publisher:<id>` or `reviewer:<id>`. */
  subject: string;
  /** The publisher's key that approved (its revocation ends the session). */
  apiKeyId: string | null;
  /** The reviewer's key that approved (its revocation ends the session). */
  reviewerKeyId: string | null;
  scope: string;
};

/** Records the decision on a pending user code; false when there is none (unknown, expired or decided). */
export async function decideDevice(db: Queryable, userCode: string, decision: DeviceApproval | { approved: false }): Promise<boolean> {
  const approved = decision.approved ? decision : null;
  const rows = await db.query(
    `UPDATE device_authorizations SET status = $2, subject = $3, api_key_id = $4, reviewer_key_id = $5, scope = COALESCE($6, scope)
     WHERE user_code = $1 AND status = 'pending' AND expires_at > now() RETURNING user_code`,
    [userCode, approved ? 'approved' : 'denied', approved?.subject ?? null, approved?.apiKeyId ?? null, approved?.reviewerKeyId ?? null, approved?.scope ?? null],
  );
  return rows.length === 1;
}

/** The platform scopes each role may hold: publishers manage apps, reviewers review. */
const roleScopes = {
  publisher: ['platform/apps.read', 'platform/apps.write'],
  reviewer: ['platform/certification.review'],
} as const;

/**
 * What a sign-in approved by this role grants of the scope asked for: the role's platform scopes
 * among those asked (offline_access kept), or null when none is left.
 */
export function scopeForRole(requested: string, role: keyof typeof roleScopes): string | null {
  const asked = requested.split(' ');
  const granted = asked.filter((scope) => (roleScopes[role] as readonly string[]).includes(scope));
  if (granted.length === 0) return null;
  const parsed = parseScopeString([...granted, ...(asked.includes('offline_access') ? ['offline_access'] : [])].join(' '), { purpose: 'platform' });
  return parsed.ok ? formatScopes(parsed.scopes) : null;
}

/**
 * One poll of the CLI at the token endpoint. Answers the RFC 8628 errors while the person has not
 * decided, and the subject and scope once, when they approved.
 */
export async function pollDevice(
  db: Queryable,
  form: Record<string, string | undefined>,
): Promise<{ subject: string; scope: string; apiKeyId: string | null; reviewerKeyId: string | null }> {
  if (form.client_id !== CLI_CLIENT_ID) throw new OAuthError('invalid_client', 'unknown client', 401);
  if (!form.device_code) throw new OAuthError('invalid_request', 'device_code is required');
  const rows = await db.query<{
    status: string;
    expired: boolean;
    too_fast: boolean;
    subject: string | null;
    scope: string;
    api_key_id: string | null;
    reviewer_key_id: string | null;
  }>(
    `WITH target AS (
       SELECT device_code_hash, status, expires_at <= now() AS expired,
              (last_polled_at IS NOT NULL AND last_polled_at > now() - make_interval(secs => interval_seconds)) AS too_fast
       FROM device_authorizations WHERE device_code_hash = $1 FOR UPDATE
     )
     UPDATE device_authorizations d SET
       last_polled_at = now(),
       interval_seconds = CASE WHEN t.too_fast THEN d.interval_seconds + 5 ELSE d.interval_seconds END,
       status = CASE WHEN d.status = 'approved' AND NOT t.expired THEN 'redeemed' ELSE d.status END
     FROM target t WHERE d.device_code_hash = t.device_code_hash
     RETURNING t.status, t.expired, t.too_fast, d.subject, d.scope, d.api_key_id, d.reviewer_key_id`,
    [sha256(form.device_code)],
  );
  const row = rows[0];
  if (!row) throw new OAuthError('invalid_grant', 'the device code is unknown');
  if (row.expired) throw new OAuthError('expired_token', 'the device code has expired; start the sign-in again');
  if (row.status === 'redeemed') throw new OAuthError('invalid_grant', 'the device code was already used');
  if (row.status === 'denied') throw new OAuthError('access_denied', 'the sign-in was refused');
  if (row.status === 'pending') {
    if (row.too_fast) throw new OAuthError('slow_down', 'polling too fast: wait 5 more seconds between requests');
    throw new OAuthError('authorization_pending', 'the sign-in has not been approved yet');
  }
  return { subject: row.subject!, scope: row.scope, apiKeyId: row.api_key_id, reviewerKeyId: row.reviewer_key_id };
}
