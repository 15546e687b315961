// Mutation classes: each takes a valid draft and breaks one thing of its kind (a type, a required
// member, a size, an encoding…), and says what it did. Whether the result is still valid is not
// the mutation's call but the oracle's (validity.ts): an extra member of an open object, or an
// RTL string within its pattern, stays valid and is judged so. Mutations of the bytes that the
// structured draft cannot show (malformed JSON, a bad charset) say so in `draft.wire`.
import fc from 'fast-check';
import type { FuzzOperation, SpecModel } from './model.js';
import { cloneDraft, encodeComponent, type Draft, type FormValue } from './request.js';
import { deref, typesOf, type Schema } from './schema-arbitrary.js';

export const mutationClasses = [
  'type',
  'required',
  'extra-field',
  'size',
  'nesting',
  'nul',
  'surrogate',
  'rtl',
  'number-limit',
  'injection',
  'constraint',
  'media-type',
  'repeated-parameter',
  'path-encoding',
] as const;
export type MutationClass = (typeof mutationClasses)[number];

export type Generator = fc.GeneratorValue;

export interface MutationContext {
  g: Generator;
  model: SpecModel;
  operation: FuzzOperation;
  /** The body limit of the operation, in bytes. */
  bodyLimit: number;
  jsonMaxDepth: number;
}

export interface Mutated {
  draft: Draft;
  /** What was done, for the report: where, and to what. */
  note: string;
}

type Mutation = (context: MutationContext, draft: Draft) => Mutated | null;

export function pick<T>(g: Generator, items: readonly T[]): T {
  return items[g(fc.nat, { max: items.length - 1 })]!;
}

// ---- where values live in a draft ----------------------------------------------------------

type Pointer = (string | number)[];

interface Slot {
  label: string;
  where: 'body' | 'query' | 'path' | 'header';
  schema: Schema | undefined;
  value: unknown;
  set(value: unknown): void;
  /** Removes the member (body), the pair (query) or empties the value (path). */
  remove(): void;
  /** For body members: whether the parent object requires it. */
  required?: boolean;
}

function defineMember(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment of `__proto__` would change the prototype instead of adding a member.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function childSchema(schema: Schema | undefined, key: string | number, model: SpecModel): Schema | undefined {
  const s = deref(schema, model.resolve);
  const branches: Schema[] = [s, ...((s.oneOf ?? s.anyOf ?? s.allOf ?? []) as Schema[]).map((branch) => deref(branch, model.resolve))];
  if (typeof key === 'number') return branches.find((branch) => branch.items)?.items;
  const owner = branches.find((branch) => branch.properties?.[key]);
  if (owner) return owner.properties[key];
  const patterned = branches.flatMap((branch) => Object.entries((branch.patternProperties ?? {}) as Record<string, Schema>)).find(([pattern]) => new RegExp(pattern, 'u').test(key));
  return patterned?.[1];
}

function requiredIn(schema: Schema | undefined, key: string, model: SpecModel): boolean {
  const s = deref(schema, model.resolve);
  return [s, ...((s.oneOf ?? s.anyOf ?? s.allOf ?? []) as Schema[]).map((branch) => deref(branch, model.resolve))].some((branch) => (branch.required ?? []).includes(key));
}

function bodySlots(draft: Draft, context: MutationContext): Slot[] {
  if (!draft.body || draft.rawBody) return [];
  const slots: Slot[] = [];
  const root = draft.body;
  const walk = (value: unknown, schema: Schema | undefined, pointer: Pointer, parent: Record<string, unknown> | unknown[] | null, parentSchema: Schema | undefined) => {
    if (pointer.length > 12) return;
    const key = pointer[pointer.length - 1];
    slots.push({
      label: `body${pointer.map((part) => `/${part}`).join('') || ' (whole)'}`,
      where: 'body',
      schema,
      value,
      set: (next) => {
        if (parent === null) root.value = next;
        else if (Array.isArray(parent)) parent[key as number] = next;
        else defineMember(parent, key as string, next);
      },
      remove: () => {
        if (parent === null) delete draft.body;
        else if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
      },
      required: parent !== null && !Array.isArray(parent) && requiredIn(parentSchema, key as string, context.model),
    });
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, childSchema(schema, index, context.model), [...pointer, index], value, schema));
    else for (const [name, inner] of Object.entries(value)) walk(inner, childSchema(schema, name, context.model), [...pointer, name], value as Record<string, unknown>, schema);
  };
  walk(root.value, context.operation.body?.schema, [], null, undefined);
  return slots;
}

