// Reads the bundled OpenAPI document and turns each operation into what fastify needs: method,
// URL, request schemas (params, query, headers, body) and response schemas, all referring to the
// spec's components through one shared schema registered under COMPONENTS_ID.
import { readFileSync } from 'node:fs';
import { specPath } from '@mes/openapi';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface OpenApiDocument extends JsonObject {
  paths: { [path: string]: JsonObject };
  components: JsonObject;
}

export const COMPONENTS_ID = 'urn:mes:components';
export const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export interface OperationSpec {
  operationId: string;
  method: Uppercase<(typeof methods)[number]>;
  /** OpenAPI path template, e.g. `/apps/{appId}`. */
  path: string;
  /** The same path in fastify's syntax, e.g. `/apps/:appId`. */
  url: string;
  /** Alternative security schemes (any one suffices), each with the roles (scopes) it needs. */
  security: { scheme: string; scopes: string[] }[];
  schema: {
    params?: JsonObject;
    querystring?: JsonObject;
    headers?: JsonObject;
    body?: JsonObject;
    response: Record<string, JsonObject>;
  };
  bodyRequired: boolean;
  /** Media type of the request body: JSON for the API, form encoding for the OAuth endpoints. */
  bodyMediaType: 'application/json' | 'application/fhir+json' | 'application/x-www-form-urlencoded' | null;
  /** Media type of the success responses with a body: JSON, FHIR JSON, or HTML pages. */
  responseMediaType: 'application/json' | 'application/fhir+json' | 'text/html';
  /** Largest request body of this operation when the spec says (`x-body-limit`), in bytes. */
  bodyLimit: number | null;
  /**
   * How errors are answered: RFC 9457 problems, RFC 6749 error JSON (`x-error-format: oauth`), FHIR
   * OperationOutcomes (`fhir`), or an HTML error page for a browser (`page`).
   */
  errorFormat: 'problem' | 'oauth' | 'fhir' | 'page';
  /**
   * Unknown query parameters are ignored rather than refused (`x-unknown-parameters: ignore`): the
   * authorization endpoint must ignore what it does not recognise (RFC 6749 §3.1).
   */
  ignoresUnknownParameters: boolean;
  /**
   * Invalid parameters reach the handler, in `request.validationError`, instead of failing before
   * it (`x-invalid-parameters: handler`): the authorization endpoint sends such errors back to a
   * verified redirect URI, which only the handler can tell.
   */
  handlesInvalidParameters: boolean;
  /** The operation takes an `Idempotency-Key` header: it runs once per key (core/idempotency.ts). */
  idempotent: boolean;
  /** A success answer holds a value the spec marks `x-secret` (a key shown once): never cached. */
  carriesSecrets: boolean;
}

/** Response media types fastify serializes from their schema; others (HTML pages) are sent as is. */
const serializedMediaTypes = ['application/json', 'application/problem+json', 'application/fhir+json'];
const requestMediaTypes = ['application/json', 'application/fhir+json', 'application/x-www-form-urlencoded'] as const;
const errorFormats = ['problem', 'oauth', 'fhir', 'page'] as const;

let cached: OpenApiDocument | undefined;

export function loadSpec(): OpenApiDocument {
  cached ??= JSON.parse(readFileSync(specPath, 'utf8')) as OpenApiDocument;
  return cached;
}

/** Rewrites local `#/components/schemas/X` references to the shared components schema. */
function rewriteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/components/schemas/')) {
      out[key] = `${COMPONENTS_ID}#/$defs/${inner.slice('#/components/schemas/'.length)}`;
    } else {
      out[key] = rewriteRefs(inner);
    }
  }
  return out;
}

/** The spec's component schemas as one JSON Schema document, to register with addSchema. */
export function componentsSchema(spec: OpenApiDocument): JsonObject {
  const schemas = (spec.components.schemas ?? {}) as JsonObject;
  return { $id: COMPONENTS_ID, $defs: rewriteRefs(schemas) };
}

function resolve(spec: OpenApiDocument, node: Json | undefined): JsonObject {
  let current = node as JsonObject | undefined;
  // Parameters, responses and request bodies may be references to components.
  while (current && typeof current.$ref === 'string') {
    const pointer = current.$ref.replace(/^#\//, '').split('/');
    let target: Json = spec;
    for (const segment of pointer) target = (target as JsonObject)[segment.replace(/~1/g, '/').replace(/~0/g, '~')] as Json;
    current = target as JsonObject;
  }
  if (!current) throw new Error('dangling reference in the spec');
  return current;
}

function parametersSchema(spec: OpenApiDocument, parameters: JsonObject[], location: string, closed: boolean) {
  const matching = parameters.filter((parameter) => parameter.in === location);
  if (matching.length === 0 && !(closed && location === 'query')) return undefined;
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const parameter of matching) {
    const name = location === 'header' ? String(parameter.name).toLowerCase() : String(parameter.name);
    properties[name] = rewriteRefs(parameter.schema ?? {});
    if (parameter.required) required.push(name);
  }
  return {
    type: 'object',
    properties,
    ...(required.length ? { required } : {}),
    // Unknown query parameters are refused so that a typo is reported, not silently ignored
    // (except where a standard says to ignore them).
    ...(closed ? { additionalProperties: false } : {}),
  } as JsonObject;
}

