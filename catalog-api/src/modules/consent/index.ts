// The patient's step of an authorization: who the patient is, and what they approve. The
// authorization server hands over to a ConsentStep and takes back its decision. The sandbox
// approves the request as given for a synthetic patient; the patient web pages (sign-in and
// consent screen) plug in here for real patients.
import type { Queryable } from '../../core/store/db.js';
import type { ScopeSet } from '../oauth/scopes.js';
import { mayActFor } from '../records/index.js';
import { isAccountClosed, isOpposed } from './grants.js';

export interface AuthorizationToApprove {
  clientId: string;
  appId: string;
  appName: string;
  /** What the app may ask for now: requested ∩ what its version is certified (or registered) for. */
  scopes: ScopeSet;
  /** The app's hint of which patient signs in (`login_hint`), if any. */
  loginHint?: string | undefined;
}

export type ConsentDecision =
  | {
      approved: true;
      /** FHIR id of the patient whose data the grant opens. */
      patientId: string;
      /** FHIR id of the person who approved (the patient, or a guardian acting for a child). */
      actorId: string;
      /** What the patient approved: never more than `scopes` of the request. */
      scopes: ScopeSet;
      /** When the grant ends; null for "until withdrawn". */
      expiresAt: Date | null;
    }
  | { approved: false; error: 'access_denied' | 'temporarily_unavailable'; description: string };

/**
 * What the consent step answers at the authorization endpoint: a decision now, or `interact`:
 * the patient must sign in and decide on the platform's pages first (the authorization server
 * then keeps the request and sends the browser to `/patient/authorize`).
 */
export type ConsentOutcome = ConsentDecision | { interact: true };

export interface ConsentStep {
  decide(request: AuthorizationToApprove): Promise<ConsentOutcome>;
}

/** The synthetic patient the sandbox signs in when the app gives no `login_hint`. */
export const SANDBOX_DEFAULT_PATIENT = 'sandbox-patient-1';
const fhirId = /^[A-Za-z0-9.-]{1,64}$/;

/**
 * Sandbox. Without `login_hint`, the browser goes to the sandbox's patient picker (a person
 * picks a synthetic patient, a guardian picks a child, then approves or refuses). With
 * `login_hint`, consent is pre-approved, for automated tests: `<patient>` approves for
 * themselves, `<guardian>:<child>` for a child. Pre-approval approves exactly what was asked.
 */
export function sandboxConsent(db: Queryable): ConsentStep {
  return {
    async decide(request) {
      if (request.loginHint === undefined) return { interact: true };
      const [actorId, patientId = actorId] = request.loginHint.split(':') as [string, string | undefined];
      if (!fhirId.test(actorId) || !fhirId.test(patientId) || request.loginHint.split(':').length > 2) {
        return { approved: false, error: 'access_denied', description: 'login_hint must be a sandbox patient id, or <guardian id>:<child id>' };
      }
      if (actorId !== patientId && !(await mayActFor(db, actorId, patientId))) {
        return { approved: false, error: 'access_denied', description: `${actorId} is not a guardian of ${patientId}` };
      }
      return approveFor(db, { actorId, patientId, scopes: request.scopes });
    },
  };
}

/** Approves for a patient, unless an account is closed; the scopes are approved as given. */
export async function approveFor(
  db: Queryable,
  person: { actorId: string; patientId: string; scopes: ScopeSet },
): Promise<ConsentDecision> {
  for (const id of new Set([person.actorId, person.patientId])) {
    if (await isAccountClosed(db, id)) return { approved: false, error: 'access_denied', description: 'this patient account is closed' };
    if (await isOpposed(db, id)) return { approved: false, error: 'access_denied', description: 'this patient opposes access to their record by apps' };
  }
  return { approved: true, patientId: person.patientId, actorId: person.actorId, scopes: person.scopes, expiresAt: null };
}

/** Real patients: every request waits for the patient to sign in and decide on the consent screen. */
export function interactiveConsent(): ConsentStep {
  return {
    async decide() {
      return { interact: true };
    },
  };
}

/** Outside the sandbox until patient sign-in is configured: every authorization is refused, saying why. */
export function unavailableConsent(): ConsentStep {
  return {
    async decide() {
      return { approved: false, error: 'temporarily_unavailable', description: 'patient sign-in is not configured on this server' };
    },
  };
}

export {
  withdrawGrant,
  withdrawOwnGrant,
  connectedApps,
  closePatientAccount,
  isAccountClosed,
  recordOpposition,
  isOpposed,
  lastAccesses,
  certificationNotices,
  dismissCertificationNotice,
  type CertificationNotice,
} from './grants.js';
