// The one input boundary of the server: what no request may carry into the handlers, the store
// or the logs, checked once for every route rather than route by route.
// - Strings: no NUL character (PostgreSQL text cannot hold one) and no unpaired surrogate (not
//   text at all: it cannot be encoded as UTF-8), in a query, a path, a form or a JSON body, in
//   values and in names.
// - Integers in the query or the path: a strict grammar (an optional minus, digits, no leading
//   zero, no plus sign, no -0, space, exponent, hexadecimal or `Infinity`) and a safe integer; the schema then
//   checks the documented range.
// - Bodies: UTF-8 only (a declared charset other than UTF-8 is 415), one Content-Type header.
// - Requests: one Host header, and an absolute-form target only for this very host.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FieldError } from './errors.js';
import { ProblemError } from './errors.js';
import type { JsonObject } from './spec.js';

/** Why a string may not pass, or null when it may. */
export function stringProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character';
  // With the u flag a surrogate pair is one code point: only an unpaired surrogate matches.
  if (/\p{Cs}/u.test(value)) return 'contains an unpaired surrogate (not valid Unicode text)';
  return null;
}

const MAX_REPORTED = 10;

/** Every bad string of a value (names included), each pointing at where it is, at most 10. */
export function badStrings(value: unknown, pointer: string, found: FieldError[] = []): FieldError[] {
  if (found.length >= MAX_REPORTED) return found;
  if (typeof value === 'string') {
    const problem = stringProblem(value);
    if (problem) found.push({ pointer, detail: problem });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => badStrings(item, `${pointer}/${index}`, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [name, item] of Object.entries(value)) {
      const problem = stringProblem(name);
      // A name that cannot be shown is not put in the pointer either.
      if (problem) found.push({ pointer, detail: `has a member name that ${problem}` });
      else badStrings(item, `${pointer}/${escapePointer(name)}`, found);
    }
  }
  return found;
}

const escapePointer = (name: string) => name.replace(/~/g, '~0').replace(/\//g, '~1');

/** Refuses a part of a request (`query`, `params`, `body`) that holds a bad string: 400 naming each field. */
export function refuseBadStrings(value: unknown, part: 'query' | 'params' | 'body'): void {
  const found = badStrings(value, `/${part}`);
  if (found.length) throw new ProblemError('validation_failed', found.map((field) => `${field.pointer}: ${field.detail}`).join('; '), found);
}

const integerGrammar = /^(?:0|-?[1-9][0-9]*)$/;

/** Why a query or path value given for an integer is refused, or null when it is one. */
export function integerProblem(raw: string): string | null {
  if (!integerGrammar.test(raw)) return 'must be an integer written in decimal digits';
  if (!Number.isSafeInteger(Number(raw))) return 'is out of range';
  return null;
}

/**
 * The names of the integer properties of a parameters schema (query or path): the values that
 * must pass `integerProblem` before the schema's coercion turns them into numbers.
 */
export function integerParameters(schema: JsonObject | undefined): string[] {
  const properties = (schema?.properties ?? {}) as Record<string, JsonObject>;
  return Object.entries(properties).flatMap(([name, property]) => {
    const type = property.type;
    const types = Array.isArray(type) ? type : [type];
    return types.includes('integer') || types.includes('number') ? [name] : [];
  });
}

/** Refuses integer parameters written otherwise than the strict grammar, naming each. */
export function refuseLooseIntegers(values: Record<string, unknown>, names: readonly string[], part: 'query' | 'params'): void {
  const found: FieldError[] = [];
  for (const name of names) {
    for (const raw of [values[name]].flat()) {
      if (typeof raw !== 'string') continue;
      const problem = integerProblem(raw);
      if (problem) found.push({ pointer: `/${part}/${name}`, detail: `${JSON.stringify(raw)} ${problem}` });
    }
  }
  if (found.length) throw new ProblemError('validation_failed', found.map((field) => `${field.pointer}: ${field.detail}`).join('; '), found);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A body's text: its bytes must be UTF-8 (a byte that is not is refused, never replaced). */
export function utf8Body(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProblemError('validation_failed', 'The request body is not valid UTF-8.', [{ pointer: '/body', detail: 'is not valid UTF-8' }]);
  }
}

/**
 * Refuses urlencoded text (a query string, a form body) with an escape that does not decode to
 * UTF-8 text (`%FF`, `%ZZ`, a cut sequence): the parsers would keep it raw or replace it, and two
 * readers would not agree on what was sent.
 */
export function refuseBadEscapes(text: string, part: 'query' | 'body'): void {
  if (!text.includes('%')) return;
  for (const pair of text.split('&')) {
    const [name = '', value = ''] = pair.split(/=(.*)/s);
    for (const component of [name, value]) {
      try {
        decodeURIComponent(component.replace(/\+/g, ' '));
      } catch {
        const shown = name.replace(/[^A-Za-z0-9_.~-]/g, '?').slice(0, 64);
        throw new ProblemError('validation_failed', `/${part}/${shown}: has a %-escape that is not UTF-8 text`, [{ pointer: `/${part}/${shown}`, detail: 'has a %-escape that is not UTF-8 text' }]);
      }
    }
  }
}

/** Refuses a body declared in another charset than UTF-8 (`charset=utf-8` or none is fine): 415. */
export function refuseForeignCharset(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ProblemError('unsupported_media_type', `The request body must be UTF-8; it is declared ${charset}.`);
  }
}