/** Whether a schema (following its references into the spec's components) holds an `x-secret` value. */
function holdsSecret(spec: OpenApiDocument, node: Json | undefined, seen = new Set<string>()): boolean {
  if (Array.isArray(node)) return node.some((item) => holdsSecret(spec, item, seen));
  if (node === null || typeof node !== 'object') return false;
  if (node['x-secret'] === true) return true;
  const ref = node.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    if (seen.has(ref)) return false;
    seen.add(ref);
    return holdsSecret(spec, resolve(spec, node), seen);
  }
  return Object.values(node).some((value) => holdsSecret(spec, value, seen));
}

/** A pattern of the request paths an OpenAPI path template stands for: a parameter is any one segment. */
export function pathPattern(template: string): RegExp {
  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${template.split(/\{[^}]+\}/).map(escaped).join('[^/]+')}$`);
}

/** Every operation of the spec, in document order. */
export function operations(spec: OpenApiDocument = loadSpec()): OperationSpec[] {
  const result: OperationSpec[] = [];
  const globalSecurity = (spec.security ?? []) as JsonObject[];
  for (const [path, item] of Object.entries(spec.paths)) {
    const pathParameters = ((item.parameters ?? []) as Json[]).map((p) => resolve(spec, p));
    for (const method of methods) {
      const operation = item[method] as JsonObject | undefined;
      if (!operation) continue;
      const own = ((operation.parameters ?? []) as Json[]).map((p) => resolve(spec, p));
      const byKey = new Map<string, JsonObject>();
      for (const parameter of [...pathParameters, ...own]) byKey.set(`${parameter.in}:${parameter.name}`, parameter);
      const parameters = [...byKey.values()];

      const response: Record<string, JsonObject> = {};
      for (const [status, ref] of Object.entries((operation.responses ?? {}) as JsonObject)) {
        const content = resolve(spec, ref).content as JsonObject | undefined;
        const key = status.replace(/X/g, 'x');
        if (!content) {
          response[key] = { type: 'null' };
          continue;
        }
        const byType: JsonObject = {};
        for (const [mediaType, media] of Object.entries(content)) {
          if (serializedMediaTypes.includes(mediaType)) byType[mediaType] = { schema: rewriteRefs((media as JsonObject).schema ?? {}) };
        }
        if (Object.keys(byType).length) response[key] = { content: byType };
      }

      let body: JsonObject | undefined;
      let bodyRequired = false;
      let bodyMediaType: OperationSpec['bodyMediaType'] = null;
      if (operation.requestBody) {
        const requestBody = resolve(spec, operation.requestBody);
        const content = requestBody.content as JsonObject;
        const mediaType = requestMediaTypes.find((type) => type in content);
        if (!mediaType) throw new Error(`operation ${String(operation.operationId)}: unsupported request media type`);
        bodyMediaType = mediaType;
        const media = content[mediaType] as JsonObject;
        body = rewriteRefs(media.schema ?? {}) as JsonObject;
        bodyRequired = requestBody.required === true;
      }

      // Each entry of `security` is an alternative; this API has one scheme per entry.
      let responseMediaType: OperationSpec['responseMediaType'] = 'application/json';
      for (const [status, ref] of Object.entries((operation.responses ?? {}) as JsonObject)) {
        if (!status.startsWith('2')) continue;
        const content = (resolve(spec, ref).content ?? {}) as JsonObject;
        if ('application/fhir+json' in content) responseMediaType = 'application/fhir+json';
        else if ('text/html' in content) responseMediaType = 'text/html';
      }
      // A page (an operation that answers HTML) answers its errors as pages too, unless it says otherwise.
      const answersPages = Object.values((operation.responses ?? {}) as JsonObject).some((ref) => 'text/html' in ((resolve(spec, ref).content ?? {}) as JsonObject));
      const errorFormat = operation['x-error-format'] ?? (answersPages ? 'page' : 'problem');
      if (!errorFormats.includes(errorFormat as never)) throw new Error(`operation ${String(operation.operationId)}: unknown x-error-format ${String(errorFormat)}`);

      const security = ((operation.security ?? globalSecurity) as JsonObject[]).flatMap((entry) =>
        Object.entries(entry).map(([scheme, scopes]) => ({ scheme, scopes: (scopes ?? []) as string[] })),
      );
      const schema: OperationSpec['schema'] = { response };
      const params = parametersSchema(spec, parameters, 'path', true);
      const ignoresUnknownParameters = operation['x-unknown-parameters'] === 'ignore';
      const querystring = parametersSchema(spec, parameters, 'query', !ignoresUnknownParameters);
      const headers = parametersSchema(spec, parameters, 'header', false);
      if (params) schema.params = params;
      if (querystring) schema.querystring = querystring;
      if (headers) schema.headers = headers;
      if (body) schema.body = body;
      result.push({
        operationId: String(operation.operationId),
        method: method.toUpperCase() as OperationSpec['method'],
        path,
        url: path.replace(/\{([^}]+)\}/g, ':$1'),
        security,
        schema,
        bodyRequired,
        bodyMediaType,
        responseMediaType,
        bodyLimit: typeof operation['x-body-limit'] === 'number' ? operation['x-body-limit'] : null,
        errorFormat: errorFormat as OperationSpec['errorFormat'],
        ignoresUnknownParameters,
        handlesInvalidParameters: operation['x-invalid-parameters'] === 'handler',
        idempotent: parameters.some((parameter) => parameter.in === 'header' && String(parameter.name).toLowerCase() === 'idempotency-key'),
        carriesSecrets: Object.entries((operation.responses ?? {}) as JsonObject).some(([status, ref]) => status.startsWith('2') && holdsSecret(spec, resolve(spec, ref))),
      });
    }
  }
  return result;
}
