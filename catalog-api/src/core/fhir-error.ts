// Errors of the FHIR API: an OperationOutcome with one issue per problem, an HTTP status, and
// (at authentication) the WWW-Authenticate challenge. The records module throws FhirError for what
// only it can judge (a code the platform does not accept); every other error of a FHIR operation
// (validation, authentication, limits) is turned into an OperationOutcome from its problem code.
import type { ProblemCode } from './errors.js';
import type { ProblemError } from './errors.js';

/** FHIR issue types (https://hl7.org/fhir/R4/valueset-issue-type.html) this API answers with. */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'code-invalid'
  | 'business-rule'
  | 'conflict'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'not-supported'
  | 'too-costly'
  | 'throttled'
  | 'processing'
  | 'exception';

export interface OutcomeIssue {
  severity: 'error' | 'fatal';
  code: IssueType;
  diagnostics: string;
  expression?: string[];
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: OutcomeIssue[];
}

export class FhirError extends Error {
  override name = 'FhirError';
  readonly headers: Record<string, string>;

  constructor(
    readonly status: 400 | 401 | 403 | 404 | 406 | 409 | 412 | 413 | 415 | 422 | 429 | 503,
    readonly issueCode: IssueType,
    diagnostics: string,
    options: { expression?: string[]; headers?: Record<string, string> } = {},
  ) {
    super(diagnostics);
    this.headers = options.headers ?? {};
    this.expression = options.expression;
  }

  readonly expression: string[] | undefined;

  toOutcome(): OperationOutcome {
    return {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: this.issueCode, diagnostics: this.message, ...(this.expression ? { expression: this.expression } : {}) }],
    };
  }
}

const issueTypes: Partial<Record<ProblemCode, IssueType>> = {
  validation_failed: 'invalid',
  malformed_json: 'structure',
  json_too_deep: 'structure',
  invalid_cursor: 'invalid',
  authentication_required: 'login',
  invalid_token: 'login',
  invalid_dpop_proof: 'login',
  use_dpop_nonce: 'login',
  insufficient_scope: 'forbidden',
  not_found: 'not-found',
  route_not_found: 'not-found',
  payload_too_large: 'too-costly',
  unsupported_media_type: 'not-supported',
  internal_error: 'exception',
  not_ready: 'exception',
};

/**
 * A JSON pointer of the request as a FHIRPath-like expression: `/body/code/coding/0` of an
 * Observation is `Observation.code.coding[0]`, `/query/date` is the parameter `date`.
 */
export function expressionOf(pointer: string, resourceType: string | undefined): string {
  const [, part, ...segments] = pointer.split('/');
  if (part !== 'body') return segments.join('.') || pointer;
  let path = resourceType ?? 'Resource';
  for (const segment of segments) path += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  return path;
}

/** The OperationOutcome of an error that has a problem code (validation, authentication, limits). */
export function outcomeOfProblem(error: ProblemError, resourceType: string | undefined): OperationOutcome {
  const code = issueTypes[error.code] ?? 'processing';
  if (error.errors?.length) {
    return {
      resourceType: 'OperationOutcome',
      issue: error.errors.map((field) => ({
        severity: 'error',
        code,
        diagnostics: `${expressionOf(field.pointer, resourceType)}: ${field.detail}`,
        expression: [expressionOf(field.pointer, resourceType)],
      })),
    };
  }
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: error.message }] };
}
