// The pure half of `mes api`: from an operation and the values of its flags to a request (URL,
// headers, body), and from an error response to a code and a message. No I/O here.
import { CodedError } from '../base-command.js';
import { apiMessages } from './messages.js';
import type { BodyField, Operation } from './operation.js';

/** Flag values as oclif parsed them, by flag name. */
export type FlagValues = Readonly<Record<string, unknown>>;

/** One path segment, percent-encoded; empty, `.` and `..` would change which resource is reached. */
export function encodePathSegment(value: string, flag: string): string {
  if (value === '' || value === '.' || value === '..') throw new CodedError(apiMessages.badPathValue(flag), 'invalid_flag');
  return encodeURIComponent(value);
}

const asList = (value: unknown): unknown[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

/** The base URL (which may have a path, e.g. behind a proxy) + the path template filled in + the query. */
export function buildUrl(baseUrl: string, operation: Operation, values: FlagValues): URL {
  let path = operation.path;
  for (const parameter of operation.parameters) {
    if (parameter.in !== 'path') continue;
    const value = values[parameter.flag];
    // oclif enforces required flags; this is for a table edited by hand.
    if (value === undefined) throw new CodedError(`Missing required flag ${parameter.flag}`, 'invalid_flag');
    path = path.replaceAll(`{${parameter.name}}`, encodePathSegment(String(value), parameter.flag));
  }
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
  for (const parameter of operation.parameters) {
    if (parameter.in !== 'query') continue;
    for (const value of asList(values[parameter.flag])) url.searchParams.append(parameter.name, String(value));
  }
  return url;
}

/** Header and cookie parameters, plus `Accept` from the operation's response types. */
export function parameterHeaders(operation: Operation, values: FlagValues): Record<string, string> {
  const headers: Record<string, string> = {};
  if (operation.responseTypes.length) headers.accept = operation.responseTypes.join(', ');
  const cookies: string[] = [];
  for (const parameter of operation.parameters) {
    const list = asList(values[parameter.flag]).map(String);
    if (list.length === 0) continue;
    if (parameter.in === 'header') headers[parameter.name.toLowerCase()] = list.join(', ');
    if (parameter.in === 'cookie') cookies.push(`${parameter.name}=${encodeURIComponent(list.join(','))}`);
  }
  if (cookies.length) headers.cookie = cookies.join('; ');
  return headers;
}

/** The body of --body, as read from its file or standard input. */
export interface BodySource {
  /** The file name, or "-" for standard input (for messages). */
  name: string;
  content: Buffer;
}

export interface RequestBody {
  contentType: string;
  content: string | Buffer;
}

/** Splits `name=value` at the first `=`. */
export function splitField(raw: string): [string, string] {
  const at = raw.indexOf('=');
  if (at <= 0) throw new CodedError(apiMessages.badField(raw), 'invalid_flag');
  return [raw.slice(0, at), raw.slice(at + 1)];
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A --field value for a JSON body: the text for string fields, else JSON when it parses. */
export function fieldValue(text: string, field: BodyField | undefined): unknown {
  if (!field) return parseJsonOr(text);
  if (field.type === 'string') return text;
  if (field.type === 'array') {
    const parsed = text.trimStart().startsWith('[') ? parseJsonOr(text) : undefined;
    if (Array.isArray(parsed)) return parsed;
    return [field.items === 'string' || field.items === undefined ? text : parseJsonOr(text)];
  }
  return parseJsonOr(text);
}

/** The JSON body: the --body object, then each --field over it (repeated array fields add items). */
export function jsonBody(operation: Operation, source: BodySource | undefined, fields: readonly string[]): unknown {
  let base: unknown;
  if (source) {
    try {
      base = JSON.parse(source.content.toString('utf8'));
    } catch {
      throw new CodedError(`${source.name === '-' ? 'Standard input' : source.name} is not valid JSON.`, 'invalid_file');
    }
  }
  if (fields.length === 0) return base;
  if (base !== undefined && (typeof base !== 'object' || base === null || Array.isArray(base))) {
    throw new CodedError(apiMessages.fieldsNeedObject, 'invalid_flag');
  }
  const body: Record<string, unknown> = { ...(base as Record<string, unknown> | undefined) };
  const set = new Set<string>();
  for (const raw of fields) {
    const [name, text] = splitField(raw);
    const field = operation.body?.fields.find((candidate) => candidate.name === name);
    const value = fieldValue(text, field);
    if (field?.type === 'array' && set.has(name) && Array.isArray(body[name])) body[name] = [...(body[name] as unknown[]), ...(value as unknown[])];
    else body[name] = value;
    set.add(name);
  }
  return body;
}

/** The form body: --body as a JSON object or as `a=b&c=d` text, then each --field over it. */
export function formBody(source: BodySource | undefined, fields: readonly string[]): URLSearchParams {
  const form = new URLSearchParams();
  if (source) {
    const text = source.content.toString('utf8').trim();
    const parsed = text.startsWith('{') ? parseJsonOr(text) : undefined;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const [name, value] of Object.entries(parsed)) {
        for (const item of asList(value)) form.append(name, typeof item === 'object' ? JSON.stringify(item) : String(item));
      }
    } else if (text.startsWith('{')) {
      throw new CodedError(`${source.name === '-' ? 'Standard input' : source.name} is not valid JSON.`, 'invalid_file');
    } else {
      for (const [name, value] of new URLSearchParams(text)) form.append(name, value);
    }
  }
  const set = new Set<string>();
  for (const raw of fields) {
    const [name, value] = splitField(raw);
    if (!set.has(name)) form.delete(name);
    form.append(name, value);
    set.add(name);
  }
  return form;
}

