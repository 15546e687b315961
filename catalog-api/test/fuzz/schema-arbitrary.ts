// Values that a JSON Schema accepts, as fast-check arbitraries: the subset of JSON Schema 2020-12
// the spec uses (type, enum, const, pattern, format, lengths, ranges, items, properties,
// additionalProperties, oneOf/anyOf/allOf, $ref to the components). The generator aims at valid
// values; the request oracle (validity.ts) has the last word, so an imperfect draw is caught there.
import fc from 'fast-check';

export type Schema = { [key: string]: any };

/** Resolves `#/components/schemas/X` and the server's rewritten `urn:mes:components#/$defs/X`. */
export function schemaResolver(components: Record<string, Schema>): (ref: string) => Schema {
  return (ref) => {
    const name = /(?:#\/components\/schemas\/|#\/\$defs\/)(.+)$/.exec(ref)?.[1];
    const target = name ? components[name] : undefined;
    if (!target) throw new Error(`unknown schema reference ${ref}`);
    return target;
  };
}

/** The schema itself, or the one its `$ref` names (repeatedly). */
export function deref(schema: Schema | undefined, resolve: (ref: string) => Schema): Schema {
  let current = schema ?? {};
  for (let hops = 0; typeof current.$ref === 'string' && hops < 20; hops++) current = resolve(current.$ref);
  return current;
}

/** The JSON types a schema admits, as far as its own keywords say (before combinators). */
export function typesOf(schema: Schema, resolve: (ref: string) => Schema): string[] {
  const s = deref(schema, resolve);
  if (s.const !== undefined) return [jsonType(s.const)];
  if (Array.isArray(s.enum)) return [...new Set(s.enum.map(jsonType))];
  if (typeof s.type === 'string') return [s.type];
  if (Array.isArray(s.type)) return s.type;
  const alternatives = s.oneOf ?? s.anyOf;
  if (Array.isArray(alternatives)) return [...new Set(alternatives.flatMap((branch: Schema) => typesOf(branch, resolve)))];
  if (Array.isArray(s.allOf)) return typesOf(s.allOf[0], resolve);
  if (s.properties || s.additionalProperties !== undefined) return ['object'];
  if (s.items) return ['array'];
  return [];
}

export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** JavaScript can run the spec's patterns with the `u` flag, as Ajv does. */
export function patternRegExp(pattern: string): RegExp {
  return new RegExp(pattern, 'u');
}

const isoDate = fc.date({ min: new Date('1950-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true });

function formatArbitrary(format: string): fc.Arbitrary<string> | undefined {
  switch (format) {
    case 'uuid':
      return fc.uuid();
    case 'uri':
      return fc.webUrl({ validSchemes: ['https'], withQueryParameters: true });
    case 'email':
      // fast-check's addresses include quoted and exotic local parts that Ajv's format refuses.
      return fc.tuple(fc.stringMatching(/^[a-z][a-z0-9._-]{0,15}$/), fc.domain()).map(([local, domain]) => `${local.replace(/[._-]+$/, '') || 'a'}@${domain}`);
    case 'date-time':
      return isoDate.map((date) => date.toISOString());
    case 'date':
      return isoDate.map((date) => date.toISOString().slice(0, 10));
    default:
      return undefined;
  }
}

/** A pattern's values; patterns fast-check cannot read (lookaheads) are tried without them and filtered. */
function patternArbitrary(pattern: string): fc.Arbitrary<string> {
  try {
    return fc.stringMatching(patternRegExp(pattern));
  } catch {
    const simplified = pattern.replace(/\(\?[=!](?:[^()\\]|\\.)*\)/g, '');
    return fc.stringMatching(patternRegExp(simplified));
  }
}

export interface ArbitraryOptions {
  resolve: (ref: string) => Schema;
  /** Whether a leaf value satisfies its schema (Ajv): drawn values are kept only when they do. */
  accepts: (schema: Schema, value: unknown) => boolean;
}

/** Tries up to 8 draws and keeps the first one the schema accepts (a bounded filter). */
function firstAccepted<T>(arbitrary: fc.Arbitrary<T>, schema: Schema, options: ArbitraryOptions): fc.Arbitrary<T> {
  return fc.array(arbitrary, { minLength: 8, maxLength: 8 }).map((draws) => draws.find((value) => options.accepts(schema, value)) ?? draws[0]!);
}

function stringArbitrary(s: Schema, options: ArbitraryOptions): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 24, Math.max(minLength, 24));
  let base: fc.Arbitrary<string>;
  if (s.format && formatArbitrary(s.format)) base = formatArbitrary(s.format)!;
  else if (s.pattern) base = patternArbitrary(s.pattern);
  else if (s.contentEncoding === 'base64') base = fc.base64String({ maxLength: 64 });
  else base = fc.string({ minLength, maxLength, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 -_.éàç'.split('')) });
  if (s.format && s.pattern) base = fc.oneof(base, patternArbitrary(s.pattern));
  return firstAccepted(base, s, options);
}

function numberArbitrary(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const low = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : Number.EPSILON) : -1000);
  const high = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : Number.EPSILON) : Math.max(low, 0) + 1000);
  if (integer) return fc.integer({ min: Math.ceil(low), max: Math.floor(high) });
  return fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true });
}

