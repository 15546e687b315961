// The oracle: is a request valid per the spec (and the platform's input rules)? A mutated request
// the oracle calls invalid must be refused; one it calls valid may be answered either way; one it
// cannot judge (`unknown`: a body sent to an operation that takes none, duplicate JSON keys) is
// only checked for crashes and formats. Parameters are read as a strict HTTP reader would: an
// integer is `0` or `-?[1-9][0-9]*` within the safe range, never `0x10`, ` 1`, `1e3` or `Infinity`.
//
// Rules beyond the schemas, each from the platform's documented behaviour:
// - a NUL or a lone surrogate in any declared string is refused (the hardening issue: such values
//   cannot be stored or shown faithfully); undeclared parameters an operation ignores are exempt;
// - bodies nested deeper than the configured jsonMaxDepth, larger than the body limit, with
//   `__proto__`/`constructor` keys, or not UTF-8 are refused (core/json-body.ts, DESIGN "Errors");
// - a parameter the schema says is single must not be repeated; nor may a form field (RFC 6749 §3.1).
import type { FuzzOperation, FuzzParameter, SpecModel } from './model.js';
import { formPairs, type Draft, type FormValue } from './request.js';
import { deref, typesOf, type Schema } from './schema-arbitrary.js';

/**
 * The oracle's judgement of a request. `retargeted`: the request as written may no longer name the
 * operation (a raw path parameter with a `/`, `?` or `#` changes the path itself: `'path'`), so the
 * operation's documented answers do not apply, only the platform's rules for any request. A whole
 * dot segment (`.` or `..`: `'dot-segment'`) is either resolved as a step in the path or, as HTTP
 * allows a server to, taken literally as the parameter's value; then the operation's documented
 * answers apply too.
 */
export type Verdict =
  | { valid: true }
  | { valid: false; reason: string }
  | { valid: 'unknown'; reason: string; retargeted?: 'path' | 'dot-segment' };

const VALID: Verdict = { valid: true };
const invalid = (reason: string): Verdict => ({ valid: false, reason });

/** Whether a string holds a NUL or a surrogate without its pair. */
export function hasForbiddenCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0) return true;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return true;
    } else if (code >= 0xdc00 && code <= 0xdfff) return true;
  }
  return false;
}

const INTEGER = /^(0|-?[1-9][0-9]*)$/;
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const NOT_CONVERTIBLE = Symbol('not convertible');

