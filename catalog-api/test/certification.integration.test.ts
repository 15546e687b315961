// The certification workflow over HTTP, on a real server: a publisher checks and submits a
// version, two independent reviewers approve it, it gets a certificate anyone verifies offline
// and enters the catalogue; suspension cuts its tokens at once; the decision log verifies; every
// illegal move and every bad input is refused and changes nothing.
import { verifyCertificate, verifyDecisionLog } from '@mes/sdk/certification';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHttpsServer } from './https-server.js';
import { call, expectProblem, useServer } from './helpers.js';
import { createCertifiableApp, createReviewer, OPERATOR_TOKEN, PUBLISHER_DOMAIN, signIn, startPublisherHost, verdicts, type CertifiableApp } from './certification-helpers.js';

let host: TestHttpsServer;
beforeAll(async () => {
  host = await startPublisherHost();
});
afterAll(async () => {
  await host?.close();
});

const server = useServer({ operatorToken: OPERATOR_TOKEN, outboundAllowPrivateNetworks: true }, () => ({ outbound: { ca: host.ca, resolve: host.resolve } }));

let reviewerA: { id: string; key: string };
let reviewerB: { id: string; key: string };
let criteriaVersion: string;

beforeAll(async () => {
  reviewerA = await createReviewer(server(), 'reviewer-one');
  reviewerB = await createReviewer(server(), 'reviewer-two');
  criteriaVersion = (await call(server(), 'GET', '/certification/criteria')).body.version;
});

const approve = async (submissionId: string, key: string) =>
  call(server(), 'POST', `/review/submissions/${submissionId}/reviews`, {
    key,
    body: { decision: 'approve', criteriaVersion, verdicts: await verdicts(server(), criteriaVersion), note: 'Conforme aux critères.' },
  });

const refuse = async (submissionId: string, key: string, decision: 'reject' | 'request_changes') =>
  call(server(), 'POST', `/review/submissions/${submissionId}/reviews`, {
    key,
    body: {
      decision,
      criteriaVersion,
      verdicts: await verdicts(server(), criteriaVersion, { 'ethics.transparency': { verdict: 'fail', note: 'La politique de confidentialité ne dit pas la durée de conservation.' } }),
      note: 'Préciser la durée de conservation dans la politique de confidentialité.',
    },
  });

const submit = (app: CertifiableApp, version: string) => call(server(), 'POST', `/apps/${app.appId}/submissions`, { key: app.publisher.key, body: { version } });

async function certify(app: CertifiableApp, version = '1.0.0') {
  const submitted = await submit(app, version);
  expect(submitted.status).toBe(201);
  expect((await approve(submitted.body.id, reviewerA.key)).status).toBe(201);
  const second = await approve(submitted.body.id, reviewerB.key);
  expect(second.status).toBe(201);
  return { submissionId: submitted.body.id as string, certificate: second.body.certificate };
}

const logHead = async () => (await call(server(), 'GET', '/certification/decisions?limit=1')).body.head;
const inCatalogue = async (appId: string) => (await call(server(), 'GET', `/catalog/apps/${appId}`)).status === 200;

