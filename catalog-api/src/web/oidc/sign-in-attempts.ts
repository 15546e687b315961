// Sign-in attempts: what the platform remembers between sending the browser to the identity
// provider and its return (state, nonce, the PKCE verifier sealed, the page to go back to), in
// the store so any instance takes the callback. The browser holds a random value in a short
// HttpOnly, SameSite=Lax cookie (`__Host-` and Secure over HTTPS) that binds the attempt to it;
// the store keeps only its SHA-256. An attempt lasts 10 minutes and is taken once.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SecretBox } from '../../core/secret-box.js';
import type { Queryable } from '../../core/store/db.js';
import { deleteWhere } from '../../core/store/sweeper.js';
import { readCookies } from '../patient-session.js';

export const SIGN_IN_ATTEMPT_SECONDS = 10 * 60;

/** Attempts are forgotten once they have expired (used or not). */
export const signInAttemptSweep = deleteWhere('patient_sign_in_attempts', 'patient_sign_in_attempts', 'expires_at < now()');

export interface SignInAttempt {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

export interface SignInAttempts {
  /** Records an attempt; answers the Set-Cookie value that binds it to the browser. */
  create(attempt: SignInAttempt): Promise<string>;
  /** Takes the attempt the request's cookie names, once: null when there is none, or it expired or was taken. */
  take(request: FastifyRequest): Promise<SignInAttempt | null>;
  /** The Set-Cookie value that clears the attempt cookie. */
  readonly clearCookie: string;
}

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

/** The attempt cookie's name: `__Host-` prefixed when the platform is served over HTTPS. */
export const signInAttemptCookie = (secure: boolean): string => (secure ? '__Host-mes_sign_in' : 'mes_sign_in');

export function signInAttempts(db: Queryable, box: SecretBox, options: { secure: boolean }): SignInAttempts {
  const name = signInAttemptCookie(options.secure);
  const attributes = `Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
  return {
    clearCookie: `${name}=; ${attributes}; Max-Age=0`,
    async create(attempt) {
      const value = randomBytes(32).toString('base64url');
      await db.query(
        `INSERT INTO patient_sign_in_attempts (id_hash, state, nonce, code_verifier_sealed, return_to, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
        [hash(value), attempt.state, attempt.nonce, box.seal(attempt.codeVerifier), attempt.returnTo, SIGN_IN_ATTEMPT_SECONDS],
      );
      return `${name}=${value}; ${attributes}; Max-Age=${SIGN_IN_ATTEMPT_SECONDS}`;
    },
    async take(request) {
      const value = readCookies(request.headers.cookie).get(name);
      if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) return null;
      const rows = await db.query<{ state: string; nonce: string; code_verifier_sealed: string; return_to: string }>(
        `UPDATE patient_sign_in_attempts SET used_at = now()
         WHERE id_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING state, nonce, code_verifier_sealed, return_to`,
        [hash(value)],
      );
      const row = rows[0];
      if (!row) return null;
      return { state: row.state, nonce: row.nonce, codeVerifier: box.open(row.code_verifier_sealed), returnTo: row.return_to };
    },
  };
}
