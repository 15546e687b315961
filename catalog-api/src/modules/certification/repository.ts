// SQL of the certification module: submissions, their check runs and reviews, certificates and
// the public decision log. Callers run the writes of one decision in one transaction.
import { randomUUID } from 'node:crypto';
import type { components } from '@mes/openapi';
import type { Queryable } from '../../core/store/db.js';
import { decisionHash } from '@mes/sdk/certification';
import type { CheckResult } from './checks.js';

export type Submission = components['schemas']['Submission'];
export type SubmissionSummary = components['schemas']['SubmissionSummary'];
export type SubmissionState = components['schemas']['SubmissionState'];
export type Snapshot = components['schemas']['Snapshot'];
export type CheckRun = components['schemas']['CheckRun'];
export type Review = components['schemas']['Review'];
export type Verdict = components['schemas']['Verdict'];
export type Certificate = components['schemas']['Certificate'];
export type CertificateState = components['schemas']['CertificateState'];
export type Decision = components['schemas']['Decision'];
export type Actor = components['schemas']['Actor'];
export type DecisionEntry = Decision;

const iso = (value: Date | string): string => new Date(value).toISOString();

// ---------------------------------------------------------------------------------------------
// Submissions

interface SubmissionRow {
  id: string;
  seq: string;
  app_id: string;
  app_name: string;
  publisher_id: string;
  publisher_name: string;
  publisher_registration_number: string;
  publisher_domains: string[];
  version: string;
  state: SubmissionState;
  criteria_version: string;
  sandbox_client_id: string | null;
  sandbox_evidence: string | null;
  snapshot: Snapshot;
  note: string | null;
  round: number;
  certificate_id: string | null;
  submitted_at: Date;
  updated_at: Date;
  approvals: string;
  failing_checks: number | null;
  [key: string]: unknown;
}

// The app's current name, the publisher's, the approvals of the current round and the failures of
// the latest check run, with every submission read.
const submissionColumns = `s.id, s.seq::text AS seq, s.app_id, s.snapshot->>'name' AS app_name, s.publisher_id,
  p.name AS publisher_name, p.registration_number AS publisher_registration_number, p.domains AS publisher_domains, s.version, s.state,
  s.criteria_version, s.sandbox_client_id, s.sandbox_evidence, s.snapshot, s.note, s.round, s.certificate_id, s.submitted_at, s.updated_at,
  (SELECT count(DISTINCT r.reviewer_id) FROM reviews r WHERE r.submission_id = s.id AND r.round = s.round AND r.decision = 'approve')::text AS approvals,
  (SELECT c.fail_count FROM check_runs c WHERE c.submission_id = s.id ORDER BY c.ran_at DESC, c.id LIMIT 1) AS failing_checks`;
const submissionFrom = 'FROM submissions s JOIN publishers p ON p.id = s.publisher_id';

export interface SubmissionRecord extends SubmissionSummary {
  seq: number;
  round: number;
  publisherRegistrationNumber: string;
  /** The publisher's domains now, for the reviewers' conflict rule. */
  publisherDomains: string[];
  sandboxClientId: string | null;
  /** Signed evidence of a trusted sandbox, when the submission came with it. */
  sandboxEvidence: string | null;
  snapshot: Snapshot;
  note: string | null;
  certificateId: string | null;
}

function toSubmission(row: SubmissionRow): SubmissionRecord {
  return {
    id: row.id,
    seq: Number(row.seq),
    round: row.round,
    appId: row.app_id,
    appName: row.app_name,
    publisherId: row.publisher_id,
    publisherName: row.publisher_name,
    publisherRegistrationNumber: row.publisher_registration_number,
    publisherDomains: row.publisher_domains,
    version: row.version,
    state: row.state,
    criteriaVersion: row.criteria_version,
    sandboxClientId: row.sandbox_client_id,
    sandboxEvidence: row.sandbox_evidence,
    snapshot: row.snapshot,
    note: row.note,
    certificateId: row.certificate_id,
    submittedAt: iso(row.submitted_at),
    updatedAt: iso(row.updated_at),
    approvals: Number(row.approvals),
    failingChecks: row.failing_checks,
  };
}