/** How many times a header is in the request, as sent (Node keeps only the first of some). */
export function headerCount(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) count++;
  return count;
}

/**
 * Parses a form-encoded body: each field once (OAuth parameters must not be repeated, RFC 6749
 * §3.1, and a form of the pages never repeats one either), and only text.
 */
export function parseFormBody(text: string): Record<string, string> {
  refuseBadEscapes(text, 'body');
  const result: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(text)) {
    if (name in result) {
      throw new ProblemError('validation_failed', `parameter "${name.slice(0, 64).replace(/[^\x20-\x7E]/g, '?')}" is repeated`, [{ pointer: `/body/${escapePointer(name)}`, detail: 'is repeated' }]);
    }
    result[name] = value;
  }
  refuseBadStrings(result, 'body');
  return { ...result };
}

const integerNames = new WeakMap<object, { query: string[]; params: string[] }>();

/** The integer parameters of a route, read once from its schemas. */
function integersOf(request: FastifyRequest): { query: string[]; params: string[] } | null {
  const schema = request.routeOptions.schema as { querystring?: JsonObject; params?: JsonObject } | undefined;
  if (!schema) return null;
  let names = integerNames.get(schema);
  if (!names) {
    names = { query: integerParameters(schema.querystring), params: integerParameters(schema.params) };
    integerNames.set(schema, names);
  }
  return names;
}

/**
 * The boundary's checks of every request, before routing's hooks authenticate it: the headers
 * that must come once, the request target, and the strings and integers of the query and path.
 * The bodies are checked where they are parsed (parseFormBody, and the JSON parser's caller).
 */
export function registerInputBoundary(app: FastifyInstance, issuerOf: (request: FastifyRequest) => string): void {
  app.addHook('onRequest', async (request) => {
    const raw = request.raw.rawHeaders;
    if (headerCount(raw, 'content-type') > 1) throw new ProblemError('validation_failed', 'The request has two Content-Type headers; send one.');
    if (headerCount(raw, 'host') > 1) throw new ProblemError('validation_failed', 'The request has two Host headers; send one.');
    // An absolute-form target (`GET http://host/path`) is taken only for this platform's own host.
    const target = request.raw.url ?? '';
    if (!target.startsWith('/') && target !== '*') {
      let host: string | null = null;
      try {
        host = new URL(target).host;
      } catch {
        host = null;
      }
      if (host === null || (host !== request.headers.host && host !== new URL(issuerOf(request)).host)) {
        throw new ProblemError('validation_failed', 'The request target names another host than this platform.');
      }
    }
    const query = request.url.indexOf('?');
    if (query !== -1) refuseBadEscapes(request.url.slice(query + 1), 'query');
    refuseBadStrings(request.params, 'params');
    refuseBadStrings(request.query, 'query');
    const integers = integersOf(request);
    if (integers) {
      refuseLooseIntegers(request.query as Record<string, unknown>, integers.query, 'query');
      refuseLooseIntegers(request.params as Record<string, unknown>, integers.params, 'params');
    }
  });
}
