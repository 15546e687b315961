// The certification workflow driven from `mes`, against a real server: a publisher runs the checks
// and submits, two reviewers read the queue and the submission, fill the criteria file and
// approve, the certificate verifies online and offline (and a tampered one does not), suspension
// shows, the decision log verifies, the report carries everything (escaped); bad criteria files
// are refused locally and change nothing, a linked reviewer is refused, changes requested reach
// the publisher, and a failing check fails `mes apps checks`.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from '@mes/catalog-api';
import type { Certificate, PageData, SubmissionSummary } from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertifiableApp, createReviewer, OPERATOR_TOKEN, startPublisherHost, type CertifiableApp } from '../../../catalog-api/test/certification-helpers.js';
import type { TestHttpsServer } from '../../../catalog-api/test/https-server.js';
import type { ErrorJson } from '../../src/base-command.js';
import type { CertificationReport } from '../../src/certification-report.js';
import type { CertificateVerifyResult, CheckRun, CertificationOverview, LogVerifyResult, Submission } from '../../src/certification-views.js';
import type { ReviewOutcome } from '../../src/review-decision.js';
import type { CriteriaTemplate } from '../../src/review-verdicts.js';
import { mes, mesProcess, tempConfigDir } from '../helpers/cli.js';

/** Nothing answers there: a command that calls it fails to connect. */
const UNREACHABLE = 'http://127.0.0.1:9';

let host: TestHttpsServer;
let server: TestServer;
let config: Awaited<ReturnType<typeof tempConfigDir>>;
let reviewerA: { id: string; key: string };
let reviewerB: { id: string; key: string };

beforeAll(async () => {
  host = await startPublisherHost();
  server = await startTestServer({ operatorToken: OPERATOR_TOKEN, outboundAllowPrivateNetworks: true }, { outbound: { ca: host.ca, resolve: host.resolve } });
  config = await tempConfigDir();
  process.env.MES_CONFIG_DIR = config.dir;
  process.env.MES_API_URL = server.url;
  delete process.env.MES_API_KEY;
  delete process.env.MES_TOKEN;
  reviewerA = await createReviewer(server, 'cli-reviewer-a');
  reviewerB = await createReviewer(server, 'cli-reviewer-b');
});

afterAll(async () => {
  await server?.close();
  await host?.close();
  await config?.remove();
});

