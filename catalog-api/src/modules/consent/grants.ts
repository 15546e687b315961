// The patient's control over grants, and the end of a patient's account. Both take effect at
// once: the next use of any token of an ended grant fails, at every instance, because the state
// is in the store.
import type { Queryable } from '../../core/store/db.js';
import { grantsOfPerson, revokeGrant, revokeGrantOfPerson, revokeGrantsOfPerson, type GrantSummary } from '../oauth/index.js';

/** Withdraws a grant as its patient would. Returns false when it was not active. */
export async function withdrawGrant(db: Queryable, grantId: string): Promise<boolean> {
  return revokeGrant(db, grantId, WITHDRAWN_BY_PATIENT);
}

const WITHDRAWN_BY_PATIENT = 'withdrawn by the patient';
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
  return revokeGrantOfPerson(db, grantId, personId, WITHDRAWN_BY_PATIENT);
}

/**
 * Records that a patient's account is closed: every grant for the patient, or given by them as a
 * guardian, ends, and the consent step refuses new authorizations for them.
 */
export async function closePatientAccount(db: Queryable, patientId: string): Promise<{ grantsEnded: number }> {
  await db.query('INSERT INTO closed_patient_accounts (patient_id) VALUES ($1) ON CONFLICT (patient_id) DO NOTHING', [patientId]);
  return { grantsEnded: await revokeGrantsOfPerson(db, patientId, 'patient account closed') };
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
  return { grantsEnded: await revokeGrantsOfPerson(db, patientId, 'patient opposed to access by apps') };
}

export async function isOpposed(db: Queryable, patientId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM patient_oppositions WHERE patient_id = $1', [patientId])).length > 0;
}
