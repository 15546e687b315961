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

/** Expired records are deleted by the periodic sweep (sweeps.ts); until then they are simply taken over. */
export function storeReplayCache(db: Queryable): ReplayCache {
  return {
    async firstUse(namespace, jti, expiresAt) {
      // An expired record may be taken over: the identifier would be refused as too old anyway.
      const rows = await db.query(
        `INSERT INTO oauth_replay (namespace, jti, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (namespace, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
           WHERE oauth_replay.expires_at < now()
         RETURNING jti`,
        [namespace, jti, expiresAt],
      );
      return rows.length === 1;
    },
  };
}
