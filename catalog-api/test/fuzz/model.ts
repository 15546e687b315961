// What the fuzzer knows of each operation, read from the bundled spec (openapi/dist/openapi.json)
// through the server's own reader (core/spec.ts), plus the few details it does not keep: each
// parameter's style, every documented response media type (HTML, CSS, images included) and the
// request body examples. Schemas keep the server's rewritten references to the components.
import { componentsSchema, loadSpec, operations, type OperationSpec } from '../../src/core/spec.js';
import { createValidatorCompiler } from '../../src/core/validation.js';
import { schemaResolver, type Schema } from './schema-arbitrary.js';

export interface FuzzParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
  /** A `form`-exploded array: the parameter is repeated, once per item. */
  exploded: boolean;
}

export interface DocumentedResponse {
  /** Media types the spec documents for this status (`application/problem+json`, `text/html`…). */
  mediaTypes: string[];
  /** Schemas of the JSON media types, with server-rewritten references. */
  schemas: Record<string, Schema>;
}

export interface FuzzOperation {
  id: string;
  method: OperationSpec['method'];
  /** OpenAPI path template. */
  path: string;
  spec: OperationSpec;
  parameters: FuzzParameter[];
  body: { mediaType: NonNullable<OperationSpec['bodyMediaType']>; schema: Schema; required: boolean; examples: unknown[] } | null;
  /** By status as the spec writes it: `200`, `4XX`, `default`. */
  responses: Record<string, DocumentedResponse>;
  /** Security schemes, any one of which suffices. */
  schemes: string[];
}

export interface SpecModel {
  operations: FuzzOperation[];
  byId: Map<string, FuzzOperation>;
  /** The components by name (for generation), as the server registers them. */
  components: Record<string, Schema>;
  resolve: (ref: string) => Schema;
  /** Compiles a schema with the server's validator for bodies (strict Ajv 2020, no coercion). */
  compile: (schema: Schema) => ValidateFunction;
  /** Body size limit of an operation, in bytes. */
  bodyLimitOf: (operation: FuzzOperation, globalLimit: number) => number;
}

export interface ValidateFunction {
  (value: unknown): boolean;
  errors?: { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }[] | null;
}

type Raw = { [key: string]: any };

function resolveRaw(spec: Raw, node: Raw | undefined): Raw {
  let current = node;
  while (current && typeof current.$ref === 'string') {
    current = current.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((target: Raw, segment: string) => target[segment.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return current ?? {};
}

export function loadModel(): SpecModel {
  const spec = loadSpec() as Raw;
  const componentsDoc = componentsSchema(spec as never) as Raw;
  const components = componentsDoc.$defs as Record<string, Schema>;
  const compiler = createValidatorCompiler(componentsDoc as never);
  const cache = new Map<string, ValidateFunction>();
  const compile = (schema: Schema): ValidateFunction => {
    const key = JSON.stringify(schema);
    let validate = cache.get(key);
    if (!validate) {
      validate = compiler({ schema, httpPart: 'body' } as never) as unknown as ValidateFunction;
      cache.set(key, validate);
    }
    return validate;
  };

  const specOperations = new Map(operations(spec as never).map((operation) => [operation.operationId, operation]));
  const result: FuzzOperation[] = [];
  for (const [path, item] of Object.entries(spec.paths as Raw)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const raw = (item as Raw)[method] as Raw | undefined;
      if (!raw) continue;
      const operationSpec = specOperations.get(raw.operationId)!;
      const byKey = new Map<string, Raw>();
      for (const parameter of [...((item as Raw).parameters ?? []), ...(raw.parameters ?? [])].map((p: Raw) => resolveRaw(spec, p))) {
        byKey.set(`${parameter.in}:${parameter.name}`, parameter);
      }
      const parameters: FuzzParameter[] = [...byKey.values()]
        .filter((p) => p.in === 'path' || p.in === 'query' || p.in === 'header')
        .map((p) => ({
          name: String(p.name),
          in: p.in,
          required: p.required === true,
          // The schema as the server registered it (references rewritten to its components).
          schema: parameterSchema(operationSpec, p.in, String(p.name)),
          exploded: resolveRaw(spec, p.schema).type === 'array' && (p.explode ?? true) !== false,
        }));

      let body: FuzzOperation['body'] = null;
      if (raw.requestBody && operationSpec.bodyMediaType) {
        const requestBody = resolveRaw(spec, raw.requestBody);
        const media = requestBody.content[operationSpec.bodyMediaType] as Raw;
        const schemaExample = resolveRaw(spec, media.schema).example;
        const examples = [media.example, ...Object.values(media.examples ?? {}).map((e: any) => e.value), schemaExample].filter((e) => e !== undefined);
        body = { mediaType: operationSpec.bodyMediaType, schema: operationSpec.schema.body as Schema, required: requestBody.required === true, examples };
      }

      const responses: Record<string, DocumentedResponse> = {};
      for (const [status, ref] of Object.entries(raw.responses ?? {})) {
        const content = (resolveRaw(spec, ref as Raw).content ?? {}) as Raw;
        // JSON schemas as the server serializes them; other media types (HTML, CSS, images) by name only.
        const serialized = ((operationSpec.schema.response[status.replace(/X/g, 'x')] as Raw | undefined)?.content ?? {}) as Raw;
        const schemas: Record<string, Schema> = {};
        for (const [type, media] of Object.entries(serialized)) if ((media as Raw).schema) schemas[type] = (media as Raw).schema;
        responses[status] = { mediaTypes: Object.keys(content), schemas };
      }

      result.push({
        id: operationSpec.operationId,
        method: operationSpec.method,
        path,
        spec: operationSpec,
        parameters,
        body,
        responses,
        schemes: operationSpec.security.map((entry) => entry.scheme),
      });
    }
  }
  return {
    operations: result,
    byId: new Map(result.map((operation) => [operation.id, operation])),
    components,
    resolve: schemaResolver(components),
    compile,
    bodyLimitOf: (operation, globalLimit) => operation.spec.bodyLimit ?? globalLimit,
  };
}

function parameterSchema(operation: OperationSpec, location: string, name: string): Schema {
  const part = location === 'path' ? operation.schema.params : location === 'query' ? operation.schema.querystring : operation.schema.headers;
  const properties = (part?.properties ?? {}) as Record<string, Schema>;
  return properties[location === 'header' ? name.toLowerCase() : name] ?? {};
}

/** The documented response of a status: its exact entry, its range (`4XX`), or `default`. */
export function documentedResponse(operation: FuzzOperation, status: number): DocumentedResponse | undefined {
  return operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
}