function parameterSlots(draft: Draft, context: MutationContext): Slot[] {
  const slots: Slot[] = [];
  const parameters = context.operation.parameters;
  for (const parameter of parameters.filter((p) => p.in === 'path')) {
    slots.push({
      label: `path ${parameter.name}`,
      where: 'path',
      schema: parameter.schema,
      value: draft.pathParams[parameter.name],
      set: (value) => {
        draft.pathParams[parameter.name] = String(value);
        delete draft.rawPathParams[parameter.name];
      },
      remove: () => {
        draft.pathParams[parameter.name] = '';
        delete draft.rawPathParams[parameter.name];
      },
    });
  }
  for (const pair of draft.query) {
    const parameter = parameters.find((p) => p.in === 'query' && p.name === pair[0]);
    const schema = parameter?.exploded ? deref(parameter.schema, context.model.resolve).items : parameter?.schema;
    slots.push({
      label: `query ${pair[0]}`,
      where: 'query',
      schema,
      value: pair[1],
      set: (value) => {
        pair[1] = String(value);
      },
      remove: () => {
        draft.query.splice(draft.query.indexOf(pair), 1);
      },
      required: parameter?.required ?? false,
    });
  }
  for (const parameter of parameters.filter((p) => p.in === 'header')) {
    const name = parameter.name.toLowerCase();
    if (typeof draft.headers[name] !== 'string') continue;
    slots.push({
      label: `header ${parameter.name}`,
      where: 'header',
      schema: parameter.schema,
      value: draft.headers[name],
      set: (value) => {
        draft.headers[name] = String(value);
      },
      remove: () => {
        delete draft.headers[name];
      },
    });
  }
  return slots;
}

function allSlots(draft: Draft, context: MutationContext): Slot[] {
  return [...parameterSlots(draft, context), ...bodySlots(draft, context)];
}

const isForm = (context: MutationContext) => context.operation.body?.mediaType === 'application/x-www-form-urlencoded';

/** Slots holding text: body strings, and every parameter (parameters are text on the wire). */
function stringSlots(draft: Draft, context: MutationContext, options: { headers?: boolean } = {}): Slot[] {
  return allSlots(draft, context).filter((slot) => typeof slot.value === 'string' && (options.headers || slot.where !== 'header'));
}