/**
 * An arbitrary of the values `schema` accepts. `depth` bounds recursion: past a few levels only
 * required properties and the fewest array items are drawn.
 */
export function schemaArbitrary(schema: Schema | undefined, options: ArbitraryOptions, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(schema, options.resolve);
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  if (Array.isArray(s.allOf)) return schemaArbitrary(mergeAllOf(s, options.resolve), options, depth);
  const alternatives: Schema[] | undefined = s.oneOf ?? s.anyOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((branch) => schemaArbitrary(branch, options, depth)));
  const types = typesOf(s, options.resolve);
  if (types.length > 1) return fc.oneof(...types.map((type) => schemaArbitrary({ ...s, type }, options, depth)));
  switch (types[0]) {
    case 'string':
      return stringArbitrary(s, options);
    case 'integer':
      return numberArbitrary(s, true);
    case 'number':
      return numberArbitrary(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = schemaArbitrary(s.items, options, depth + 1);
      const minLength = s.minItems ?? 0;
      const maxLength = depth > 3 ? minLength : Math.min(s.maxItems ?? minLength + 3, minLength + 3);
      return s.uniqueItems ? fc.uniqueArray(item, { minLength, maxLength, selector: (value) => JSON.stringify(value) }) : fc.array(item, { minLength, maxLength });
    }
    case 'object':
      return objectArbitrary(s, options, depth);
    default:
      return fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean());
  }
}

function objectArbitrary(s: Schema, options: ArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  const properties: Record<string, Schema> = s.properties ?? {};
  const required: string[] = s.required ?? [];
  const names = Object.keys(properties).filter((name) => depth <= 4 || required.includes(name));
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) model[name] = schemaArbitrary(properties[name], options, depth + 1);
  for (const name of required) if (!(name in model)) model[name] = fc.oneof(fc.string({ maxLength: 8 }), fc.integer());
  const record = fc.record(model, { requiredKeys: required.filter((name) => name in model) }) as fc.Arbitrary<Record<string, unknown>>;
  const minProperties = s.minProperties ?? 0;
  if (minProperties === 0) return record;
  // `minProperties`: fill from the optional properties when the draw left too few.
  const optional = names.filter((name) => !required.includes(name));
  return fc.tuple(record, fc.array(fc.nat(), { minLength: minProperties, maxLength: minProperties })).chain(([value, picks]) => {
    const missing = optional.filter((name) => !(name in value));
    const extra = picks.slice(0, Math.max(0, minProperties - Object.keys(value).length)).map((pick) => missing[pick % Math.max(1, missing.length)]);
    const chosen = [...new Set(extra.filter((name): name is string => name !== undefined))];
    if (chosen.length === 0) return fc.constant(value);
    return fc.tuple(...chosen.map((name) => model[name]!)).map((values) => ({ ...value, ...Object.fromEntries(chosen.map((name, i) => [name, values[i]])) }));
  });
}

/** `allOf` of object schemas as one object schema (the spec uses it only to extend objects). */
function mergeAllOf(s: Schema, resolve: (ref: string) => Schema): Schema {
  const parts = (s.allOf as Schema[]).map((part) => deref(part, resolve));
  const merged: Schema = { type: 'object', properties: {}, required: [] };
  for (const part of [...parts, { ...s, allOf: undefined }]) {
    Object.assign(merged.properties, part.properties ?? {});
    merged.required.push(...(part.required ?? []));
  }
  return merged;
}