describe('from submission to certificate', () => {
  let app: CertifiableApp;
  beforeAll(async () => {
    app = await createCertifiableApp(server(), host);
  });

  it('runs every check on the app as it stands; all pass for a well-behaved app', async () => {
    const run = await call(server(), 'POST', `/apps/${app.appId}/checks`, { key: app.publisher.key, body: {} });
    expect(run.status).toBe(200);
    const failing = run.body.results.filter((result: { status: string }) => result.status === 'fail');
    expect(failing).toEqual([]);
    expect(run.body.sandboxClientId).toBe(app.clientId);
    expect(run.body.results.map((result: { id: string }) => result.id)).toEqual(
      expect.arrayContaining(['redirect_uris.verified_domain', 'documents.privacy_policy', 'scopes.justified', 'sandbox.complete_flow', 'sandbox.withdrawn_grant', 'sandbox.rate_limit']),
    );
    const privacy = run.body.results.find((result: { id: string }) => result.id === 'documents.privacy_policy');
    expect(privacy.evidence).toMatchObject({ status: 200 });
  });

  it('certifies after two different reviewers approve, not after one', async () => {
    const submitted = await submit(app, '1.0.0');
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ state: 'submitted', version: '1.0.0', criteriaVersion, approvals: 0, failingChecks: 0, sandboxClientId: app.clientId });
    expect((await call(server(), 'GET', `/apps/${app.appId}`, { key: app.publisher.key })).body.certificationStatus).toBe('submitted');

    const queue = await call(server(), 'GET', '/review/submissions', { key: reviewerA.key });
    expect(queue.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: submitted.body.id, conflict: null })]));

    const first = await approve(submitted.body.id, reviewerA.key);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ submission: { state: 'in_review', approvals: 1 }, certificate: null });
    expect(await inCatalogue(app.appId)).toBe(false);

    const again = await approve(submitted.body.id, reviewerA.key);
    expectProblem(again, 409, 'already_approved');

    const second = await approve(submitted.body.id, reviewerB.key);
    expect(second.status).toBe(201);
    expect(second.body.submission).toMatchObject({ state: 'certified', approvals: 2 });
    const certificate = second.body.certificate;
    expect(certificate).toMatchObject({ appId: app.appId, version: '1.0.0', state: 'certified', scopes: ['patient/Observation.rs', 'offline_access'] });
    expect(certificate.reference).toMatch(/^MES-\d{4}-\d{6}$/);
    expect(new Date(certificate.validUntil).getTime() - new Date(certificate.validFrom).getTime()).toBe(1095 * 86_400_000);

    const status = await call(server(), 'GET', `/apps/${app.appId}/certification`, { key: app.publisher.key });
    expect(status.body).toMatchObject({ status: 'certified', certificate: { id: certificate.id }, openSubmission: null });
    expect(await inCatalogue(app.appId)).toBe(true);

    // Verifiable offline with the published keys.
    const keys = (await call(server(), 'GET', '/certification/keys')).body;
    const verified = await verifyCertificate(certificate.jws, keys);
    expect(verified).toMatchObject({ valid: true, claims: { sub: app.appId, jti: certificate.id, version: '1.0.0', reference: certificate.reference } });
    expect((verified as { claims: { decisions: string[] } }).claims.decisions).toHaveLength(2);
    const tampered = `${certificate.jws.split('.')[0]}.${Buffer.from(JSON.stringify({ ...(verified as { claims: object }).claims, scopes: ['patient/*.rs'] })).toString('base64url')}.${certificate.jws.split('.')[2]}`;
    expect(await verifyCertificate(tampered, keys)).toMatchObject({ valid: false, reason: 'bad_signature' });
  });

  it('publishes every decision in a hash chain anyone verifies', async () => {
    const page = await call(server(), 'GET', '/certification/decisions?limit=1000');
    expect(page.status).toBe(200);
    const mine = page.body.items.filter((entry: { appId: string }) => entry.appId === app.appId).map((entry: { kind: string }) => entry.kind);
    expect(mine).toEqual(['submit', 'approve', 'approve', 'certify']);
    await expect(verifyDecisionLog(page.body.items, { head: page.body.head })).resolves.toMatchObject({ valid: true });
    const altered = page.body.items.map((entry: { seq: number; reason: string | null }, index: number) => (index === 0 ? { ...entry, reason: 'rewritten' } : entry));
    await expect(verifyDecisionLog(altered)).resolves.toMatchObject({ valid: false, reason: 'hash_mismatch', seq: page.body.items[0].seq });
  });
});

