// The one error hierarchy of the SDK. Every failure of a call rejects with a MesError: an ApiError
// (built from the server's RFC 9457 problem document or FHIR OperationOutcome), an OAuthError (an
// RFC 6749 error of the authorization server), a ReauthorizationRequiredError (the patient's grant
// is gone), or a ConnectionError/TimeoutError.
import type { OAuthErrorCode, ProblemCode } from './constants.js';
import type { FieldError, OperationOutcome, Problem } from './types.js';

/** Base class of every error the SDK throws. */
export class MesError extends Error {
  override name = 'MesError';
}

export interface ApiErrorInit {
  status: number;
  /** The problem document, when the response carried one. */
  problem?: Problem | undefined;
  /** The FHIR API's OperationOutcome, when the response carried one. */
  operationOutcome?: OperationOutcome | undefined;
  headers: Headers;
  /** Used when the response is not a problem document, e.g. the status text of a proxy's 502. */
  fallbackMessage?: string | undefined;
}

/** The server answered with an error status. */
export class ApiError extends MesError {
  override name = 'ApiError';
  readonly status: number;
  /** The problem's stable `code`; typed loosely because the server may add codes. */
  readonly code: ProblemCode | (string & {}) | undefined;
  /** The request id (`x-request-id` header, else the problem's `requestId`); quote it in bug reports. */
  readonly requestId: string | undefined;
  readonly problem: Problem | undefined;
  /** The FHIR API's OperationOutcome (FHIR calls only). */
  readonly operationOutcome: OperationOutcome | undefined;
  readonly headers: Headers;
  /** The individual input errors of a `validation_failed` problem (empty otherwise). */
  readonly errors: readonly FieldError[];

  constructor(init: ApiErrorInit) {
    const { status, problem, operationOutcome, headers } = init;
    const requestId = headers.get('x-request-id') ?? problem?.requestId ?? undefined;
    // FHIR errors: the RFC 6750 error of the challenge (invalid_token, insufficient_scope), else the
    // issue type of the OperationOutcome (not-found, invalid, throttled…).
    const issue = operationOutcome?.issue[0];
    const code = problem?.code ?? challengeError(headers) ?? issue?.code;
    const text = problem?.detail ?? problem?.title ?? issue?.diagnostics ?? init.fallbackMessage ?? `HTTP ${status}`;
    super(`${code ? `${code}: ` : ''}${text}${requestId ? ` (request id ${requestId})` : ''}`);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.problem = problem;
    this.operationOutcome = operationOutcome;
    this.headers = headers;
    this.errors = problem?.errors ?? [];
  }

  /** Picks the subclass for a status: the one place that maps statuses to error classes. */
  static generate(init: ApiErrorInit): ApiError {
    const { status } = init;
    if (status === 400 || status === 422) return new BadRequestError(init);
    if (status === 401) return new AuthenticationError(init);
    if (status === 403) return new PermissionDeniedError(init);
    if (status === 404) return new NotFoundError(init);
    if (status === 409 || status === 412) return new ConflictError(init);
    if (status === 413) return new PayloadTooLargeError(init);
    if (status === 429) return new RateLimitError(init);
    if (status >= 500) return new ServerError(init);
    return new ApiError(init);
  }
}

/** 400 or 422: the request is not valid (`validation_failed`, `malformed_json`, `invalid_scope`, …). */
export class BadRequestError extends ApiError {
  override name = 'BadRequestError';
}

/** 401: no API key, or an unknown or revoked one (`authentication_required`, `invalid_api_key`). */
export class AuthenticationError extends ApiError {
  override name = 'AuthenticationError';
}

/** 403: the credentials are valid but do not allow this. */
export class PermissionDeniedError extends ApiError {
  override name = 'PermissionDeniedError';
}

/** 404: no such resource, or not one the caller may see (`not_found`, `route_not_found`). */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}

/**
 * 409: the request conflicts with the resource's state (`publisher_exists`, `app_not_deletable`, an
 * overlapping appointment); 412: the version an update was based on (`If-Match`) is no longer current.
 */
