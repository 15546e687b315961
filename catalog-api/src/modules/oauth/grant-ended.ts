// Whether a grant is still in force, by its id, for work done on the grant's behalf outside a
// request (notifications delivered to its app): the same judgement as a token's (token-state.ts).
import type { AppConfig } from '../../core/config.js';
import type { Queryable } from '../../core/store/db.js';
import { grantState } from './grant-repository.js';
import { grantEnded, type GrantEnded } from './token-state.js';

/** Why the grant no longer lets its app act (withdrawn, expired, app suspended, client gone), or null while it does. */
export async function whyGrantEnded(db: Queryable, config: AppConfig, grantId: string): Promise<GrantEnded | null> {
  return grantEnded(await grantState(db, grantId), config);
}