const as = (key: string) => ({ MES_TOKEN: key });
/** A file next to the configuration directory (which the CLI creates only when it saves a login). */
const file = async (name: string, content: unknown) => {
  const path = join(dirname(config.dir), name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
};
const logHead = async () => ((await (await fetch(`${server.url}/certification/decisions?limit=1`)).json()) as { head: { seq: number; hash: string } }).head;
const jsonError = (stdout: string) => (JSON.parse(stdout) as ErrorJson).error;

async function template(): Promise<CriteriaTemplate> {
  const { stdout, exitCode } = await mes(['review', 'criteria', '--template']);
  expect(exitCode).toBe(0);
  return JSON.parse(stdout) as CriteriaTemplate;
}

async function submit(app: CertifiableApp, version: string): Promise<Submission> {
  const { result, exitCode, stdout } = await mes<Submission>(['apps', 'submit', app.appId, '--version', version, '--json'], as(app.publisher.key));
  expect(exitCode, stdout).toBe(0);
  return result!;
}

describe('from the checks to a certificate', () => {
  let app: CertifiableApp;
  let submission: Submission;
  let certificate: Certificate;
  let jwksFile: string;
  let jwsFile: string;

  beforeAll(async () => {
    app = await createCertifiableApp(server, host, 'CLI Tensio SAS');
  });

  it('apps checks: every check passes for a well-behaved app, exit 0', async () => {
    const human = await mes(['apps', 'checks', app.appId], as(app.publisher.key));
    expect(human.exitCode, human.stdout).toBe(0);
    expect(human.stdout).toMatch(/^STATUS\s+ID\s+SUMMARY$/m);
    expect(human.stdout).toMatch(/^pass\s+sandbox\.complete_flow\s+\S/m);
    expect(human.stdout).toMatch(/^All \d+ checks pass\.$/m);

    const json = await mes<CheckRun>(['apps', 'checks', app.appId, '--sandbox-client', app.clientId, '--json'], as(app.publisher.key));
    expect(json.exitCode).toBe(0);
    const run = JSON.parse(json.stdout) as CheckRun;
    expect(run).toMatchObject({ sandboxClientId: app.clientId, counts: { fail: 0 } });
    expect(run.results.map((result) => result.id)).toEqual(expect.arrayContaining(['redirect_uris.verified_domain', 'documents.privacy_policy', 'sandbox.rate_limit']));
  });

  it('apps submit: prints the submission, its state and failing checks', async () => {
    const human = await mes(['apps', 'submit', app.appId, '--version', '1.0.0', '--note', '"Première version."'], as(app.publisher.key));
    expect(human.exitCode, human.stdout).toBe(0);
    const id = /as submission (\S+) \(submitted\)/.exec(human.stdout)?.[1];
    expect(id).toBeTruthy();
    expect(human.stdout).toMatch(/^Failing checks:\s+0$/m);

    const status = await mes<CertificationOverview>(['apps', 'status', app.appId, '--json'], as(app.publisher.key));
    expect(status.result).toMatchObject({ status: 'submitted', certificate: null, openSubmission: { id, version: '1.0.0', state: 'submitted', approvals: 0 } });
    submission = status.result!.openSubmission as Submission;
  });

  it('review queue and review show give a reviewer what to judge on', async () => {
    const queue = await mes<PageData<SubmissionSummary>>(['review', 'queue'], as(reviewerA.key));
    expect(queue.exitCode, queue.stdout).toBe(0);
    expect(queue.stdout).toMatch(/^ID\s+APP\s+PUBLISHER\s+VERSION\s+STATE\s+APPROVALS\s+FAILING CHECKS\s+CONFLICT$/m);
    expect(queue.stdout).toMatch(new RegExp(`^${submission.id}\\s+\\S.*CLI Tensio SAS\\s+1\\.0\\.0\\s+submitted\\s+0/2\\s+0\\s+-$`, 'm'));
    const json = await mes<PageData<SubmissionSummary>>(['review', 'queue', '--state', 'submitted', '--json'], as(reviewerA.key));
    expect(json.result?.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: submission.id, conflict: null })]));

    const shown = await mes(['review', 'show', submission.id], as(reviewerA.key));
    expect(shown.exitCode, shown.stdout).toBe(0);
    expect(shown.stdout).toMatch(/patient\/Observation\.rs \[suivi\] — Lire vos mesures de tension/);
    expect(shown.stdout).toMatch(/^\s+Redirect URIs:\s+https:\/\/tensiosuivi\.example\.fr\/oauth\/callback$/m);
    expect(shown.stdout).toMatch(/Privacy policy:\s+https:\/\/tensiosuivi\.example\.fr:\d+\/confidentialite/);
    expect(shown.stdout).toMatch(/Hosting:\s+Hébergeur Santé SAS \(HDS certificate HDS-2025-0042\)/);
    expect(shown.stdout).toMatch(/^\s+pass\s+documents\.privacy_policy\s/m);
    expect(shown.stdout).toMatch(/^Conflict:\s+none/m);
    expect(shown.stdout).toMatch(/^\s+1\s+submit\s/m);
  });

  it('review check runs the checks again', async () => {
    const { exitCode, result } = await mes<CheckRun>(['review', 'check', submission.id, '--json'], as(reviewerA.key));
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({ counts: { fail: 0 }, ranBy: { type: 'reviewer', id: reviewerA.id } });
  });

  it('two reviewers approve with criteria files: the version is certified', async () => {
    const filled = await template();
    expect(Object.values(filled.verdicts).every((verdict) => verdict === 'pass')).toBe(true);
    expect(Object.keys(filled.verdicts)).toEqual(expect.arrayContaining(['ethics.purpose', 'security.keys', 'urbanisation.retention']));
    const criteriaA = await file('criteria-a.json', filled);
    const first = await mes(['review', 'approve', submission.id, '--criteria', criteriaA, '--note', '"Conforme aux critères."'], as(reviewerA.key));
    expect(first.exitCode, String(first.error)).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^Recorded approve on submission ${submission.id}: now in_review, 1 approval\\(s\\) of the 2 needed\\.$`, 'm'));

    // Reviewer B writes the list form, with a note that must never run as HTML in the report.
    const criteriaB = await file('criteria-b.json', {
      criteriaVersion: filled.criteriaVersion,
      verdicts: Object.keys(filled.verdicts).map((criterion) =>
        criterion === 'urbanisation.national_services'
          ? { criterion, verdict: 'not_applicable', note: '<script>alert("xss")</script> Aucun service national utilisé.' }
          : { criterion, verdict: 'pass' },
      ),
    });
    const second = await mes<ReviewOutcome>(['review', 'approve', submission.id, '--criteria', criteriaB, '--note', '"Vérifié en bac à sable."', '--json'], as(reviewerB.key));
    expect(second.exitCode, second.stdout).toBe(0);
    expect(second.result).toMatchObject({ submission: { state: 'certified', approvals: 2 }, certificate: { appId: app.appId, version: '1.0.0', state: 'certified' } });
    certificate = second.result!.certificate!;
    expect(certificate.reference).toMatch(/^MES-\d{4}-\d{6}$/);
  });

  it('apps status shows the live certificate', async () => {
    const { stdout, exitCode } = await mes(['apps', 'status', app.appId], as(app.publisher.key));
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Status:\s+certified$/m);
    expect(stdout).toMatch(new RegExp(`^\\s+Reference:\\s+${certificate.reference}$`, 'm'));
    expect(stdout).toMatch(/^\s+Version:\s+1\.0\.0$/m);
    expect(stdout).toMatch(/^\s+Valid:\s+\d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-/m);
    expect(stdout).toMatch(/No submission under way\./);
  });

  it('certs verify: valid online by id, offline with --jwks, from standard input', async () => {
    const online = await mes<CertificateVerifyResult>(['certs', 'verify', certificate.id]);
    expect(online.exitCode, online.stdout).toBe(0);
    expect(online.stdout).toMatch(/^Valid certificate: signed by platform key \S+\.$/m);
    expect(online.stdout).toMatch(new RegExp(`^\\s+Reference:\\s+${certificate.reference}$`, 'm'));
    expect(online.stdout).toMatch(/^\s+Scopes:\s+patient\/Observation\.rs$/m);
    expect(online.stdout).toMatch(/^State now:\s+certified since /m);

    const keys = await (await fetch(`${server.url}/certification/keys`)).json();
    jwksFile = await file('keys.json', keys);
    jwsFile = await file('certificate.jws', `${certificate.jws}\n`);
    // Offline: the API address answers nothing, and the verdict does not need it.
    const offline = await mes<CertificateVerifyResult>(['certs', 'verify', jwsFile, '--jwks', jwksFile, '--offline', '--json'], { MES_API_URL: UNREACHABLE });
    expect(offline.exitCode, offline.stdout).toBe(0);
    expect(offline.result).toMatchObject({
      valid: true,
      offline: true,
      state: null,
      keys: { source: 'file' },
      claims: { jti: certificate.id, sub: app.appId, version: '1.0.0', reference: certificate.reference, redirect_uris: ['https://tensiosuivi.example.fr/oauth/callback'] },
    });
    expect((offline.result!.claims as { decisions: string[] }).decisions).toHaveLength(2);

    // With --jwks but not --offline, an unreachable API only leaves the state unknown.
    const unreachable = await mes(['certs', 'verify', jwsFile, '--jwks', jwksFile], { MES_API_URL: UNREACHABLE });
    expect(unreachable.exitCode).toBe(0);
    expect(unreachable.stdout).toMatch(/^Valid certificate/m);
    expect(unreachable.stdout).toMatch(/^State now:\s+Current state unknown: the API did not answer/m);

    // The certificate's JSON (as "mes certs show --json" prints it) works too, and --offline refuses an id.
    const shown = await mes<Certificate>(['certs', 'show', certificate.id, '--json']);
    const jsonFile = await file('certificate.json', shown.stdout);
    expect((await mes(['certs', 'verify', jsonFile, '--jwks', jwksFile, '--offline'], { MES_API_URL: UNREACHABLE })).exitCode).toBe(0);
    const byId = await mes(['certs', 'verify', certificate.id, '--jwks', jwksFile, '--offline', '--json']);
    expect(byId.exitCode).toBe(1);
    expect(jsonError(byId.stdout).code).toBe('invalid_argument');

    const piped = await mesProcess(['certs', 'verify', '-', '--jwks', jwksFile, '--offline', '--json'], { MES_API_URL: UNREACHABLE }, certificate.jws);
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ valid: true, certificate: { source: 'stdin' } });
  });

  it('certs verify: a tampered certificate is invalid, exit 1', async () => {
    const [header, payload, signature] = certificate.jws.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, scopes: ['patient/*.rs'] })).toString('base64url')}.${signature}`;
    const tampered = await file('tampered.jws', forged);
    const human = await mes(['certs', 'verify', tampered, '--jwks', jwksFile, '--offline']);
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toMatch(/^Invalid certificate: bad_signature: the signature does not verify with key \S+\.$/m);
    expect(human.stdout).toMatch(/not to be trusted/);
    expect(human.stdout).toMatch(/^\s+Scopes:\s+patient\/\*\.rs$/m);

    const json = await mes<CertificateVerifyResult>(['certs', 'verify', tampered, '--json']);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, reason: 'bad_signature', keys: { source: 'api' } });

    const garbage = await mes(['certs', 'verify', await file('garbage.jws', 'not-a-certificate'), '--jwks', jwksFile, '--offline', '--json']);
    expect(garbage.exitCode).toBe(1);
    expect(JSON.parse(garbage.stdout)).toMatchObject({ valid: false, reason: 'malformed' });
  });

  it('review report: md, html and json carry the checks, both reviewers and the decisions; html escapes everything', async () => {
    const md = await mes(['review', 'report', submission.id, '--format', 'md'], as(reviewerA.key));
    expect(md.exitCode, String(md.error)).toBe(0);
    expect(md.stdout).toMatch(/^# Certification report: TensioSuivi 1\.0\.0$/m);
    expect(md.stdout).toContain('`sandbox.complete_flow`');
    expect(md.stdout).toMatch(/Reviewer cli-reviewer-a/);
    expect(md.stdout).toMatch(/Reviewer cli-reviewer-b/);
    expect(md.stdout).toContain('\\<script\\>');
    expect(md.stdout).not.toContain('<script>');
    expect(md.stdout).toContain(certificate.reference);
    expect(md.stdout).toMatch(/^## Decision log$/m);

    const htmlFile = join(dirname(config.dir), 'report.html');
    const written = await mes(['review', 'report', submission.id, '--format', 'html', '--output', htmlFile], as(reviewerB.key));
    expect(written.exitCode).toBe(0);
    expect(written.stdout).toContain(`Report (html) written to ${htmlFile}.`);
    const html = await readFile(htmlFile, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|src=/i);
    expect(html).toContain('&#60;script&#62;alert(&#34;xss&#34;)&#60;/script&#62;');
    expect(html).toContain('sandbox.complete_flow');
    expect(html).toContain('Reviewer cli-reviewer-a');
    expect(html).toContain('Reviewer cli-reviewer-b');

    const json = await mes(['review', 'report', submission.id, '--format', 'json'], as(reviewerA.key));
    const report = JSON.parse(json.stdout) as CertificationReport;
    expect(report).toMatchObject({ app: { id: app.appId, name: 'TensioSuivi' }, publisher: { name: 'CLI Tensio SAS' }, submission: { id: submission.id, version: '1.0.0', state: 'certified' }, certificate: { id: certificate.id } });
    expect(report.checks?.results.find((result) => result.id === 'documents.privacy_policy')).toMatchObject({ status: 'pass', evidence: { status: 200 }, remedy: expect.any(String) });
    expect(report.reviews.map((review) => [review.reviewer.name, review.decision])).toEqual([['Reviewer cli-reviewer-a', 'approve'], ['Reviewer cli-reviewer-b', 'approve']]);
    expect(report.reviews[1]!.verdicts.find((v) => v.criterion === 'urbanisation.national_services')).toMatchObject({ verdict: 'not_applicable', title: { fr: expect.any(String) } });
    expect(report.decisions.map((decision) => decision.kind)).toEqual(['submit', 'approve', 'approve', 'certify']);
    expect(report.decisions.every((decision) => decision.hashVerified && /^[0-9a-f]{64}$/.test(decision.hash))).toBe(true);
  });

  it('certs suspend: certs show, list and verify then say suspended', async () => {
    const suspended = await mes(['certs', 'suspend', certificate.id, '--reason', '"Faille signalée par le CERT Santé."'], as(reviewerA.key));
    expect(suspended.exitCode, String(suspended.error)).toBe(0);
    expect(suspended.stdout).toContain(`Suspended certificate ${certificate.reference} (${certificate.id}): now suspended.`);

    const shown = await mes(['certs', 'show', certificate.id]);
    expect(shown.stdout).toMatch(/^State:\s+suspended$/m);
    expect(shown.stdout).toMatch(/^Reason:\s+Faille signalée par le CERT Santé\.$/m);
    const listed = await mes<PageData<Certificate>>(['certs', 'list', '--app', app.appId, '--state', 'suspended', '--json']);
    expect(listed.result?.items.map((item) => item.id)).toEqual([certificate.id]);
    expect((await mes(['certs', 'list', '--app', app.appId])).stdout).toMatch(new RegExp(`^${certificate.id}\\s+${certificate.reference}\\s+TensioSuivi\\s+1\\.0\\.0\\s+suspended\\s`, 'm'));

    // The signature still verifies; the state is the online fact.
    const verified = await mes<CertificateVerifyResult>(['certs', 'verify', jwsFile, '--jwks', jwksFile]);
    expect(verified.exitCode).toBe(0);
    expect(verified.stdout).toMatch(/^State now:\s+suspended since .+\(Faille signalée par le CERT Santé\.\)$/m);
    expect(verified.stdout).toMatch(/the certificate is suspended now/);

    const again = await mes(['certs', 'suspend', certificate.id, '--reason', '"Encore une fois."', '--json'], as(reviewerB.key));
    expect(again.exitCode).toBe(1);
    expect(jsonError(again.stdout)).toMatchObject({ code: 'illegal_transition', status: 409 });
    const reinstated = await mes<Certificate>(['certs', 'reinstate', certificate.id, '--reason', '"Faille corrigée."', '--json'], as(reviewerB.key));
    expect(reinstated.result).toMatchObject({ state: 'certified' });
  });

  it('log verify: the decision log verifies, online and from a saved file; an altered one does not', async () => {
    const saved = join(dirname(config.dir), 'decisions.json');
    const online = await mes<LogVerifyResult>(['log', 'verify', '--save', saved]);
    expect(online.exitCode, online.stdout).toBe(0);
    const head = await logHead();
    expect(online.stdout).toContain(`Decision log verified: ${head.seq} entries, head at position ${head.seq} (${head.hash}).`);

    const offline = await mes<LogVerifyResult>(['log', 'verify', '--from-file', saved, '--json'], { MES_API_URL: UNREACHABLE });
    expect(offline.exitCode).toBe(0);
    expect(offline.result).toMatchObject({ valid: true, entries: head.seq, head, source: 'file' });

    const log = JSON.parse(await readFile(saved, 'utf8')) as { items: { seq: number; reason: string | null }[]; head: unknown };
    log.items[2] = { ...log.items[2]!, reason: 'réécrit' };
    const altered = await mes<LogVerifyResult>(['log', 'verify', '--from-file', await file('altered.json', log)]);
    expect(altered.exitCode).toBe(1);
    expect(altered.stdout).toMatch(/^Decision log broken at position 3: hash_mismatch: decision 3 hashes to [0-9a-f]{64}, not [0-9a-f]{64}\.$/m);
  });
});