export class ConflictError extends ApiError {
  override name = 'ConflictError';
}

/** 413: the request body is larger than the server accepts (`payload_too_large`). */
export class PayloadTooLargeError extends ApiError {
  override name = 'PayloadTooLargeError';
}

/** 429: too many requests; the SDK already waited and retried (idempotent calls) before giving up. */
export class RateLimitError extends ApiError {
  override name = 'RateLimitError';
}

/** 5xx: the server failed (`internal_error`, `not_ready`); quote the request id when reporting it. */
export class ServerError extends ApiError {
  override name = 'ServerError';
}

/** The server could not be reached, or the connection broke before a response arrived. */
export class ConnectionError extends MesError {
  override name = 'ConnectionError';
}

/** No response within the timeout. A subclass of ConnectionError. */
export class TimeoutError extends ConnectionError {
  override name = 'TimeoutError';
}

/** The `error` parameter of a `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9449 §7.1), if any. */
function challengeError(headers: Headers): string | undefined {
  return /\berror="([^"]+)"/.exec(headers.get('www-authenticate') ?? '')?.[1];
}

export interface OAuthErrorInit {
  /** The RFC 6749 `error` code: `invalid_grant`, `access_denied`, `invalid_scope`, `invalid_state`… */
  error: string;
  description?: string | undefined;
  /** The HTTP status of the authorization server's answer (absent for errors of a redirect). */
  status?: number | undefined;
  /** The whole error body the server sent. */
  body?: Record<string, unknown> | undefined;
  cause?: unknown;
}

/**
 * The authorization server refused (RFC 6749 §5.2 and §4.1.2.1), or its answer failed a check the
 * SDK makes (`invalid_state`, `invalid_issuer`, `invalid_response`). `error` is the RFC code.
 */
export class OAuthError extends MesError {
  override name = 'OAuthError';
  /** Typed loosely because servers may add codes. */
  readonly error: OAuthErrorCode | (string & {});
  readonly description: string | undefined;
  readonly status: number | undefined;
  readonly body: Record<string, unknown> | undefined;

  constructor(init: OAuthErrorInit) {
    super(`${init.error}${init.description ? `: ${init.description}` : ''}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.error = init.error;
    this.description = init.description;
    this.status = init.status;
    this.body = init.body;
  }
}

/**
 * Why a grant stopped working, as the server says it (`grant_ended`): `consent_withdrawn`,
 * `grant_expired`, `grant_revoked`, `app_suspended`, `app_not_certified`, `client_deleted`; or, when
 * the server says nothing more, `access_expired` (a one-time access ran out, or there is no refresh
 * token), `refresh_refused` (the refresh token no longer works) and `not_authorized` (no
 * authorization yet).
 */
export type GrantEndReason =
  | 'consent_withdrawn'
  | 'grant_expired'
  | 'grant_revoked'
  | 'app_suspended'
  | 'app_not_certified'
  | 'client_deleted'
  | 'access_expired'
  | 'refresh_refused'
  | 'not_authorized';

/**
 * The access to the patient's data is gone and only a new authorization (`authorize()`) brings it
 * back. `reason` says why. The stored tokens are already forgotten, except when the app's
 * certification is suspended or withdrawn (`app_suspended`, `app_not_certified`): they work again
 * if it is reinstated.
 */
export class ReauthorizationRequiredError extends MesError {
  override name = 'ReauthorizationRequiredError';
  readonly reason: GrantEndReason;

  constructor(reason: GrantEndReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** The patient withdrew this app's access. A ReauthorizationRequiredError with reason `consent_withdrawn`. */
export class ConsentWithdrawnError extends ReauthorizationRequiredError {
  override name = 'ConsentWithdrawnError';

  constructor(message = 'The patient withdrew their consent to this app: ask them to authorize it again.', options?: { cause?: unknown }) {
    super('consent_withdrawn', message, options);
  }
}
