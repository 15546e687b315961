// The certification workflow as data: the states a submission and its certificate go through, the
// events that move them, the approval guard, reviewer conflicts, and the app-level status rule.
// Pure functions: no I/O, no clock, no randomness. The service applies them; docs are generated
// from `transitions`.
//
// One machine covers both records. A submission lives in `draft` … `approved`/`rejected`; the
// `certify` event issues its certificate, which then lives in `certified` … `superseded`. Renewal is
// not an event here: it is a new submission of the app, starting again from `draft`.

/** Every state, in workflow order: the submission's states first, then the certificate's. */
export const certificationStates = [
  'draft',
  'submitted',
  'in_review',
  'changes_requested',
  'approved',
  'rejected',
  'certified',
  'suspended',
  'revoked',
  'expired',
  'superseded',
] as const;

/** Every event, in workflow order. */
export const certificationEvents = [
  'submit',
  'start_review',
  'request_changes',
  'resubmit',
  'approve',
  'reject',
  'certify',
  'suspend',
  'reinstate',
  'revoke',
  'expire',
  'supersede',
] as const;

export type CertificationState = (typeof certificationStates)[number];
export type CertificationEvent = (typeof certificationEvents)[number];

/** The transition table: for each state, the events it accepts and the state each one leads to. */
export type TransitionTable = Readonly<Record<CertificationState, Readonly<Partial<Record<CertificationEvent, CertificationState>>>>>;

/**
 * The one source of the workflow's rules (see the module comment). Frozen, so neither the service
 * nor a docs generator can change the rules by accident. Side conditions (the approval guard,
 * reviewer conflicts) are separate functions below; the table only says what may follow what.
 */
export const transitions: TransitionTable = deepFreeze({
  draft: { submit: 'submitted' },
  // Applied by the service on a reviewer's first action, so a publisher sees that someone looks.
  submitted: { start_review: 'in_review' },
  // Resubmitting replaces the snapshot, so the service discards the approvals given so far.
  in_review: { request_changes: 'changes_requested', approve: 'approved', reject: 'rejected' },
  changes_requested: { resubmit: 'in_review' },
  approved: { certify: 'certified' },
  rejected: {},
  certified: { suspend: 'suspended', revoke: 'revoked', expire: 'expired', supersede: 'superseded' },
  suspended: { reinstate: 'certified', revoke: 'revoked', expire: 'expired', supersede: 'superseded' },
  revoked: {},
  expired: {},
  // A newer version of the same app got certified.
  superseded: {},
});

/** States no event leaves: the record is closed; the app goes on through a new submission. */
export const terminalStates = ['rejected', 'revoked', 'expired', 'superseded'] as const satisfies readonly CertificationState[];

/** States of a certificate that still stands (one per app at most); `certify` enters them. */
export const liveCertificateStates = ['certified', 'suspended'] as const satisfies readonly CertificationState[];

export type TerminalState = (typeof terminalStates)[number];
export type LiveCertificateState = (typeof liveCertificateStates)[number];

// How an event reads after "cannot be", for error messages.
const eventParticiples: Readonly<Record<CertificationEvent, string>> = {
  submit: 'submitted',
  start_review: 'taken into review',
  request_changes: 'sent back for changes',
  resubmit: 'resubmitted',
  approve: 'approved',
  reject: 'rejected',
  certify: 'certified',
  suspend: 'suspended',
  reinstate: 'reinstated',
  revoke: 'revoked',
  expire: 'expired',
  supersede: 'superseded',
};

// Which record a state belongs to, for error messages.
const certificateStates: ReadonlySet<CertificationState> = new Set(['certified', 'suspended', 'revoked', 'expired', 'superseded']);

/**
 * An event the state does not accept. Carries what the caller needs to explain the refusal: the
 * state, the event, and the events the state does accept (in `certificationEvents` order; empty
 * for a terminal state).
 */
export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
  readonly allowed: readonly CertificationEvent[];

  constructor(
    readonly from: CertificationState,
    readonly event: CertificationEvent,
  ) {
    const allowed = allowedEvents(from);
    const record = certificateStates.has(from) ? 'a certificate' : 'a submission';
    super(`${record} that is ${from} cannot be ${eventParticiples[event]}; allowed: ${allowed.length ? allowed.join(', ') : 'none'}`);
    this.allowed = allowed;
  }
}

