// The patient's control over grants, and the end of a patient's account. Both take effect at
// once: the next use of any token of an ended grant fails, at every instance, because the state
// is in the store.
import type { Queryable } from '../../core/store/db.js';
import { endSubscriptionsOf, endSubscriptionsOfGrant } from '../notifications/index.js';
import { grantsOfPerson, RevocationReason, revokeGrant, revokeGrantOfPerson, revokeGrantsOfPerson, type GrantSummary } from '../oauth/index.js';

/** Withdraws a grant as its patient would. Returns false when it was not active. */
export async function withdrawGrant(db: Queryable, grantId: string): Promise<boolean> {
  const withdrawn = await revokeGrant(db, grantId, RevocationReason.withdrawnByPatient);
  // Its subscriptions end with it (the delivery worker would end them at their next event anyway).
  if (withdrawn) await endSubscriptionsOfGrant(db, grantId);
  return withdrawn;
}

/** Most grants shown to a person at once. */
export const MAX_LISTED_GRANTS = 200;

/** The apps a person has authorized (for themselves or, as a guardian, for a child), newest first. */
export async function connectedApps(db: Queryable, personId: string): Promise<GrantSummary[]> {
  return grantsOfPerson(db, personId, MAX_LISTED_GRANTS);
}

/**
 * Withdraws one of the person's grants, from their "my connected apps" page. False when the
 * grant is not theirs or is no longer active: another person's grant id changes nothing.
 */
export async function withdrawOwnGrant(db: Queryable, grantId: string, personId: string): Promise<boolean> {
  const withdrawn = await revokeGrantOfPerson(db, grantId, personId, RevocationReason.withdrawnByPatient);
  if (withdrawn) await endSubscriptionsOfGrant(db, grantId);
  return withdrawn;
}

/**
 * Records that a patient's account is closed: every grant for the patient, or given by them as a
 * guardian, ends, and the consent step refuses new authorizations for them.
 */
export async function closePatientAccount(db: Queryable, patientId: string): Promise<{ grantsEnded: number }> {
  await db.query('INSERT INTO closed_patient_accounts (patient_id) VALUES ($1) ON CONFLICT (patient_id) DO NOTHING', [patientId]);
  const grantsEnded = await revokeGrantsOfPerson(db, patientId, RevocationReason.accountClosed);
  await endSubscriptionsOf(db, { clientId: null, patientId }, 'the patient’s account is closed');
  return { grantsEnded };
}

export async function isAccountClosed(db: Queryable, patientId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM closed_patient_accounts WHERE patient_id = $1', [patientId])).length > 0;
}

/**
 * Records that a patient opposes access to their record by apps: every grant for or by them
 * ends, and the consent step refuses new authorizations for them.
 */
export async function recordOpposition(db: Queryable, patientId: string): Promise<{ grantsEnded: number }> {
  await db.query('INSERT INTO patient_oppositions (patient_id) VALUES ($1) ON CONFLICT (patient_id) DO NOTHING', [patientId]);
  const grantsEnded = await revokeGrantsOfPerson(db, patientId, RevocationReason.opposedToApps);
  await endSubscriptionsOf(db, { clientId: null, patientId }, 'the patient opposed access to their record by apps');
  return { grantsEnded };
}

export async function isOpposed(db: Queryable, patientId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM patient_oppositions WHERE patient_id = $1', [patientId])).length > 0;
}

/** The last time an app used each grant (from the access history), for the grants that were used. */
export async function lastAccesses(db: Queryable, grantIds: readonly string[]): Promise<Map<string, Date>> {
  if (grantIds.length === 0) return new Map();
  const rows = await db.query<{ grant_id: string; last_at: Date }>(
    `SELECT g.id AS grant_id, last.occurred_at AS last_at
     FROM unnest($1::uuid[]) AS g(id)
     CROSS JOIN LATERAL (SELECT h.occurred_at FROM access_history h WHERE h.grant_id = g.id ORDER BY h.occurred_at DESC LIMIT 1) AS last`,
    [grantIds],
  );
  return new Map(rows.map((row) => [row.grant_id, new Date(row.last_at)]));
}

/** An app the person authorized whose certification was suspended, revoked or expired since they last read about it. */
export interface CertificationNotice {
  appId: string;
  appName: string;
  status: 'suspended' | 'revoked' | 'expired';
  changedAt: Date;
}

/**
 * The notices to show a person on "my connected apps": for each app they authorized (for
 * themselves or a child) whose grant was still running when the app was suspended, revoked or
 * expired, unless they already dismissed the notice of that change.
 */
export async function certificationNotices(db: Queryable, personId: string): Promise<CertificationNotice[]> {
  const rows = await db.query<{ app_id: string; name: string; certification_status: CertificationNotice['status']; changed_at: Date }>(
    `SELECT a.id AS app_id, a.name, a.certification_status, a.certification_changed_at AS changed_at
     FROM apps a
     WHERE a.certification_status IN ('suspended', 'revoked', 'expired')
       AND a.certification_changed_at IS NOT NULL
       AND EXISTS (SELECT 1 FROM grants g WHERE g.app_id = a.id AND (g.patient_id = $1 OR g.actor_id = $1)
                   AND (g.revoked_at IS NULL OR g.revoked_at >= a.certification_changed_at)
                   AND (g.expires_at IS NULL OR g.expires_at >= a.certification_changed_at))
       AND NOT EXISTS (SELECT 1 FROM patient_notice_dismissals d WHERE d.patient_id = $1 AND d.app_id = a.id AND d.seen_change_at >= a.certification_changed_at)
     ORDER BY a.certification_changed_at DESC, a.id`,
    [personId],
  );
  return rows.map((row) => ({ appId: row.app_id, appName: row.name, status: row.certification_status, changedAt: new Date(row.changed_at) }));
}

/** Records that the person read the notice about the app's current certification change; false when there is none to dismiss. */
export async function dismissCertificationNotice(db: Queryable, personId: string, appId: string): Promise<boolean> {
  const notices = await certificationNotices(db, personId);
  if (!notices.some((candidate) => candidate.appId === appId)) return false;
  // The change's instant is copied in the store (microseconds), not through JavaScript (milliseconds).
  await db.query(
    `INSERT INTO patient_notice_dismissals (patient_id, app_id, seen_change_at)
     SELECT $1, a.id, a.certification_changed_at FROM apps a WHERE a.id = $2 AND a.certification_changed_at IS NOT NULL
     ON CONFLICT (patient_id, app_id) DO UPDATE SET seen_change_at = EXCLUDED.seen_change_at, dismissed_at = now()`,
    [personId, appId],
  );
  return true;
}
