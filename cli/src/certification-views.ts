// How certification looks in human output: check runs, submissions (the reviewers' queue, one
// submission with its snapshot, reviews and decisions), an app's certification status,
// certificates, criteria, and the verdicts of `mes certs verify` and `mes log verify`.
import type { Certificate, components, SubmissionSummary } from '@mes/sdk/publisher';
import type { CertificateClaims, CertificateVerification, DecisionLogVerification } from '@mes/sdk/certification';
import { certificationMessages as m } from './certification-messages.js';
import { details, oneLine, shortDate, table } from './output.js';

type Schemas = components['schemas'];
export type CheckRun = Schemas['CheckRun'];
export type CheckResult = Schemas['CheckResult'];
export type Submission = Schemas['Submission'];
export type Review = Schemas['Review'];
export type Decision = Schemas['Decision'];
export type Criteria = Schemas['Criteria'];
export type CertificationOverview = Schemas['CertificationOverview'];
export type Actor = Schemas['Actor'];
type Compliance = Schemas['Compliance'];
type LocalizedText = Schemas['LocalizedText'];

/** Approvals a submission needs, from two different reviewers. */
export const APPROVALS_NEEDED = 2;

const section = (title: string, body: string) => `${oneLine(title)}\n${body}`;
const indent = (text: string) => text.split('\n').map((line) => (line ? `  ${line}` : line)).join('\n');
const bilingual = (text: LocalizedText) => (text.en && text.en !== text.fr ? `${text.fr} / ${text.en}` : text.fr);

export const actorName = (actor: Actor) => (actor.type === 'system' ? 'system' : actor.name ? `${actor.name} (${actor.type} ${actor.id ?? '-'})` : `${actor.type} ${actor.id ?? '-'}`);
const failingChecks = (count: number | null) => (count === null ? 'not run' : String(count));
const approvals = (count: number) => `${count}/${APPROVALS_NEEDED}`;
const validity = (certificate: Pick<Certificate, 'validFrom' | 'validUntil'>) => `${shortDate(certificate.validFrom)} to ${shortDate(certificate.validUntil)}`;

// --- Checks --------------------------------------------------------------------------------------

export function checksTable(results: readonly CheckResult[]): string {
  return table(results, [
    { header: 'status', get: (result) => result.status },
    { header: 'id', get: (result) => result.id },
    { header: 'summary', get: (result) => result.summary },
  ]);
}

/** A check run: who ran it on what, a row per check, then the remedy of each failing one. */
export function checkRunView(run: CheckRun): string {
  const head = details([
    ['Ran', `${shortDate(run.ranAt)} by ${actorName(run.ranBy)}`],
    ['Sandbox client', run.sandboxClientId],
    ['Results', `${run.counts.pass} pass, ${run.counts.fail} fail, ${run.counts.warn} warn`],
  ]);
  const failing = run.results.filter((result) => result.status === 'fail');
  const parts = [head, checksTable(run.results)];
  if (failing.length) parts.push(section(m.remediesHeader, failing.map((result) => `  - ${oneLine(result.id)}: ${oneLine(result.remedy)}`).join('\n')));
  parts.push(failing.length ? m.checksFailing(failing.length) : m.checksAllPass(run.results.length));
  return parts.join('\n\n');
}

// --- Submissions ---------------------------------------------------------------------------------

/** The reviewers' queue. */
export function reviewQueueTable(items: readonly SubmissionSummary[]): string {
  return table(items, [
    { header: 'id', get: (item) => item.id },
    { header: 'app', get: (item) => item.appName },
    { header: 'publisher', get: (item) => item.publisherName },
    { header: 'version', get: (item) => item.version },
    { header: 'state', get: (item) => item.state },
    { header: 'approvals', get: (item) => approvals(item.approvals) },
    { header: 'failing checks', get: (item) => failingChecks(item.failingChecks) },
    { header: 'conflict', get: (item) => item.conflict ?? '-' },
  ]);
}

/** An app's own submissions, newest first. */
export function appSubmissionsTable(items: readonly SubmissionSummary[]): string {
  return table(items, [
    { header: 'id', get: (item) => item.id },
    { header: 'version', get: (item) => item.version },
    { header: 'state', get: (item) => item.state },
    { header: 'approvals', get: (item) => approvals(item.approvals) },
    { header: 'failing checks', get: (item) => failingChecks(item.failingChecks) },
    { header: 'submitted', get: (item) => shortDate(item.submittedAt) },
    { header: 'updated', get: (item) => shortDate(item.updatedAt) },
  ]);
}

