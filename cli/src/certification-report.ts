// The portable report of one submission (`mes review report`): what was certified, every check
// with its evidence, every review with its verdicts, the submission's decisions in the public log
// (their hashes recomputed) and the certificate; as JSON, a standalone HTML page or Markdown.
// Every value comes from the server or the publisher: each is escaped for the format it lands in.
import { type Certificate, type PublisherClient } from '@mes/sdk/publisher';
import { decisionHash } from '@mes/sdk/certification';
import { oneLine } from './output.js';
import { actorName, APPROVALS_NEEDED, type CheckRun, type Criteria, type Decision, type Submission } from './certification-views.js';

type Snapshot = Submission['snapshot'];

export const reportFormats = ['json', 'html', 'md'] as const;
export type ReportFormat = (typeof reportFormats)[number];

export interface ReportVerdict {
  criterion: string;
  /** The criterion's title in the submission's criteria version (null for an unknown one). */
  title: { fr: string; en?: string } | null;
  verdict: 'pass' | 'fail' | 'not_applicable';
  note: string | null;
}

export interface ReportReview {
  id: string;
  reviewer: { id: string | null; name: string | null };
  decision: 'approve' | 'reject' | 'request_changes';
  at: string;
  superseded: boolean;
  criteriaVersion: string;
  note: string;
  verdicts: ReportVerdict[];
}

export interface CertificationReport {
  generatedAt: string;
  source: string;
  submission: {
    id: string;
    state: Submission['state'];
    version: string;
    criteriaVersion: string;
    submittedAt: string;
    updatedAt: string;
    approvals: number;
    note: string | null;
    sandboxClientId: string | null;
  };
  app: { id: string; name: string };
  publisher: { id: string; name: string; registrationNumber: string };
  snapshot: Snapshot;
  checks: CheckRun | null;
  reviews: ReportReview[];
  /** The submission's entries of the public decision log; `hashVerified`: the hash recomputed here matches. */
  decisions: (Decision & { hashVerified: boolean })[];
  certificate: Certificate | null;
}

/** Gathers the report of a submission: the submission, its criteria, its certificate. */
export async function buildReport(client: PublisherClient, submissionId: string, now = new Date()): Promise<CertificationReport> {
  const submission = await client.certification.submission(submissionId);
  const [criteria, certificate] = await Promise.all([
    client.certification.criteria(submission.criteriaVersion),
    submission.certificateId ? client.certification.certificate(submission.certificateId) : Promise.resolve(null),
  ]);
  const titles = criterionTitles(criteria);
  return {
    generatedAt: now.toISOString(),
    source: client.baseUrl,
    submission: {
      id: submission.id,
      state: submission.state,
      version: submission.version,
      criteriaVersion: submission.criteriaVersion,
      submittedAt: submission.submittedAt,
      updatedAt: submission.updatedAt,
      approvals: submission.approvals,
      note: submission.note,
      sandboxClientId: submission.sandboxClientId,
    },
    app: { id: submission.appId, name: submission.appName },
    publisher: { id: submission.publisherId, name: submission.publisherName, registrationNumber: submission.publisherRegistrationNumber },
    snapshot: submission.snapshot,
    checks: submission.checks,
    reviews: submission.reviews.map((review) => ({
      id: review.id,
      reviewer: { id: review.reviewer.id, name: review.reviewer.name ?? null },
      decision: review.decision,
      at: review.at,
      superseded: review.superseded ?? false,
      criteriaVersion: review.criteriaVersion,
      note: review.note,
      verdicts: review.verdicts.map((verdict) => ({ criterion: verdict.criterion, title: titles.get(verdict.criterion) ?? null, verdict: verdict.verdict, note: verdict.note ?? null })),
    })),
    decisions: await Promise.all(submission.decisions.map(async (decision) => ({ ...decision, hashVerified: (await decisionHash(decision)) === decision.hash }))),
    certificate,
  };
}

function criterionTitles(criteria: Criteria): Map<string, { fr: string; en?: string }> {
  const titles = new Map<string, { fr: string; en?: string }>();
  for (const group of criteria.groups) for (const criterion of group.criteria) titles.set(criterion.id, criterion.title);
  return titles;
}

