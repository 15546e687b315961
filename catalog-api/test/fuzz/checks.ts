// The checks on each answer: no 5xx; an error in the operation's documented format (or its
// family's, for statuses every route can answer); a status the operation documents (or a family
// default); a success body valid against its response schema; HTML that does not echo hostile
// markup unescaped; secrets not cacheable. Whether a refusal was due is the oracle's part.
import { COMPONENTS_ID } from '../../src/core/spec.js';
import { documentedResponse, type FuzzOperation, type SpecModel } from './model.js';
import type { Verdict } from './validity.js';

export const failureKinds = [
  'server-error',
  'accepted-invalid',
  'write-from-refused',
  'error-format',
  'undocumented-status',
  'response-schema',
  'unescaped-markup',
  'cacheable-secret',
  'transport',
] as const;
export type FailureKind = (typeof failureKinds)[number];

export interface Finding {
  kind: FailureKind;
  detail: string;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Statuses any operation may answer without documenting them: 400 (a request the HTTP layer
 * cannot read: bad escapes, unknown query parameters, malformed bodies), 404 (a path that no
 * longer matches a route), 413, 414 and 415 (body size, path parameter length and media type,
 * judged before the operation); and 401 and 403 for operations with security.
 */
export function familyStatuses(operation: FuzzOperation): Set<number> {
  return new Set([400, 404, 413, 414, 415, ...(operation.schemes.length ? [401, 403] : [])]);
}

const familyMediaType: Record<FuzzOperation['spec']['errorFormat'], string> = {
  problem: 'application/problem+json',
  oauth: 'application/json',
  fhir: 'application/fhir+json',
  page: 'text/html',
};

const header = (answer: Answer, name: string) => {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

export function mediaTypeOf(answer: Answer): string {
  return (header(answer, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether the server refused the request: an error status, or an error sent back to the client's redirect URI. */
export function refused(operation: FuzzOperation, answer: Answer): boolean {
  if (answer.status >= 400) return true;
  if (operation.spec.handlesInvalidParameters && answer.status === 303) {
    const location = header(answer, 'location') ?? '';
    return /[?&#]error=/.test(location);
  }
  return false;
}

function parseJson(body: Buffer): { ok: true; value: any } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

const stackTrace = /\bat .+\.(ts|js):\d+/;
const secretMembers = new Set(['apiKey', 'key', 'access_token', 'refresh_token', 'device_code', 'client_secret', 'id_token']);

function holdsSecret(value: unknown, depth = 0): boolean {
  if (depth > 6 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([name, inner]) => (secretMembers.has(name) && typeof inner === 'string' && inner.length > 0) || holdsSecret(inner, depth + 1));
}

function schemaErrors(model: SpecModel, schema: object, value: unknown): string | null {
  const validate = model.compile(schema);
  if (validate(value)) return null;
  const error = validate.errors?.[0];
  return `${error?.instancePath || '(root)'} ${error?.message ?? 'is not valid'}${error?.params ? ` ${JSON.stringify(error.params)}` : ''}`;
}

function checkErrorBody(model: SpecModel, operation: FuzzOperation, answer: Answer, expected: string[], schemas: Record<string, object>): Finding[] {
  const type = mediaTypeOf(answer);
  if (!expected.includes(type)) {
    return [{ kind: 'error-format', detail: `${answer.status} answered as ${type || '(no Content-Type)'}, documented: ${expected.join(' or ')}` }];
  }
  const text = answer.body.toString('utf8');
  if (stackTrace.test(text)) return [{ kind: 'error-format', detail: 'the error shows a stack trace' }];
  if (type === 'text/html') return /^\s*<!doctype html/i.test(text) ? [] : [{ kind: 'error-format', detail: 'an HTML error that is not a page' }];
  if (!type.endsWith('json')) return [];
  const parsed = parseJson(answer.body);
  if (!parsed.ok) return [{ kind: 'error-format', detail: `${type} body is not JSON: ${parsed.error}` }];
  const body = parsed.value;
  if (type === 'application/problem+json') {
    const invalid = schemaErrors(model, { $ref: `${COMPONENTS_ID}#/$defs/Problem` }, body);
    if (invalid) return [{ kind: 'error-format', detail: `problem document: ${invalid}` }];
    if (body.status !== answer.status) return [{ kind: 'error-format', detail: `problem status ${body.status} on a ${answer.status} answer` }];
    if (body.type !== `urn:mes:problem:${body.code}`) return [{ kind: 'error-format', detail: `problem type ${body.type} for code ${body.code}` }];
    return [];
  }
  if (type === 'application/fhir+json') {
    const invalid = schemaErrors(model, { $ref: `${COMPONENTS_ID}#/$defs/OperationOutcome` }, body);
    return invalid ? [{ kind: 'error-format', detail: `OperationOutcome: ${invalid}` }] : [];
  }
  // RFC 6749 error JSON (the OAuth endpoints): the documented schema, or at least `error`.
  const schema = schemas[type] ?? { $ref: `${COMPONENTS_ID}#/$defs/OAuthError` };
  const invalid = schemaErrors(model, schema, body);
  return invalid ? [{ kind: 'error-format', detail: `error JSON: ${invalid}` }] : [];
}

/** Every finding on one answer. `verdict`: the oracle's judgement of the request that was sent. */
export function checkAnswer(model: SpecModel, operation: FuzzOperation, verdict: Verdict, answer: Answer): Finding[] {
  const findings: Finding[] = [];
  const documented = documentedResponse(operation, answer.status);
  const type = mediaTypeOf(answer);
  const text = type.startsWith('text/') ? answer.body.toString('utf8') : '';

  // A 5xx the operation documents is a designed answer (sign-in when the identity provider cannot
  // be reached: 502); the runner counts those apart. Any other is a failure.
  if (answer.status >= 500 && !documented) findings.push({ kind: 'server-error', detail: `${answer.status}` });
  if (verdict.valid === false && !refused(operation, answer)) findings.push({ kind: 'accepted-invalid', detail: `${answer.status} to a request with ${verdict.reason}` });
  // A request that no longer names the operation answers like any request of the platform: an
  // error in one of the platform's formats, and no 5xx. A dot segment the server took literally
  // reaches the operation with `.` or `..` as the value: one of its documented answers.
  const literalDotSegment = verdict.valid === 'unknown' && verdict.retargeted === 'dot-segment' && documented !== undefined && (documented.mediaTypes.length === 0 ? answer.body.length === 0 : documented.mediaTypes.includes(type));
  if (verdict.valid === 'unknown' && verdict.retargeted && !literalDotSegment) {
    if (answer.status >= 400 && answer.status < 500) {
      const format = Object.entries(familyMediaType).find(([, mediaType]) => mediaType === type);
      if (!format) findings.push({ kind: 'error-format', detail: `${answer.status} answered as ${type || '(no Content-Type)'}, not one of the platform's error formats` });
      else findings.push(...checkErrorBody(model, operation, answer, [type], {}));
    }
    return findings;
  }
  if (!documented && answer.status < 500 && !familyStatuses(operation).has(answer.status)) {
    findings.push({ kind: 'undocumented-status', detail: `${answer.status} is not documented for ${operation.id}` });
  }
  if (type === 'text/html' && /<script>mesfuzz\(|<img src=x onerror=mesfuzz\(/.test(text)) findings.push({ kind: 'unescaped-markup', detail: 'the page echoes hostile markup unescaped' });

  if (answer.status >= 400 && answer.status < 500) {
    const expected = documented?.mediaTypes.length ? documented.mediaTypes : [familyMediaType[operation.spec.errorFormat]];
    findings.push(...checkErrorBody(model, operation, answer, expected, documented?.schemas ?? {}));
  } else if (answer.status >= 200 && answer.status < 300 && documented) {
    if (documented.mediaTypes.length === 0) {
      if (answer.body.length > 0) findings.push({ kind: 'response-schema', detail: `${answer.status} documented without content has a body` });
    } else if (!documented.mediaTypes.includes(type)) {
      findings.push({ kind: 'response-schema', detail: `${answer.status} answered as ${type || '(no Content-Type)'}, documented: ${documented.mediaTypes.join(' or ')}` });
    } else if (documented.schemas[type]) {
      const parsed = parseJson(answer.body);
      if (!parsed.ok) findings.push({ kind: 'response-schema', detail: `body is not JSON: ${parsed.error}` });
      else {
        const invalid = schemaErrors(model, documented.schemas[type]!, parsed.value);
        if (invalid) findings.push({ kind: 'response-schema', detail: invalid });
        const cacheControl = header(answer, 'cache-control') ?? '';
        if (holdsSecret(parsed.value) && !/no-store/i.test(cacheControl)) {
          findings.push({ kind: 'cacheable-secret', detail: `a secret answered with Cache-Control: ${cacheControl || '(none)'}` });
        }
      }
    } else if (type === 'text/html' && !/^\s*<!doctype html/i.test(text)) {
      findings.push({ kind: 'response-schema', detail: 'text/html that is not a page' });
    }
  } else if (answer.status === 303 && !header(answer, 'location')) {
    findings.push({ kind: 'response-schema', detail: '303 without Location' });
  }
  return findings;
}
