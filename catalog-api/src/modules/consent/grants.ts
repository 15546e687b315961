// The patient's control over grants. Withdrawing a grant takes effect at once: the next request
// with any token of it fails, at every instance, because the state is in the store.
import type { Queryable } from '../../core/store/db.js';
import { revokeGrant } from '../oauth/index.js';

/** Withdraws a grant as its patient would. Returns false when it was not active. */
export async function withdrawGrant(db: Queryable, grantId: string): Promise<boolean> {
  return revokeGrant(db, grantId, 'withdrawn by the patient');
}