describe('bad criteria files, a linked reviewer, changes requested', () => {
  let app: CertifiableApp;
  let submission: Submission;

  beforeAll(async () => {
    app = await createCertifiableApp(server, host, 'CLI Changements SAS');
    submission = await submit(app, '2.0.0');
  });

  it('refuses a bad criteria file locally with a clear message, sending nothing', async () => {
    const before = await logHead();
    const filled = await template();
    const cases: [string, unknown, string[], RegExp][] = [
      ['unknown.json', { ...filled, verdicts: { ...filled.verdicts, 'ethics.unknown': 'pass' } }, ['approve'], /\/verdicts\/ethics\.unknown: ethics\.unknown is not a criterion of version 2026\.1/],
      ['no-note.json', { ...filled, verdicts: { ...filled.verdicts, 'ethics.transparency': 'fail' } }, ['request-changes'], /\/verdicts\/ethics\.transparency\/note: a fail verdict on ethics\.transparency needs a note saying why/],
      ['list-no-note.json', { criteriaVersion: filled.criteriaVersion, verdicts: [{ criterion: 'security.keys', verdict: 'not_applicable' }] }, ['reject'], /\/verdicts\/0\/note: a not_applicable verdict on security\.keys needs a note/],
      ['partial.json', { criteriaVersion: filled.criteriaVersion, verdicts: { 'ethics.purpose': 'pass' } }, ['approve'], /\/verdicts: approving needs a verdict on every criterion; missing: ethics\.no_commercial_use/],
      ['bad-verdict.json', { ...filled, verdicts: { ...filled.verdicts, 'ethics.purpose': 'ok' } }, ['approve'], /\/verdicts\/ethics\.purpose: must be one of "pass", "fail", "not_applicable", or \{ "verdict": …, "note": … \}, not "ok"/],
      ['no-version.json', { verdicts: filled.verdicts, verdict: [] }, ['approve'], /\/verdict: unknown member[\s\S]*\/criteriaVersion: missing/],
      ['wrong-version.json', { ...filled, criteriaVersion: '1999.1' }, ['approve'], /is for criteria version 1999\.1, but the submission is reviewed against 2026\.1/],
      ['not-json.json', '{ "criteriaVersion": ', ['approve'], /not-json\.json is not valid JSON\./],
    ];
    for (const [name, content, [command], message] of cases) {
      const path = await file(name, content);
      const { exitCode, error } = await mes(['review', command!, submission.id, '--criteria', path, '--note', '"À revoir."'], as(reviewerA.key));
      expect(exitCode, name).toBe(1);
      expect(error?.message, name).toMatch(message);
    }
    const json = await mes(['review', 'request-changes', submission.id, '--criteria', join(dirname(config.dir), 'no-note.json'), '--note', '"À revoir."', '--json'], as(reviewerA.key));
    expect(json.exitCode).toBe(1);
    expect(jsonError(json.stdout)).toMatchObject({ code: 'invalid_criteria_file', errors: [{ pointer: '/verdicts/ethics.transparency/note' }] });
    const emptyNote = await mes(['review', 'approve', submission.id, '--criteria', await file('ok.json', filled), '--note', '" "'], as(reviewerA.key));
    expect(emptyNote.exitCode).toBe(1);
    expect(emptyNote.error?.message).toMatch(/^--note is empty/);

    expect(await logHead()).toEqual(before);
    const unchanged = await mes<Submission>(['review', 'show', submission.id, '--json'], as(reviewerA.key));
    expect(unchanged.result).toMatchObject({ state: 'submitted', approvals: 0, reviews: [] });
  });

  it('a reviewer linked to the publisher gets reviewer_conflict', async () => {
    const linked = await createReviewer(server, 'cli-linked-reviewer', { publisherIds: [app.publisher.id] });
    const queue = await mes(['review', 'queue'], as(linked.key));
    expect(queue.stdout).toMatch(new RegExp(`^${submission.id}\\s.*\\s0/2\\s+0\\s+\\S.*$`, 'm'));
    expect(queue.stdout).not.toMatch(new RegExp(`^${submission.id}\\s.*\\s-$`, 'm'));
    const before = await logHead();
    const { exitCode, stdout } = await mes(['review', 'approve', submission.id, '--criteria', await file('linked.json', await template()), '--note', '"Conforme."', '--json'], as(linked.key));
    expect(exitCode).toBe(1);
    expect(jsonError(stdout)).toMatchObject({ code: 'reviewer_conflict', status: 403 });
    expect(await logHead()).toEqual(before);
  });

  it('changes requested reach the publisher with their reasons; the publisher resubmits', async () => {
    const filled = await template();
    const criteria = await file('changes.json', {
      ...filled,
      verdicts: { ...filled.verdicts, 'ethics.transparency': { verdict: 'fail', note: 'La politique ne dit pas la durée de conservation.' } },
    });
    const sent = await mes(['review', 'request-changes', submission.id, '--criteria', criteria, '--note', '"Préciser la durée de conservation."'], as(reviewerA.key));
    expect(sent.exitCode, String(sent.error)).toBe(0);
    expect(sent.stdout).toMatch(/^Recorded request_changes on submission \S+: now changes_requested/m);

    const status = await mes(['apps', 'status', app.appId], as(app.publisher.key));
    expect(status.stdout).toMatch(/^Status:\s+changes_requested$/m);
    expect(status.stdout).toMatch(/^\s+State:\s+changes_requested$/m);
    expect(status.stdout).toMatch(/^\s+Decision:\s+request_changes$/m);
    expect(status.stdout).toMatch(/^\s+Note:\s+Préciser la durée de conservation\.$/m);
    expect(status.stdout).toMatch(/ethics\.transparency: fail — La politique ne dit pas la durée de conservation\./);
    expect(status.stdout).toContain(`mes apps submit ${app.appId} --version 2.0.0`);

    const resubmitted = await mes(['apps', 'submit', app.appId, '--version', '2.0.0', '--note', '"Durée précisée."'], as(app.publisher.key));
    expect(resubmitted.exitCode, String(resubmitted.error)).toBe(0);
    expect(resubmitted.stdout).toMatch(new RegExp(`^Resubmitted version 2\\.0\\.0 \\(submission ${submission.id}, back in_review\\)`, 'm'));
  });
});

