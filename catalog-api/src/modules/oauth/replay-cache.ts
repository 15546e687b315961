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

export function storeReplayCache(db: Queryable): ReplayCache {
  let lastSweep = 0;
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
      if (Date.now() - lastSweep > 60_000) {
        lastSweep = Date.now();
        await db.query('DELETE FROM oauth_replay WHERE expires_at < now()');
      }
      return rows.length === 1;
    },
  };
}
