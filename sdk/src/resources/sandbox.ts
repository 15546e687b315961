// The sandbox's developer controls on the publisher's own OAuth clients (injected faults, token
// expiry, withdrawal, suspension, reset, traffic report), its synthetic patients and scenarios.
import type { AuthorizationInfo } from '../auth/session.js';
import { path } from '../internal/path.js';
import type { ApiPromise } from '../internal/api-promise.js';
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
/** What `sandbox.triggerEvent()` takes: the topic, and the synthetic patient it happens to. */
export type SandboxEventInput = RequestBody<'triggerSandboxEvent'>;
export type SandboxEventTopic = SandboxEventInput['topic'];
/** The resource the sandbox wrote, to read with the app's token, and how many subscriptions were told. */
export type SandboxEvent = ResponseBody<'triggerSandboxEvent'>;
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
/** What `sandbox.signIn()` takes: the synthetic patient whose consent is pre-approved, and the scopes. */
export interface SandboxSignIn {
  /** A synthetic patient's id (`sandbox-patient-1`), or `<guardian>:<child>`. */
  patient: string;
  /** The scopes to ask for; by default the client's `scope`. */
  scope?: string | readonly string[];
  signal?: AbortSignal;
}

export class SandboxResource {
  readonly #transport: Transport;
  readonly #signIn: (request: SandboxSignIn) => Promise<AuthorizationInfo>;

  constructor(transport: Transport, signIn: (request: SandboxSignIn) => Promise<AuthorizationInfo>) {
    this.#transport = transport;
    this.#signIn = signIn;
  }

  /**
   * The pre-approved authorization of the sandbox, for tests and quick starts: authorizes the
   * client for `patient` without a browser (`login_hint`), and stores the tokens. Needs `clientId`
   * and `redirectUri`; a server that is not a sandbox refuses (`not_pre_approved`).
   */
  signIn(request: SandboxSignIn): Promise<AuthorizationInfo> {
    return this.#signIn(request);
  }

  /**
   * GET /sandbox/patients: synthetic patients searched by name (accents and case do not matter)
   * or id. Use an id as `login_hint` (or `<guardian>:<child>`) to pre-approve consent.
   */
  patients(params: ListSandboxPatientsParams = {}, options?: RequestOptions): ApiPromise<SandboxPatientList> {
    return this.#transport.request(() => ({ method: 'GET', path: 'sandbox/patients', query: params }), options);
  }

  /**
   * POST /sandbox/clients/{clientId}/faults: the client's next `count` requests (default 1) at
   * `target` (token endpoint, FHIR API, or any) are answered with the failure instead.
   */
  injectFault(clientId: string, body: FaultInput, options?: RequestOptions): ApiPromise<Fault> {
    return this.#transport.request(() => ({ method: 'POST', path: path`sandbox/clients/${clientId}/faults`, body }), options);
  }

  /**
   * GET /sandbox/clients/{clientId}/evidence: the client's traffic report signed by this sandbox,
   * to give as `sandboxEvidence` when submitting the app on a platform that trusts the sandbox.
   */
  evidence(clientId: string, options?: RequestOptions): ApiPromise<ResponseBody<'getSandboxEvidence'>> {
    return this.#transport.request(() => ({ method: 'GET', path: path`sandbox/clients/${clientId}/evidence` }), options);
  }

  /**
   * POST /sandbox/sign-ins: approves a command-line sign-in (device flow) waiting with `userCode`
   * as one of the sandbox's seeded accounts (`demo-publisher`, `reviewer-a`, `reviewer-b`,
   * `reviewer-linked`), without a key. Sandbox servers only.
   */
  approveSignIn(body: RequestBody<'approveSandboxSignIn'>, options?: RequestOptions): ApiPromise<ResponseBody<'approveSandboxSignIn'>> {
    return this.#transport.request(() => ({ method: 'POST', path: 'sandbox/sign-ins', body }), options);
  }

