// The FHIR API's types, from the spec: the resource types it serves, what each accepts as search
// parameters and as a create, and the scope algebra at the type level, so that a client created
// with a set of scopes only shows the types and interactions those scopes allow.
import type { components, operations } from '@mes/openapi';
import type { QueryParams } from '../types.js';

type Schemas = components['schemas'];
type Operations = keyof operations;

/** Every resource type the FHIR API serves (each has a read and a search operation); subscriptions have an API of their own (`client.subscriptions`). */
export type FhirResourceType = {
  [K in Operations]: K extends `read${infer T}` ? (`search${T}` extends Operations ? (T extends keyof Schemas ? (T extends 'Subscription' ? never : T) : never) : never) : never;
}[Operations];

/** The resource types the API accepts creates of. */
export type CreatableResourceType = {
  [T in FhirResourceType]: `create${T}` extends Operations ? T : never;
}[FhirResourceType];

/** The resource types the API accepts updates of. */
export type UpdatableResourceType = {
  [T in FhirResourceType]: `update${T}` extends Operations ? T : never;
}[FhirResourceType];

/** A resource of type `T`, as the spec describes it. */
export type FhirResource<T extends FhirResourceType> = Schemas[T];

/** A searchset Bundle of `T`. */
export type FhirBundle<T extends FhirResourceType> = `${T}Bundle` extends keyof Schemas ? Schemas[`${T}Bundle`] : never;

// A repeatable parameter (`date`) takes one value or several.
type OneOrMore<P> = { [K in keyof P]: P[K] extends readonly (infer V)[] | undefined ? V | readonly V[] : P[K] };

/** The search parameters of `T` (`_cursor` is the SDK's to follow: iterate the page instead). */
export type FhirSearchParams<T extends FhirResourceType> = OneOrMore<Omit<QueryParams<`search${T}` & Operations>, '_cursor'>>;

/** What a create of `T` takes. */
export type FhirCreateInput<T extends CreatableResourceType> = operations[`create${T}` & Operations] extends {
  requestBody: { content: { 'application/fhir+json': infer Body } };
}
  ? Body
  : never;

/** What an update of `T` takes: the whole resource, with its id. */
export type FhirUpdateInput<T extends UpdatableResourceType> = (operations[`update${T}` & Operations] extends {
  requestBody: { content: { 'application/fhir+json': infer Body } };
}
  ? Body
  : never) & { id: string };

export type OperationOutcome = Schemas['OperationOutcome'];
export type CapabilityStatement = Schemas['CapabilityStatement'];

/** The FHIR interactions the SDK offers, with their SMART v2 permission letter. */
export interface InteractionLetters {
  read: 'r';
  search: 's';
  create: 'c';
  update: 'u';
}
export type FhirInteraction = keyof InteractionLetters;

// SMART v1 permissions are aliases of v2 letters.
type V2Letters<P extends string> = P extends 'read' ? 'rs' : P extends 'write' ? 'cud' : P extends '*' ? 'cruds' : P;
type WithoutQuery<P extends string> = P extends `${infer Head}?${string}` ? Head : P;

/** Whether one scope string grants `Letter` on `Type`. */
type Grants<Scope, Type extends string, Letter extends string> = Scope extends `${'patient' | 'user'}/${infer Target}.${infer Permissions}`
  ? Target extends Type | '*'
    ? V2Letters<WithoutQuery<Permissions>> extends `${string}${Letter}${string}`
      ? true
      : false
    : false
  : false;

/**
 * The resource types a scope list allows an interaction on. A list typed as plain `string[]`
 * (scopes not known at compile time) allows every type; the server decides.
 */
export type AllowedTypes<Scopes extends readonly string[], I extends FhirInteraction, Among extends FhirResourceType = FhirResourceType> =
  string extends Scopes[number]
    ? Among
    : { [T in Among]: true extends Grants<Scopes[number], T, InteractionLetters[I]> ? T : never }[Among];