/** ` [suivi, required]`: the scope's purpose and whether the app needs it, when given. */
function scopeTags(scope: Submission['snapshot']['scopes'][number]): string {
  const tags = [scope.purpose, scope.required ? 'required' : undefined].filter(Boolean);
  return tags.length ? ` [${tags.join(', ')}]` : '';
}

function complianceDetails(compliance: Compliance | null): readonly (readonly [string, string | readonly string[] | null])[] {
  if (!compliance) return [['Compliance', 'missing']];
  return [
    ['Application type', compliance.applicationType],
    ['Hosting', `${compliance.hosting.provider} (HDS certificate ${compliance.hosting.certificateReference})`],
    ['Data protection', `${compliance.dataProtectionOfficer.name} <${compliance.dataProtectionOfficer.email}>`],
    ['Security contact', compliance.securityContact.email],
    ['Retention', compliance.retentionPeriod],
  ];
}

export function snapshotDetails(snapshot: Submission['snapshot']): string {
  return details([
    ['Name', snapshot.name],
    ['Scopes', snapshot.scopes.map((s) => `${s.scope}${scopeTags(s)} — ${s.justification}`)],
    ['Redirect URIs', snapshot.redirectUris],
    ['Privacy policy', snapshot.privacyPolicyUrl],
    ['Terms', snapshot.termsUrl],
    ...complianceDetails(snapshot.compliance),
  ]);
}

/** One review: who decided what, the note, and every verdict that is not a plain pass. */
export function reviewView(review: Review): string {
  const remarks = review.verdicts.filter((verdict) => verdict.verdict !== 'pass' || verdict.note);
  return details([
    ['Reviewer', actorName(review.reviewer)],
    ['Decision', `${review.decision}${review.superseded ? ' (superseded: given before a resubmission, no longer counts)' : ''}`],
    ['At', shortDate(review.at)],
    ['Note', review.note],
    ['Verdicts', `${review.verdicts.filter((v) => v.verdict === 'pass').length} pass, ${review.verdicts.filter((v) => v.verdict === 'fail').length} fail, ${review.verdicts.filter((v) => v.verdict === 'not_applicable').length} not applicable (criteria ${review.criteriaVersion})`],
    ...(remarks.length ? [['Remarks', remarks.map((v) => `${v.criterion}: ${v.verdict}${v.note ? ` — ${v.note}` : ''}`)] as const] : []),
  ]);
}

export function reviewsView(reviews: readonly Review[]): string {
  return reviews.length ? reviews.map(reviewView).join('\n\n') : 'No review yet.';
}

export function decisionsTable(decisions: readonly Decision[]): string {
  return table(decisions, [
    { header: 'seq', get: (decision) => String(decision.seq) },
    { header: 'kind', get: (decision) => decision.kind },
    { header: 'at', get: (decision) => shortDate(decision.at) },
    { header: 'actor', get: (decision) => (decision.actor.type === 'system' ? 'system' : `${decision.actor.type} ${decision.actor.id ?? '-'}`) },
    { header: 'hash', get: (decision) => decision.hash.slice(0, 16) },
    { header: 'reason', get: (decision) => decision.reason ?? '-' },
  ]);
}

/** A submission for a reviewer: the facts, the snapshot, the latest checks, reviews and decisions. */
export function submissionDetails(submission: Submission): string {
  const head = details([
    ['ID', submission.id],
    ['App', `${submission.appName} (${submission.appId})`],
    ['Publisher', `${submission.publisherName} (${submission.publisherRegistrationNumber}, ${submission.publisherId})`],
    ['Version', submission.version],
    ['State', submission.state],
    ['Criteria', submission.criteriaVersion],
    ['Approvals', approvals(submission.approvals)],
    ['Failing checks', failingChecks(submission.failingChecks)],
    ['Conflict', submission.conflict ?? 'none: you may review it'],
    ['Submitted', shortDate(submission.submittedAt)],
    ['Updated', shortDate(submission.updatedAt)],
    ['Note', submission.note],
    ['Certificate', submission.certificateId],
  ]);
  return [
    head,
    section('Snapshot (what certification covers):', indent(snapshotDetails(submission.snapshot))),
    section('Latest checks:', indent(submission.checks ? checkRunView(submission.checks) : m.noChecks)),
    section('Reviews:', indent(reviewsView(submission.reviews))),
    section('Decisions:', indent(submission.decisions.length ? decisionsTable(submission.decisions) : '-')),
  ].join('\n\n');
}