/** The request body, or undefined when there is none to send. */
export function buildBody(operation: Operation, source: BodySource | undefined, fields: readonly string[]): RequestBody | undefined {
  const { body } = operation;
  if (!body) return undefined;
  if (!source && fields.length === 0) {
    if (body.required) throw new CodedError(apiMessages.missingBody(operation.operationId), 'missing_body');
    return undefined;
  }
  if (body.kind === 'raw') {
    if (fields.length) throw new CodedError(apiMessages.noFieldsForRaw(body.contentType), 'invalid_flag');
    return { contentType: body.contentType, content: source!.content };
  }
  if (body.kind === 'form') return { contentType: body.contentType, content: formBody(source, fields).toString() };
  return { contentType: body.contentType, content: JSON.stringify(jsonBody(operation, source, fields)) };
}

// ---------------------------------------------------------------------------------------------
// Error responses

export interface Failure {
  code: string;
  detail: string;
  requestId?: string;
  errors?: { pointer: string; detail: string }[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The `error` of an RFC 6750/9449 challenge (`WWW-Authenticate: DPoP error="invalid_token"`). */
function challengeError(headers: Headers): string | undefined {
  return /\berror="([^"]+)"/.exec(headers.get('www-authenticate') ?? '')?.[1];
}

/**
 * The code and message of an error answer, whatever its form: an RFC 9457 problem, an RFC 6749
 * OAuth error, a FHIR OperationOutcome, else the status.
 */
export function describeFailure(status: number, statusText: string, headers: Headers, body: string): Failure {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    value = undefined;
  }
  const requestId = headers.get('x-request-id') ?? (isRecord(value) ? text(value.requestId) : undefined);
  let code: string | undefined;
  let detail: string | undefined;
  let errors: Failure['errors'];
  if (isRecord(value)) {
    if (text(value.code) || text(value.title) || text(value.detail)) {
      code = text(value.code);
      detail = text(value.detail) ?? text(value.title);
      if (Array.isArray(value.errors)) {
        errors = value.errors.filter(isRecord).map((error) => ({ pointer: String(error.pointer ?? ''), detail: String(error.detail ?? '') }));
      }
    } else if (text(value.error)) {
      code = text(value.error);
      detail = text(value.error_description);
    } else if (value.resourceType === 'OperationOutcome' && Array.isArray(value.issue)) {
      const issue = value.issue.find(isRecord);
      code = issue && text(issue.code);
      detail = issue && (text(issue.diagnostics) ?? (isRecord(issue.details) ? text(issue.details.text) : undefined));
    }
  }
  code = challengeError(headers) ?? code ?? `http_${status}`;
  detail ??= `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  return { code, detail, ...(requestId ? { requestId } : {}), ...(errors?.length ? { errors } : {}) };
}

/** `code: detail (request id …)`, then one line per invalid field. */
export function failureMessage(failure: Failure, hint?: string): string {
  const lines = [`${failure.code}: ${failure.detail}${failure.requestId ? ` (request id ${failure.requestId})` : ''}`];
  for (const error of failure.errors ?? []) lines.push(`  ${error.pointer || '/'}: ${error.detail}`);
  if (hint) lines.push(hint);
  return lines.map(safeText).join('\n');
}

/** Control characters from the server must not move the cursor or recolour the terminal. */
export function safeText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ' ');
}

/** JSON media types: application/json, application/problem+json, application/fhir+json… */
export function isJsonType(contentType: string): boolean {
  return /^application\/([\w.-]+\+)?json$/i.test(contentType.split(';')[0]!.trim());
}

/** What can be printed as text. */
export function isTextType(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type.startsWith('text/') || /^application\/([\w.-]+\+)?(xml|javascript|x-www-form-urlencoded)$/.test(type);
}
