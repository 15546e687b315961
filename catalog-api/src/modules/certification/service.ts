// The certification workflow: a publisher submits a version of an app (its snapshot, checked by
// machine), reviewers decide on the published criteria, two approvals by different, independent
// reviewers certify it (a signed certificate), and reviewers may suspend, reinstate or revoke it.
// Every decision is appended to the public log in the transaction that makes it, and the app's
// status (public catalogue, OAuth cut-off, patients' notices) follows in the same transaction.
import { randomUUID } from 'node:crypto';
import type { components } from '@mes/openapi';
import { verdictProblems } from '@mes/sdk/certification';
import type { AppConfig } from '../../core/config.js';
import { ProblemError } from '../../core/errors.js';
import type { Db, Queryable } from '../../core/store/db.js';
import type { SecretBox } from '../../core/secret-box.js';
import { findApp, findPublisher, setCertificationStatus, setCertifiedVersion, type App, type CertificationStatus } from '../catalog/index.js';
import { listClients, type Client } from '../oauth/index.js';
import { verifyEvidence } from '../sandbox/evidence.js';
import { trafficReport, type TrafficReport } from '../sandbox/traffic.js';
import { signCertificate, certificateSha256 } from './certificate.js';
import { runChecks, type CheckResult, type DocumentFetcher } from './checks.js';
import type { CriteriaLibrary } from './criteria.js';
import * as store from './repository.js';
import { findReviewer, type Reviewer } from './reviewers.js';
import { appStatus, approvalDecision, IllegalTransitionError, reviewerConflict, transition, type CertificationEvent } from './state-machine.js';

export interface CertificationDeps {
  db: Db;
  config: AppConfig;
  box: SecretBox;
  criteria: CriteriaLibrary;
  fetchDocument: DocumentFetcher;
}

type Actor = store.Actor;
type CertificationOverview = components['schemas']['CertificationOverview'];
type ReviewInput = { decision: 'approve' | 'reject' | 'request_changes'; criteriaVersion: string; verdicts: store.Verdict[]; note: string };

const DAY_MS = 86_400_000;

/** The transition, or the `illegal_transition` problem that says what the record allows. */
function move(from: store.SubmissionState | store.CertificateState, event: CertificationEvent, what: string): store.SubmissionState {
  try {
    return transition(from, event);
  } catch (error) {
    if (error instanceof IllegalTransitionError) throw new ProblemError('illegal_transition', `${what}: ${error.message}`);
    throw error;
  }
}

export function snapshotOf(app: App): store.Snapshot {
  return {
    name: app.name,
    redirectUris: app.redirectUris,
    scopes: app.scopes,
    privacyPolicyUrl: app.privacyPolicyUrl,
    termsUrl: app.termsUrl,
    compliance: app.compliance ?? null,
  };
}