/** The result of `mes apps submit`. */
export function submittedView(submission: Submission, resubmitted: boolean, bin: string): string {
  const line = (resubmitted ? m.resubmitted : m.submitted)(submission.version, submission.id, submission.state);
  const failing = submission.checks?.results.filter((result) => result.status === 'fail') ?? [];
  const parts = [
    oneLine(line),
    details([
      ['Submission', submission.id],
      ['State', submission.state],
      ['Criteria', submission.criteriaVersion],
      ['Failing checks', failingChecks(submission.failingChecks)],
    ]),
  ];
  if (failing.length) {
    parts.push(checksTable(failing));
    parts.push(section(m.remediesHeader, failing.map((result) => `  - ${oneLine(result.id)}: ${oneLine(result.remedy)}`).join('\n')));
    parts.push(m.failingChecksAfterSubmit(failing.length, bin, submission.appId));
  }
  return parts.join('\n\n');
}

// --- An app's certification ------------------------------------------------------------------------

/** `mes apps status`: status, live certificate, the submission under way and its reviews, history. */
export function certificationOverviewView(overview: CertificationOverview, bin: string): string {
  const { certificate, openSubmission: open } = overview;
  const parts = [
    details([
      ['App', overview.appId],
      ['Status', overview.status],
    ]),
    section(
      'Certificate:',
      indent(
        certificate
          ? details([
              ['Reference', certificate.reference],
              ['Version', certificate.version],
              ['State', certificate.state],
              ['Valid', validity(certificate)],
              ['ID', certificate.id],
              ...(certificate.stateReason ? [['Reason', certificate.stateReason] as const] : []),
            ])
          : m.noCertificate,
      ),
    ),
  ];
  if (open) {
    const body = [
      details([
        ['ID', open.id],
        ['Version', open.version],
        ['State', open.state],
        ['Approvals', approvals(open.approvals)],
        ['Failing checks', failingChecks(open.failingChecks)],
        ['Submitted', shortDate(open.submittedAt)],
        ['Note', open.note],
      ]),
      section('Reviews:', indent(reviewsView(open.reviews))),
    ];
    if (open.state === 'changes_requested') body.push(m.changesRequestedHint(bin, overview.appId, open.version));
    parts.push(section('Submission under way:', indent(body.join('\n\n'))));
  } else {
    parts.push(section('Submission under way:', indent(m.noOpenSubmission)));
  }
  parts.push(section('Submissions:', indent(overview.submissions.length ? appSubmissionsTable(overview.submissions) : `${m.noSubmissions} ${m.submitHint(bin, overview.appId)}`)));
  return parts.join('\n\n');
}

// --- Certificates ----------------------------------------------------------------------------------

export function certificatesTable(certificates: readonly Certificate[]): string {
  return table(certificates, [
    { header: 'id', get: (certificate) => certificate.id },
    { header: 'reference', get: (certificate) => certificate.reference },
    { header: 'app', get: (certificate) => certificate.appName },
    { header: 'version', get: (certificate) => certificate.version },
    { header: 'state', get: (certificate) => certificate.state },
    { header: 'valid until', get: (certificate) => shortDate(certificate.validUntil) },
  ]);
}

export function certificateDetails(certificate: Certificate): string {
  return details([
    ['ID', certificate.id],
    ['Reference', certificate.reference],
    ['App', `${certificate.appName} (${certificate.appId})`],
    ['Publisher', certificate.publisherId],
    ['Version', certificate.version],
    ['State', certificate.state],
    ['Since', shortDate(certificate.stateChangedAt)],
    ['Reason', certificate.stateReason],
    ['Valid', validity(certificate)],
    ['Issued', shortDate(certificate.issuedAt)],
    ['Scopes', certificate.scopes],
    ['Redirect URIs', certificate.redirectUris],
    ['Criteria', certificate.criteriaVersion],
    ['Submission', certificate.submissionId],
    ['Decisions', certificate.decisions],
  ]);
}

