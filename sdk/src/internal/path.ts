// Builds request paths. Every path parameter goes through `path` so that an id can never change
// which resource a request reaches: each is percent-encoded, and empty, `.` and `..` values are refused.
import { MesError } from '../errors.js';

/** Encodes one path segment; refuses values that would be empty or a dot segment. */
export function encodePathSegment(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new MesError(`A path parameter must be a string, got ${value === null ? 'null' : typeof value}.`);
  }
  const text = String(value);
  if (text === '' || text === '.' || text === '..') {
    throw new MesError(`The path parameter ${JSON.stringify(text)} is not allowed.`);
  }
  return encodeURIComponent(text);
}

/** Tagged template: path`apps/${id}` gives `apps/<id percent-encoded>`. */
export function path(strings: TemplateStringsArray, ...params: unknown[]): string {
  let result = strings[0] ?? '';
  params.forEach((param, index) => {
    result += encodePathSegment(param) + (strings[index + 1] ?? '');
  });
  return result;
}
