// Request validation with Ajv in strict mode on JSON Schema 2020-12 (the dialect of OpenAPI 3.1).
// OpenAPI's own keywords are registered rather than strict mode turned off, and allErrors stays
// off so a hostile body cannot make validation expensive.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { JsonObject } from './spec.js';

// ajv-formats is published as CommonJS with a default export.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * OpenAPI keywords that are not JSON Schema vocabulary, and the spec's own (`x-secret`: a value
 * whose answers are never cached): annotations for Ajv.
 */
const openApiKeywords = ['example', 'xml', 'externalDocs', 'discriminator', 'x-secret'];

function createAjv(options: { coerceTypes: boolean | 'array'; useDefaults: boolean }): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allErrors: false,
    coerceTypes: options.coerceTypes,
    useDefaults: options.useDefaults,
    removeAdditional: false,
    validateFormats: true,
  });
  addFormats(ajv);
  for (const keyword of openApiKeywords) ajv.addKeyword({ keyword, schemaType: ['object', 'string', 'array', 'number', 'boolean', 'null'] });
  return ajv;
}

interface Validators {
  bodyAjv: Ajv2020;
  parameterAjv: Ajv2020;
  /** Compiled validators by request part and schema text. */
  compiled: Map<string, ValidateFunction>;
}

/**
 * Validators compiled in this process, by the text of the components document they refer to.
 * Compiling is the costly part of a server's start, and much of it is repeated: a GET route and
 * the HEAD route fastify adds share their schemas, many routes take the same parameters, and a
 * process may start several servers (tests do). Each schema is compiled once per process and its
 * validator shared: the spec does not change while the process runs, and a validator keeps
 * nothing between calls but `errors`, which fastify reads right after its synchronous call.
 */
const byComponents = new Map<string, Validators>();

function validatorsOf(components: JsonObject): Validators {
  const key = JSON.stringify(components);
  let validators = byComponents.get(key);
  if (!validators) {
    const bodyAjv = createAjv({ coerceTypes: false, useDefaults: false });
    const parameterAjv = createAjv({ coerceTypes: 'array', useDefaults: true });
    bodyAjv.addSchema(components);
    parameterAjv.addSchema(components);
    validators = { bodyAjv, parameterAjv, compiled: new Map() };
    byComponents.set(key, validators);
  }
  return validators;
}

export interface ValidatorCompilerOptions {
  /**
   * Compile each validator when it is first called rather than when fastify asks for it (at
   * start): for test servers, which use a few routes each. The validators are the same.
   */
  onFirstUse?: boolean;
}

/**
 * Builds the fastify validator compiler. Bodies are validated as sent (no coercion: a number
 * sent as a string is an error); path, query and header values arrive as strings and are coerced.
 */
export function createValidatorCompiler(components: JsonObject, options: ValidatorCompilerOptions = {}): FastifySchemaCompiler<JsonObject> {
  let validators: Validators | undefined;
  const compile = (schema: JsonObject, body: boolean): ValidateFunction => {
    validators ??= validatorsOf(components);
    const id = `${body ? 'body' : 'parameters'} ${JSON.stringify(schema)}`;
    let validate = validators.compiled.get(id);
    if (!validate) {
      validate = (body ? validators.bodyAjv : validators.parameterAjv).compile(schema);
      validators.compiled.set(id, validate);
    }
    return validate;
  };
  if (!options.onFirstUse) validators = validatorsOf(components);
  return ({ schema, httpPart }) => {
    const body = httpPart === 'body';
    const validate = options.onFirstUse ? compiledOnFirstCall(() => compile(schema, body)) : compile(schema, body);
    return validate as ReturnType<FastifySchemaCompiler<JsonObject>>;
  };
}

/**
 * A validator compiled at its first call. Fastify reads two properties of a validator: `schemaEnv`
 * (an Ajv validator, which gets the parent object to coerce a whole part) and, after a call that
 * failed, `errors`; both are the compiled validator's.
 */
function compiledOnFirstCall(compile: () => ValidateFunction): ValidateFunction {
  let compiled: ValidateFunction | undefined;
  const validator = () => (compiled ??= compile());
  const validate = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => validator()(data, context)) as ValidateFunction;
  Object.defineProperties(validate, {
    schemaEnv: { get: () => validator().schemaEnv },
    schema: { get: () => validator().schema },
    errors: { get: () => validator().errors, set: (errors: ValidateFunction['errors']) => void (validator().errors = errors) },
  });
  return validate;
}