export function summary(record: SubmissionRecord, conflict?: string | null): SubmissionSummary {
  const { id, appId, appName, publisherId, publisherName, version, state, criteriaVersion, submittedAt, updatedAt, approvals, failingChecks } = record;
  return {
    id, appId, appName, publisherId, publisherName, version, state, criteriaVersion, submittedAt, updatedAt, approvals, failingChecks,
    ...(conflict !== undefined ? { conflict } : {}),
  };
}

export async function insertSubmission(
  db: Queryable,
  input: {
    appId: string;
    publisherId: string;
    version: string;
    criteriaVersion: string;
    sandboxClientId: string | null;
    sandboxEvidence: string | null;
    snapshot: Snapshot;
    note: string | null;
  },
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO submissions (id, app_id, publisher_id, version, state, criteria_version, sandbox_client_id, sandbox_evidence, snapshot, note)
     VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8, $9)`,
    [id, input.appId, input.publisherId, input.version, input.criteriaVersion, input.sandboxClientId, input.sandboxEvidence, JSON.stringify(input.snapshot), input.note],
  );
  return id;
}

export async function findSubmission(db: Queryable, id: string, options: { lock?: boolean } = {}): Promise<SubmissionRecord | null> {
  if (options.lock) await db.query('SELECT id FROM submissions WHERE id = $1 FOR UPDATE', [id]);
  const rows = await db.query<SubmissionRow>(`SELECT ${submissionColumns} ${submissionFrom} WHERE s.id = $1`, [id]);
  return rows[0] ? toSubmission(rows[0]) : null;
}

export async function versionSubmitted(db: Queryable, appId: string, version: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM submissions WHERE app_id = $1 AND version = $2', [appId, version])).length > 0;
}

export async function openSubmissionOf(db: Queryable, appId: string): Promise<SubmissionRecord | null> {
  const rows = await db.query<SubmissionRow>(
    `SELECT ${submissionColumns} ${submissionFrom} WHERE s.app_id = $1 AND s.state IN ('submitted', 'in_review', 'changes_requested')`,
    [appId],
  );
  return rows[0] ? toSubmission(rows[0]) : null;
}

export async function latestSubmissionOf(db: Queryable, appId: string): Promise<SubmissionRecord | null> {
  const rows = await db.query<SubmissionRow>(`SELECT ${submissionColumns} ${submissionFrom} WHERE s.app_id = $1 ORDER BY s.seq DESC LIMIT 1`, [appId]);
  return rows[0] ? toSubmission(rows[0]) : null;
}

export async function listSubmissions(
  db: Queryable,
  filter: { appId?: string; states?: readonly SubmissionState[]; order: 'oldest' | 'newest'; limit: number; after: number | null },
): Promise<{ items: SubmissionRecord[]; last: number | null; more: boolean }> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.appId) where.push(`s.app_id = $${params.push(filter.appId)}`);
  if (filter.states) where.push(`s.state = ANY($${params.push(filter.states)}::text[])`);
  if (filter.after !== null) where.push(`s.seq ${filter.order === 'oldest' ? '>' : '<'} $${params.push(filter.after)}::bigint`);
  const rows = await db.query<SubmissionRow>(
    `SELECT ${submissionColumns} ${submissionFrom} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY s.seq ${filter.order === 'oldest' ? 'ASC' : 'DESC'} LIMIT $${params.push(filter.limit + 1)}`,
    params,
  );
  const items = rows.slice(0, filter.limit).map(toSubmission);
  return { items, last: items.at(-1)?.seq ?? null, more: rows.length > filter.limit };
}

export async function updateSubmission(
  db: Queryable,
  id: string,
  change: { state: SubmissionState; snapshot?: Snapshot; note?: string | null; newRound?: boolean; certificateId?: string },
): Promise<void> {
  await db.query(
    `UPDATE submissions SET state = $2, snapshot = COALESCE($3::jsonb, snapshot),
       note = CASE WHEN $4::boolean THEN $5 ELSE note END,
       round = round + CASE WHEN $6::boolean THEN 1 ELSE 0 END,
       certificate_id = COALESCE($7::uuid, certificate_id), updated_at = now()
     WHERE id = $1`,
    [
      id,
      change.state,
      change.snapshot ? JSON.stringify(change.snapshot) : null,
      change.note !== undefined,
      change.note ?? null,
      change.newRound ?? false,
      change.certificateId ?? null,
    ],
  );
}

/** The submission a certificate was issued from follows its certificate's state. */
export async function setSubmissionStateOfCertificate(db: Queryable, certificateId: string, state: SubmissionState): Promise<void> {
  await db.query('UPDATE submissions SET state = $2, updated_at = now() WHERE certificate_id = $1', [certificateId, state]);
}

// ---------------------------------------------------------------------------------------------
// Check runs

interface CheckRunRow {
  id: string;
  ran_at: Date;
  ran_by: Actor;
  sandbox_client_id: string | null;
  evidence_source: EvidenceSource;
  results: CheckResult[];
  pass_count: number;
  fail_count: number;
  warn_count: number;
  [key: string]: unknown;
}

export type EvidenceSource = CheckRun['evidenceSource'];
export const recordedEvidence: EvidenceSource = { kind: 'recorded', issuer: null, issuedAt: null };

export function newCheckRun(results: CheckResult[], ranBy: Actor, sandboxClientId: string | null, evidenceSource: EvidenceSource = recordedEvidence): CheckRun {
  const count = (status: CheckResult['status']) => results.filter((result) => result.status === status).length;
  return {
    id: randomUUID(),
    ranAt: new Date().toISOString(),
    ranBy,
    sandboxClientId,
    evidenceSource,
    results,
    counts: { pass: count('pass'), fail: count('fail'), warn: count('warn') },
  };
}

export async function insertCheckRun(db: Queryable, submissionId: string, run: CheckRun): Promise<void> {
  await db.query(
    `INSERT INTO check_runs (id, submission_id, ran_at, ran_by, sandbox_client_id, evidence_source, results, pass_count, fail_count, warn_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      run.id, submissionId, run.ranAt, JSON.stringify(run.ranBy), run.sandboxClientId, JSON.stringify(run.evidenceSource),
      JSON.stringify(run.results), run.counts.pass, run.counts.fail, run.counts.warn,
    ],
  );
}

