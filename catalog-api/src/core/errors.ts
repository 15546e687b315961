// Every machine error code of the HTTP API, in one place. The spec's ProblemCode enum and the
// table in docs/reference/errors.md must list exactly these (a test checks all three agree).
import type { components } from '@mes/openapi';

export type ProblemCode = components['schemas']['ProblemCode'];
export type Problem = components['schemas']['Problem'];

interface CodeInfo {
  status: number;
  title: string;
}

export const problemCodes = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  json_too_deep: { status: 400, title: 'The request body is nested too deeply' },
  invalid_cursor: { status: 400, title: 'The page cursor is not valid' },
  invalid_redirect_uri: { status: 400, title: 'A redirect URI is not acceptable' },
  invalid_scope: { status: 400, title: 'A scope is not valid' },
  invalid_client_metadata: { status: 400, title: 'The client registration is not valid' },
  authentication_required: { status: 401, title: 'Authentication is required' },
  invalid_api_key: { status: 401, title: 'The API key is not valid' },
  invalid_operator_token: { status: 401, title: 'The operator token is not valid' },
  invalid_token: { status: 401, title: 'The access token is not valid' },
  invalid_dpop_proof: { status: 401, title: 'The DPoP proof is not valid' },
  use_dpop_nonce: { status: 401, title: 'The DPoP proof must carry the server nonce' },
  insufficient_scope: { status: 403, title: 'The access token lacks the scope this operation needs' },
  cross_origin_request: { status: 403, title: 'The request does not come from the platform’s pages' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was first used with another request' },
  idempotency_request_in_progress: { status: 409, title: 'The first request with this Idempotency-Key is still running' },
  not_found: { status: 404, title: 'The resource does not exist' },
  route_not_found: { status: 404, title: 'No such route' },
  sandbox_only: { status: 404, title: 'This operation exists only in the sandbox' },
  publisher_exists: { status: 409, title: 'A publisher with this registration number exists' },
  app_not_deletable: { status: 409, title: 'The app cannot be deleted in its certification status' },
  client_not_confidential: { status: 409, title: 'A public client has no keys' },
  illegal_transition: { status: 409, title: 'The certification workflow does not allow this now' },
  submission_open: { status: 409, title: 'A submission of this app is already waiting for review' },
  version_exists: { status: 409, title: 'This version of the app was already submitted' },
  reviewer_conflict: { status: 403, title: 'The reviewer is linked to the publisher of this app' },
  reviewer_required: { status: 403, title: 'Only a certification reviewer may do this' },
  already_approved: { status: 409, title: 'This reviewer already approved this submission' },
  checks_failing: { status: 409, title: 'Automated checks fail; the submission cannot be approved' },
  criteria_mismatch: { status: 400, title: 'The verdicts do not match the submission’s criteria' },
  reviewer_exists: { status: 409, title: 'A reviewer with this login exists' },
  unknown_sandbox_user: { status: 400, title: 'No seeded sandbox account has this name' },
  invalid_evidence: { status: 400, title: 'The sandbox evidence cannot be accepted' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The request body must be application/json' },
  internal_error: { status: 500, title: 'Internal server error' },
  not_ready: { status: 503, title: 'The service is not ready' },
} as const satisfies Record<ProblemCode, CodeInfo>;

export interface FieldError {
  pointer: string;
  detail: string;
}

/** An error that the HTTP layer turns into an RFC 9457 problem document. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ProblemCode,
    detail?: string,
    readonly errors?: FieldError[],
    headers: Record<string, string> = {},
  ) {
    super(detail ?? problemCodes[code].title);
    this.status = problemCodes[code].status;
    this.headers = headers;
  }
}

export function problemType(code: ProblemCode): string {
  return `urn:mes:problem:${code}`;
}

export function toProblem(error: ProblemError, instance: string, requestId: string): Problem {
  const problem: Problem = {
    type: problemType(error.code),
    title: problemCodes[error.code].title,
    status: error.status,
    detail: error.message,
    instance,
    code: error.code,
    requestId,
  };
  if (error.errors?.length) problem.errors = error.errors;
  return problem;
}
