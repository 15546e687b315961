// Request and response types of the API, derived from the OpenAPI contract (@mes/openapi). Nothing
// here is written by hand: when the spec changes, these types change with it.
import type { components, operations } from '@mes/openapi';

type Schemas = components['schemas'];

/** The operationId of every operation of the API. */
export type OperationId = keyof operations;

type JsonContent<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
type SuccessStatus = 200 | 201 | 202 | 204;
type Responses<K extends OperationId> = operations[K]['responses'];

/** The JSON request body of an operation (`never` when it takes none). */
export type RequestBody<K extends OperationId> = operations[K] extends { requestBody?: infer Body }
  ? JsonContent<NonNullable<Body>>
  : never;

/** The JSON body of an operation's success response (`void` for 204 No Content). */
export type ResponseBody<K extends OperationId> = {
  [S in keyof Responses<K> & SuccessStatus]: Responses<K>[S] extends { content: { 'application/json': infer Body } }
    ? Body
    : void;
}[keyof Responses<K> & SuccessStatus];

/** The query parameters of an operation. */
export type QueryParams<K extends OperationId> = NonNullable<operations[K]['parameters']['query']>;

export type Problem = Schemas['Problem'];
/** One input error of a `validation_failed` (or `invalid_scope`, `invalid_redirect_uri`) problem. */
export type FieldError = NonNullable<Problem['errors']>[number];
export type Health = Schemas['Health'];
export type Readiness = Schemas['Readiness'];
export type LocalizedText = Schemas['LocalizedText'];
export type PublisherRegistration = Schemas['PublisherRegistration'];
export type PublisherUpdate = Schemas['PublisherUpdate'];
export type Publisher = Schemas['Publisher'];
export type PublisherSummary = Schemas['PublisherSummary'];
export type PublisherRegistered = Schemas['PublisherRegistered'];
export type ApiKey = Schemas['ApiKey'];
export type ApiKeyInput = Schemas['ApiKeyInput'];
export type ApiKeyCreated = Schemas['ApiKeyCreated'];
export type ApiKeyList = Schemas['ApiKeyList'];
export type AppCategory = Schemas['AppCategory'];
export type CertificationStatus = Schemas['CertificationStatus'];
export type ScopeRequest = Schemas['ScopeRequest'];
export type SupportContact = Schemas['SupportContact'];
export type AppInput = Schemas['AppInput'];
export type AppUpdate = Schemas['AppUpdate'];
export type App = Schemas['App'];
export type AppPage = Schemas['AppPage'];
export type CatalogApp = Schemas['CatalogApp'];
export type CatalogPage = Schemas['CatalogPage'];

/** Query of `apps.list()`: page size (1–100, default 20) and the cursor of the page to fetch. */
export type ListAppsParams = QueryParams<'listApps'>;
/** Query of `catalog.list()`: text search, category filter, page size and cursor. */
export type ListCatalogParams = QueryParams<'listCatalogApps'>;
export type Jwk = Schemas['Jwk'];
export type Jwks = Schemas['Jwks'];
export type ClientInput = Schemas['ClientInput'];
export type Client = Schemas['Client'];

export type {
  FhirResourceType,
  CreatableResourceType,
  FhirResource,
  FhirBundle,
  FhirSearchParams,
  FhirCreateInput,
  UpdatableResourceType,
  FhirUpdateInput,
  FhirInteraction,
  AllowedTypes,
  OperationOutcome,
  CapabilityStatement,
} from './fhir/types.js';

// The FHIR resources of the patient-data API.
export type Patient = Schemas['Patient'];
export type Observation = Schemas['Observation'];
export type Immunization = Schemas['Immunization'];
export type AllergyIntolerance = Schemas['AllergyIntolerance'];
export type Condition = Schemas['Condition'];
export type MedicationStatement = Schemas['MedicationStatement'];
export type DocumentReference = Schemas['DocumentReference'];
export type Appointment = Schemas['Appointment'];
export type Communication = Schemas['Communication'];
