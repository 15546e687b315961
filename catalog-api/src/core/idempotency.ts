// Idempotency keys for the write operations (IETF draft "The Idempotency-Key HTTP Header Field"):
// the operations whose spec lists the `Idempotency-Key` header run once per key. The first request
// with a key reserves it in the store and records its answer; a retry with the same key and the
// same request gets that answer again (`Idempotent-Replayed: true`) without running anything; the
// same key with another request is refused (422), and so is a retry while the first still runs
// (409). A request that fails with an error keeps nothing, so its retry runs again. Keys belong to
// the caller (a publisher, an app's grant), so two callers never see each other's answers; they
// last a day.
//
// A handler that writes in one transaction records the answer in that same transaction (`settle`):
// what it wrote and the answer a retry gets then commit together, so an instance that dies between
// the two cannot leave a resource whose key a retry would take as lost and create again. Each
// reservation has its own id: a request that was taken as lost (its key reserved again by a retry
// after IDEMPOTENCY_IN_FLIGHT_SECONDS) finds its reservation gone when it settles, and its
// transaction rolls back.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ProblemError } from './errors.js';
import type { Principal } from './operations.js';
import type { Queryable } from './store/db.js';
import { deleteWhere } from './store/sweeper.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** How long a key is remembered (and its answer replayed). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** A first request still marked running after this long is taken as lost (its instance stopped): a retry runs it again. */
export const IDEMPOTENCY_IN_FLIGHT_SECONDS = 60;

export const idempotencySweep = deleteWhere('idempotency_keys', 'idempotency_keys', 'expires_at < now()');

export interface StoredAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Whose keys these are: a key is only ever looked up among its caller's. */
function scopeOf(principal: Principal | null): string | null {
  switch (principal?.kind) {
    case 'publisher':
      return `publisher:${principal.publisherId}`;
    case 'patient_data':
      return `grant:${principal.grantId}`;
    case 'patient':
      return `patient:${principal.patientId}`;
    case 'operator':
      return 'operator';
    default:
      return null;
  }
}

const fingerprintOf = (request: FastifyRequest) =>
  createHash('sha256')
    .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
    .digest('base64url');

/**
 * Records the answer of the request in the handler's own transaction `tx`, with what the handler
 * wrote there. Refuses (409, and `tx` rolls back) when the request's reservation was taken over.
 */
export type SettleAnswer = (tx: Queryable, answer: StoredAnswer) => Promise<void>;

export interface Idempotency {
  /**
   * Runs `execute` once per key of the caller: the first time, recording its answer (through
   * `settle` in the handler's transaction, or after `execute` when it did not call it); after
   * that, answering the recorded one. Without a key (or an anonymous caller), just runs it, with
   * no `settle`.
   */
  run<A extends StoredAnswer>(request: FastifyRequest, operationId: string, execute: (settle?: SettleAnswer) => Promise<A>): Promise<A>;
}

export function idempotency(db: Queryable): Idempotency {
  return {
    async run<A extends StoredAnswer>(request: FastifyRequest, operationId: string, execute: (settle?: SettleAnswer) => Promise<A>): Promise<A> {
      const header = request.headers[IDEMPOTENCY_HEADER];
      const scope = scopeOf(request.principal);
      if (typeof header !== 'string' || scope === null) return execute();
      const fingerprint = fingerprintOf(request);
      const reservation = randomUUID();
      // Reserve the key, or take it over when its first request was lost.
      const reserved = await db.query(
        `INSERT INTO idempotency_keys (scope, key, operation_id, fingerprint, expires_at, reservation)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $7)
         ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, operation_id = EXCLUDED.operation_id,
           created_at = now(), expires_at = EXCLUDED.expires_at, reservation = EXCLUDED.reservation,
           status = NULL, headers = NULL, body = NULL
         WHERE idempotency_keys.status IS NULL AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
           AND idempotency_keys.created_at < now() - make_interval(secs => $6)
           OR idempotency_keys.expires_at < now()
         RETURNING key`,
        [scope, header, operationId, fingerprint, IDEMPOTENCY_TTL_SECONDS, IDEMPOTENCY_IN_FLIGHT_SECONDS, reservation],
      );
      if (reserved.length === 0) {
        const [first] = await db.query<{ fingerprint: string; status: number | null; headers: Record<string, string> | null; body: unknown }>(
          'SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE scope = $1 AND key = $2',
          [scope, header],
        );
        if (!first || first.fingerprint !== fingerprint) {
          throw new ProblemError('idempotency_key_reused', 'This Idempotency-Key was first sent with another request (method, path or body); use a new key for a new request.');
        }
        if (first.status === null) {
          throw new ProblemError('idempotency_request_in_progress', 'The first request with this Idempotency-Key is still running; retry later.', undefined, { 'retry-after': '1' });
        }
        // The recorded answer is one `execute` gave for this operation: of its type.
        const replay: StoredAnswer = { status: first.status, headers: { ...(first.headers ?? {}), 'idempotent-replayed': 'true' }, ...(first.body === null ? {} : { body: first.body }) };
        return replay as A;
      }
      const record = (queryable: Queryable, answer: StoredAnswer) =>
        queryable.query(
          `UPDATE idempotency_keys SET status = $4, headers = $5, body = $6
            WHERE scope = $1 AND key = $2 AND reservation = $3 AND status IS NULL RETURNING key`,
          [scope, header, reservation, answer.status, JSON.stringify(answer.headers ?? {}), answer.body === undefined ? null : JSON.stringify(answer.body)],
        );
      let settled = false;
      const settle: SettleAnswer = async (tx, answer) => {
        if ((await record(tx, answer)).length === 0) {
          throw new ProblemError(
            'idempotency_request_in_progress',
            'This request was taken as lost and run again by a retry with the same Idempotency-Key; retry to get its answer.',
            undefined,
            { 'retry-after': '1' },
          );
        }
        settled = true;
      };
      let answer: A;
      try {
        answer = await execute(settle);
      } catch (error) {
        // Give the key back, unless the answer was recorded (a handler that settled, then failed
        // after its commit, has done its work), or the key is another attempt's by now.
        await db.query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND reservation = $3 AND status IS NULL', [scope, header, reservation]);
        throw error;
      }
      if (!settled) await record(db, answer);
      return answer;
    },
  };
}