describe('suspension cuts tokens', () => {
  let app: CertifiableApp;
  let certificateId: string;
  beforeAll(async () => {
    app = await createCertifiableApp(server(), host, 'Suspendue SAS');
    certificateId = (await certify(app)).certificate.id;
  });

  it('suspends, reinstates and revokes, each with its consequences', async () => {
    const patientApp = await signIn(server(), app, 'cert-suspension-patient');
    const read = () => patientApp.fhir.search('Observation', { _count: 1 }).then(() => 'ok', (error: unknown) => (error as { reason?: string }).reason ?? String(error));
    expect(await read()).toBe('ok');

    const suspended = await call(server(), 'POST', `/certification/certificates/${certificateId}/suspension`, { key: reviewerA.key, body: { reason: 'Faille signalée par le CERT Santé.' } });
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ state: 'suspended', stateReason: 'Faille signalée par le CERT Santé.' });
    expect(await read()).toBe('app_suspended');
    expect(await inCatalogue(app.appId)).toBe(false);

    expectProblem(await call(server(), 'POST', `/certification/certificates/${certificateId}/suspension`, { key: reviewerB.key, body: { reason: 'Encore.' } }), 409, 'illegal_transition');

    const reinstated = await call(server(), 'POST', `/certification/certificates/${certificateId}/reinstatement`, { key: reviewerB.key, body: { reason: 'Faille corrigée.' } });
    expect(reinstated.body.state).toBe('certified');
    // The SDK forgot the cut-off tokens: the patient signs in again, and the app reads again.
    const again = await signIn(server(), app, 'cert-suspension-patient-again');
    expect(await again.fhir.search('Observation', { _count: 1 }).then(() => 'ok')).toBe('ok');
    expect(await inCatalogue(app.appId)).toBe(true);

    const revoked = await call(server(), 'POST', `/certification/certificates/${certificateId}/revocation`, { key: reviewerA.key, body: { reason: 'Hébergement non certifié.' } });
    expect(revoked.body.state).toBe('revoked');
    expect(await again.fhir.search('Observation', { _count: 1 }).then(() => 'ok', (error: unknown) => (error as { reason?: string }).reason)).toBe('app_not_certified');
    expect(await inCatalogue(app.appId)).toBe(false);
    expectProblem(await call(server(), 'POST', `/certification/certificates/${certificateId}/reinstatement`, { key: reviewerA.key, body: { reason: 'Révocation définitive.' } }), 409, 'illegal_transition');
    expect((await call(server(), 'GET', `/apps/${app.appId}`, { key: app.publisher.key })).body.certificationStatus).toBe('revoked');

    const kinds = (await call(server(), 'GET', '/certification/decisions?limit=1000')).body.items
      .filter((entry: { appId: string }) => entry.appId === app.appId)
      .map((entry: { kind: string }) => entry.kind);
    expect(kinds).toEqual(['submit', 'approve', 'approve', 'certify', 'suspend', 'reinstate', 'revoke']);
  });
});

describe('independence of reviewers', () => {
  let app: CertifiableApp;
  let submissionId: string;
  beforeAll(async () => {
    app = await createCertifiableApp(server(), host, 'Indépendance SAS');
    submissionId = (await submit(app, '1.0.0')).body.id;
  });

  it("refuses a reviewer linked to the publisher, or of the publisher's domain, and shows why in the queue", async () => {
    const linked = await createReviewer(server(), 'linked-reviewer', { publisherIds: [app.publisher.id] });
    const insider = await createReviewer(server(), 'insider-reviewer', { email: `qa@dev.${PUBLISHER_DOMAIN}` });
    const before = await logHead();
    for (const reviewer of [linked, insider]) {
      expectProblem(await approve(submissionId, reviewer.key), 403, 'reviewer_conflict');
      expectProblem(await call(server(), 'POST', `/review/submissions/${submissionId}/checks`, { key: reviewer.key }), 403, 'reviewer_conflict');
      const queued = (await call(server(), 'GET', '/review/submissions', { key: reviewer.key })).body.items.find((item: { id: string }) => item.id === submissionId);
      expect(queued.conflict).toEqual(expect.any(String));
    }
    expect(await logHead()).toEqual(before);
    expect((await call(server(), 'GET', `/review/submissions/${submissionId}`, { key: reviewerA.key })).body).toMatchObject({ state: 'submitted', approvals: 0, reviews: [] });
  });

  it('a single reviewer cannot certify alone', async () => {
    expect((await approve(submissionId, reviewerA.key)).status).toBe(201);
    expectProblem(await approve(submissionId, reviewerA.key), 409, 'already_approved');
    const submission = (await call(server(), 'GET', `/review/submissions/${submissionId}`, { key: reviewerA.key })).body;
    expect(submission).toMatchObject({ state: 'in_review', approvals: 1, certificateId: null });
    expect(await inCatalogue(app.appId)).toBe(false);
  });
});