describe('a failing check', () => {
  it('apps checks exits 1 and says what to fix, --json included', async () => {
    const app = await createCertifiableApp(server, host, 'CLI Trop Large SAS');
    const scopes = await file('wildcard.json', { scopes: [{ scope: 'patient/*.rs', justification: 'Tout lire, au cas où nous en aurions besoin.', purpose: 'suivi' }] });
    expect((await mes(['apps', 'update', app.appId, '--file', scopes], as(app.publisher.key))).exitCode).toBe(0);

    const human = await mes(['apps', 'checks', app.appId], as(app.publisher.key));
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toMatch(/^fail\s+scopes\.no_wildcard\s+\S/m);
    expect(human.stdout).toMatch(/^To fix:\n(\s+- \S+: .+\n)*\s+- scopes\.no_wildcard: \S/m);
    expect(human.stdout).toMatch(/check\(s\) fail: reviewers cannot approve until they pass\./);

    const json = await mes<CheckRun>(['apps', 'checks', app.appId, '--json'], as(app.publisher.key));
    expect(json.exitCode).toBe(1);
    const run = JSON.parse(json.stdout) as CheckRun;
    expect(run.counts.fail).toBeGreaterThan(0);
    expect(run.results.find((result) => result.id === 'scopes.no_wildcard')).toMatchObject({ status: 'fail', remedy: expect.any(String) });
  });
});
