// Runtime lists of the spec's string enums. Each list is checked against the spec's union: an
// extra or misspelt value fails to compile here, a missing one fails the type test in
// test/constants.unit.test.ts.
import type { GrantEndReason } from './errors.js';
import type { AppCategory, CertificationStatus, Problem } from './types.js';

/** A stable machine-readable error code of the API (`Problem.code`). */
export type ProblemCode = Problem['code'];

/** Every problem code the API documents (docs/reference/errors.md). New codes may be added. */
export const problemCodes = [
  'validation_failed',
  'malformed_json',
  'json_too_deep',
  'invalid_cursor',
  'invalid_redirect_uri',
  'invalid_scope',
  'invalid_client_metadata',
  'payload_too_large',
  'unsupported_media_type',
  'authentication_required',
  'invalid_api_key',
  'invalid_operator_token',
  'invalid_token',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'insufficient_scope',
  'cross_origin_request',
  'idempotency_key_reused',
  'idempotency_request_in_progress',
  'sandbox_only',
  'not_found',
  'route_not_found',
  'publisher_exists',
  'app_not_deletable',
  'client_not_confidential',
  'not_ready',
  'illegal_transition',
  'submission_open',
  'version_exists',
  'reviewer_conflict',
  'reviewer_required',
  'already_approved',
  'checks_failing',
  'criteria_mismatch',
  'reviewer_exists',
  'unknown_sandbox_user',
  'invalid_evidence',
  'internal_error',
] as const satisfies readonly ProblemCode[];

/** The problem codes as named constants: `if (error.code === ProblemCode.not_found) …`. */
export const ProblemCode = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ Object.fromEntries(/* @__PURE__ */ problemCodes.map((code) => [code, code]))) as {
  readonly [C in ProblemCode]: C;
};

export function isProblemCode(value: unknown): value is ProblemCode {
  return typeof value === 'string' && (problemCodes as readonly string[]).includes(value);
}

/** Every catalogue category. */
export const appCategories = [
  'prevention',
  'suivi-maladie-chronique',
  'teleconsultation',
  'bien-etre',
  'parentalite',
] as const satisfies readonly AppCategory[];

/** Every certification status an app can be in. */
export const certificationStatuses = [
  'draft',
  'submitted',
  'in_review',
  'changes_requested',
  'approved',
  'rejected',
  'certified',
  'suspended',
  'revoked',
  'expired',
] as const satisfies readonly CertificationStatus[];

/**
 * The `error` codes an OAuthError carries: those of RFC 6749, RFC 8628 (device flow) and RFC 9449
 * (DPoP) the authorization server answers, and the SDK's own checks of an answer
 * (`invalid_state`, `invalid_response`, `not_pre_approved`). New codes may be added.
 */
export const oauthErrorCodes = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'invalid_state',
  'invalid_response',
  'not_pre_approved',
] as const;

export type OAuthErrorCode = (typeof oauthErrorCodes)[number];

/** Every `reason` of a ReauthorizationRequiredError (docs/sdk.md §5). */
export const grantEndReasons = [
  'consent_withdrawn',
  'grant_expired',
  'grant_revoked',
  'app_suspended',
  'app_not_certified',
  'client_deleted',
  'access_expired',
  'refresh_refused',
  'not_authorized',
] as const satisfies readonly GrantEndReason[];