/** A parameter's text as the typed value its schema describes, or NOT_CONVERTIBLE. */
function convert(text: string, schema: Schema, model: SpecModel): unknown {
  const types = typesOf(schema, model.resolve);
  if (types.length === 0 || types.includes('string')) return text;
  if (types.includes('integer') && INTEGER.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  if (types.includes('number') && NUMBER.test(text) && Number.isFinite(Number(text))) return Number(text);
  if (types.includes('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  return NOT_CONVERTIBLE;
}

function judgeValue(parameter: FuzzParameter, values: string[], model: SpecModel): Verdict {
  const where = `${parameter.in} parameter "${parameter.name}"`;
  if (values.some(hasForbiddenCharacter)) return invalid(`${where} holds a NUL or a lone surrogate`);
  let typed: unknown;
  if (parameter.exploded) {
    const items = deref(parameter.schema, model.resolve).items as Schema;
    typed = values.map((text) => convert(text, items, model));
    if ((typed as unknown[]).includes(NOT_CONVERTIBLE)) return invalid(`${where}: an item is not of its type`);
  } else {
    if (values.length > 1) return invalid(`${where} is repeated`);
    typed = convert(values[0]!, parameter.schema, model);
    if (typed === NOT_CONVERTIBLE) return invalid(`${where} is not of its type`);
  }
  const validate = model.compile(parameter.schema);
  if (!validate(typed)) return invalid(`${where}: ${validate.errors?.[0]?.message ?? 'not valid'}`);
  return VALID;
}

/** Strings at places the schema declares: where a NUL or lone surrogate is refused. */
function declaredStrings(value: unknown, schema: Schema | undefined, model: SpecModel, out: string[], depth = 0): void {
  if (depth > 64) return;
  if (typeof value === 'string') {
    out.push(value);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const s = deref(schema, model.resolve);
  const branches: Schema[] = [s, ...((s.oneOf ?? s.anyOf ?? s.allOf ?? []) as Schema[]).map((branch) => deref(branch, model.resolve))];
  if (Array.isArray(value)) {
    const items = branches.find((branch) => branch.items)?.items;
    for (const item of value) declaredStrings(item, items, model, out, depth + 1);
    return;
  }
  for (const [key, inner] of Object.entries(value)) {
    const owner = branches.find((branch) => branch.properties?.[key]);
    const patterned = branches.flatMap((branch) => Object.entries((branch.patternProperties ?? {}) as Record<string, Schema>)).find(([pattern]) => new RegExp(pattern, 'u').test(key));
    const additional = branches.find((branch) => typeof branch.additionalProperties === 'object')?.additionalProperties;
    const closed = branches.some((branch) => branch.additionalProperties === false);
    const innerSchema = owner?.properties[key] ?? patterned?.[1] ?? additional;
    // An undeclared member of an open object is ignored by the server: its content is not judged.
    if (!innerSchema && !closed && Object.keys(s).length > 0) continue;
    out.push(key);
    declaredStrings(inner, innerSchema, model, out, depth + 1);
  }
}

function hasPrototypeKey(value: unknown, depth = 0): boolean {
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((item) => hasPrototypeKey(item, depth + 1));
  return Object.keys(value).some((key) => key === '__proto__' || key === 'constructor' || hasPrototypeKey((value as Record<string, unknown>)[key], depth + 1));
}

export function jsonDepth(value: unknown, depth = 0): number {
  if (value === null || typeof value !== 'object' || depth > 400) return depth;
  let deepest = depth + 1;
  for (const inner of Object.values(value)) deepest = Math.max(deepest, jsonDepth(inner, depth + 1));
  return deepest;
}

function judgeContentType(operation: FuzzOperation, contentType: string[]): Verdict {
  if (contentType.length === 0) return invalid('a body without Content-Type');
  if (contentType.length > 1) return invalid('Content-Type is repeated');
  const [type = '', ...parameters] = contentType[0]!.split(';').map((part) => part.trim());
  const accepted = operation.body!.mediaType === 'application/fhir+json' ? ['application/fhir+json', 'application/json'] : [operation.body!.mediaType];
  if (!accepted.includes(type.toLowerCase())) return invalid(`Content-Type ${type || '(empty)'} is not ${operation.body!.mediaType}`);
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=').map((part) => part.trim());
    if (name.toLowerCase() !== 'charset') continue;
    if (!parameter.includes('=')) return { valid: 'unknown', reason: 'a charset parameter without value' };
    // `utf8` is a label of UTF-8 as browsers read them (WHATWG Encoding), taken as such.
    if (!['utf-8', 'utf8'].includes(value.replace(/^"|"$/g, '').toLowerCase())) return invalid(`charset ${value} is not UTF-8`);
  }
  return VALID;
}

export interface Limits {
  bodyLimit: number;
  jsonMaxDepth: number;
}

/** Whether the draft, as it will be sent, is a valid request of the operation. */
export function judge(model: SpecModel, operation: FuzzOperation, draft: Draft, bodyBytes: number, limits: Limits): Verdict {
  if (draft.wire?.invalid) return invalid(draft.wire.invalid);

  for (const parameter of operation.parameters.filter((p) => p.in === 'path')) {
    let value = draft.pathParams[parameter.name] ?? '';
    const raw = draft.rawPathParams[parameter.name];
    if (raw !== undefined && (/[/?#]/.test(raw) || raw === '.' || raw === '..')) {
      const retargeted = /[/?#]/.test(raw) ? 'path' : 'dot-segment';
      return { valid: 'unknown', reason: `path parameter "${parameter.name}" written as ${JSON.stringify(raw)} changes the path`, retargeted };
    }
    if (raw !== undefined) {
      try {
        value = decodeURIComponent(raw);
      } catch {
        return invalid(`path parameter "${parameter.name}" is not valid percent-encoded UTF-8`);
      }
    }
    if (value === '') return invalid(`path parameter "${parameter.name}" is empty`);
    const verdict = judgeValue(parameter, [value], model);
    if (verdict.valid !== true) return verdict;
  }

  const pairs = [...draft.query];
  for (const part of (draft.rawQuery ?? '').split('&').filter(Boolean)) {
    const [name = '', value = ''] = part.split('=');
    try {
      pairs.push([decodeURIComponent(name), decodeURIComponent(value)]);
    } catch {
      return invalid('the query is not valid percent-encoded UTF-8');
    }
  }
  const byName = new Map<string, string[]>();
  for (const [name, value] of pairs) byName.set(name, [...(byName.get(name) ?? []), value]);
  for (const parameter of operation.parameters.filter((p) => p.in === 'query')) {
    const values = byName.get(parameter.name);
    byName.delete(parameter.name);
    if (!values) {
      if (parameter.required) return invalid(`query parameter "${parameter.name}" is missing`);
      continue;
    }
    const verdict = judgeValue(parameter, values, model);
    if (verdict.valid !== true) return verdict;
  }
  if (byName.has('access_token')) return invalid('an access token in the query string');
  if (byName.size > 0 && !operation.spec.ignoresUnknownParameters) return invalid(`unknown query parameter "${[...byName.keys()][0]}"`);

  for (const parameter of operation.parameters.filter((p) => p.in === 'header')) {
    const value = draft.headers[parameter.name.toLowerCase()] ?? draft.headers[parameter.name];
    if (value === undefined) {
      if (parameter.required) return invalid(`header "${parameter.name}" is missing`);
      continue;
    }
    // A singleton header sent twice: what a recipient does is not defined (RFC 9110 §5.3).
    if (Array.isArray(value)) return { valid: 'unknown', reason: `header "${parameter.name}" is repeated` };
    // HTTP drops the whitespace around a field value (RFC 9110 §5.5): the server never sees it.
    const verdict = judgeValue(parameter, [value.replace(/^[ \t]+|[ \t]+$/g, '')], model);
    if (verdict.valid !== true) return verdict;
  }

  const hasBody = draft.body !== undefined || draft.rawBody !== undefined;
  if (!operation.body) return hasBody ? { valid: 'unknown', reason: 'a body sent to an operation that takes none' } : draft.wire?.unknown ? { valid: 'unknown', reason: draft.wire.unknown } : VALID;
  if (!hasBody) return operation.body.required ? invalid('the required body is missing') : VALID;
  const contentType = draft.contentType === null ? [] : draft.contentType === undefined ? [operation.body.mediaType] : [draft.contentType].flat();
  const typeVerdict = judgeContentType(operation, contentType);
  if (typeVerdict.valid !== true) return typeVerdict;
  if (bodyBytes > model.bodyLimitOf(operation, limits.bodyLimit)) return invalid(`the body (${bodyBytes} bytes) is over the limit`);
  if (draft.wire?.unknown) return { valid: 'unknown', reason: draft.wire.unknown };

  // What the server receives: JSON.stringify has the last word on numbers (-0, 1e400) and keys.
  const value = operation.body.mediaType === 'application/x-www-form-urlencoded' ? draft.body!.value : JSON.parse(JSON.stringify(draft.body!.value) ?? 'null');
  if (operation.body.mediaType === 'application/x-www-form-urlencoded') {
    const form = value as FormValue;
    const repeated = Object.entries(form).find(([, inner]) => Array.isArray(inner));
    if (repeated) return invalid(`form field "${repeated[0]}" is repeated`);
    if (formPairs(form).length === 0 && operation.body.required) return { valid: 'unknown', reason: 'an empty form' };
  } else {
    if (jsonDepth(value) > limits.jsonMaxDepth) return invalid(`the body is nested deeper than ${limits.jsonMaxDepth}`);
    if (hasPrototypeKey(value)) return invalid('a __proto__ or constructor member');
  }
  const strings: string[] = [];
  declaredStrings(value, operation.body.schema, model, strings);
  if (strings.some(hasForbiddenCharacter)) return invalid('a body string holds a NUL or a lone surrogate');
  const validate = model.compile(operation.body.schema);
  if (!validate(value)) {
    const error = validate.errors?.[0];
    return invalid(`body${error?.instancePath ?? ''}: ${error?.message ?? 'not valid'}`);
  }
  return VALID;
}
