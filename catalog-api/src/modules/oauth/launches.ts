// SMART EHR launch from the patient's space: "Ouvrir l'application" opens the app's registered
// launch URL with `iss` (the FHIR base URL) and an opaque `launch` value. The launch is bound to
// the app and to the patient (or the child a guardian acts for), lives 5 minutes and is used once,
// at the authorization endpoint, where it gives the `launch` scope its patient context. Only a
// SHA-256 of the value is kept.
import type { AppConfig } from '../../core/config.js';
import type { Queryable } from '../../core/store/db.js';
import type { CertificationStatus } from '../catalog/index.js';
import { fhirBaseOf } from './audience.js';
import { randomToken, sha256 } from './grant-repository.js';
import { appMayUseTokens } from './token-state.js';

export const LAUNCH_LIFETIME_SECONDS = 300;

/** Whom a launch is for: the patient whose record opens, and the person who launched (a guardian for a child). */
export interface LaunchContext {
  patientId: string;
  actorId: string;
}

const originOf = (uri: string): string | null => {
  try {
    return new URL(uri).origin;
  } catch {
    return null;
  }
};

/**
 * Whether a launch URL may be opened for an app whose redirect URIs are these: it must share its
 * origin with one of them, so that certifying the redirect URIs certifies where launches go.
 */
export function launchUrlAllowed(launchUrl: string, redirectUris: readonly string[]): boolean {
  const origin = originOf(launchUrl);
  return origin !== null && origin !== 'null' && redirectUris.some((uri) => originOf(uri) === origin);
}

/** The URL a launch opens: the app's launch URL with `iss` and `launch` added to its query. */
function launchLocation(launchUrl: string, issuer: string, launch: string): string {
  const url = new URL(launchUrl);
  url.searchParams.set('iss', fhirBaseOf(issuer));
  url.searchParams.set('launch', launch);
  return url.toString();
}

/**
 * Starts a launch of an app for a person: the URL to send the browser to, or null when the app
 * cannot be launched (no launch URL, not allowed to obtain tokens now, or, outside the sandbox, a
 * launch URL on another origin than its certified redirect URIs). The caller has checked that the
 * actor may act for the patient.
 */
export async function startLaunch(db: Queryable, config: AppConfig, launch: LaunchContext & { appId: string; issuer: string }): Promise<string | null> {
  const [app] = await db.query<{ launch_url: string | null; redirect_uris: string[]; certified_redirect_uris: string[] | null; certification_status: CertificationStatus }>(
    'SELECT launch_url, redirect_uris, certified_redirect_uris, certification_status FROM apps WHERE id = $1',
    [launch.appId],
  );
  if (!app?.launch_url || !appMayUseTokens(app.certification_status, config)) return null;
  // The redirect URIs in force: the certified ones outside the sandbox (see versionInForce).
  const redirectUris = config.mode !== 'sandbox' && app.certified_redirect_uris ? app.certified_redirect_uris : app.redirect_uris;
  if (!launchUrlAllowed(app.launch_url, redirectUris)) return null;
  const value = randomToken();
  await db.query(
    `INSERT INTO patient_launches (id_hash, app_id, patient_id, actor_id, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [sha256(value), launch.appId, launch.patientId, launch.actorId, LAUNCH_LIFETIME_SECONDS],
  );
  return launchLocation(app.launch_url, launch.issuer, value);
}

type LaunchRow = { patient_id: string; actor_id: string };
const toContext = (row: LaunchRow | undefined): LaunchContext | null => (row ? { patientId: row.patient_id, actorId: row.actor_id } : null);

/** A launch of this app that can still be used, without using it up (a pushed request names it before the browser arrives). */
export async function findLaunch(db: Queryable, value: string, appId: string): Promise<LaunchContext | null> {
  const rows = await db.query<LaunchRow>(
    'SELECT patient_id, actor_id FROM patient_launches WHERE id_hash = $1 AND app_id = $2 AND used_at IS NULL AND expires_at > now()',
    [sha256(value), appId],
  );
  return toContext(rows[0]);
}

/** Uses a launch of this app up: only the first taker gets it. */
export async function takeLaunch(db: Queryable, value: string, appId: string): Promise<LaunchContext | null> {
  const rows = await db.query<LaunchRow>(
    `UPDATE patient_launches SET used_at = now() WHERE id_hash = $1 AND app_id = $2 AND used_at IS NULL AND expires_at > now()
     RETURNING patient_id, actor_id`,
    [sha256(value), appId],
  );
  return toContext(rows[0]);
}