export function renderReport(report: CertificationReport, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return format === 'html' ? renderHtml(report) : renderMarkdown(report);
}

// --- What both documents say, as label/value rows ---------------------------------------------------

type Rows = [string, string][];
const title = (text: { fr: string; en?: string } | null) => (text ? (text.en && text.en !== text.fr ? `${text.fr} / ${text.en}` : text.fr) : 'unknown criterion');
const reviewerName = (review: ReportReview) => review.reviewer.name ?? review.reviewer.id ?? 'unknown reviewer';

function summaryRows(report: CertificationReport): Rows {
  const { submission, app, publisher } = report;
  return [
    ['App', `${app.name} (${app.id})`],
    ['Publisher', `${publisher.name} (registration ${publisher.registrationNumber}, ${publisher.id})`],
    ['Version', submission.version],
    ['Criteria version', submission.criteriaVersion],
    ['State', submission.state],
    ['Approvals', `${submission.approvals} of ${APPROVALS_NEEDED}`],
    ['Submission', submission.id],
    ['Submitted', submission.submittedAt],
    ['Updated', submission.updatedAt],
    ['Publisher note', submission.note ?? '-'],
    ['Sandbox client', submission.sandboxClientId ?? '-'],
    ['Certificate', report.certificate ? `${report.certificate.reference} (${report.certificate.state})` : 'none'],
    ['Generated', `${report.generatedAt} from ${report.source}`],
  ];
}

function snapshotRows(snapshot: Snapshot): Rows {
  const compliance = snapshot.compliance;
  return [
    ['Name', snapshot.name],
    ['Redirect URIs', snapshot.redirectUris.join(', ') || '-'],
    ['Privacy policy', snapshot.privacyPolicyUrl],
    ['Terms', snapshot.termsUrl],
    ...((compliance
      ? [
          ['Application type', compliance.applicationType],
          ['Hosting', `${compliance.hosting.provider} (HDS certificate ${compliance.hosting.certificateReference})`],
          ['Data protection officer', `${compliance.dataProtectionOfficer.name} <${compliance.dataProtectionOfficer.email}>`],
          ['Security contact', compliance.securityContact.email],
          ['Retention', compliance.retentionPeriod],
        ]
      : [['Compliance', 'missing']]) as Rows),
  ];
}

function certificateRows(certificate: Certificate): Rows {
  return [
    ['Reference', certificate.reference],
    ['ID', certificate.id],
    ['State', `${certificate.state} since ${certificate.stateChangedAt}${certificate.stateReason ? ` (${certificate.stateReason})` : ''}`],
    ['Version', certificate.version],
    ['Valid', `${certificate.validFrom} to ${certificate.validUntil}`],
    ['Issued', certificate.issuedAt],
    ['Scopes', certificate.scopes.join(' ')],
    ['Redirect URIs', certificate.redirectUris.join(', ')],
    ['Criteria version', certificate.criteriaVersion],
    ['Decisions', certificate.decisions.join(', ')],
  ];
}

const checkCounts = (run: CheckRun) => `${run.counts.pass} pass, ${run.counts.fail} fail, ${run.counts.warn} warn`;
const ranBy = (run: CheckRun) => `Ran ${run.ranAt} by ${actorName(run.ranBy)}${run.sandboxClientId ? ` on the recorded traffic of sandbox client ${run.sandboxClientId}` : ''}: ${checkCounts(run)}.`;
const json = (value: unknown) => JSON.stringify(value, null, 2);

// --- Markdown (GitHub) -------------------------------------------------------------------------------

/**
 * Text in Markdown, inline (never at the start of a line): one line, and every character that
 * could start inline markup, HTML, an entity, math or a table cell backslash-escaped.
 */
