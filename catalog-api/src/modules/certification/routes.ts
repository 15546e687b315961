// HTTP handlers of the certification module, keyed by operationId: publishers' checks and
// submissions, reviewers' queue, checks and reviews, certificates and their suspension,
// reinstatement and revocation, and what anyone may fetch: criteria, certificates, the decision
// log and the keys that verify certificates.
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../../core/errors.js';
import { publisherOf, reviewerOf, type HandlerMap, type Principal } from '../../core/operations.js';
import { decodeCursor, encodeCursor } from '../../core/pagination.js';
import type { Queryable } from '../../core/store/db.js';
import { findPublisher } from '../catalog/index.js';
import { keysForLongLivedSignatures } from '../oauth/index.js';
import { decideDevice, normalizeUserCode, pendingDevice } from '../oauth/device.js';
import type { AppConfig } from '../../core/config.js';
import { sandboxApproval, sandboxUsers } from './sandbox-accounts.js';
import * as store from './repository.js';
import { createReviewer, findReviewer } from './reviewers.js';
import { publicCertificate, type CertificationService } from './service.js';

type CertificationOperations =
  | 'runAppChecks'
  | 'listAppSubmissions'
  | 'submitApp'
  | 'getAppCertification'
  | 'listReviewQueue'
  | 'getSubmission'
  | 'runSubmissionChecks'
  | 'reviewSubmission'
  | 'getCriteria'
  | 'listCertificates'
  | 'getCertificate'
  | 'suspendCertificate'
  | 'reinstateCertificate'
  | 'revokeCertificate'
  | 'listDecisions'
  | 'getCertificationKeys'
  | 'getCaller'
  | 'createReviewer'
  | 'approveSandboxSignIn';

const OPEN_STATES: store.SubmissionState[] = ['submitted', 'in_review'];

/** Cursors of the submission and certificate pages: the `seq` of the last item. */
const seqCursor = {
  encode: (page: { last: number | null; more: boolean }) => (page.more && page.last !== null ? encodeCursor([page.last]) : null),
  decode: (cursor: string | undefined) => (cursor === undefined ? null : (decodeCursor(cursor, ['number'])[0] as number)),
};

async function callerOf(db: Queryable, principal: Principal | null) {
  const via = principal && 'via' in principal ? principal.via : 'api_key';
  const scopes = principal && 'scope' in principal ? principal.scope.split(' ') : null;
  if (principal?.kind === 'publisher') {
    const publisher = await findPublisher(db, principal.publisherId);
    return { kind: 'publisher' as const, id: principal.publisherId, name: publisher?.name ?? '', via, scopes };
  }
  if (principal?.kind === 'reviewer') {
    const reviewer = await findReviewer(db, principal.reviewerId);
    return { kind: 'reviewer' as const, id: principal.reviewerId, name: reviewer?.name ?? '', via, scopes };
  }
  throw new ProblemError('authentication_required', 'Send a publisher or reviewer key, or a platform token (mes login).');
}

