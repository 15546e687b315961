// Browser sessions of patients on the platform's pages: a random value in an HttpOnly,
// SameSite=Lax cookie (`__Host-` prefixed and Secure when the platform is served over HTTPS),
// its SHA-256 in the store with the patient and a CSRF token, and a fixed end. The store holds
// the state, so any instance serves any request and signing out ends the session everywhere.
// A session opened at the identity provider also keeps its ID token, sealed, for signing out there.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../core/errors.js';
import type { SecurityScheme } from '../core/operations.js';
import type { Queryable } from '../core/store/db.js';
import { deleteWhere } from '../core/store/sweeper.js';

/** A patient session lasts 30 minutes from sign-in: these pages hold health information. */
export const PATIENT_SESSION_SECONDS = 30 * 60;

/** Sessions are forgotten a day after their end (signed out or not, every session ends within 30 minutes). */
export const patientSessionSweep = deleteWhere('patient_sessions', 'patient_sessions', "expires_at < now() - interval '1 day'");

export interface PatientSession {
  patientId: string;
  csrfToken: string;
}

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

/** The cookies of a request, by name (the first of each name wins). */
export function readCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(index + 1).trim());
  }
  return cookies;
}

export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface PatientSessions {
  /**
   * Opens a session; answers the session and the Set-Cookie value that carries it. A session
   * opened at the identity provider keeps the provider's ID token, sealed, for signing out there.
   */
  open(patientId: string, options?: { sealedIdToken?: string }): Promise<{ session: PatientSession; setCookie: string }>;
  /** The session of a request, if its cookie names one that is still open. */
  current(request: FastifyRequest): Promise<PatientSession | null>;
  /** Ends the request's session (if any); answers the Set-Cookie value that clears the cookie. */
  end(request: FastifyRequest): Promise<string>;
  /** Ends the request's session like `end`, and answers the sealed ID token it was opened with (if any). */
  close(request: FastifyRequest): Promise<{ setCookie: string; sealedIdToken: string | null }>;
}

/** The session cookie's name: `__Host-` prefixed when the platform is served over HTTPS. */
export const patientSessionCookie = (secure: boolean): string => (secure ? '__Host-mes_patient' : 'mes_patient');

/** `secure`: the platform's public URL is HTTPS, so the cookie is `__Host-` and Secure. */
export function patientSessions(db: Queryable, options: { secure: boolean }): PatientSessions {
  const name = patientSessionCookie(options.secure);
  const attributes = `Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
  const cookieValue = (request: FastifyRequest) => {
    const value = readCookies(request.headers.cookie).get(name);
    return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
  };
  const close = async (request: FastifyRequest) => {
    const value = cookieValue(request);
    const rows = value
      ? await db.query<{ id_token_sealed: string | null }>(
          'UPDATE patient_sessions SET ended_at = now() WHERE id_hash = $1 AND ended_at IS NULL RETURNING id_token_sealed',
          [hash(value)],
        )
      : [];
    return { setCookie: `${name}=; ${attributes}; Max-Age=0`, sealedIdToken: rows[0]?.id_token_sealed ?? null };
  };
  return {
    async open(patientId, options = {}) {
      const value = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      await db.query(
        `INSERT INTO patient_sessions (id_hash, patient_id, csrf_token, expires_at, id_token_sealed) VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)`,
        [hash(value), patientId, csrfToken, PATIENT_SESSION_SECONDS, options.sealedIdToken ?? null],
      );
      return { session: { patientId, csrfToken }, setCookie: `${name}=${value}; ${attributes}; Max-Age=${PATIENT_SESSION_SECONDS}` };
    },
    async current(request) {
      const value = cookieValue(request);
      if (!value) return null;
      const rows = await db.query<{ patient_id: string; csrf_token: string }>(
        `SELECT patient_id, csrf_token FROM patient_sessions WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > now()`,
        [hash(value)],
      );
      return rows[0] ? { patientId: rows[0].patient_id, csrfToken: rows[0].csrf_token } : null;
    },
    async end(request) {
      return (await close(request)).setCookie;
    },
    close,
  };
}

/**
 * Whether a form post comes from the platform's own pages: its Origin (or, without one, its
 * Referer) is the issuer's origin. With the session's CSRF token and SameSite cookies, this keeps
 * other sites from submitting the patient's forms. The pages are served with
 * `Referrer-Policy: same-origin`, under which browsers send the real Origin on their own form
 * posts (`no-referrer` would make it `null`); an opaque `null` origin is refused.
 */
export function fromOwnOrigin(request: FastifyRequest, issuer: string): boolean {
  const expected = new URL(issuer).origin;
  const origin = request.headers.origin;
  if (typeof origin === 'string') return origin === expected;
  const referer = request.headers.referer;
  if (typeof referer !== 'string') return false;
  try {
    return new URL(referer).origin === expected;
  } catch {
    return false;
  }
}

/** The `patientSession` security scheme of the spec: the patient's JSON API behind their session cookie. */
export function patientSessionScheme(sessions: PatientSessions): SecurityScheme {
  return {
    authScheme: 'cookie',
    challenge: 'Cookie',
    hint: 'the session cookie of a patient signed in at /patient/sign-in',
    async authenticate(request) {
      const session = await sessions.current(request);
      if (!session) throw new ProblemError('authentication_required', 'Sign in at /patient/sign-in first; this API answers the signed-in patient only.');
      return { kind: 'patient', patientId: session.patientId };
    },
  };
}
