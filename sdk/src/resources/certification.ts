// Certification: the publisher's side (checks, submissions, status), the reviewers' side (queue,
// checks, reviews, certificate suspension, reinstatement and revocation) and what anyone reads
// (criteria, certificates, the decision log and the keys that verify certificates).
import { path } from '../internal/path.js';
import type { ApiPromise } from '../internal/api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import { paginate, type PagePromise } from '../pagination.js';
import type { QueryParams, RequestBody, ResponseBody } from '../types.js';
import type { components } from '@mes/openapi';

type Schemas = components['schemas'];
export type SubmissionSummary = Schemas['SubmissionSummary'];
export type Certificate = Schemas['Certificate'];
export type ListReviewQueueParams = QueryParams<'listReviewQueue'>;
export type ListCertificatesParams = QueryParams<'listCertificates'>;
export type ListAppSubmissionsParams = QueryParams<'listAppSubmissions'>;

export class CertificationResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  // --- Publishers ------------------------------------------------------------------------------

  /** POST /apps/{appId}/checks: runs the automated checks on the app as it stands, without submitting. */
  runAppChecks(appId: string, body: RequestBody<'runAppChecks'> = {}, options?: RequestOptions): ApiPromise<ResponseBody<'runAppChecks'>> {
    return this.#transport.request(() => ({ method: 'POST', path: path`apps/${appId}/checks`, body, idempotent: true }), options);
  }

  /** POST /apps/{appId}/submissions: submits a version (or resubmits the one with changes requested). */
  submit(appId: string, body: RequestBody<'submitApp'>, options?: RequestOptions): ApiPromise<ResponseBody<'submitApp'>> {
    return this.#transport.request(() => ({ method: 'POST', path: path`apps/${appId}/submissions`, body, idempotent: true }), options);
  }

  /** GET /apps/{appId}/submissions: the app's submissions, newest first. */
  submissions(appId: string, params: ListAppSubmissionsParams = {}, options?: RequestOptions): PagePromise<SubmissionSummary> {
    const fetchPage = (query: ListAppSubmissionsParams) =>
      this.#transport.request<ResponseBody<'listAppSubmissions'>>(() => ({ method: 'GET', path: path`apps/${appId}/submissions`, query }), options);
    return paginate(fetchPage(params), (cursor) => fetchPage({ ...params, cursor }));
  }

  /** GET /apps/{appId}/certification: where the app stands: status, live certificate, submission under way. */
  status(appId: string, options?: RequestOptions): ApiPromise<ResponseBody<'getAppCertification'>> {
    return this.#transport.request(() => ({ method: 'GET', path: path`apps/${appId}/certification` }), options);
  }

  // --- Reviewers -------------------------------------------------------------------------------

  /** GET /review/submissions: submissions waiting for or in review (oldest first), or those in `state`. */
  queue(params: ListReviewQueueParams = {}, options?: RequestOptions): PagePromise<SubmissionSummary> {
    const fetchPage = (query: ListReviewQueueParams) =>
      this.#transport.request<ResponseBody<'listReviewQueue'>>(() => ({ method: 'GET', path: 'review/submissions', query }), options);
    return paginate(fetchPage(params), (cursor) => fetchPage({ ...params, cursor }));
  }

  /** GET /review/submissions/{submissionId}: the snapshot, latest checks, reviews and decisions. */
  submission(submissionId: string, options?: RequestOptions): ApiPromise<ResponseBody<'getSubmission'>> {
    return this.#transport.request(() => ({ method: 'GET', path: path`review/submissions/${submissionId}` }), options);
  }

  /** POST /review/submissions/{submissionId}/checks: runs the checks again (starts the review). */
  runSubmissionChecks(submissionId: string, options?: RequestOptions): ApiPromise<ResponseBody<'runSubmissionChecks'>> {
    return this.#transport.request(() => ({ method: 'POST', path: path`review/submissions/${submissionId}/checks`, idempotent: true }), options);
  }

  /** POST /review/submissions/{submissionId}/reviews: approves, rejects or requests changes. */
  review(submissionId: string, body: RequestBody<'reviewSubmission'>, options?: RequestOptions): ApiPromise<ResponseBody<'reviewSubmission'>> {
    return this.#transport.request(() => ({ method: 'POST', path: path`review/submissions/${submissionId}/reviews`, body, idempotent: true }), options);
  }

  /** POST /certification/certificates/{id}/suspension: the app's tokens stop working at once. */
  suspend(certificateId: string, reason: string, options?: RequestOptions): ApiPromise<ResponseBody<'suspendCertificate'>> {
    return this.#transport.request(() => ({ method: 'POST', path: path`certification/certificates/${certificateId}/suspension`, body: { reason }, idempotent: true }), options);
  }

  /** POST /certification/certificates/{id}/reinstatement. */
  reinstate(certificateId: string, reason: string, options?: RequestOptions): ApiPromise<ResponseBody<'reinstateCertificate'>> {
    return this.#transport.request(() => ({ method: 'POST', path: path`certification/certificates/${certificateId}/reinstatement`, body: { reason }, idempotent: true }), options);
  }

  /** POST /certification/certificates/{id}/revocation: final; the app leaves the catalogue. */
  revoke(certificateId: string, reason: string, options?: RequestOptions): ApiPromise<ResponseBody<'revokeCertificate'>> {
    return this.#transport.request(() => ({ method: 'POST', path: path`certification/certificates/${certificateId}/revocation`, body: { reason }, idempotent: true }), options);
  }

  // --- Public ----------------------------------------------------------------------------------

  /** GET /certification/criteria: the review criteria (the current version, or `version`). */
  criteria(version?: string, options?: RequestOptions): ApiPromise<ResponseBody<'getCriteria'>> {
    return this.#transport.request(() => ({ method: 'GET', path: 'certification/criteria', query: version ? { version } : {} }), options);
  }

  /** GET /certification/certificates: newest first. */
  certificates(params: ListCertificatesParams = {}, options?: RequestOptions): PagePromise<Certificate> {
    const fetchPage = (query: ListCertificatesParams) =>
      this.#transport.request<ResponseBody<'listCertificates'>>(() => ({ method: 'GET', path: 'certification/certificates', query }), options);
    return paginate(fetchPage(params), (cursor) => fetchPage({ ...params, cursor }));
  }

  /** GET /certification/certificates/{certificateId}. */
  certificate(certificateId: string, options?: RequestOptions): ApiPromise<ResponseBody<'getCertificate'>> {
    return this.#transport.request(() => ({ method: 'GET', path: path`certification/certificates/${certificateId}` }), options);
  }

  /** GET /certification/decisions: one page of the decision log, from position `after` + 1. */
  decisions(params: QueryParams<'listDecisions'> = {}, options?: RequestOptions): ApiPromise<ResponseBody<'listDecisions'>> {
    return this.#transport.request(() => ({ method: 'GET', path: 'certification/decisions', query: params }), options);
  }

  /** Every decision of the log, page after page, with the head read at the end. */
  async allDecisions(options?: RequestOptions): Promise<{ items: Schemas['Decision'][]; head: { seq: number; hash: string } }> {
    const items: Schemas['Decision'][] = [];
    let after = 0;
    for (;;) {
      const page = await this.decisions({ after, limit: 1000 }, options);
      items.push(...page.items);
      if (page.next === null) return { items, head: page.head };
      after = page.next;
    }
  }

  /** GET /certification/keys: the keys certificates are signed with (JWKS). */
  keys(options?: RequestOptions): ApiPromise<ResponseBody<'getCertificationKeys'>> {
    return this.#transport.request(() => ({ method: 'GET', path: 'certification/keys' }), options);
  }

  /** GET /whoami: the publisher or reviewer behind the credentials. */
  whoami(options?: RequestOptions): ApiPromise<ResponseBody<'getCaller'>> {
    return this.#transport.request(() => ({ method: 'GET', path: 'whoami' }), options);
  }
}
