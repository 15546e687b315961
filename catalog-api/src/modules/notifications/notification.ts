// What is sent to a subscription's endpoint, free of HTTP and SQL: the R4 backport's notification
// Bundle (type `history`; first entry the SubscriptionStatus `Parameters`, then one entry per
// event's focus with its `fullUrl` only: id-only), its signature header's protected members, and
// when a failed delivery is tried again.
import { randomUUID } from 'node:crypto';
import { topicUrl, type TopicName } from './topics.js';

export const SUBSCRIPTION_STATUS_PROFILE = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4';
export const NOTIFICATION_PROFILE = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification-r4';
/** The `typ` of the notification's signature (a detached JWS in the X-Mes-Signature header). */
export const NOTIFICATION_SIGNATURE_TYPE = 'mes-notification+jws';
export const SIGNATURE_HEADER = 'x-mes-signature';

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status';

export interface NotifiedEvent {
  eventNumber: number;
  occurredAt: Date;
  /** Relative to the FHIR base: `DocumentReference/123`. */
  focus: string;
}

export interface StatusOf {
  id: string;
  topic: TopicName;
  fhirBase: string;
  status: 'requested' | 'active' | 'error' | 'off';
  eventsCount: number;
  error?: string | null;
}

type Parameter = { name: string; valueReference?: { reference: string }; valueCanonical?: string; valueCode?: string; valueString?: string; valueInstant?: string; valueCodeableConcept?: { text: string }; part?: Parameter[] };

/** The backport's SubscriptionStatus for R4 (a Parameters resource). */
export function subscriptionStatus(subscription: StatusOf, type: NotificationType, events: readonly NotifiedEvent[] = []) {
  const parameter: Parameter[] = [
    { name: 'subscription', valueReference: { reference: `${subscription.fhirBase}/Subscription/${subscription.id}` } },
    { name: 'topic', valueCanonical: topicUrl(subscription.fhirBase, subscription.topic) },
    { name: 'status', valueCode: subscription.status },
    { name: 'type', valueCode: type },
    { name: 'events-since-subscription-start', valueString: String(subscription.eventsCount) },
    ...events.map((event) => ({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(event.eventNumber) },
        { name: 'timestamp', valueInstant: event.occurredAt.toISOString() },
        { name: 'focus', valueReference: { reference: `${subscription.fhirBase}/${event.focus}` } },
      ],
    })),
    ...(subscription.error && subscription.status === 'error' ? [{ name: 'error', valueCodeableConcept: { text: subscription.error } }] : []),
  ];
  return { resourceType: 'Parameters' as const, id: randomUUID(), meta: { profile: [SUBSCRIPTION_STATUS_PROFILE] }, parameter };
}

/** The notification Bundle (`history`) of a handshake, a heartbeat or events. */
export function notificationBundle(subscription: StatusOf, type: Exclude<NotificationType, 'query-status'>, events: readonly NotifiedEvent[], now = new Date()) {
  const status = subscriptionStatus(subscription, type, events);
  return {
    resourceType: 'Bundle' as const,
    id: randomUUID(),
    meta: { profile: [NOTIFICATION_PROFILE] },
    type: 'history' as const,
    timestamp: now.toISOString(),
    entry: [
      {
        fullUrl: `urn:uuid:${status.id}`,
        resource: status,
        request: { method: 'GET', url: `${subscription.fhirBase}/Subscription/${subscription.id}/$status` },
        response: { status: '200' },
      },
      // id-only: the focus's address and nothing of its content.
      ...events.map((event) => ({
        fullUrl: `${subscription.fhirBase}/${event.focus}`,
        request: { method: 'POST', url: event.focus.split('/')[0]! },
        response: { status: '201' },
      })),
    ],
  };
}

/**
 * The signature's protected header members beyond alg, kid and typ: who signed (`iss`), for whom
 * (`aud`, the receiving client), about what (`sub`, the subscription id), when (`iat`) and which
 * notification (`jti`, the Bundle's id). A receiver refuses a signature made for another app, another
 * subscription, or too long ago.
 */
export function signatureClaims(options: { issuer: string; clientId: string; subscriptionId: string; bundleId: string; now?: Date }) {
  return {
    iss: options.issuer,
    aud: options.clientId,
    sub: options.subscriptionId,
    iat: Math.floor((options.now ?? new Date()).getTime() / 1000),
    jti: options.bundleId,
  };
}

/**
 * When to try again after `attempt` failed attempts (1 for the first): exponential from `baseMs`,
 * capped at `maxMs`, with equal jitter (half fixed, half random); a Retry-After the endpoint sent
 * is honoured when longer, up to the cap.
 */
export function retryDelayMs(attempt: number, options: { baseMs: number; maxMs: number; retryAfterMs?: number | null; random?: () => number }): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = exponential / 2 + (options.random ?? Math.random)() * (exponential / 2);
  const asked = options.retryAfterMs ?? 0;
  return Math.round(Math.min(options.maxMs, Math.max(jittered, asked)));
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds from now, or null. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\d{1,9}$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Whether a delivery that ended with this status (or network error) is worth trying again. */
export const retryable = (status: number | null) => status === null || status === 408 || status === 429 || status >= 500;
