// Failures a developer injects into their client's next requests: what each kind answers, where
// it applies (token endpoint, FHIR API), and taking one for a request, once, oldest first, so
// that "the next 3 requests" means exactly three, whichever instance serves them.
import { randomUUID } from 'node:crypto';
import type { components } from '@mes/openapi';
import { ProblemError } from '../../core/errors.js';
import type { Queryable } from '../../core/store/db.js';
import { dpopChallenge, grantEndedDescriptions, type GrantEnded } from '../oauth/index.js';

export type FaultKind = components['schemas']['FaultKind'];
export type FaultTarget = components['schemas']['FaultTarget'];
export type Fault = components['schemas']['Fault'];
type FaultInput = components['schemas']['FaultInput'];

/** Where each kind applies when the developer does not say, and where it may apply at all. */
const targets: Record<FaultKind, { default: FaultTarget; allowed: FaultTarget[] }> = {
  invalid_client: { default: 'token', allowed: ['token'] },
  invalid_scope: { default: 'token', allowed: ['token'] },
  expired_token: { default: 'fhir', allowed: ['fhir'] },
  revoked_grant: { default: 'any', allowed: ['token', 'fhir', 'any'] },
  rate_limited: { default: 'any', allowed: ['token', 'fhir', 'any'] },
  unavailable: { default: 'any', allowed: ['token', 'fhir', 'any'] },
  latency: { default: 'any', allowed: ['token', 'fhir', 'any'] },
};

export const DEFAULT_RETRY_AFTER_SECONDS = 2;
export const DEFAULT_LATENCY_MS = 1000;

interface FaultRow {
  id: string;
  kind: FaultKind;
  target: FaultTarget;
  remaining: number;
  retry_after_seconds: number | null;
  latency_ms: number | null;
  created_at: Date;
  [key: string]: unknown;
}

const toFault = (row: FaultRow): Fault => ({
  id: row.id,
  kind: row.kind,
  target: row.target,
  remaining: row.remaining,
  retryAfterSeconds: row.retry_after_seconds,
  latencyMs: row.latency_ms,
  createdAt: new Date(row.created_at).toISOString(),
});

export async function injectFault(db: Queryable, clientId: string, input: FaultInput): Promise<Fault> {
  const rule = targets[input.kind];
  const target = input.target ?? rule.default;
  if (!rule.allowed.includes(target)) {
    throw new ProblemError('validation_failed', `A ${input.kind} fault applies to ${rule.allowed.join(' or ')} requests, not ${target}.`, [
      { pointer: '/body/target', detail: `must be ${rule.allowed.join(' or ')} for ${input.kind}` },
    ]);
  }
  const retryAfter = ['rate_limited', 'unavailable'].includes(input.kind) ? (input.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) : null;
  const latency = input.kind === 'latency' ? (input.latencyMs ?? DEFAULT_LATENCY_MS) : null;
  const rows = await db.query<FaultRow>(
    `INSERT INTO sandbox_faults (id, client_id, kind, target, remaining, retry_after_seconds, latency_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [randomUUID(), clientId, input.kind, target, input.count ?? 1, retryAfter, latency],
  );
  return toFault(rows[0]!);
}

export async function listFaults(db: Queryable, clientId: string): Promise<Fault[]> {
  const rows = await db.query<FaultRow>('SELECT * FROM sandbox_faults WHERE client_id = $1 AND remaining > 0 ORDER BY created_at, id', [clientId]);
  return rows.map(toFault);
}

/** Deletes the client's faults; returns how many were still pending. */
export async function clearFaults(db: Queryable, clientId: string): Promise<number> {
  const rows = await db.query<{ remaining: number }>('DELETE FROM sandbox_faults WHERE client_id = $1 RETURNING remaining', [clientId]);
  return rows.filter((row) => row.remaining > 0).length;
}

/** Takes one pending fault of the client for a request of this kind, if there is one. */
export async function takeFault(db: Queryable, clientId: string, target: 'token' | 'fhir'): Promise<Fault | null> {
  const rows = await db.query<FaultRow>(
    `UPDATE sandbox_faults SET remaining = remaining - 1
     WHERE id = (
       SELECT id FROM sandbox_faults WHERE client_id = $1 AND remaining > 0 AND target IN ($2, 'any')
       ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
     )
     RETURNING *`,
    [clientId, target],
  );
  return rows[0] ? toFault(rows[0]) : null;
}

export interface FaultAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  contentType: string;
}

const injected = 'injected by the sandbox';
/** What a simulated revoked grant says ended it: what a real revocation says (grant_ended). */
const REVOKED: GrantEnded = 'grant_revoked';

/** What a request answers under a fault (latency has none: the real answer comes, later). */
export function faultAnswer(fault: Fault, target: 'token' | 'fhir'): FaultAnswer | null {
  const retryAfter = fault.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  const oauth = (status: number, error: string, headers: Record<string, string> = {}, grantEnded?: GrantEnded): FaultAnswer => ({
    status,
    headers: { 'cache-control': 'no-store', ...headers },
    body: { error, error_description: `${error} (${injected})`, ...(grantEnded ? { grant_ended: grantEnded } : {}) },
    contentType: 'application/json',
  });
  const fhir = (status: number, code: string, diagnostics: string, headers: Record<string, string> = {}): FaultAnswer => ({
    status,
    headers: { 'cache-control': 'no-store', ...headers },
    body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: `${diagnostics} (${injected})` }] },
    contentType: 'application/fhir+json',
  });
  // The same challenge as the real refusal, through the same code.
  const challenge = (description: string, grantEnded?: GrantEnded) => ({ 'www-authenticate': dpopChallenge('invalid_token', description, undefined, grantEnded) });
  switch (fault.kind) {
    case 'latency':
      return null;
    case 'invalid_client':
      return oauth(401, 'invalid_client');
    case 'invalid_scope':
      return oauth(400, 'invalid_scope');
    case 'expired_token':
      return fhir(401, 'login', 'the access token has expired', challenge('the access token has expired'));
    case 'revoked_grant':
      return target === 'token'
        ? oauth(400, 'invalid_grant', {}, REVOKED)
        : fhir(401, 'login', grantEndedDescriptions[REVOKED], challenge(grantEndedDescriptions[REVOKED], REVOKED));
    case 'rate_limited':
      return target === 'token'
        ? oauth(429, 'temporarily_unavailable', { 'retry-after': String(retryAfter) })
        : fhir(429, 'throttled', 'too many requests', { 'retry-after': String(retryAfter) });
    case 'unavailable':
      return target === 'token'
        ? oauth(503, 'temporarily_unavailable', { 'retry-after': String(retryAfter) })
        : fhir(503, 'transient', 'the service is unavailable', { 'retry-after': String(retryAfter) });
  }
}
