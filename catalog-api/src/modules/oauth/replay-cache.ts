// Refuses a one-time identifier seen before (a DPoP proof's or a client assertion's jti). The
// record lives in the store, so a replay to another instance is refused too.
import type { Queryable } from '../../core/store/db.js';

export interface ReplayCache {
  /**
   * Records `jti` in `namespace` until `expiresAt`. Returns false when it was already recorded
   * and has not expired: the caller must refuse the request.
   */
  firstUse(namespace: string, jti: string, expiresAt: Date): Promise<boolean>;
}

/** A one-time identifier to record along with other work, in the same statement (firstUseSql). */
export interface PendingFirstUse {
  namespace: string;
  jti: string;
  expiresAt: Date;
}

/**
 * The statement that records an identifier, returning it when this is its first use, with its
 * namespace, identifier and expiry as parameters `$n`, `$n+1`, `$n+2` (a null namespace records
 * nothing). An expired record may be taken over: the identifier would be refused as too old anyway.
 */
export const firstUseSql = (n = 1) => `INSERT INTO oauth_replay (namespace, jti, expires_at)
  SELECT $${n}::text, $${n + 1}::text, $${n + 2}::timestamptz WHERE $${n}::text IS NOT NULL
  ON CONFLICT (namespace, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE oauth_replay.expires_at < now()
  RETURNING jti`;

const FIRST_USE = firstUseSql();

/** Expired records are deleted by the periodic sweep (sweeps.ts); until then they are simply taken over. */
export function storeReplayCache(db: Queryable): ReplayCache {
  return {
    async firstUse(namespace, jti, expiresAt) {
      const rows = await db.query(FIRST_USE, [namespace, jti, expiresAt]);
      return rows.length === 1;
    },
  };
}

/**
 * The statement that records several identifiers at once (namespaces, identifiers and expiries as
 * the arrays `$n`, `$n+1`, `$n+2`) if `condition` holds, returning the namespace of each one used
 * for the first time.
 */
export const firstUsesSql = (n = 1, condition = 'true') => `INSERT INTO oauth_replay (namespace, jti, expires_at)
  SELECT * FROM unnest($${n}::text[], $${n + 1}::text[], $${n + 2}::timestamptz[]) WHERE ${condition}
  ON CONFLICT (namespace, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE oauth_replay.expires_at < now()
  RETURNING namespace`;

/** The parameters of firstUsesSql for `uses`. */
export const firstUsesParameters = (uses: readonly PendingFirstUse[]) => [uses.map((use) => use.namespace), uses.map((use) => use.jti), uses.map((use) => use.expiresAt)];

/**
 * A cache that records nothing itself: it keeps the identifiers it is given, for the caller to
 * record with the rest of the request's work in one statement (`pending`), and says they are new.
 * The caller must then refuse the request if that statement finds one used.
 */
export function deferredReplayCache(): ReplayCache & { readonly pending: readonly PendingFirstUse[] } {
  const pending: PendingFirstUse[] = [];
  return {
    pending,
    async firstUse(namespace, jti, expiresAt) {
      pending.push({ namespace, jti, expiresAt });
      return true;
    },
  };
}