export async function latestCheckRun(db: Queryable, submissionId: string): Promise<CheckRun | null> {
  const rows = await db.query<CheckRunRow>('SELECT * FROM check_runs WHERE submission_id = $1 ORDER BY ran_at DESC, id LIMIT 1', [submissionId]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    ranAt: iso(row.ran_at),
    ranBy: row.ran_by,
    sandboxClientId: row.sandbox_client_id,
    evidenceSource: row.evidence_source,
    results: row.results,
    counts: { pass: row.pass_count, fail: row.fail_count, warn: row.warn_count },
  };
}

// ---------------------------------------------------------------------------------------------
// Reviews

interface ReviewRow {
  id: string;
  round: number;
  reviewer_id: string;
  reviewer_name: string;
  decision: Review['decision'];
  criteria_version: string;
  verdicts: Verdict[];
  note: string;
  at: Date;
  current_round: number;
  [key: string]: unknown;
}

export async function insertReview(
  db: Queryable,
  review: { submissionId: string; round: number; reviewerId: string; decision: Review['decision']; criteriaVersion: string; verdicts: Verdict[]; note: string },
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO reviews (id, submission_id, round, reviewer_id, decision, criteria_version, verdicts, note)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, review.submissionId, review.round, review.reviewerId, review.decision, review.criteriaVersion, JSON.stringify(review.verdicts), review.note],
  );
  return id;
}

export async function reviewsOf(db: Queryable, submissionId: string): Promise<Review[]> {
  const rows = await db.query<ReviewRow>(
    `SELECT r.*, v.name AS reviewer_name, s.round AS current_round
     FROM reviews r JOIN reviewers v ON v.id = r.reviewer_id JOIN submissions s ON s.id = r.submission_id
     WHERE r.submission_id = $1 ORDER BY r.at, r.id`,
    [submissionId],
  );
  return rows.map((row) => ({
    id: row.id,
    reviewer: { type: 'reviewer', id: row.reviewer_id, name: row.reviewer_name },
    decision: row.decision,
    criteriaVersion: row.criteria_version,
    verdicts: row.verdicts,
    note: row.note,
    at: iso(row.at),
    superseded: row.round < row.current_round,
  }));
}

