// Request validation with Ajv in strict mode on JSON Schema 2020-12 (the dialect of OpenAPI 3.1).
// OpenAPI's own keywords are registered rather than strict mode turned off, and allErrors stays
// off so a hostile body cannot make validation expensive.
import { Ajv2020 } from 'ajv/dist/2020.js';
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

/**
 * Builds the fastify validator compiler. Bodies are validated as sent (no coercion: a number
 * sent as a string is an error); path, query and header values arrive as strings and are coerced.
 */
export function createValidatorCompiler(components: JsonObject): FastifySchemaCompiler<JsonObject> {
  const bodyAjv = createAjv({ coerceTypes: false, useDefaults: false });
  const parameterAjv = createAjv({ coerceTypes: 'array', useDefaults: true });
  bodyAjv.addSchema(components);
  parameterAjv.addSchema(components);
  // Fastify compiles each route's schemas once, at start.
  return ({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : parameterAjv).compile(schema) as ReturnType<FastifySchemaCompiler<JsonObject>>;
}