const md = (text: string) => oneLine(text).replace(/[\\`*_[\]<>|~&$]/g, '\\$&');
/** Text in a code span, with a backtick run longer than any inside it. */
function mdCode(text: string): string {
  const value = oneLine(text).replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${value.startsWith('`') || value.endsWith('`') ? ` ${value} ` : value}${fence}`;
}
/** A fenced block that no line of the content can close. */
function mdFence(content: string, lang = ''): string {
  const longest = Math.max(2, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${content}\n${fence}`;
}
function mdTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}
const mdRows = (rows: Rows) => mdTable(['', ''], rows.map(([label, value]) => [`**${label}**`, md(value)]));

function renderMarkdown(report: CertificationReport): string {
  const out: string[] = [];
  out.push(`# Certification report: ${md(report.app.name)} ${md(report.submission.version)}`, '', mdRows(summaryRows(report)));

  out.push('', '## Snapshot', '', 'What the certification covers, as submitted.', '', mdRows(snapshotRows(report.snapshot)), '');
  out.push(
    mdTable(
      ['Scope', 'Purpose', 'Required', 'Justification'],
      report.snapshot.scopes.map((scope) => [mdCode(scope.scope), md(scope.purpose ?? '-'), scope.required ? 'yes' : 'no', md(scope.justification)]),
    ),
  );

  out.push('', '## Automated checks', '');
  const run = report.checks;
  if (!run) out.push('No check has run.');
  else {
    out.push(md(ranBy(run)), '');
    out.push(mdTable(['Status', 'Check', 'Summary', 'Remedy'], run.results.map((r) => [`**${md(r.status)}**`, mdCode(r.id), md(r.summary), r.status === 'pass' ? '' : md(r.remedy)])));
    for (const result of run.results) {
      out.push('', `### ${mdCode(result.id)}: ${md(result.status)}`, '', `**${md(result.title)}** (${md(result.group)}). ${md(result.summary)}`, '');
      out.push(`Remedy: ${md(result.remedy)}`, '', 'Evidence:', '', mdFence(json(result.evidence), 'json'));
    }
  }

  out.push('', '## Reviews', '');
  if (report.reviews.length === 0) out.push('No review yet.');
  for (const review of report.reviews) {
    out.push(`### ${md(reviewerName(review))}: ${md(review.decision)}${review.superseded ? ' (superseded)' : ''}`, '');
    out.push(mdRows([['Reviewer', `${reviewerName(review)} (${review.reviewer.id ?? '-'})`], ['Decision', review.decision], ['At', review.at], ['Criteria version', review.criteriaVersion], ['Note', review.note]]), '');
    out.push(mdTable(['Criterion', 'Title', 'Verdict', 'Note'], review.verdicts.map((v) => [mdCode(v.criterion), md(title(v.title)), `**${md(v.verdict)}**`, md(v.note ?? '')])), '');
  }

  out.push('', '## Decision log', '', 'The entries of the public, hash-chained decision log for this submission. Verify the whole chain with `mes log verify`.', '');
  out.push(
    mdTable(
      ['Seq', 'Kind', 'At', 'Actor', 'Reason', 'Hash', 'Previous hash', 'Hash verified'],
      report.decisions.map((d) => [String(d.seq), md(d.kind), md(d.at), md(`${d.actor.type} ${d.actor.id ?? ''}`.trim()), md(d.reason ?? '-'), mdCode(d.hash), mdCode(d.previousHash), d.hashVerified ? 'yes' : '**NO**']),
    ),
  );

  out.push('', '## Certificate', '');
  if (!report.certificate) out.push('No certificate.');
  else out.push(mdRows(certificateRows(report.certificate)), '', 'Signed certificate (JWS), verifiable offline with `mes certs verify`:', '', mdFence(report.certificate.jws));
  return `${out.join('\n')}\n`;
}

// --- HTML (a standalone page) -------------------------------------------------------------------------

/** Text in HTML, in an element or a quoted attribute; control characters (but newlines and tabs) dropped. */
const html = (text: string) =>
  text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function htmlRows(rows: Rows): string {
  return `<table class="facts">${rows.map(([label, value]) => `<tr><th scope="row">${html(label)}</th><td>${html(value)}</td></tr>`).join('')}</table>`;
}
/** A table whose cells are HTML the callers built from escaped values. */
function htmlTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = `<tr>${headers.map((h) => `<th scope="col">${html(h)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('');
  return `<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
}
const status = (value: string) => `<span class="status ${html(value.replace(/[^a-z_]/g, ''))}">${html(value)}</span>`;

const style = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1e1e1e;max-width:72rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;border-bottom:3px solid #000091;padding-bottom:.3rem}h2{font-size:1.25rem;margin-top:2.2rem;color:#000091}h3{font-size:1.05rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f0f0f8}table.facts th{width:14rem;background:#f6f6f6;font-weight:600}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}pre{background:#f6f6f6;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-all}
.status{font-weight:700}.pass{color:#18753c}.fail,.reject,.request_changes{color:#ce0500}.warn,.not_applicable{color:#b34000}
details{margin:.3rem 0}summary{cursor:pointer}footer{margin-top:2.5rem;color:#666;font-size:.85rem}
@media print{details{display:block}details>*{display:block}}`;

function renderHtml(report: CertificationReport): string {
  const heading = `Certification report: ${report.app.name} ${report.submission.version}`;
  const body: string[] = [`<h1>${html(heading)}</h1>`, htmlRows(summaryRows(report))];

  body.push('<h2>Snapshot</h2><p>What the certification covers, as submitted.</p>', htmlRows(snapshotRows(report.snapshot)));
  body.push(htmlTable(['Scope', 'Purpose', 'Required', 'Justification'], report.snapshot.scopes.map((s) => [`<code>${html(s.scope)}</code>`, html(s.purpose ?? '-'), s.required ? 'yes' : 'no', html(s.justification)])));

  body.push('<h2>Automated checks</h2>');
  const run = report.checks;
  if (!run) body.push('<p>No check has run.</p>');
  else {
    body.push(`<p>${html(ranBy(run))}</p>`);
    body.push(
      htmlTable(
        ['Status', 'Check', 'Summary', 'Remedy', 'Evidence'],
        run.results.map((r) => [
          status(r.status),
          `<code>${html(r.id)}</code><br>${html(r.title)}`,
          html(r.summary),
          html(r.remedy),
          `<details><summary>JSON</summary><pre>${html(json(r.evidence))}</pre></details>`,
        ]),
      ),
    );
  }

  body.push('<h2>Reviews</h2>');
  if (report.reviews.length === 0) body.push('<p>No review yet.</p>');
  for (const review of report.reviews) {
    body.push(`<h3>${html(reviewerName(review))}: ${status(review.decision)}${review.superseded ? ' (superseded)' : ''}</h3>`);
    body.push(htmlRows([['Reviewer', `${reviewerName(review)} (${review.reviewer.id ?? '-'})`], ['Decision', review.decision], ['At', review.at], ['Criteria version', review.criteriaVersion], ['Note', review.note]]));
    body.push(htmlTable(['Criterion', 'Title', 'Verdict', 'Note'], review.verdicts.map((v) => [`<code>${html(v.criterion)}</code>`, html(title(v.title)), status(v.verdict), html(v.note ?? '')])));
  }

  body.push('<h2>Decision log</h2><p>The entries of the public, hash-chained decision log for this submission. Verify the whole chain with <code>mes log verify</code>.</p>');
  body.push(
    htmlTable(
      ['Seq', 'Kind', 'At', 'Actor', 'Reason', 'Hash', 'Previous hash', 'Hash verified'],
      report.decisions.map((d) => [
        String(d.seq),
        html(d.kind),
        html(d.at),
        html(`${d.actor.type} ${d.actor.id ?? ''}`.trim()),
        html(d.reason ?? '-'),
        `<code>${html(d.hash)}</code>`,
        `<code>${html(d.previousHash)}</code>`,
        d.hashVerified ? status('pass') : status('fail'),
      ]),
    ),
  );

  body.push('<h2>Certificate</h2>');
  if (!report.certificate) body.push('<p>No certificate.</p>');
  else body.push(htmlRows(certificateRows(report.certificate)), '<p>Signed certificate (JWS), verifiable offline with <code>mes certs verify</code>:</p>', `<pre>${html(report.certificate.jws)}</pre>`);

  body.push(`<footer>Generated ${html(report.generatedAt)} from ${html(report.source)} by mes review report.</footer>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${html(heading)}</title>
<style>${style}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
