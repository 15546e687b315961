// The one error hierarchy of the SDK. Every failure of a call rejects with a MesError: an ApiError
// (built from the server's RFC 9457 problem document) or a ConnectionError/TimeoutError.
import type { ProblemCode } from './constants.js';
import type { FieldError, Problem } from './types.js';

/** Base class of every error the SDK throws. */
export class MesError extends Error {
  override name = 'MesError';
}

export interface ApiErrorInit {
  status: number;
  /** The problem document, when the response carried one. */
  problem?: Problem | undefined;
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
  readonly headers: Headers;
  /** The individual input errors of a `validation_failed` problem (empty otherwise). */
  readonly errors: readonly FieldError[];

  constructor(init: ApiErrorInit) {
    const { status, problem, headers } = init;
    const requestId = headers.get('x-request-id') ?? problem?.requestId ?? undefined;
    const code = problem?.code;
    const text = problem?.detail ?? problem?.title ?? init.fallbackMessage ?? `HTTP ${status}`;
    super(`${code ? `${code}: ` : ''}${text}${requestId ? ` (request id ${requestId})` : ''}`);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.problem = problem;
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
    if (status === 409) return new ConflictError(init);
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

/** 409: the request conflicts with the resource's state (`publisher_exists`, `app_not_deletable`). */
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