const describe = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}… (${text.length} chars)` : text);
};

function withClone(draft: Draft, change: (clone: Draft) => string | null): Mutated | null {
  const clone = cloneDraft(draft);
  const note = change(clone);
  return note === null ? null : { draft: clone, note };
}

// ---- the classes ---------------------------------------------------------------------------

const otherTypeValues: unknown[] = [0, -1, 1.5, true, false, null, 'text', '', [], {}, [1, 'a'], { a: 1 }];

const typeMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g, model } = context;
    const candidates = allSlots(d, context).filter((slot) => {
      if (slot.where === 'header') return false;
      // A parameter is text on the wire: only a non-string parameter can receive a value of another type.
      if (slot.where !== 'body') return !typesOf(slot.schema ?? {}, model.resolve).includes('string') && typesOf(slot.schema ?? {}, model.resolve).length > 0;
      return !isForm(context) || slot.label !== 'body (whole)';
    });
    if (candidates.length === 0) return null;
    const slot = pick(g, candidates);
    if (slot.where !== 'body') {
      const value = pick(g, ['abc', 'true', '1.5', '[]', '{}', 'null', '1,2']);
      slot.set(value);
      return `${slot.label}: ${describe(value)} (schema type ${typesOf(slot.schema ?? {}, model.resolve).join('|')})`;
    }
    if (isForm(context)) {
      const value = pick(g, ['', '1', 'true', '{}']);
      slot.set(value);
      return `${slot.label}: ${describe(value)}`;
    }
    const types = typesOf(slot.schema ?? {}, model.resolve);
    const others = otherTypeValues.filter((value) => {
      const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
      return !types.includes(type) && !(type === 'integer' && types.includes('number'));
    });
    const value = structuredClone(pick(g, others.length ? others : otherTypeValues));
    slot.set(value);
    return `${slot.label}: ${describe(value)} instead of ${types.join('|') || 'any'}`;
  });

const requiredMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const slots = allSlots(d, context).filter((slot) => slot.where === 'path' || slot.required || (slot.label === 'body (whole)' && context.operation.body?.required));
    if (slots.length === 0) return null;
    const slot = pick(context.g, slots);
    slot.remove();
    return `${slot.label} removed`;
  });

const extraNames = ['extra', 'fuzz', 'id', 'admin', 'isAdmin', '__proto__', 'constructor', 'publisherId', 'status', 'a'.repeat(300), 'name\u0000x'];

const extraFieldMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g } = context;
    const objects = bodySlots(d, context).filter((slot) => slot.value !== null && typeof slot.value === 'object' && !Array.isArray(slot.value));
    const name = pick(g, extraNames);
    const value = pick(g, ['x', 1, true, null, { nested: 'x' }, ['x']] as unknown[]);
    if (objects.length > 0 && g(fc.boolean)) {
      const slot = pick(g, objects);
      const target = slot.value as Record<string, unknown>;
      if (isForm(context)) defineMember(target, name, 'x');
      else defineMember(target, name, structuredClone(value));
      return `${slot.label}: extra member ${describe(name)}`;
    }
    d.query.push([name, typeof value === 'string' ? value : JSON.stringify(value)]);
    return `extra query parameter ${describe(name)}`;
  });

const sizeMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g, model } = context;
    const variant = g(fc.nat, { max: 9 });
    if (variant === 0 && context.operation.body) {
      // Past the body limit: one long string, so that only the size is wrong.
      const size = context.bodyLimit + 1024;
      if (isForm(context)) d.body = { value: { ...((d.body?.value as FormValue) ?? {}), padding: 'a'.repeat(size) } };
      else d.rawBody = Buffer.from(JSON.stringify({ padding: 'a'.repeat(size) }));
      if (d.rawBody) d.wire = { invalid: `a body of ${d.rawBody.length} bytes, over the ${context.bodyLimit}-byte limit` };
      return `body of ${size} bytes (limit ${context.bodyLimit})`;
    }
    const strings = stringSlots(d, context, { headers: true }).map((slot) => ({ slot, kind: 'string' as const }));
    const arrays = bodySlots(d, context)
      .filter((slot) => Array.isArray(slot.value))
      .map((slot) => ({ slot, kind: 'array' as const }));
    const candidates = [...strings, ...arrays];
    if (candidates.length === 0) return null;
    const { slot, kind } = pick(g, candidates);
    const s = deref(slot.schema, model.resolve);
    if (kind === 'string') {
      const current = String(slot.value);
      const max = s.maxLength as number | undefined;
      const min = s.minLength as number | undefined;
      // Parameters travel in the URL or a header: they stay under Node's 16 KiB limit on the
      // request head (over it, Node answers 431 before any route is known), hence ASCII filler.
      const huge = slot.where === 'body' ? pick(g, [10_000, 100_000]) : slot.where === 'header' ? 4000 : 6000;
      const options = [max !== undefined ? max : undefined, max !== undefined ? max + 1 : undefined, huge, min ? min - 1 : undefined, 0].filter((n): n is number => n !== undefined);
      const length = pick(g, options);
      const filler = slot.where === 'body' && current.length > 0 ? current : /^[\x21-\x7e]+$/.test(current) ? current : 'a';
      const value = length === 0 ? '' : filler.repeat(Math.ceil(length / filler.length)).slice(0, length);
      slot.set(value);
      return `${slot.label}: string of ${value.length} chars (minLength ${min ?? '-'}, maxLength ${max ?? '-'})`;
    }
    const current = slot.value as unknown[];
    const max = s.maxItems as number | undefined;
    const min = s.minItems as number | undefined;
    const options = [max !== undefined ? max + 1 : 1000, min ? min - 1 : undefined, 0].filter((n): n is number => n !== undefined);
    const length = pick(g, options);
    const item = current[0] ?? 'x';
    slot.set(Array.from({ length }, () => structuredClone(item)));
    return `${slot.label}: array of ${length} items (minItems ${min ?? '-'}, maxItems ${max ?? '-'})`;
  });

function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

const nestingMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g } = context;
    if (context.operation.body && !isForm(context)) {
      const slots = bodySlots(d, context);
      if (slots.length === 0) d.body = { value: {} };
      const slot = slots.length ? pick(g, slots) : bodySlots(d, context)[0]!;
      const depth = pick(g, [3, context.jsonMaxDepth - 2, context.jsonMaxDepth + 1, 200, 5000]);
      const kind = pick(g, ['array', 'object'] as const);
      if (depth <= 200) {
        slot.set(nested(depth, kind));
        return `${slot.label}: ${kind}s nested ${depth} deep`;
      }
      // Deeper than JSON.stringify (and the oracle's walk) should go: written as text.
      slot.set('__fuzz_nested__');
      const text = kind === 'array' ? `${'['.repeat(depth)}"x"${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
      d.rawBody = Buffer.from(JSON.stringify(d.body?.value ?? '__fuzz_nested__').replace('"__fuzz_nested__"', text));
      d.wire = { invalid: `the body is nested ${depth} deep, over the ${context.jsonMaxDepth} limit` };
      return `${slot.label}: ${kind}s nested ${depth} deep`;
    }
    // Parameters: bracket names that a qs-style parser would nest.
    const name = pick(g, [...context.operation.parameters.filter((p) => p.in === 'query').map((p) => p.name), 'filter']);
    d.query.push([`${name}[a][b]`, 'x']);
    return `query parameter "${name}[a][b]"`;
  });

