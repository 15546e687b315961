// Public surface of @mes/sdk, the typed client of the platform's HTTP API (Node >= 20.19 and
// browsers). Everything not exported here is internal, except `@mes/sdk/certification`
// (certification/index.ts): the offline checks of certificates and of the decision log.
/**
 * The client of the platform's API: `createClient`, its resources, the FHIR API, the errors.
 * @module
 */
export { createClient, MesClient, type ClientOptions } from './client.js';
export type { FetchLike, RequestOptions, Query } from './internal/transport.js';
export { ApiPromise, type WithResponse } from './internal/api-promise.js';
export { Page, PagePromise, type PageData, type CollectOptions } from './pagination.js';
export { memoryStorage, type TokenStorage } from './auth/storage.js';
export type { ClientAuthentication } from './auth/server.js';
export type { AuthorizationInfo } from './auth/session.js';
export type { AuthorizeOptions, AuthorizationRequest, DeviceAuthorization } from './auth/flows.js';
export { FhirApi, FhirPage, fhirResourceTypes, creatableResourceTypes, type FhirSearchPage } from './fhir/resource.js';
export { scopesAllow } from './fhir/scopes.js';
export {
  MesError,
  ApiError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  RateLimitError,
  ServerError,
  ConnectionError,
  TimeoutError,
  OAuthError,
  ReauthorizationRequiredError,
  ConsentWithdrawnError,
  type ApiErrorInit,
  type OAuthErrorInit,
  type GrantEndReason,
} from './errors.js';
export {
  ProblemCode,
  problemCodes,
  isProblemCode,
  appCategories,
  certificationStatuses,
  oauthErrorCodes,
  grantEndReasons,
  type OAuthErrorCode,
} from './constants.js';
export type * from './types.js';
export type { ApiKeysResource } from './resources/api-keys.js';
export type { AppsResource } from './resources/apps.js';
export type { CatalogResource } from './resources/catalog.js';
export type { CertificationResource, SubmissionSummary, Certificate, ListReviewQueueParams, ListCertificatesParams, ListAppSubmissionsParams } from './resources/certification.js';
export type { ClientsResource } from './resources/clients.js';
export type { HealthResource } from './resources/health.js';
export type { PublishersResource } from './resources/publishers.js';
export { faultKinds, faultTargets, sandboxScenarios } from './resources/sandbox.js';
export type {
  SandboxResource,
  SandboxSignIn,
  SandboxPatient,
  SandboxPatientList,
  ListSandboxPatientsParams,
  FaultInput,
  FaultKind,
  FaultTarget,
  Fault,
  FaultList,
  WithdrawalInput,
  ControlResult,
  ScenarioInput,
  SandboxScenario,
  ScenarioResult,
  TrafficReport,
} from './resources/sandbox.js';
/** The generated types of the whole contract, for anything the named types above do not cover. */
export type { components, operations, paths } from '@mes/openapi';
