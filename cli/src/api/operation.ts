// The shape of one operation of the spec as `mes api` sees it: what scripts/generate-api.mjs writes
// into each generated command of src/commands/api/.

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS' | 'HEAD' | 'PATCH' | 'TRACE';

export type ParameterLocation = 'path' | 'query' | 'header' | 'cookie';

/** `string`, `integer`, `number`, `boolean`, `object` or `array` (a JSON Schema type). */
export type ValueType = string;

export interface OperationParameter {
  /** The name in the spec (`appId`, `_count`, `Idempotency-Key`). */
  name: string;
  in: ParameterLocation;
  /** The CLI flag, without `--`: kebab case of the name (`app-id`, `count`, `idempotency-key`). */
  flag: string;
  /** Path parameters are always required. */
  required: boolean;
  /** The type of the value, or of each value for an array. */
  type: ValueType;
  /** Repeated in the query (`date=ge2026&date=lt2027`) and a repeatable flag. */
  array: boolean;
  enum?: readonly string[];
  format?: string;
  /** The first paragraph of the spec's description, on one line. */
  description?: string;
}

export interface BodyField {
  name: string;
  type: ValueType;
  /** For arrays: the type of each item. */
  items?: ValueType;
  required: boolean;
  enum?: readonly string[];
  description?: string;
  /** A sample value, from the spec's examples (scalars only). */
  example?: string | number | boolean;
}

export interface OperationBody {
  /** The media type sent: `application/json`, `application/fhir+json`, `application/x-www-form-urlencoded`. */
  contentType: string;
  /** How the CLI builds it: JSON, a URL-encoded form, or the file's bytes as they are. */
  kind: 'json' | 'form' | 'raw';
  required: boolean;
  /** The top-level properties of the body's schema, in the spec's order. */
  fields: readonly BodyField[];
}

export interface Operation {
  operationId: string;
  method: HttpMethod;
  /** The path template of the spec, e.g. `/apps/{appId}`. */
  path: string;
  summary: string;
  /** The first paragraph of the operation's description. */
  description: string;
  tag: string;
  /** The names of the security schemes that can authorize a call; empty when the operation is public. */
  security: readonly string[];
  /**
   * What the CLI sends: `apiKey` (some scheme takes a bearer key: the API key as
   * `Authorization: Bearer`), `sandboxToken` (patient-data DPoP tokens only: the token saved by
   * `mes sandbox token`, with a proof per request), `none` (public, or a browser session only).
   */
  auth: 'apiKey' | 'sandboxToken' | 'none';
  /** Path, then query, header and cookie parameters, in the spec's order. */
  parameters: readonly OperationParameter[];
  body: OperationBody | null;
  /** Every media type of its responses (success and errors), for `Accept`. */
  responseTypes: readonly string[];
}