function insertAt(g: Generator, value: string, inserted: string): string {
  const at = g(fc.nat, { max: value.length });
  return value.slice(0, at) + inserted + value.slice(at);
}

function characterMutation(name: string, characters: string[]): Mutation {
  return (context, draft) =>
    withClone(draft, (d) => {
      const slots = stringSlots(d, context);
      if (slots.length === 0) return null;
      const slot = pick(context.g, slots);
      const inserted = pick(context.g, characters);
      const value = context.g(fc.boolean) ? inserted : insertAt(context.g, String(slot.value), inserted);
      slot.set(value);
      return `${slot.label}: ${name} in ${describe(value)}`;
    });
}

const nulMutation = characterMutation('NUL', ['\u0000', 'a\u0000b', '\u0000\u0000']);
const surrogateMutation = characterMutation('lone surrogate', ['\ud800', '\udfff', 'a\udc00b', '\ud83d']);

const rtlMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const slots = stringSlots(d, context);
    if (slots.length === 0) return null;
    const slot = pick(context.g, slots);
    const text = pick(context.g, ['\u202e', '\u202egnp.exe', 'مرحبا بالعالم', 'שלום', '\u200f\u200e', '\u2066x\u2069', 'a\u0301\u0301\u0301', '\ufeff', '👨‍👩‍👧']);
    const s = deref(slot.schema, context.model.resolve);
    let value = insertAt(context.g, String(slot.value), text);
    if (typeof s.maxLength === 'number' && [...value].length > s.maxLength) value = value.slice(0, s.maxLength);
    slot.set(value);
    return `${slot.label}: ${describe(value)}`;
  });

const numberMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g, model } = context;
    const numericSchema = (slot: Slot) => typesOf(slot.schema ?? {}, model.resolve).some((type) => type === 'integer' || type === 'number');
    const slots = allSlots(d, context).filter((slot) => slot.where !== 'header' && numericSchema(slot));
    // Operations with numeric parameters not sent yet: add one.
    const absent = context.operation.parameters.filter((p) => p.in === 'query' && numericSchema({ schema: p.schema } as Slot) && !d.query.some(([name]) => name === p.name));
    if (slots.length === 0 && absent.length === 0) return null;
    if (absent.length && (slots.length === 0 || g(fc.boolean))) {
      const parameter = pick(g, absent);
      d.query.push([parameter.name, '1']);
      slots.push(parameterSlots(d, context).find((slot) => slot.label === `query ${parameter.name}`)!);
    }
    const slot = pick(g, slots);
    const s = deref(slot.schema, model.resolve);
    const integer = typesOf(s, model.resolve).includes('integer');
    const limits = [s.minimum, s.maximum].filter((n): n is number => typeof n === 'number');
    const around = limits.flatMap((n) => [n, n - 1, n + 1]);
    if (slot.where === 'body') {
      const values = [...around, ...(integer ? [1.5, 2 ** 53, 2 ** 53 + 2] : []), 1e308, -1e308, -0, 0, 5e-324];
      if (g(fc.nat, { max: 5 }) === 0) {
        // Numbers JSON can write but a double cannot hold exactly, or at all: sent as written.
        const literal = pick(g, ['1e400', '-1e400', '123456789012345678901234567890']);
        slot.set('__fuzz_number__');
        d.rawBody = Buffer.from(JSON.stringify(d.body!.value).replace('"__fuzz_number__"', literal));
        // 1e400 parses to Infinity, which no schema accepts; the long integer parses with lost
        // precision and is judged by the value it becomes.
        if (literal.includes('e400')) d.wire = { invalid: `the number ${literal} is outside the range of a double` };
        else slot.set(Number(literal));
        return `${slot.label}: ${literal}`;
      }
      const value = pick(g, values);
      slot.set(value);
      return `${slot.label}: ${Object.is(value, -0) ? '-0' : String(value)} (minimum ${s.minimum ?? '-'}, maximum ${s.maximum ?? '-'})`;
    }
    const texts = [...around.map(String), 'Infinity', '-Infinity', 'NaN', '0x10', ' 1', '1 ', '+1', '01', '1e3', '1.0', '1.5', '99999999999999999999', '-0', ''];
    const value = pick(g, texts);
    slot.set(value);
    return `${slot.label}: ${describe(value)} (minimum ${s.minimum ?? '-'}, maximum ${s.maximum ?? '-'})`;
  });

/** Hostile strings; the marker `mesfuzz` lets the checks spot markup echoed without escaping. */
export const injectionPayloads = [
  "' OR '1'='1",
  "'; DROP TABLE apps; --",
  '"; SELECT pg_sleep(5); --',
  '<script>mesfuzz(1)</script>',
  '"><img src=x onerror=mesfuzz(2)>',
  "javascript:mesfuzz(3)",
  '{{7*7}}${7*7}<%= 7*7 %>',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
  'https://evil.example.com/',
  '%00%0d%0aSet-Cookie:%20mesfuzz=1',
  '\r\nX-Mesfuzz: 1',
  '$where',
  '{"$gt": ""}',
  '\\u0000',
  'A'.repeat(64) + '%s%s%s%n',
  '*)(uid=*))(|(uid=*',
  '() { :; }; echo mesfuzz',
];