/** Reviewers who approved the submission's current round. */
export async function approversOf(db: Queryable, submissionId: string, round: number): Promise<{ reviewerId: string; reviewId: string }[]> {
  const rows = await db.query<{ reviewer_id: string; id: string }>(
    `SELECT reviewer_id, id FROM reviews WHERE submission_id = $1 AND round = $2 AND decision = 'approve' ORDER BY at, id`,
    [submissionId, round],
  );
  return rows.map((row) => ({ reviewerId: row.reviewer_id, reviewId: row.id }));
}

// ---------------------------------------------------------------------------------------------
// Certificates

interface CertificateRow {
  id: string;
  seq: string;
  reference: string;
  app_id: string;
  app_name: string;
  publisher_id: string;
  submission_id: string;
  version: string;
  state: CertificateState;
  scopes: string[];
  redirect_uris: string[];
  criteria_version: string;
  issued_at: Date;
  valid_from: Date;
  valid_until: Date;
  state_changed_at: Date;
  state_reason: string | null;
  decisions: string[];
  kid: string;
  jws: string;
  [key: string]: unknown;
}

export type CertificateRecord = Certificate & { seq: number; kid: string };

function toCertificate(row: CertificateRow): CertificateRecord {
  return {
    id: row.id,
    seq: Number(row.seq),
    kid: row.kid,
    reference: row.reference,
    appId: row.app_id,
    appName: row.app_name,
    publisherId: row.publisher_id,
    version: row.version,
    state: row.state,
    scopes: row.scopes,
    redirectUris: row.redirect_uris,
    criteriaVersion: row.criteria_version,
    issuedAt: iso(row.issued_at),
    validFrom: iso(row.valid_from),
    validUntil: iso(row.valid_until),
    stateChangedAt: iso(row.state_changed_at),
    stateReason: row.state_reason,
    submissionId: row.submission_id,
    decisions: row.decisions,
    jws: row.jws,
  };
}

const certificateColumns = '*, seq::text AS seq';

export async function insertCertificate(db: Queryable, certificate: Omit<CertificateRecord, 'seq'>): Promise<void> {
  await db.query(
    `INSERT INTO certificates (id, reference, app_id, app_name, publisher_id, submission_id, version, state, scopes, redirect_uris,
       criteria_version, issued_at, valid_from, valid_until, state_changed_at, state_reason, decisions, kid, jws)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
    [
      certificate.id, certificate.reference, certificate.appId, certificate.appName, certificate.publisherId, certificate.submissionId,
      certificate.version, certificate.state, JSON.stringify(certificate.scopes), certificate.redirectUris, certificate.criteriaVersion,
      certificate.issuedAt, certificate.validFrom, certificate.validUntil, certificate.stateChangedAt, certificate.stateReason,
      certificate.decisions, certificate.kid, certificate.jws,
    ],
  );
}

export async function findCertificate(db: Queryable, id: string, options: { lock?: boolean } = {}): Promise<CertificateRecord | null> {
  const rows = await db.query<CertificateRow>(`SELECT ${certificateColumns} FROM certificates WHERE id = $1${options.lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toCertificate(rows[0]) : null;
}

export async function liveCertificateOf(db: Queryable, appId: string, options: { lock?: boolean } = {}): Promise<CertificateRecord | null> {
  const rows = await db.query<CertificateRow>(
    `SELECT ${certificateColumns} FROM certificates WHERE app_id = $1 AND state IN ('certified', 'suspended')${options.lock ? ' FOR UPDATE' : ''}`,
    [appId],
  );
  return rows[0] ? toCertificate(rows[0]) : null;
}

export async function lastEndedCertificateOf(db: Queryable, appId: string): Promise<CertificateRecord | null> {
  const rows = await db.query<CertificateRow>(
    `SELECT ${certificateColumns} FROM certificates WHERE app_id = $1 AND state IN ('revoked', 'expired') ORDER BY state_changed_at DESC, certificates.seq DESC LIMIT 1`,
    [appId],
  );
  return rows[0] ? toCertificate(rows[0]) : null;
}

export async function setCertificateState(db: Queryable, id: string, state: CertificateState, reason: string | null): Promise<void> {
  await db.query('UPDATE certificates SET state = $2, state_reason = $3, state_changed_at = now() WHERE id = $1', [id, state, reason]);
}

export async function listCertificates(
  db: Queryable,
  filter: { appId?: string; state?: CertificateState; limit: number; after: number | null },
): Promise<{ items: CertificateRecord[]; last: number | null; more: boolean }> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.appId) where.push(`app_id = $${params.push(filter.appId)}`);
  if (filter.state) where.push(`state = $${params.push(filter.state)}`);
  if (filter.after !== null) where.push(`seq < $${params.push(filter.after)}::bigint`);
  const rows = await db.query<CertificateRow>(
    `SELECT ${certificateColumns} FROM certificates ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY certificates.seq DESC LIMIT $${params.push(filter.limit + 1)}`,
    params,
  );
  const items = rows.slice(0, filter.limit).map(toCertificate);
  return { items, last: items.at(-1)?.seq ?? null, more: rows.length > filter.limit };
}