/** Whether `value` names a state (for values read from storage or requests). */
export function isCertificationState(value: unknown): value is CertificationState {
  return typeof value === 'string' && (certificationStates as readonly string[]).includes(value);
}

/** Whether `value` names an event. */
export function isCertificationEvent(value: unknown): value is CertificationEvent {
  return typeof value === 'string' && (certificationEvents as readonly string[]).includes(value);
}

/** The events `state` accepts, in `certificationEvents` order (frozen). */
export function allowedEvents(state: CertificationState): readonly CertificationEvent[] {
  const row = rowOf(state);
  return Object.freeze(certificationEvents.filter((event) => Object.hasOwn(row, event)));
}

/** Whether `event` may be applied in state `from`. */
export function canTransition(from: CertificationState, event: CertificationEvent): boolean {
  assertEvent(event);
  return Object.hasOwn(rowOf(from), event);
}

/**
 * The state `event` leads to from `from`.
 * @throws IllegalTransitionError when `from` does not accept `event`.
 * @throws RangeError when `from` or `event` is not a known state or event (a programming error).
 */
export function transition(from: CertificationState, event: CertificationEvent): CertificationState {
  assertEvent(event);
  const row = rowOf(from);
  const next = Object.hasOwn(row, event) ? row[event] : undefined;
  if (next === undefined) throw new IllegalTransitionError(from, event);
  return next;
}

function rowOf(state: CertificationState): TransitionTable[CertificationState] {
  // hasOwn: a state read from storage as 'constructor' must not find Object.prototype.
  if (!isCertificationState(state)) throw new RangeError(`unknown certification state: ${String(state)}`);
  return transitions[state];
}

function assertEvent(event: CertificationEvent): void {
  if (!isCertificationEvent(event)) throw new RangeError(`unknown certification event: ${String(event)}`);
}

// ---------------------------------------------------------------------------------------------
// Guards

export type ApprovalBlocker = 'needs_second_reviewer' | 'same_reviewer' | 'checks_failed' | 'checks_not_run';

export interface ApprovalInput {
  /** Approvals given on the current snapshot (a resubmission discards earlier ones), conflicted reviewers already left out. */
  approvals: ReadonlyArray<{ reviewerId: string }>;
  /** Distinct reviewers needed (default 2). */
  requiredApprovals?: number;
  /** Checks of the latest run with status `fail` (`warn` never blocks). */
  failingChecks: number;
  /** Whether the checks have run on the current snapshot. */
  checksRun: boolean;
}

export type ApprovalDecision = { ready: true } | { ready: false; reason: ApprovalBlocker; detail: string };

/** Distinct reviewers an approval needs unless told otherwise: four eyes. */
export const DEFAULT_REQUIRED_APPROVALS = 2;

/**
 * Whether a submission in review may take the `approve` event. Checks come first (no approval
 * count makes a failing snapshot approvable), then the reviewers: approvals count once per distinct
 * reviewer, so one reviewer approving twice is `same_reviewer`, not two approvals.
 * @throws RangeError when `requiredApprovals` is not an integer >= 1 or `failingChecks` not an integer >= 0.
 */
export function approvalDecision(input: ApprovalInput): ApprovalDecision {
  const required = input.requiredApprovals ?? DEFAULT_REQUIRED_APPROVALS;
  if (!Number.isInteger(required) || required < 1) throw new RangeError(`requiredApprovals must be an integer >= 1, not ${required}`);
  if (!Number.isInteger(input.failingChecks) || input.failingChecks < 0) {
    throw new RangeError(`failingChecks must be an integer >= 0, not ${input.failingChecks}`);
  }
  if (!input.checksRun) {
    return { ready: false, reason: 'checks_not_run', detail: 'The checks have not run on this version of the submission.' };
  }
  if (input.failingChecks > 0) {
    const checks = input.failingChecks === 1 ? '1 check fails' : `${input.failingChecks} checks fail`;
    return { ready: false, reason: 'checks_failed', detail: `${checks}; a submission with a failing check cannot be approved.` };
  }
  const distinct = new Set(input.approvals.map((approval) => approval.reviewerId)).size;
  if (distinct >= required) return { ready: true };
  const missing = required - distinct;
  const needed = `${required} different reviewers must approve; ${missing} more ${missing === 1 ? 'is' : 'are'} needed`;
  if (input.approvals.length > distinct) {
    return { ready: false, reason: 'same_reviewer', detail: `An approval by the same reviewer counts once: ${needed}.` };
  }
  return { ready: false, reason: 'needs_second_reviewer', detail: `${distinct} approved so far; ${needed}.` };
}