const pathPayloads = ['..', '.', '../..', '%2e%2e', '%2F', '%252F', ';', '%3B', '?x=1', '%23', '~', '*'];

const injectionMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g } = context;
    const slots = stringSlots(d, context, { headers: true });
    if (slots.length === 0) return null;
    const slot = pick(g, slots);
    if (slot.where === 'path' && g(fc.boolean)) {
      // Written as is: the router and the decoder see the dots and escapes themselves.
      const raw = pick(g, pathPayloads);
      const name = slot.label.slice('path '.length);
      d.rawPathParams[name] = raw;
      return `${slot.label} written as ${describe(raw)}`;
    }
    // Header values cannot carry line breaks (the client refuses to send them).
    const payloads = slot.where === 'header' ? injectionPayloads.filter((p) => !/[\r\n]/.test(p)) : injectionPayloads;
    const payload = pick(g, payloads);
    const value = g(fc.boolean) ? payload : `${String(slot.value)}${payload}`;
    slot.set(value);
    return `${slot.label}: ${describe(value)}`;
  });

const formatViolations: Record<string, string[]> = {
  uuid: ['not-a-uuid', '00000000-0000-0000-0000-00000000000', '00000000-0000-0000-0000-0000000000000', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz'],
  uri: ['not a uri', '//no-scheme.example', 'http://', 'https://exa mple.com/'],
  email: ['not-an-email', 'a@', '@example.fr', 'a b@example.fr'],
  'date-time': ['2026-13-45T99:00:00Z', '2026-01-01', 'yesterday', '2026-01-01T00:00:00'],
  date: ['2026-02-30', '26-01-01', '2026/01/01'],
};

const constraintMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g, model } = context;
    const slots = allSlots(d, context).filter((slot) => {
      const s = deref(slot.schema, model.resolve);
      return s.enum || s.const !== undefined || s.pattern || (s.format && formatViolations[s.format]);
    });
    if (slots.length === 0) return null;
    const slot = pick(g, slots);
    const s = deref(slot.schema, model.resolve);
    let value: unknown;
    if (s.enum || s.const !== undefined) {
      const member = String((s.enum ?? [s.const])[0]);
      value = pick(g, ['mesfuzz', `${member}x`, member.toUpperCase() === member ? member.toLowerCase() : member.toUpperCase(), ` ${member}`, '']);
    } else if (s.format && formatViolations[s.format] && (!s.pattern || g(fc.boolean))) {
      value = pick(g, formatViolations[s.format]!);
    } else {
      // Header values cannot carry a line break (the client refuses to send it).
      const breaking = slot.where === 'header' ? [] : [`${String(slot.value)}\n`];
      value = pick(g, [`${String(slot.value)} !`, ` ${String(slot.value)}`, ...breaking, '!', '']);
    }
    slot.set(value);
    return `${slot.label}: ${describe(value)} (${s.enum ? 'enum' : s.const !== undefined ? 'const' : s.format && !s.pattern ? `format ${s.format}` : `pattern ${s.pattern}`})`;
  });

const wrongTypes = ['text/plain', 'application/xml', 'multipart/form-data; boundary=mesfuzz', 'application/json-patch+json', 'application/jsonx', 'application/*', '', 'application/x-www-form-urlencoded', 'application/json', 'text/html; charset=utf-8'];

const mediaTypeMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g, operation } = context;
    if (!operation.body) {
      // A body the operation does not take: only crashes and formats are judged.
      d.rawBody = Buffer.from(pick(g, ['{"mesfuzz":1}', 'mesfuzz=1', '{']));
      d.contentType = pick(g, ['application/json', 'application/x-www-form-urlencoded', 'text/plain']);
      return `a ${d.contentType} body sent to an operation without body`;
    }
    if (!d.body) d.body = { value: {} };
    const mediaType = operation.body.mediaType;
    const text = isForm(context) ? new URLSearchParams(Object.entries(d.body.value as FormValue).flatMap(([k, v]) => [v].flat().map((x) => [k, String(x)]))).toString() : JSON.stringify(d.body.value);
    switch (g(fc.nat, { max: 8 })) {
      case 0: {
        const type = pick(g, wrongTypes.filter((type) => type.split(';')[0] !== mediaType && !(mediaType === 'application/fhir+json' && type === 'application/json')));
        d.contentType = type;
        return `Content-Type ${describe(type)}`;
      }
      case 1: {
        const charset = pick(g, ['iso-8859-1', 'utf-16', 'latin1', 'windows-1252', 'utf-7', 'UTF-8', '"utf-8"', 'utf8']);
        d.contentType = `${mediaType}; charset=${charset}`;
        // `utf8` is not the IANA name of UTF-8: what the server does with it is its call.
        if (charset === 'utf8') d.wire = { unknown: 'charset utf8 (an alias, not the registered name)' };
        return `Content-Type ${describe(d.contentType)}`;
      }
      case 2:
        d.contentType = null;
        return 'no Content-Type with a body';
      case 3:
        d.contentType = [mediaType, pick(g, [mediaType, 'text/plain', 'application/xml'])];
        return `Content-Type repeated: ${describe(d.contentType)}`;
      case 4: {
        d.rawBody = Buffer.from(pick(g, [text.slice(0, Math.max(1, text.length - 1)), `${text}}`, text.replace(/"/g, "'"), `${text}\u0000`, 'null', '[]', '"x"', 'undefined', '{"a":1,}']));
        const parsed = tryJson(d.rawBody.toString());
        if (isForm(context)) {
          // Form decoding is fully defined (WHATWG URL): the oracle judges the fields the bytes decode to.
          const fields: FormValue = {};
          for (const [name, value] of new URLSearchParams(d.rawBody.toString())) fields[name] = name in fields ? [fields[name]!, value].flat() : value;
          d.body = { value: fields };
        } else if (parsed.ok) {
          d.body = { value: parsed.value };
          delete d.rawBody;
        } else d.wire = { invalid: 'the body is not valid JSON' };
        return `body bytes ${describe(d.rawBody?.toString() ?? JSON.stringify(d.body.value))}`;
      }
      case 5:
        d.rawBody = Buffer.alloc(0);
        d.wire = operation.body.required ? { invalid: 'an empty body with a Content-Type' } : { unknown: 'an empty body for an optional body' };
        return 'empty body';
      case 6: {
        // Bytes that are not UTF-8 inside a string (the Content-Type says UTF-8).
        const bytes = Buffer.from(text);
        const at = Math.max(0, text.indexOf('"', 1) > 0 ? text.indexOf('"', 1) : Math.floor(text.length / 2));
        d.rawBody = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc0, 0xae]), bytes.subarray(at)]);
        d.wire = { invalid: 'the body is not UTF-8' };
        return 'invalid UTF-8 bytes in the body';
      }
      case 7:
        d.rawBody = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
        d.wire = { unknown: 'a body starting with a byte order mark' };
        return 'body with a UTF-8 byte order mark';
      default:
        d.contentType = `${mediaType}; ${pick(g, ['', ';', 'boundary=x', 'q=0.5', 'charset'])}`;
        if (/charset$/.test(d.contentType)) d.wire = { unknown: 'a charset parameter without value' };
        return `Content-Type ${describe(d.contentType)}`;
    }
  });

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const repeatedMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g, operation } = context;
    const options: (() => string | null)[] = [];
    if (d.query.length) {
      options.push(() => {
        const pair = pick(g, d.query);
        d.query.push([pair[0], pick(g, [pair[1], `${pair[1]}x`, ''])]);
        return `query parameter "${pair[0]}" repeated`;
      });
    }
    const declared = operation.parameters.filter((p) => p.in === 'query');
    if (declared.length) {
      options.push(() => {
        const parameter = pick(g, declared);
        d.query.push([parameter.name, 'a'], [parameter.name, 'b']);
        return `query parameter "${parameter.name}" sent twice`;
      });
    }
    if (isForm(context) && d.body) {
      const form = d.body.value as FormValue;
      const names = Object.keys(form);
      if (names.length) {
        options.push(() => {
          const name = pick(g, names);
          form[name] = [String(form[name]), pick(g, [String(form[name]), 'other'])];
          return `form field "${name}" repeated`;
        });
      }
    }
    const headers = operation.parameters.filter((p) => p.in === 'header');
    if (headers.length) {
      options.push(() => {
        const parameter = pick(g, headers);
        const name = parameter.name.toLowerCase();
        const current = typeof d.headers[name] === 'string' ? (d.headers[name] as string) : 'mesfuzz';
        d.headers[name] = [current, pick(g, [current, 'other'])];
        return `header ${parameter.name} repeated`;
      });
    }
    if (d.body && !isForm(context) && d.body.value !== null && typeof d.body.value === 'object' && !Array.isArray(d.body.value)) {
      const value = d.body.value as Record<string, unknown>;
      const names = Object.keys(value);
      if (names.length) {
        options.push(() => {
          // JSON with a member twice: what a parser keeps is not defined (RFC 8259 §4), so not judged.
          const name = pick(g, names);
          const text = JSON.stringify(value);
          d.rawBody = Buffer.from(`${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(name)}:${JSON.stringify(pick(g, ['other', 1, null]))}}`);
          d.wire = { unknown: `JSON member "${name}" repeated` };
          return `JSON member "${name}" repeated`;
        });
      }
    }
    if (options.length === 0) return null;
    return pick(g, options)();
  });