/** Live certificates whose validity has ended, oldest first, locked for the caller's transaction. */
export async function certificatesPastValidity(db: Queryable, limit: number): Promise<CertificateRecord[]> {
  const rows = await db.query<CertificateRow>(
    `SELECT ${certificateColumns} FROM certificates WHERE state IN ('certified', 'suspended') AND valid_until <= now()
     ORDER BY valid_until LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map(toCertificate);
}

/** Ids of the keys that have signed a certificate. */
export async function certificateKids(db: Queryable): Promise<string[]> {
  return (await db.query<{ kid: string }>('SELECT DISTINCT kid FROM certificates')).map((row) => row.kid);
}

// ---------------------------------------------------------------------------------------------
// The decision log

export type NewDecision = Omit<DecisionEntry, 'seq' | 'id' | 'at' | 'previousHash' | 'hash'>;

/**
 * Appends one decision at the end of the public log. The head row's lock serializes appends (in
 * the caller's transaction), so positions are contiguous and every entry names the hash of the
 * one before it.
 */
export async function appendDecision(tx: Queryable, decision: NewDecision): Promise<DecisionEntry> {
  const [head] = await tx.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM certification_log_head FOR UPDATE');
  const unhashed = {
    seq: Number(head!.seq) + 1,
    id: randomUUID(),
    at: new Date().toISOString(),
    kind: decision.kind,
    appId: decision.appId,
    version: decision.version,
    submissionId: decision.submissionId,
    certificateId: decision.certificateId,
    actor: { type: decision.actor.type, id: decision.actor.id },
    reason: decision.reason,
    details: decision.details,
    previousHash: head!.hash,
  };
  const entry: DecisionEntry = { ...unhashed, hash: await decisionHash(unhashed) };
  await tx.query('INSERT INTO certification_decisions (seq, id, app_id, submission_id, entry, hash) VALUES ($1, $2, $3, $4, $5, $6)', [
    entry.seq,
    entry.id,
    entry.appId,
    entry.submissionId,
    JSON.stringify(entry),
    entry.hash,
  ]);
  await tx.query('UPDATE certification_log_head SET seq = $1, hash = $2', [entry.seq, entry.hash]);
  return entry;
}

export async function listDecisions(db: Queryable, page: { after: number; limit: number }): Promise<{ items: DecisionEntry[]; head: { seq: number; hash: string } }> {
  const rows = await db.query<{ entry: DecisionEntry }>('SELECT entry FROM certification_decisions WHERE seq > $1 ORDER BY seq LIMIT $2', [
    page.after,
    page.limit,
  ]);
  const [head] = await db.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM certification_log_head');
  return { items: rows.map((row) => row.entry), head: { seq: Number(head!.seq), hash: head!.hash } };
}

/** The decisions about one submission, in the log's order. */
export async function decisionsOf(db: Queryable, submissionId: string): Promise<DecisionEntry[]> {
  const rows = await db.query<{ entry: DecisionEntry }>('SELECT entry FROM certification_decisions WHERE submission_id = $1 ORDER BY seq', [submissionId]);
  return rows.map((row) => row.entry);
}
