// Which patient of the records a verified identity is: the value of a configured claim is the
// patient's id (by default `sub`, the provider's subject), or, when an INS claim is configured,
// the patient's INS (identifiant national de santé), found among the Patient resources'
// identifiers. An identity that names no patient, or one whose account is closed, opens nothing.
import type { PatientIdentityProvider } from '../../core/config.js';
import type { Queryable } from '../../core/store/db.js';
import { isAccountClosed } from '../../modules/consent/index.js';
import { findPatientByIdentifier, patientSummaries, vocabulary } from '../../modules/records/index.js';
import type { Claims } from './relying-party.js';

export type IdentityOutcome =
  | { patientId: string }
  /** `missing_claim`: the claim is absent or not an identifier; `unknown_patient`: no record (or several) matches; `closed`: the account is closed. */
  | { refused: 'missing_claim' | 'unknown_patient' | 'closed'; claim: string };

const patientIdPattern = /^[A-Za-z0-9.-]{1,64}$/;
const insPattern = /^[0-9A-Za-z]{1,32}$/;

/** The claims the mapping reads (asked from userinfo when the ID token lacks them). */
export const identityClaims = (settings: PatientIdentityProvider): string[] => [settings.insClaim ?? settings.patientClaim];

export async function patientOfIdentity(db: Queryable, settings: PatientIdentityProvider, claims: Claims): Promise<IdentityOutcome> {
  const claim = settings.insClaim ?? settings.patientClaim;
  const value = claims[claim];
  let patientId: string | null;
  if (settings.insClaim) {
    if (typeof value !== 'string' || !insPattern.test(value)) return { refused: 'missing_claim', claim };
    patientId = await findPatientByIdentifier(db, vocabulary.systems.ins, value);
  } else {
    if (typeof value !== 'string' || !patientIdPattern.test(value)) return { refused: 'missing_claim', claim };
    const [patient] = await patientSummaries(db, [value]);
    patientId = patient?.id ?? null;
  }
  if (!patientId) return { refused: 'unknown_patient', claim };
  if (await isAccountClosed(db, patientId)) return { refused: 'closed', claim };
  return { patientId };
}
