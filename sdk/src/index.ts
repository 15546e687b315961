// Public surface of @mes/sdk, the typed client of the platform's HTTP API (Node >= 20.19 and
// browsers). Everything not exported here is internal.
export { createClient, MesClient, type ClientOptions } from './client.js';
export type { FetchLike, RequestOptions } from './internal/transport.js';
export { Page, PagePromise, type PageData, type CollectOptions } from './pagination.js';
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
  type ApiErrorInit,
} from './errors.js';
export { ProblemCode, problemCodes, isProblemCode, appCategories, certificationStatuses } from './constants.js';
export type * from './types.js';
export type { ApiKeysResource } from './resources/api-keys.js';
export type { AppsResource } from './resources/apps.js';
export type { CatalogResource } from './resources/catalog.js';
export type { ClientsResource } from './resources/clients.js';
export type { HealthResource } from './resources/health.js';
export type { PublishersResource } from './resources/publishers.js';
export { faultKinds, faultTargets, sandboxScenarios } from './resources/sandbox.js';
export type {
  SandboxResource,
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