const epoch = (seconds: number | undefined) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null);

/** What a certificate says, from its signed claims. */
export function claimsDetails(claims: CertificateClaims): readonly (readonly [string, string | readonly string[] | null])[] {
  return [
    ['Reference', claims.reference],
    ['App', `${claims.app_name} (${claims.sub})`],
    ['Publisher', claims.publisher ? `${claims.publisher.name} (${claims.publisher.registration_number}, ${claims.publisher.id})` : null],
    ['Version', claims.version],
    ['Scopes', claims.scopes],
    ['Redirect URIs', claims.redirect_uris],
    ['Valid', `${shortDate(epoch(claims.nbf))} to ${shortDate(epoch(claims.exp))}`],
    ['Criteria', claims.criteria_version],
    ['Certificate', claims.jti],
    ['Issuer', claims.iss],
    ['Decisions', claims.decisions],
  ];
}

// --- Criteria --------------------------------------------------------------------------------------

export function criteriaView(criteria: Criteria): string {
  const groups = criteria.groups.map((group) =>
    section(
      `${group.id}: ${bilingual(group.title)}`,
      group.criteria
        .map((criterion) =>
          indent(
            details([
              ['Criterion', criterion.id],
              ['Title', bilingual(criterion.title)],
              ['Guidance', criterion.guidance.en && criterion.guidance.en !== criterion.guidance.fr ? [criterion.guidance.fr, `(en) ${criterion.guidance.en}`] : criterion.guidance.fr],
              ['Checks', criterion.checks ?? []],
            ]),
          ),
        )
        .join('\n\n'),
    ),
  );
  return [details([['Criteria', criteria.version], ['In effect', criteria.effectiveFrom]]), ...groups].join('\n\n');
}

// --- Verification ----------------------------------------------------------------------------------

/** What `mes certs verify` found: the offline verdict, where its inputs came from, the state now. */
export type CertificateVerifyResult = CertificateVerification & {
  certificate: { source: 'api' | 'file' | 'stdin' | 'argument'; id?: string; file?: string };
  keys: { source: 'api' | 'file'; file?: string; kids: string[] };
  offline: boolean;
  /** The certificate's state now, from the API; null offline or when the API could not say. */
  state: Pick<Certificate, 'id' | 'state' | 'stateReason' | 'stateChangedAt'> | null;
  stateError?: string;
};

export function certificateVerificationView(result: CertificateVerifyResult): string {
  const verdict = result.valid
    ? `Valid certificate: signed by platform key ${result.kid}.`
    : `Invalid certificate: ${result.reason}: ${result.detail}.`;
  const keys = result.keys.source === 'file' ? `from ${result.keys.file} (${result.keys.kids.join(', ') || 'no key id'})` : `from the API (${result.keys.kids.join(', ') || 'no key id'})`;
  const state = result.offline
    ? 'not checked (--offline)'
    : result.state
      ? `${result.state.state} since ${shortDate(result.state.stateChangedAt)}${result.state.stateReason ? ` (${result.state.stateReason})` : ''}`
      : m.stateUnavailable(result.stateError ?? 'no answer');
  const parts = [oneLine(verdict)];
  if (result.claims) {
    const label = result.valid ? 'What it certifies:' : 'What it claims (not to be trusted: the verification failed):';
    parts.push(section(label, indent(details(claimsDetails(result.claims)))));
  }
  parts.push(details([['Keys', keys], ['State now', state]]));
  if (result.valid && result.state && result.state.state !== 'certified') parts.push(oneLine(m.stateWarning(result.state.state, result.state.stateReason)));
  return parts.join('\n\n');
}

/** What `mes log verify` found, with where the log came from. */
export type LogVerifyResult = DecisionLogVerification & { source: 'api' | 'file'; file?: string; publishedHead: { seq: number; hash: string } | null };

export function logVerificationView(result: LogVerifyResult): string {
  const line = result.valid ? m.logValid(result.entries, result.head.seq, result.head.hash) : m.logBroken(result.seq, result.reason, result.detail);
  const parts = [oneLine(line), details([['Source', result.source === 'file' ? result.file : 'the API (/certification/decisions)'], ['Entries verified', String(result.entries)]])];
  if (!result.publishedHead) parts.push(m.logNoHead);
  return parts.join('\n\n');
}
