// client.subscriptions: FHIR Subscriptions (R4, Subscriptions R5 Backport IG) for the session's
// patient. The app subscribes to a topic with a rest-hook to one of its registered notification
// endpoints; notifications are id-only (it reads each resource with its token) and signed (check
// them with verifyNotification of `@mes/sdk/webhooks`).
import type { components } from '@mes/openapi';
import type { ApiPromise } from '../internal/api-promise.js';
import { path } from '../internal/path.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import { checkScopes } from './scopes.js';

export type Subscription = components['schemas']['Subscription'];
export type SubscriptionBundle = components['schemas']['SubscriptionBundle'];
export type SubscriptionStatusBundle = components['schemas']['SubscriptionStatusBundle'];

/** The topics of the platform, and the resource type each is about (the app must be able to read it). */
export const subscriptionTopics = { 'new-document': 'DocumentReference', appointment: 'Appointment', 'new-message': 'Communication', 'new-measurement': 'Observation' } as const;
export type SubscriptionTopic = keyof typeof subscriptionTopics;

export interface SubscribeOptions {
  topic: SubscriptionTopic;
  /** One of the app's registered notificationEndpoints, or a URL under one (https). */
  endpoint: string;
  /** Seconds between heartbeats when nothing else is sent (60 to 86400); none by default. */
  heartbeatPeriod?: number;
  /** Why the app subscribes (shown to nobody but kept with the subscription). */
  reason?: string;
}

const fhirJson = 'application/fhir+json';
const backport = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';

export class SubscriptionsApi {
  readonly #transport: Transport;
  readonly #scopes: readonly string[] | undefined;

  constructor(transport: Transport, scopes: readonly string[] | undefined) {
    this.#transport = transport;
    this.#scopes = scopes;
  }

  /** POST /fhir/Subscription: subscribes to a topic for the patient. Needs read access to the topic's resource type. */
  create(options: SubscribeOptions, request?: RequestOptions): ApiPromise<Subscription> {
    return this.#transport.request(() => {
      checkScopes(this.#scopes, subscriptionTopics[options.topic], 'read');
      const body: Subscription = {
        resourceType: 'Subscription',
        meta: { profile: [`${backport}backport-subscription`] },
        status: 'requested',
        reason: options.reason ?? `Notifications: ${options.topic}`,
        criteria: new URL(`SubscriptionTopic/${options.topic}`, this.#transport.baseUrl).href,
        channel: {
          ...(options.heartbeatPeriod === undefined ? {} : { extension: [{ url: `${backport}backport-heartbeat-period`, valueUnsignedInt: options.heartbeatPeriod }] }),
          type: 'rest-hook',
          endpoint: options.endpoint,
          payload: fhirJson,
          _payload: { extension: [{ url: `${backport}backport-payload-content`, valueCode: 'id-only' }] },
        },
      };
      return { method: 'POST', path: 'Subscription', body, mediaType: fhirJson, idempotent: true };
    }, request);
  }

  /** GET /fhir/Subscription/{id}. */
  read(id: string, request?: RequestOptions): ApiPromise<Subscription> {
    return this.#transport.request(() => ({ method: 'GET', path: path`Subscription/${id}`, mediaType: fhirJson }), request);
  }

  /** GET /fhir/Subscription: the app's subscriptions for the patient, newest first. */
  list(query: { status?: Subscription['status'] } = {}, request?: RequestOptions): ApiPromise<SubscriptionBundle> {
    return this.#transport.request({ method: 'GET', path: 'Subscription', query, mediaType: fhirJson }, request);
  }

  /** DELETE /fhir/Subscription/{id}: ends it. */
  delete(id: string, request?: RequestOptions): ApiPromise<void> {
    return this.#transport.request(() => ({ method: 'DELETE', path: path`Subscription/${id}`, mediaType: fhirJson }), request);
  }

  /** GET /fhir/Subscription/{id}/$status: its SubscriptionStatus (status, events since start, error). */
  status(id: string, request?: RequestOptions): ApiPromise<SubscriptionStatusBundle> {
    return this.#transport.request(() => ({ method: 'GET', path: `${path`Subscription/${id}`}/$status`, mediaType: fhirJson }), request);
  }
}