export function certificationHandlers(
  db: Queryable,
  config: AppConfig,
  service: CertificationService,
  issuerOf: (request: FastifyRequest) => string,
): HandlerMap<CertificationOperations> {
  const certificateOrMissing = async (id: string) => {
    const certificate = await store.findCertificate(db, id);
    if (!certificate) throw new ProblemError('not_found', `No certificate ${id}.`);
    return certificate;
  };

  return {
    async runAppChecks(context) {
      const { publisherId } = publisherOf(context);
      return { status: 200, body: await service.runAppChecks(publisherId, context.params.appId, context.body ?? {}) };
    },

    async listAppSubmissions(context) {
      const { publisherId } = publisherOf(context);
      const page = await service.listAppSubmissions(publisherId, context.params.appId, { limit: context.query.limit ?? 20, after: seqCursor.decode(context.query.cursor) });
      return { status: 200, body: { items: page.items.map((item) => store.summary(item)), nextCursor: seqCursor.encode(page) } };
    },

    async submitApp(context) {
      const { publisherId } = publisherOf(context);
      return { status: 201, body: await service.submit(publisherId, context.params.appId, context.body) };
    },

    async getAppCertification(context) {
      const { publisherId } = publisherOf(context);
      return { status: 200, body: await service.overview(publisherId, context.params.appId) };
    },

    async listReviewQueue(context) {
      const { reviewerId } = reviewerOf(context);
      const states = context.query.state ? [context.query.state] : OPEN_STATES;
      const page = await service.queue(reviewerId, { states, limit: context.query.limit ?? 20, after: seqCursor.decode(context.query.cursor) });
      return { status: 200, body: { items: page.items, nextCursor: seqCursor.encode(page) } };
    },

    async getSubmission(context) {
      const { reviewerId } = reviewerOf(context);
      return { status: 200, body: await service.submission(reviewerId, context.params.submissionId) };
    },

    async runSubmissionChecks(context) {
      const { reviewerId } = reviewerOf(context);
      return { status: 200, body: await service.runSubmissionChecks(reviewerId, context.params.submissionId) };
    },

    async reviewSubmission(context) {
      const { reviewerId } = reviewerOf(context);
      return { status: 201, body: await service.review(reviewerId, context.params.submissionId, context.body, issuerOf(context.request)) };
    },

    async getCriteria(context) {
      const version = context.query.version;
      const criteria = version ? service.criteria.find(version) : service.criteria.current();
      if (!criteria) throw new ProblemError('not_found', `No criteria version ${version}; published: ${service.criteria.versions().join(', ')}.`);
      return { status: 200, body: criteria };
    },

    async listCertificates(context) {
      const page = await store.listCertificates(db, {
        ...(context.query.appId ? { appId: context.query.appId } : {}),
        ...(context.query.state ? { state: context.query.state } : {}),
        limit: context.query.limit ?? 20,
        after: seqCursor.decode(context.query.cursor),
      });
      return { status: 200, body: { items: page.items.map(publicCertificate), nextCursor: seqCursor.encode(page) } };
    },

    async getCertificate(context) {
      return { status: 200, body: publicCertificate(await certificateOrMissing(context.params.certificateId)) };
    },

    async suspendCertificate(context) {
      const { reviewerId } = reviewerOf(context);
      return { status: 200, body: await service.suspend(reviewerId, context.params.certificateId, context.body.reason) };
    },

    async reinstateCertificate(context) {
      const { reviewerId } = reviewerOf(context);
      return { status: 200, body: await service.reinstate(reviewerId, context.params.certificateId, context.body.reason) };
    },

    async revokeCertificate(context) {
      const { reviewerId } = reviewerOf(context);
      return { status: 200, body: await service.revoke(reviewerId, context.params.certificateId, context.body.reason) };
    },

    async listDecisions(context) {
      const limit = context.query.limit ?? 100;
      const { items, head } = await store.listDecisions(db, { after: context.query.after ?? 0, limit });
      const last = items.at(-1)?.seq;
      return { status: 200, body: { items, next: last !== undefined && last < head.seq ? last : null, head } };
    },

    async getCertificationKeys() {
      return { status: 200, body: { keys: await keysForLongLivedSignatures(db, await store.certificateKids(db)) } };
    },

    async getCaller(context) {
      return { status: 200, body: await callerOf(db, context.principal) };
    },

    async createReviewer(context) {
      const created = await createReviewer(db, context.body);
      if (!created) throw new ProblemError('reviewer_exists', `A reviewer already has the login ${context.body.login}.`);
      return { status: 201, body: created };
    },

    async approveSandboxSignIn(context) {
      if (config.mode !== 'sandbox') throw new ProblemError('sandbox_only', 'Seeded accounts exist only in the sandbox (npm start).');
      const userCode = normalizeUserCode(context.body.userCode);
      const pending = userCode ? await pendingDevice(db, userCode) : null;
      if (!userCode || !pending) throw new ProblemError('not_found', 'No sign-in waits with this code: it is unknown, expired or already decided. Run mes login again.');
      const approval = await sandboxApproval(db, context.body.user, pending.scope);
      if (!approval) throw new ProblemError('unknown_sandbox_user', `${context.body.user} is not a seeded sandbox account; use one of ${sandboxUsers.join(', ')}.`);
      if (!approval.scope) throw new ProblemError('insufficient_scope', `The sign-in asks for ${pending.scope}; a ${approval.kind} holds none of it.`);
      const { kind, subject, scope } = approval;
      if (!(await decideDevice(db, userCode, { approved: true, subject, apiKeyId: null, reviewerKeyId: null, scope }))) {
        throw new ProblemError('not_found', 'No sign-in waits with this code any more. Run mes login again.');
      }
      return { status: 200, body: { user: context.body.user, kind, scope } };
    },
  };
}
