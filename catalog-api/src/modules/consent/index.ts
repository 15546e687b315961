// The patient's step of an authorization: who the patient is, and what they approve. The
// authorization server hands over to a ConsentStep and takes back its decision. The sandbox
// approves the request as given for a synthetic patient; the patient web pages (sign-in and
// consent screen) plug in here for real patients.
import type { Queryable } from '../../core/store/db.js';
import type { ScopeSet } from '../oauth/scopes.js';
import { isAccountClosed } from './grants.js';

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

export interface ConsentStep {
  decide(request: AuthorizationToApprove): Promise<ConsentDecision>;
}

/** The synthetic patient the sandbox signs in when the app gives no `login_hint`. */
export const SANDBOX_DEFAULT_PATIENT = 'sandbox-patient-1';
const fhirId = /^[A-Za-z0-9.-]{1,64}$/;

/** Sandbox: the patient named by `login_hint` (or the default one) approves exactly what is asked. */
export function sandboxConsent(db: Queryable): ConsentStep {
  return {
    async decide(request) {
      const patientId = request.loginHint ?? SANDBOX_DEFAULT_PATIENT;
      if (!fhirId.test(patientId)) {
        return { approved: false, error: 'access_denied', description: 'login_hint must be the id of a sandbox patient' };
      }
      if (await isAccountClosed(db, patientId)) {
        return { approved: false, error: 'access_denied', description: 'this patient account is closed' };
      }
      return { approved: true, patientId, actorId: patientId, scopes: request.scopes, expiresAt: null };
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

export { withdrawGrant, withdrawOwnGrant, connectedApps, closePatientAccount, isAccountClosed } from './grants.js';