export function certificationService(deps: CertificationDeps) {
  const { db, config, box, criteria, fetchDocument } = deps;

  async function ownApp(publisherId: string, appId: string): Promise<App> {
    const app = await findApp(db, publisherId, appId);
    if (!app) throw new ProblemError('not_found', `No app ${appId}.`);
    return app;
  }

  /** The sandbox client whose recorded traffic is the evidence: the one named, else the app's first. */
  async function evidenceClient(clients: readonly Client[], requested: string | undefined): Promise<string | undefined> {
    if (requested !== undefined && !clients.some((client) => client.clientId === requested)) {
      throw new ProblemError('validation_failed', `The app has no client ${requested}.`, [{ pointer: '/sandboxClientId', detail: 'not a client of this app' }]);
    }
    return requested ?? clients[0]?.clientId;
  }

  /** Where the sandbox evidence comes from: signed evidence of the trusted sandbox, or this platform's own recording. */
  type EvidenceInput = { sandboxClientId?: string | undefined; sandboxEvidence?: string | undefined; at?: Date };

  async function checksOf(snapshot: store.Snapshot, publisherId: string, appId: string, input: EvidenceInput, ranBy: Actor): Promise<store.CheckRun> {
    const publisher = await findPublisher(db, publisherId);
    if (!publisher) throw new ProblemError('not_found', `No publisher ${publisherId}.`);
    if (input.sandboxEvidence !== undefined && input.sandboxClientId !== undefined) {
      throw new ProblemError('validation_failed', 'Give sandboxClientId or sandboxEvidence, not both: signed evidence names its own client.', [
        { pointer: '/sandboxClientId', detail: 'not with sandboxEvidence' },
      ]);
    }
    let clientId: string | null;
    let traffic: TrafficReport | null;
    let source = store.recordedEvidence;
    const clients = await listClients(db, appId);
    if (input.sandboxEvidence !== undefined) {
      const verified = await verifyEvidence(input.sandboxEvidence, config.trustedSandbox, { registrationNumber: publisher.registrationNumber, ...(input.at ? { at: input.at } : {}) });
      clientId = verified.clientId;
      traffic = verified.report;
      source = { kind: 'signed', issuer: verified.issuer, issuedAt: verified.issuedAt };
    } else {
      clientId = (await evidenceClient(clients, input.sandboxClientId)) ?? null;
      traffic = clientId ? await trafficReport(db, clientId) : null;
    }
    const results: CheckResult[] = await runChecks(
      {
        snapshot,
        publisher: { status: publisher.status, domains: publisher.domains, registrationNumber: publisher.registrationNumber },
        clients,
        sandboxClientId: clientId,
        traffic,
        rehearsal: config.mode === 'sandbox',
      },
      fetchDocument,
    );
    return store.newCheckRun(results, ranBy, clientId, source);
  }

  /** Recomputes the app's status from its certificates and latest submission (in the caller's transaction). */
  async function refreshAppStatus(tx: Queryable, appId: string): Promise<void> {
    const [live, latest, ended] = await Promise.all([store.liveCertificateOf(tx, appId), store.latestSubmissionOf(tx, appId), store.lastEndedCertificateOf(tx, appId)]);
    const status = appStatus({
      liveCertificate: live?.state ?? null,
      latestSubmission: latest ? { state: latest.state, at: new Date(latest.updatedAt) } : null,
      lastEndedCertificate: ended ? { state: ended.state, at: new Date(ended.stateChangedAt) } : null,
    });
    // An app's own status has no `superseded`: a superseded certificate always has a newer one.
    await setCertificationStatus(tx, appId, (status === 'superseded' ? 'expired' : status) as CertificationStatus);
  }

  async function fullSubmission(q: Queryable, record: store.SubmissionRecord, conflict?: string | null): Promise<store.Submission> {
    const [checks, reviews, decisions] = await Promise.all([store.latestCheckRun(q, record.id), store.reviewsOf(q, record.id), store.decisionsOf(q, record.id)]);
    return {
      ...store.summary(record, conflict),
      publisherRegistrationNumber: record.publisherRegistrationNumber,
      sandboxClientId: record.sandboxClientId,
      snapshot: record.snapshot,
      note: record.note,
      checks,
      reviews,
      decisions,
      certificateId: record.certificateId,
    };
  }

  async function reviewerAccount(q: Queryable, reviewerId: string) {
    const reviewer = await findReviewer(q, reviewerId);
    if (!reviewer) throw new ProblemError('reviewer_required', 'This reviewer account no longer exists.');
    return reviewer;
  }

  /** Why the reviewer may not act on this publisher's apps (null when they may). */
  const conflictOf = (reviewer: Reviewer, publisher: { id: string; domains: readonly string[] }) => reviewerConflict({ reviewer, publisher });

  /** The reviewer as the decision log names them, refused when linked to the publisher. */
  async function independentReviewer(q: Queryable, reviewerId: string, publisher: { id: string; domains: readonly string[] }): Promise<Actor> {
    const reviewer = await reviewerAccount(q, reviewerId);
    const conflict = conflictOf(reviewer, publisher);
    if (conflict) throw new ProblemError('reviewer_conflict', `${conflict} Another reviewer must take this one.`);
    return { type: 'reviewer', id: reviewer.id, name: reviewer.name };
  }

  const publisherOfRecord = (record: store.SubmissionRecord) => ({ id: record.publisherId, domains: record.publisherDomains });

  async function submissionOrMissing(q: Queryable, id: string, options: { lock?: boolean } = {}): Promise<store.SubmissionRecord> {
    const record = await store.findSubmission(q, id, options);
    if (!record) throw new ProblemError('not_found', `No submission ${id}.`);
    return record;
  }

  /** A reviewer's first action on a submitted version starts its review. */
  async function startReview(tx: Queryable, record: store.SubmissionRecord): Promise<store.SubmissionState> {
    if (record.state !== 'submitted') return record.state;
    const state = move(record.state, 'start_review', 'this submission');
    await store.updateSubmission(tx, record.id, { state });
    return state;
  }

  async function certify(tx: Queryable, record: store.SubmissionRecord, approvals: string[], issuer: string): Promise<store.CertificateRecord> {
    move('approved', 'certify', 'this submission');
    const previous = await store.liveCertificateOf(tx, record.appId, { lock: true });
    const system: Actor = { type: 'system', id: null };
    if (previous) {
      move(previous.state, 'supersede', `certificate ${previous.id}`);
      await store.setCertificateState(tx, previous.id, 'superseded', `superseded by version ${record.version}`);
      await store.setSubmissionStateOfCertificate(tx, previous.id, 'superseded');
      await store.appendDecision(tx, {
        kind: 'supersede', appId: record.appId, version: previous.version, submissionId: previous.submissionId, certificateId: previous.id,
        actor: system, reason: `version ${record.version} is certified`, details: null,
      });
    }
    const app = await setCertificationStatus(tx, record.appId, 'certified');
    if (!app?.certificateReference) throw new Error(`app ${record.appId} has no certificate reference`);
    const scopes = record.snapshot.scopes.map((scope) => scope.scope);
    await setCertifiedVersion(tx, record.appId, { redirectUris: record.snapshot.redirectUris, scopes });
    const id = randomUUID();
    const issuedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const validUntil = new Date(issuedAt.getTime() + config.certificateValidityDays * DAY_MS);
    const { jws, kid } = await signCertificate(tx, box, {
      iss: issuer,
      sub: record.appId,
      jti: id,
      iat: issuedAt.getTime() / 1000,
      nbf: issuedAt.getTime() / 1000,
      exp: validUntil.getTime() / 1000,
      reference: app.certificateReference,
      app_name: record.snapshot.name,
      publisher: { id: record.publisherId, name: record.publisherName, registration_number: record.publisherRegistrationNumber },
      version: record.version,
      scopes,
      redirect_uris: record.snapshot.redirectUris,
      criteria_version: record.criteriaVersion,
      decisions: approvals,
    });
    const certificate: Omit<store.CertificateRecord, 'seq'> = {
      id, kid, jws, reference: app.certificateReference, appId: record.appId, appName: record.snapshot.name, publisherId: record.publisherId,
      version: record.version, state: 'certified', scopes, redirectUris: record.snapshot.redirectUris, criteriaVersion: record.criteriaVersion,
      issuedAt: issuedAt.toISOString(), validFrom: issuedAt.toISOString(), validUntil: validUntil.toISOString(), stateChangedAt: issuedAt.toISOString(),
      stateReason: null, submissionId: record.id, decisions: approvals,
    };
    await store.insertCertificate(tx, certificate);
    await store.updateSubmission(tx, record.id, { state: 'certified', certificateId: id });
    await store.appendDecision(tx, {
      kind: 'certify', appId: record.appId, version: record.version, submissionId: record.id, certificateId: id, actor: system,
      reason: null, details: { certificateSha256: await certificateSha256(jws), reference: app.certificateReference, validUntil: certificate.validUntil },
    });
    return (await store.findCertificate(tx, id))!;
  }

  async function changeCertificate(reviewerId: string, certificateId: string, event: 'suspend' | 'reinstate' | 'revoke', reason: string): Promise<store.CertificateRecord> {
    return db.transaction(async (tx) => {
      const certificate = await store.findCertificate(tx, certificateId, { lock: true });
      if (!certificate) throw new ProblemError('not_found', `No certificate ${certificateId}.`);
      const publisher = await findPublisher(tx, certificate.publisherId);
      const actor = await independentReviewer(tx, reviewerId, { id: certificate.publisherId, domains: publisher?.domains ?? [] });
      const state = move(certificate.state, event, `certificate ${certificate.reference} (version ${certificate.version})`) as store.CertificateState;
      if (event === 'reinstate' && new Date(certificate.validUntil).getTime() <= Date.now()) {
        throw new ProblemError('illegal_transition', `Certificate ${certificate.reference} reached the end of its validity on ${certificate.validUntil}; the app needs a new submission.`);
      }
      await store.setCertificateState(tx, certificate.id, state, reason);
      await store.setSubmissionStateOfCertificate(tx, certificate.id, state);
      await store.appendDecision(tx, {
        kind: event, appId: certificate.appId, version: certificate.version, submissionId: certificate.submissionId, certificateId: certificate.id,
        actor, reason, details: null,
      });
      await refreshAppStatus(tx, certificate.appId);
      return (await store.findCertificate(tx, certificate.id))!;
    });
  }

  return {
    criteria,
    refreshAppStatus,

    async runAppChecks(publisherId: string, appId: string, input: EvidenceInput): Promise<store.CheckRun> {
      const app = await ownApp(publisherId, appId);
      return checksOf(snapshotOf(app), publisherId, appId, input, { type: 'publisher', id: publisherId });
    },

    async submit(publisherId: string, appId: string, input: { version: string; sandboxClientId?: string; sandboxEvidence?: string; note?: string }): Promise<store.Submission> {
      const app = await ownApp(publisherId, appId);
      const snapshot = snapshotOf(app);
      // The checks fetch documents: they run before the transaction, on the snapshot it stores.
      const run = await checksOf(snapshot, publisherId, appId, input, { type: 'publisher', id: publisherId });
      return db.transaction(async (tx) => {
        await tx.query('SELECT id FROM apps WHERE id = $1 FOR UPDATE', [appId]);
        const open = await store.openSubmissionOf(tx, appId);
        const actor: Actor = { type: 'publisher', id: publisherId };
        let id: string;
        if (open && open.state !== 'changes_requested') {
          throw new ProblemError('submission_open', `Version ${open.version} is ${open.state.replace('_', ' ')} (submission ${open.id}); wait for the reviewers' decision.`);
        }
        if (input.version !== open?.version && (await store.versionSubmitted(tx, appId, input.version))) {
          throw new ProblemError('version_exists', `Version ${input.version} of this app was already submitted; give the new version its own number.`);
        }
        if (open) {
          const state = move(open.state, 'resubmit', `submission ${open.id}`);
          id = open.id;
          await tx.query('UPDATE submissions SET version = $2, sandbox_client_id = $3, sandbox_evidence = $4 WHERE id = $1', [
            id,
            input.version,
            run.sandboxClientId,
            input.sandboxEvidence ?? null,
          ]);
          await store.updateSubmission(tx, id, { state, snapshot, note: input.note ?? null, newRound: true });
        } else {
          move('draft', 'submit', `version ${input.version}`);
          id = await store.insertSubmission(tx, {
            appId, publisherId, version: input.version, criteriaVersion: criteria.current().version, sandboxClientId: run.sandboxClientId,
            sandboxEvidence: input.sandboxEvidence ?? null, snapshot, note: input.note ?? null,
          });
        }
        await store.insertCheckRun(tx, id, run);
        const record = (await store.findSubmission(tx, id))!;
        await store.appendDecision(tx, {
          kind: open ? 'resubmit' : 'submit', appId, version: input.version, submissionId: id, certificateId: null, actor, reason: null,
          details: { round: record.round, criteriaVersion: record.criteriaVersion, checks: run.counts },
        });
        await refreshAppStatus(tx, appId);
        return fullSubmission(tx, record);
      });
    },

    async listAppSubmissions(publisherId: string, appId: string, page: { limit: number; after: number | null }) {
      await ownApp(publisherId, appId);
      return store.listSubmissions(db, { appId, order: 'newest', ...page });
    },

    async overview(publisherId: string, appId: string): Promise<CertificationOverview> {
      const app = await ownApp(publisherId, appId);
      const [certificate, open, submissions] = await Promise.all([
        store.liveCertificateOf(db, appId),
        store.openSubmissionOf(db, appId),
        store.listSubmissions(db, { appId, order: 'newest', limit: 20, after: null }),
      ]);
      return {
        appId,
        status: app.certificationStatus,
        certificate: certificate ? publicCertificate(certificate) : null,
        openSubmission: open ? await fullSubmission(db, open) : null,
        submissions: submissions.items.map((item) => store.summary(item)),
      };
    },

    async queue(reviewerId: string, filter: { states: store.SubmissionState[]; limit: number; after: number | null }) {
      const page = await store.listSubmissions(db, { states: filter.states, order: 'oldest', limit: filter.limit, after: filter.after });
      const reviewer = await reviewerAccount(db, reviewerId);
      return { ...page, items: page.items.map((item) => store.summary(item, conflictOf(reviewer, publisherOfRecord(item)))) };
    },

    async submission(reviewerId: string, id: string): Promise<store.Submission> {
      const record = await submissionOrMissing(db, id);
      return fullSubmission(db, record, conflictOf(await reviewerAccount(db, reviewerId), publisherOfRecord(record)));
    },

    async runSubmissionChecks(reviewerId: string, id: string): Promise<store.CheckRun> {
      const record = await submissionOrMissing(db, id);
      const actor = await independentReviewer(db, reviewerId, publisherOfRecord(record));
      if (!['submitted', 'in_review'].includes(record.state)) {
        throw new ProblemError('illegal_transition', `Submission ${id} is ${record.state}: checks run on a submission waiting for or in review.`);
      }
      // Signed evidence is judged as of the submission: it may have expired since, not changed.
      const evidence: EvidenceInput = record.sandboxEvidence
        ? { sandboxEvidence: record.sandboxEvidence, at: new Date(record.submittedAt) }
        : { sandboxClientId: record.sandboxClientId ?? undefined };
      const run = await checksOf(record.snapshot, record.publisherId, record.appId, evidence, actor);
      await db.transaction(async (tx) => {
        const locked = await submissionOrMissing(tx, id, { lock: true });
        if (locked.round !== record.round) throw new ProblemError('illegal_transition', `Submission ${id} was resubmitted meanwhile; run the checks again.`);
        await startReview(tx, locked);
        await store.insertCheckRun(tx, id, run);
        await refreshAppStatus(tx, locked.appId);
      });
      return run;
    },

    async review(reviewerId: string, id: string, input: ReviewInput, issuer: string): Promise<{ submission: store.Submission; review: store.Review; certificate: store.Certificate | null }> {
      return db.transaction(async (tx) => {
        const record = await submissionOrMissing(tx, id, { lock: true });
        const actor = await independentReviewer(tx, reviewerId, publisherOfRecord(record));
        if (input.criteriaVersion !== record.criteriaVersion) {
          throw new ProblemError('criteria_mismatch', `This submission is reviewed against criteria ${record.criteriaVersion}, not ${input.criteriaVersion}.`);
        }
        const reviewCriteria = criteria.find(record.criteriaVersion);
        if (!reviewCriteria) throw new Error(`criteria ${record.criteriaVersion} are not installed`);
        const state = record.state === 'submitted' ? 'in_review' : record.state;
        // Where the decision leads (refused here when the state does not allow it); an approval
        // gets there only once enough reviewers approved.
        const target = move(state, input.decision, `submission ${id}`);
        const errors = verdictProblems(reviewCriteria, input.decision, input.verdicts);
        if (errors.length) throw new ProblemError('validation_failed', 'The verdicts do not support this decision.', errors);
        await startReview(tx, record);

        let next = target;
        if (input.decision === 'approve') {
          const approvers = await store.approversOf(tx, id, record.round);
          if (approvers.some((approver) => approver.reviewerId === reviewerId)) {
            throw new ProblemError('already_approved', 'You already approved this version; a second, different reviewer must approve it.');
          }
          const run = await store.latestCheckRun(tx, id);
          const decision = approvalDecision({ approvals: [...approvers, { reviewerId }], failingChecks: run?.counts.fail ?? 0, checksRun: run !== null });
          if (!decision.ready && (decision.reason === 'checks_failed' || decision.reason === 'checks_not_run')) {
            throw new ProblemError('checks_failing', `${decision.detail} Ask for changes, or run the checks again once the publisher fixed them.`);
          }
          if (!decision.ready) next = state;
        }
        await store.insertReview(tx, { submissionId: id, round: record.round, reviewerId, decision: input.decision, criteriaVersion: input.criteriaVersion, verdicts: input.verdicts, note: input.note });
        await store.appendDecision(tx, {
          kind: input.decision, appId: record.appId, version: record.version, submissionId: id, certificateId: null, actor,
          reason: input.decision === 'approve' ? null : input.note, details: { round: record.round },
        });
        let certificate: store.CertificateRecord | null = null;
        if (next === 'approved') {
          const earlier = (await store.decisionsOf(tx, id)).filter(
            (decision) => decision.kind === 'approve' && (decision.details as { round?: number } | null)?.round === record.round,
          );
          const approvals = earlier.map((decision) => decision.id);
          await store.updateSubmission(tx, id, { state: 'approved' });
          certificate = await certify(tx, record, approvals, issuer);
        } else {
          await store.updateSubmission(tx, id, { state: next });
        }
        await refreshAppStatus(tx, record.appId);
        const updated = (await store.findSubmission(tx, id))!;
        const reviews = await store.reviewsOf(tx, id);
        return {
          submission: await fullSubmission(tx, updated, null),
          review: reviews.at(-1)!,
          certificate: certificate ? publicCertificate(certificate) : null,
        };
      });
    },

    suspend: (reviewerId: string, certificateId: string, reason: string) => changeCertificate(reviewerId, certificateId, 'suspend', reason).then(publicCertificate),
    reinstate: (reviewerId: string, certificateId: string, reason: string) => changeCertificate(reviewerId, certificateId, 'reinstate', reason).then(publicCertificate),
    revoke: (reviewerId: string, certificateId: string, reason: string) => changeCertificate(reviewerId, certificateId, 'revoke', reason).then(publicCertificate),

    /** Ends the certificates whose validity has passed (in the sweeper's transaction); returns how many. */
    async expireCertificates(tx: Queryable, limit: number): Promise<number> {
      const due = await store.certificatesPastValidity(tx, limit);
      for (const certificate of due) {
        await store.setCertificateState(tx, certificate.id, move(certificate.state, 'expire', `certificate ${certificate.id}`) as store.CertificateState, 'validity period ended');
        await store.setSubmissionStateOfCertificate(tx, certificate.id, 'expired');
        await store.appendDecision(tx, {
          kind: 'expire', appId: certificate.appId, version: certificate.version, submissionId: certificate.submissionId, certificateId: certificate.id,
          actor: { type: 'system', id: null }, reason: `the validity period ended on ${certificate.validUntil}`, details: null,
        });
        await refreshAppStatus(tx, certificate.appId);
      }
      return due.length;
    },
  };
}

/** A certificate as the API shows it (without internal columns). */
export function publicCertificate(record: store.CertificateRecord): store.Certificate {
  const { seq: _seq, kid: _kid, ...certificate } = record;
  return certificate;
}

export type CertificationService = ReturnType<typeof certificationService>;