describe('concurrent decisions', () => {
  it('two reviewers approving at the same moment certify once, and the log stays one chain', async () => {
    const app = await createCertifiableApp(server(), host, 'Concurrence SAS');
    const submissionId = (await submit(app, '1.0.0')).body.id;
    const [one, two] = await Promise.all([approve(submissionId, reviewerA.key), approve(submissionId, reviewerB.key)]);
    expect([one.status, two.status]).toEqual([201, 201]);
    expect([one.body.certificate, two.body.certificate].filter(Boolean)).toHaveLength(1);
    const certificates = (await call(server(), 'GET', `/certification/certificates?appId=${app.appId}`)).body.items;
    expect(certificates).toHaveLength(1);
    const page = await call(server(), 'GET', '/certification/decisions?limit=1000');
    await expect(verifyDecisionLog(page.body.items, { head: page.body.head })).resolves.toMatchObject({ valid: true });
  });
});

describe('the workflow refuses illegal moves', () => {
  let app: CertifiableApp;
  beforeAll(async () => {
    app = await createCertifiableApp(server(), host, 'Transitions SAS');
  });

  it('one open submission at a time, one submission per version', async () => {
    const first = await submit(app, '2.0.0');
    expect(first.status).toBe(201);
    expectProblem(await submit(app, '2.0.1'), 409, 'submission_open');
    expect((await refuse(first.body.id, reviewerA.key, 'reject')).body.submission.state).toBe('rejected');
    expectProblem(await submit(app, '2.0.0'), 409, 'version_exists');
    // A rejected submission is closed: no review, no checks.
    expectProblem(await approve(first.body.id, reviewerB.key), 409, 'illegal_transition');
    expectProblem(await refuse(first.body.id, reviewerB.key, 'request_changes'), 409, 'illegal_transition');
    expectProblem(await call(server(), 'POST', `/review/submissions/${first.body.id}/checks`, { key: reviewerB.key }), 409, 'illegal_transition');
    expect((await call(server(), 'GET', `/apps/${app.appId}`, { key: app.publisher.key })).body.certificationStatus).toBe('rejected');
  });

  it('changes requested go back to the publisher; a resubmission starts a new round', async () => {
    const submitted = await submit(app, '3.0.0');
    expect((await approve(submitted.body.id, reviewerA.key)).body.submission.approvals).toBe(1);
    const sentBack = await refuse(submitted.body.id, reviewerB.key, 'request_changes');
    expect(sentBack.body.submission).toMatchObject({ state: 'changes_requested' });
    const status = (await call(server(), 'GET', `/apps/${app.appId}/certification`, { key: app.publisher.key })).body;
    expect(status).toMatchObject({ status: 'changes_requested', openSubmission: { id: submitted.body.id } });
    expect(status.openSubmission.reviews.map((review: { decision: string; note: string }) => review.decision)).toEqual(['approve', 'request_changes']);
    // Nobody reviews a submission back with its publisher.
    expectProblem(await approve(submitted.body.id, reviewerA.key), 409, 'illegal_transition');

    const resubmitted = await call(server(), 'POST', `/apps/${app.appId}/submissions`, { key: app.publisher.key, body: { version: '3.0.0', note: 'Durée de conservation précisée.' } });
    expect(resubmitted.status).toBe(201);
    expect(resubmitted.body).toMatchObject({ id: submitted.body.id, state: 'in_review', approvals: 0, note: 'Durée de conservation précisée.' });
    expect(resubmitted.body.reviews.map((review: { superseded: boolean }) => review.superseded)).toEqual([true, true]);
    // The approval of the first round does not count: A approves again, then B certifies.
    expect((await approve(submitted.body.id, reviewerA.key)).body.submission.approvals).toBe(1);
    const certified = await approve(submitted.body.id, reviewerB.key);
    expect(certified.body.submission.state).toBe('certified');
    expectProblem(await refuse(submitted.body.id, reviewerA.key, 'reject'), 409, 'illegal_transition');
    expectProblem(await call(server(), 'POST', `/certification/certificates/${certified.body.certificate.id}/reinstatement`, { key: reviewerA.key, body: { reason: 'Rien à rétablir.' } }), 409, 'illegal_transition');
  });

  it('a new version is certified on its own while the previous one stays live, then supersedes it', async () => {
    const live = (await call(server(), 'GET', `/apps/${app.appId}/certification`, { key: app.publisher.key })).body.certificate;
    expect(live.version).toBe('3.0.0');
    const submitted = await submit(app, '3.1.0');
    expect((await approve(submitted.body.id, reviewerA.key)).status).toBe(201);
    // Under review, the app stays certified with its live certificate.
    expect((await call(server(), 'GET', `/apps/${app.appId}`, { key: app.publisher.key })).body.certificationStatus).toBe('certified');
    const second = await approve(submitted.body.id, reviewerB.key);
    expect(second.body.certificate.version).toBe('3.1.0');
    expect((await call(server(), 'GET', `/certification/certificates/${live.id}`)).body).toMatchObject({ state: 'superseded' });
    expect((await call(server(), 'GET', `/certification/certificates?appId=${app.appId}&state=certified`)).body.items.map((c: { version: string }) => c.version)).toEqual(['3.1.0']);
  });

  it('expires certificates at the end of their validity and takes the app out of the catalogue', async () => {
    const live = (await call(server(), 'GET', `/apps/${app.appId}/certification`, { key: app.publisher.key })).body.certificate;
    // The clock moves on: the certificate's validity ended a second ago.
    await server().app.db.query("UPDATE certificates SET valid_until = now() - interval '1 second' WHERE id = $1", [live.id]);
    const sweep = server().app.sweepTasks.find((task) => task.name === 'certificate_expiry')!;
    await server().app.db.transaction((tx) => sweep.sweep(tx, 100));
    expect((await call(server(), 'GET', `/certification/certificates/${live.id}`)).body.state).toBe('expired');
    expect((await call(server(), 'GET', `/apps/${app.appId}`, { key: app.publisher.key })).body.certificationStatus).toBe('expired');
    expect(await inCatalogue(app.appId)).toBe(false);
    expectProblem(await call(server(), 'POST', `/certification/certificates/${live.id}/suspension`, { key: reviewerA.key, body: { reason: 'Trop tard.' } }), 409, 'illegal_transition');
    const last = (await call(server(), 'GET', '/certification/decisions?limit=1000')).body.items.at(-1);
    expect(last).toMatchObject({ kind: 'expire', certificateId: live.id, actor: { type: 'system', id: null } });
  });
});

