// Public surface of @mes/sdk, the typed client of the platform's HTTP API (Node >= 20.19 and
// browsers). Everything not exported here is internal, except two subpaths:
// `@mes/sdk/publisher` (publisher/index.ts), the publisher's client for tools, and
// `@mes/sdk/certification` (certification/index.ts), the offline checks of certificates and of
// the decision log.
/**
 * An app's client of the platform: `createClient`, the FHIR API, authorization, the errors.
 * @module
 */
export { createClient, MesClient, type ClientOptions } from './client.js';
export type { FetchLike, RequestOptions, Query } from './internal/transport.js';
export { ApiPromise, type WithResponse } from './internal/api-promise.js';
export { Page, PagePromise, type PageData, type CollectOptions } from './pagination.js';
export { memoryStorage, type TokenStorage } from './auth/storage.js';
export type { ClientAuthentication } from './auth/server.js';
export type { AuthorizationInfo } from './auth/session.js';
export type { AuthorizeOptions, AuthorizationRequest } from './auth/flows.js';
export { FhirApi, FhirPage, fhirResourceTypes, creatableResourceTypes, updatableResourceTypes, type FhirSearchPage, type UpdateOptions } from './fhir/resource.js';
export { scopesAllow } from './fhir/scopes.js';
export { SubscriptionsApi, subscriptionTopics, type Subscription, type SubscriptionBundle, type SubscriptionStatusBundle, type SubscriptionTopic, type SubscribeOptions } from './fhir/subscriptions.js';
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
export type { CatalogResource } from './resources/catalog.js';
export type { HealthResource } from './resources/health.js';
/** The generated types of the whole contract, for anything the named types above do not cover. */
export type { components, operations, paths } from '@mes/openapi';