export interface ReviewerConflictInput {
  reviewer: { id: string; email: string; publisherIds: readonly string[] };
  publisher: { id: string; domains: readonly string[] };
}

/**
 * Why this reviewer may not review an app of this publisher, or null when nothing links them:
 * the reviewer is linked to the publisher, or the reviewer's email domain is one of the publisher's
 * domains or under one (`dev.example.fr` is under `example.fr`; `notexample.fr` is not). Domains
 * compare case-insensitively, ignoring a final dot. An email without a domain is a conflict: the
 * rule cannot be shown to hold, and reviewing is the privilege, not the default.
 */
export function reviewerConflict(input: ReviewerConflictInput): string | null {
  const { reviewer, publisher } = input;
  if (reviewer.publisherIds.includes(publisher.id)) {
    return `Reviewer ${reviewer.id} is linked to publisher ${publisher.id}.`;
  }
  const at = reviewer.email.lastIndexOf('@');
  const emailDomain = at < 0 ? '' : normalizeDomain(reviewer.email.slice(at + 1));
  if (emailDomain === '') {
    return `Reviewer ${reviewer.id} has no email domain, so independence from publisher ${publisher.id} cannot be checked.`;
  }
  for (const raw of publisher.domains) {
    const domain = normalizeDomain(raw);
    if (domain === '') continue;
    if (emailDomain === domain) {
      return `Reviewer ${reviewer.id}'s email domain ${emailDomain} is a domain of publisher ${publisher.id}.`;
    }
    if (emailDomain.endsWith(`.${domain}`)) {
      return `Reviewer ${reviewer.id}'s email domain ${emailDomain} is under ${domain}, a domain of publisher ${publisher.id}.`;
    }
  }
  return null;
}

function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

// ---------------------------------------------------------------------------------------------
// The app-level status

export interface AppStatusInput {
  /** State of the app's live certificate (certified or suspended), if it has one. */
  liveCertificate: CertificationState | null;
  /** The app's latest submission and when its state last changed. */
  latestSubmission: { state: CertificationState; at: Date } | null;
  /** The app's most recently ended certificate (revoked, expired, superseded) and when it ended. */
  lastEndedCertificate: { state: CertificationState; at: Date } | null;
}

/**
 * The app's `certificationStatus`, which drives the public catalogue and the OAuth cut-off:
 * 1. the live certificate's state, when there is one (a renewal under review does not hide that
 *    the app is certified or suspended);
 * 2. otherwise the state of whichever is newer, the latest submission or the last ended
 *    certificate (a submission made after a certificate expired shows its progress; a certificate
 *    revoked after its submission was certified shows `revoked`); on equal times the submission;
 * 3. otherwise `draft`.
 * @throws RangeError when `liveCertificate` is not a live state or a time is an invalid Date.
 */
export function appStatus(input: AppStatusInput): CertificationState {
  const { liveCertificate, latestSubmission, lastEndedCertificate } = input;
  if (liveCertificate !== null) {
    if (!(liveCertificateStates as readonly string[]).includes(liveCertificate)) {
      throw new RangeError(`a live certificate is certified or suspended, not ${liveCertificate}`);
    }
    return liveCertificate;
  }
  for (const record of [latestSubmission, lastEndedCertificate]) {
    if (record && Number.isNaN(record.at.getTime())) throw new RangeError('appStatus: invalid Date');
  }
  if (latestSubmission && lastEndedCertificate) {
    return lastEndedCertificate.at.getTime() > latestSubmission.at.getTime() ? lastEndedCertificate.state : latestSubmission.state;
  }
  return latestSubmission?.state ?? lastEndedCertificate?.state ?? 'draft';
}

function deepFreeze(table: TransitionTable): TransitionTable {
  for (const row of Object.values(table)) Object.freeze(row);
  return Object.freeze(table);
}