  /** GET /sandbox/clients/{clientId}/faults: the faults still waiting for requests, oldest first. */
  listFaults(clientId: string, options?: RequestOptions): ApiPromise<FaultList> {
    return this.#transport.request(() => ({ method: 'GET', path: path`sandbox/clients/${clientId}/faults` }), options);
  }

  /** DELETE /sandbox/clients/{clientId}/faults: no more injected failures; `count` says how many were pending. */
  clearFaults(clientId: string, options?: RequestOptions): ApiPromise<ControlResult> {
    return this.#transport.request(() => ({ method: 'DELETE', path: path`sandbox/clients/${clientId}/faults` }), options);
  }

  /**
   * POST /sandbox/clients/{clientId}/token-expiry: every access token issued to the client so far
   * fails as expired at its next use; refresh tokens keep working, to test the app's refresh.
   */
  expireTokens(clientId: string, options?: RequestOptions): ApiPromise<ControlResult> {
    return this.#transport.request(() => ({ method: 'POST', path: path`sandbox/clients/${clientId}/token-expiry` }), options);
  }

  /**
   * POST /sandbox/clients/{clientId}/withdrawal: ends the client's active grants (only those of
   * `patient` when given), as the patient would; their tokens fail at their next use.
   */
  withdrawGrants(clientId: string, body: WithdrawalInput = {}, options?: RequestOptions): ApiPromise<ControlResult> {
    return this.#transport.request(() => ({ method: 'POST', path: path`sandbox/clients/${clientId}/withdrawal`, body }), options);
  }

  /**
   * POST /sandbox/clients/{clientId}/events: writes what a notification topic is about into a
   * synthetic patient's record (a document, an appointment, a message to this app, a weight), so
   * the app's subscriptions are notified and its webhook handler can be tried at once.
   */
  triggerEvent(clientId: string, body: SandboxEventInput, options?: RequestOptions): ApiPromise<SandboxEvent> {
    return this.#transport.request(() => ({ method: 'POST', path: path`sandbox/clients/${clientId}/events`, body }), options);
  }

  /** PUT /sandbox/clients/{clientId}/suspension: suspends the client's app; its tokens stop working at once. */
  suspendApp(clientId: string, options?: RequestOptions): ApiPromise<ControlResult> {
    return this.#transport.request(() => ({ method: 'PUT', path: path`sandbox/clients/${clientId}/suspension` }), options);
  }

  /** DELETE /sandbox/clients/{clientId}/suspension: the app gets back the status it had before the suspension. */
  reinstateApp(clientId: string, options?: RequestOptions): ApiPromise<ControlResult> {
    return this.#transport.request(() => ({ method: 'DELETE', path: path`sandbox/clients/${clientId}/suspension` }), options);
  }

  /**
   * POST /sandbox/clients/{clientId}/reset: clears pending faults, the token expiry mark and the
   * recorded traffic, and reinstates a suspended app. Grants are kept.
   */
  reset(clientId: string, options?: RequestOptions): ApiPromise<ControlResult> {
    return this.#transport.request(() => ({ method: 'POST', path: path`sandbox/clients/${clientId}/reset` }), options);
  }

  /**
   * GET /sandbox/clients/{clientId}/report: grant types, PAR, PKCE and DPoP use, refreshes,
   * scopes requested against resource types called, reactions to 401, 429 and 503, faults.
   */
  report(clientId: string, options?: RequestOptions): ApiPromise<TrafficReport> {
    return this.#transport.request(() => ({ method: 'GET', path: path`sandbox/clients/${clientId}/report` }), options);
  }

  /**
   * POST /sandbox/scenarios: puts a synthetic patient into a state an app must handle (consent
   * withdrawn, app suspended, child turning 18, account closed, patient opposed). `app-suspended`
   * needs `clientId`; `consent-withdrawn` with `clientId` ends only that client's grants.
   */
  applyScenario(body: ScenarioInput, options?: RequestOptions): ApiPromise<ScenarioResult> {
    return this.#transport.request(() => ({ method: 'POST', path: 'sandbox/scenarios', body }), options);
  }
}