describe('failing checks and bad input', () => {
  it('a failing check blocks approval (not submission) and says why', async () => {
    const app = await createCertifiableApp(server(), host, 'Trop Large SAS');
    await call(server(), 'PATCH', `/apps/${app.appId}`, {
      key: app.publisher.key,
      body: { scopes: [{ scope: 'patient/*.rs', justification: 'Tout lire, au cas où nous en aurions besoin.', purpose: 'suivi' }] },
    });
    const submitted = await submit(app, '1.0.0');
    expect(submitted.status).toBe(201);
    const wildcard = submitted.body.checks.results.find((result: { id: string }) => result.id === 'scopes.no_wildcard');
    expect(wildcard).toMatchObject({ status: 'fail', remedy: expect.any(String) });
    expectProblem(await approve(submitted.body.id, reviewerA.key), 409, 'checks_failing');
  });

  it('refuses malformed reviews, wrong criteria versions and the wrong credentials, changing nothing', async () => {
    const app = await createCertifiableApp(server(), host, 'Entrées SAS');
    const submissionId = (await submit(app, '1.0.0')).body.id;
    const before = await logHead();
    const review = (body: unknown, key = reviewerA.key) => call(server(), 'POST', `/review/submissions/${submissionId}/reviews`, { key, body });

    const partial = await review({ decision: 'approve', criteriaVersion, verdicts: [{ criterion: 'ethics.purpose', verdict: 'pass' }], note: 'Vu.' });
    expectProblem(partial, 400, 'validation_failed');
    expect(partial.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: '/verdicts' })]));
    const unexplained = await review({ decision: 'reject', criteriaVersion, verdicts: [{ criterion: 'ethics.purpose', verdict: 'fail' }], note: 'Non.' });
    expectProblem(unexplained, 400, 'validation_failed');
    const unknown = await review({ decision: 'reject', criteriaVersion, verdicts: [{ criterion: 'ethics.unknown', verdict: 'fail', note: 'x' }], note: 'Non.' });
    expectProblem(unknown, 400, 'validation_failed');
    expectProblem(await review({ decision: 'approve', criteriaVersion: '1999.1', verdicts: await verdicts(server(), criteriaVersion), note: 'Vu.' }), 400, 'criteria_mismatch');
    expectProblem(await review({ decision: 'maybe', criteriaVersion, verdicts: [], note: 'Vu.' }), 400, 'validation_failed');
    // A publisher's key does not open the reviewers' API, nor a reviewer's key the publisher's.
    expectProblem(await review({ decision: 'approve', criteriaVersion, verdicts: await verdicts(server(), criteriaVersion), note: 'Vu.' }, app.publisher.key), 403, 'reviewer_required');
    expectProblem(await call(server(), 'POST', `/apps/${app.appId}/submissions`, { key: reviewerA.key, body: { version: '9.9.9' } }), 401, 'invalid_api_key');
    expect((await call(server(), 'GET', '/review/submissions')).status).toBe(401);
    expectProblem(await call(server(), 'GET', '/review/submissions', { key: 'mes_rk_not-a-real-key' }), 401, 'invalid_api_key');
    expectProblem(await call(server(), 'POST', `/apps/${app.appId}/submissions`, { key: app.publisher.key, body: { version: 'not a version!' } }), 400, 'validation_failed');
    expectProblem(await call(server(), 'POST', `/certification/certificates/00000000-0000-4000-8000-000000000000/suspension`, { key: reviewerA.key, body: { reason: 'Certificat inconnu.' } }), 404, 'not_found');

    expect(await logHead()).toEqual(before);
    expect((await call(server(), 'GET', `/review/submissions/${submissionId}`, { key: reviewerB.key })).body).toMatchObject({ state: 'submitted', reviews: [], approvals: 0 });
  });

  it('reviewer accounts are made by operators only; logins are unique', async () => {
    expect((await call(server(), 'POST', '/operator/reviewers', { body: { login: 'nobody', name: 'Nobody', email: 'n@example.fr' } })).status).toBe(401);
    await createReviewer(server(), 'unique-login');
    expectProblem(await call(server(), 'POST', '/operator/reviewers', { key: OPERATOR_TOKEN, body: { login: 'unique-login', name: 'Twice', email: 't@example.fr' } }), 409, 'reviewer_exists');
    const whoami = await call(server(), 'GET', '/whoami', { key: reviewerA.key });
    expect(whoami.body).toMatchObject({ kind: 'reviewer', id: reviewerA.id, via: 'api_key', scopes: null });
  });
});