const badEncodings = ['%C0%AE', '%', '%ZZ', '%E2%82', '%ED%A0%80', '%FF', '%2F', '%00', '%C0%AF%C0%AE', 'a%'];

const pathEncodingMutation: Mutation = (context, draft) =>
  withClone(draft, (d) => {
    const { g, operation } = context;
    const pathParameters = operation.parameters.filter((p) => p.in === 'path');
    if (pathParameters.length === 0) {
      // No path parameter: bad escapes in the query instead.
      const name = pick(g, [...operation.parameters.filter((p) => p.in === 'query').map((p) => p.name), 'q']);
      d.rawQuery = `${encodeComponent(name)}=${pick(g, badEncodings.filter((e) => e !== '%2F'))}`;
      return `query "${d.rawQuery}"`;
    }
    const parameter = pick(g, pathParameters);
    const encoding = pick(g, badEncodings);
    const current = encodeComponent(d.pathParams[parameter.name] ?? '');
    const raw = g(fc.boolean) ? encoding : `${current}${encoding}`;
    d.rawPathParams[parameter.name] = raw;
    return `path ${parameter.name} written as ${describe(raw)}`;
  });

const mutations: Record<MutationClass, Mutation> = {
  type: typeMutation,
  required: requiredMutation,
  'extra-field': extraFieldMutation,
  size: sizeMutation,
  nesting: nestingMutation,
  nul: nulMutation,
  surrogate: surrogateMutation,
  rtl: rtlMutation,
  'number-limit': numberMutation,
  injection: injectionMutation,
  constraint: constraintMutation,
  'media-type': mediaTypeMutation,
  'repeated-parameter': repeatedMutation,
  'path-encoding': pathEncodingMutation,
};

/** Applies a class to a valid draft; null when the class has nothing to break in this request. */
export function mutate(mutationClass: MutationClass, context: MutationContext, draft: Draft): Mutated | null {
  return mutations[mutationClass](context, draft);
}
