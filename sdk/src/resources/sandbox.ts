// The sandbox's developer controls on the publisher's own OAuth clients (injected faults, token
// expiry, withdrawal, suspension, reset, traffic report), its synthetic patients and scenarios.
import { path } from '../internal/path.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import type { QueryParams, RequestBody, ResponseBody } from '../types.js';

/** A synthetic patient of the sandbox, with the children they may act for. */
export type SandboxPatient = ResponseBody<'listSandboxPatients'>['items'][number];
export type SandboxPatientList = ResponseBody<'listSandboxPatients'>;
/** Query of `sandbox.patients()`: text search on names and ids (`q`) and how many (1–100, default 20). */
export type ListSandboxPatientsParams = QueryParams<'listSandboxPatients'>;
/** What `sandbox.injectFault()` takes: the failure, for how many requests, where, and its timing. */
export type FaultInput = RequestBody<'injectFault'>;
export type FaultKind = FaultInput['kind'];
export type FaultTarget = NonNullable<FaultInput['target']>;
/** A pending injected failure. */
export type Fault = ResponseBody<'injectFault'>;
export type FaultList = ResponseBody<'listFaults'>;
export type WithdrawalInput = RequestBody<'withdrawClientGrants'>;
/** The answer of the controls that change a client's state: what was done, in words, and on how many things. */
export type ControlResult = ResponseBody<'clearFaults'>;
export type ScenarioInput = RequestBody<'applyScenario'>;
export type SandboxScenario = ScenarioInput['scenario'];
export type ScenarioResult = ResponseBody<'applyScenario'>;
/** What the sandbox saw of a client: certification reads it as evidence of how the app behaves. */
export type TrafficReport = ResponseBody<'getTrafficReport'>;

/** Every kind of failure the sandbox can inject. */
export const faultKinds = [
  'invalid_client',
  'invalid_scope',
  'expired_token',
  'revoked_grant',
  'rate_limited',
  'unavailable',
  'latency',
] as const satisfies readonly FaultKind[];

/** Which requests of a client a fault applies to: the token endpoint, the FHIR API, or both. */
export const faultTargets = ['token', 'fhir', 'any'] as const satisfies readonly FaultTarget[];

/** Every state a scenario can put a synthetic patient into. */
export const sandboxScenarios = [
  'consent-withdrawn',
  'app-suspended',
  'child-turns-18',
  'account-closed',
  'patient-opposed',
] as const satisfies readonly SandboxScenario[];

/**
 * The sandbox's developer controls. They exist only on a sandbox server: elsewhere every call
 * fails with a NotFoundError whose code is `sandbox_only`. `clientId` is the OAuth `client_id` of
 * one of the publisher's own clients (`clients.list(appId)`); another publisher's is `not_found`.
 */
export class SandboxResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * GET /sandbox/patients: synthetic patients searched by name (accents and case do not matter)
   * or id. Use an id as `login_hint` (or `<guardian>:<child>`) to pre-approve consent.
   */
  async patients(params: ListSandboxPatientsParams = {}, options?: RequestOptions): Promise<SandboxPatientList> {
    return this.#transport.request({ method: 'GET', path: 'sandbox/patients', query: params }, options);
  }

  /**
   * POST /sandbox/clients/{clientId}/faults: the client's next `count` requests (default 1) at
   * `target` (token endpoint, FHIR API, or any) are answered with the failure instead.
   */
  async injectFault(clientId: string, body: FaultInput, options?: RequestOptions): Promise<Fault> {
    return this.#transport.request({ method: 'POST', path: path`sandbox/clients/${clientId}/faults`, body }, options);
  }

  /** GET /sandbox/clients/{clientId}/faults: the faults still waiting for requests, oldest first. */
  async listFaults(clientId: string, options?: RequestOptions): Promise<FaultList> {
    return this.#transport.request({ method: 'GET', path: path`sandbox/clients/${clientId}/faults` }, options);
  }

  /** DELETE /sandbox/clients/{clientId}/faults: no more injected failures; `count` says how many were pending. */
  async clearFaults(clientId: string, options?: RequestOptions): Promise<ControlResult> {
    return this.#transport.request({ method: 'DELETE', path: path`sandbox/clients/${clientId}/faults` }, options);
  }

  /**
   * POST /sandbox/clients/{clientId}/token-expiry: every access token issued to the client so far
   * fails as expired at its next use; refresh tokens keep working, to test the app's refresh.
   */
  async expireTokens(clientId: string, options?: RequestOptions): Promise<ControlResult> {
    return this.#transport.request({ method: 'POST', path: path`sandbox/clients/${clientId}/token-expiry` }, options);
  }

  /**
   * POST /sandbox/clients/{clientId}/withdrawal: ends the client's active grants (only those of
   * `patient` when given), as the patient would; their tokens fail at their next use.
   */
  async withdrawGrants(clientId: string, body: WithdrawalInput = {}, options?: RequestOptions): Promise<ControlResult> {
    return this.#transport.request({ method: 'POST', path: path`sandbox/clients/${clientId}/withdrawal`, body }, options);
  }

  /** PUT /sandbox/clients/{clientId}/suspension: suspends the client's app; its tokens stop working at once. */
  async suspendApp(clientId: string, options?: RequestOptions): Promise<ControlResult> {
    return this.#transport.request({ method: 'PUT', path: path`sandbox/clients/${clientId}/suspension` }, options);
  }

  /** DELETE /sandbox/clients/{clientId}/suspension: the app gets back the status it had before the suspension. */
  async reinstateApp(clientId: string, options?: RequestOptions): Promise<ControlResult> {
    return this.#transport.request({ method: 'DELETE', path: path`sandbox/clients/${clientId}/suspension` }, options);
  }

  /**
   * POST /sandbox/clients/{clientId}/reset: clears pending faults, the token expiry mark and the
   * recorded traffic, and reinstates a suspended app. Grants are kept.
   */
  async reset(clientId: string, options?: RequestOptions): Promise<ControlResult> {
    return this.#transport.request({ method: 'POST', path: path`sandbox/clients/${clientId}/reset` }, options);
  }

  /**
   * GET /sandbox/clients/{clientId}/report: grant types, PAR, PKCE and DPoP use, refreshes,
   * scopes requested against resource types called, reactions to 401, 429 and 503, faults.
   */
  async report(clientId: string, options?: RequestOptions): Promise<TrafficReport> {
    return this.#transport.request({ method: 'GET', path: path`sandbox/clients/${clientId}/report` }, options);
  }

  /**
   * POST /sandbox/scenarios: puts a synthetic patient into a state an app must handle (consent
   * withdrawn, app suspended, child turning 18, account closed, patient opposed). `app-suspended`
   * needs `clientId`; `consent-withdrawn` with `clientId` ends only that client's grants.
   */
  async applyScenario(body: ScenarioInput, options?: RequestOptions): Promise<ScenarioResult> {
    return this.#transport.request({ method: 'POST', path: 'sandbox/scenarios', body }, options);
  }
}
