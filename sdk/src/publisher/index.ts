// Public surface of @mes/sdk/publisher: the client of the app's publisher, for tools, scripts,
// tests and CI. It is the app's client plus the publisher API (publishers, API keys, apps, OAuth
// clients, certification), the sandbox's controls and pre-approved sign-in, and the device flow.
// An app imports @mes/sdk alone, and its bundle carries none of this.
/**
 * The publisher's client: `createPublisherClient`, and everything `@mes/sdk` exports.
 * @module
 */
import { MesClient, internals, type ClientOptions } from '../client.js';
import * as flows from '../auth/flows.js';
import { ApiKeysResource } from '../resources/api-keys.js';
import { AppsResource } from '../resources/apps.js';
import { CertificationResource } from '../resources/certification.js';
import { ClientsResource } from '../resources/clients.js';
import { PublishersResource } from '../resources/publishers.js';
import { SandboxResource } from '../resources/sandbox.js';

export * from '../index.js';
export type { DeviceAuthorization } from '../auth/flows.js';
export type { ApiKeysResource } from '../resources/api-keys.js';
export type { AppsResource } from '../resources/apps.js';
export type { CertificationResource, SubmissionSummary, Certificate, ListReviewQueueParams, ListCertificatesParams, ListAppSubmissionsParams } from '../resources/certification.js';
export type { ClientsResource } from '../resources/clients.js';
export type { PublishersResource } from '../resources/publishers.js';
export { faultKinds, faultTargets, sandboxScenarios } from '../resources/sandbox.js';
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
  SandboxEventInput,
  SandboxEventTopic,
  SandboxEvent,
  ControlResult,
  ScenarioInput,
  SandboxScenario,
  ScenarioResult,
  TrafficReport,
} from '../resources/sandbox.js';

/**
 * The publisher's client: what `createClient` gives an app (catalogue, FHIR API, authorization),
 * plus the publisher API, the sandbox and the device flow. It authenticates to the publisher API
 * with `apiKey`, or with the platform token of `deviceAuthorization()` (`clientId: 'mes-cli'`).
 */
export class PublisherClient<Scopes extends readonly string[] = readonly string[]> extends MesClient<Scopes> {
  readonly publishers: PublishersResource;
  readonly apiKeys: ApiKeysResource;
  readonly apps: AppsResource;
  /** Certification: submissions and checks (publishers), reviews and certificates (reviewers), the public log. */
  readonly certification: CertificationResource;
  readonly clients: ClientsResource;
  /** The sandbox's developer controls and its pre-approved sign-in (sandbox servers only). */
  readonly sandbox: SandboxResource;

  constructor(options: ClientOptions<Scopes>) {
    super(options);
    const { transport, fetch, flow } = this[internals];
    this.publishers = new PublishersResource(transport);
    this.apiKeys = new ApiKeysResource(transport);
    this.apps = new AppsResource(transport);
    this.certification = new CertificationResource(transport);
    this.clients = new ClientsResource(transport);
    this.sandbox = new SandboxResource(transport, (signIn) => flow('sandbox.signIn()', (context) => flows.sandboxSignIn(context, fetch, signIn)));
  }

  /** The device flow (RFC 8628) of command-line tools: show the code, then `wait()`. */
  deviceAuthorization(options?: { scope?: string | readonly string[]; signal?: AbortSignal }): Promise<flows.DeviceAuthorization> {
    return this[internals].flow('deviceAuthorization()', (context) => flows.deviceAuthorization(context, options));
  }
}

/**
 * Creates a publisher's client: the options of `createClient`, with `apiKey` for the publisher
 * API, or `clientId: 'mes-cli'` and `deviceAuthorization()` for a person at a terminal.
 */
export function createPublisherClient<const Scopes extends readonly string[] = readonly string[]>(options: ClientOptions<Scopes>): PublisherClient<Scopes> {
  return new PublisherClient(options);
}
