// The R4 Subscription resource as the Subscriptions R5 Backport IG shapes it, both ways: what an
// app asks for (checked here against the platform's rules, free of HTTP and SQL) and what the
// platform answers. Only `rest-hook` channels, `application/fhir+json`, `id-only` payloads: the
// app reads the resources with its own token, so its scopes and the patient's access history
// still apply to everything it learns.
import { FhirError } from '../../core/fhir-error.js';
import { topicOfUrl, topicUrl, type Topic, type TopicName } from './topics.js';

export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const BACKPORT_PROFILE = `${BACKPORT}/backport-subscription`;
const FILTER_CRITERIA = `${BACKPORT}/backport-filter-criteria`;
const HEARTBEAT_PERIOD = `${BACKPORT}/backport-heartbeat-period`;
const TIMEOUT = `${BACKPORT}/backport-timeout`;
const MAX_COUNT = `${BACKPORT}/backport-max-count`;
const PAYLOAD_CONTENT = `${BACKPORT}/backport-payload-content`;

/** Heartbeat periods accepted, in seconds. */
export const MIN_HEARTBEAT_SECONDS = 60;
export const MAX_HEARTBEAT_SECONDS = 86_400;

export interface Extension {
  url: string;
  valueString?: string;
  valueCode?: string;
  valueUnsignedInt?: number;
  valuePositiveInt?: number;
  valueCanonical?: string;
  valueUrl?: string;
}

export interface SubscriptionResource {
  resourceType: 'Subscription';
  id?: string;
  meta?: { profile?: string[] };
  status: 'requested' | 'active' | 'error' | 'off';
  reason: string;
  criteria: string;
  _criteria?: { extension?: Extension[] };
  end?: string;
  error?: string;
  channel: {
    extension?: Extension[];
    type: string;
    endpoint?: string;
    payload?: string;
    _payload?: { extension?: Extension[] };
    header?: string[];
  };
}

export interface SubscriptionRequest {
  topic: Topic;
  reason: string;
  endpoint: string;
  filter: string | null;
  heartbeatSeconds: number | null;
}

const invalid = (expression: string, message: string, code: 'invalid' | 'value' | 'required' | 'not-supported' = 'value') =>
  new FhirError(422, code, `${expression}: ${message}`, { expression: [expression] });

const extension = (list: readonly Extension[] | undefined, url: string) => list?.find((candidate) => candidate.url === url);

/**
 * What the app asks for, checked: a topic of this server, a rest-hook channel to an HTTPS
 * endpoint, `application/fhir+json` with `id-only` content, a heartbeat within bounds, and a
 * filter only of the token's patient. The endpoint's registration is checked by the caller.
 */
export function parseSubscriptionRequest(body: SubscriptionResource, fhirBase: string, patientId: string): SubscriptionRequest {
  if (body.id !== undefined) throw invalid('Subscription.id', 'is given by the server; leave it out', 'invalid');
  if (body.end !== undefined) throw invalid('Subscription.end', 'is not supported: a subscription ends when it is deleted or when its grant ends', 'not-supported');
  const topic = topicOfUrl(fhirBase, body.criteria);
  if (!topic) throw invalid('Subscription.criteria', `is not a topic of this server; the topics are ${fhirBase}/SubscriptionTopic/{new-document, appointment, new-message, new-measurement}`);

  const { channel } = body;
  if (channel.type !== 'rest-hook') throw invalid('Subscription.channel.type', `${channel.type} is not supported; only rest-hook is`, 'not-supported');
  if (!channel.endpoint) throw invalid('Subscription.channel.endpoint', 'is required for a rest-hook channel', 'required');
  if (channel.header !== undefined) {
    throw invalid('Subscription.channel.header', 'is not supported: notifications carry no secret of the app; verify their signature (X-Mes-Signature) instead', 'not-supported');
  }
  if (channel.payload !== 'application/fhir+json') throw invalid('Subscription.channel.payload', 'must be application/fhir+json');
  const content = extension(channel._payload?.extension, PAYLOAD_CONTENT)?.valueCode ?? 'id-only';
  if (content !== 'id-only') {
    throw invalid(
      'Subscription.channel.payload.extension(backport-payload-content)',
      `${content} is not offered: notifications are id-only, and the app reads each resource with its own token (its scopes and the patient's access history apply)`,
      'not-supported',
    );
  }
  for (const unsupported of [TIMEOUT, MAX_COUNT]) {
    if (extension(channel.extension, unsupported)) throw invalid(`Subscription.channel.extension(${unsupported.split('/').pop()})`, 'is not supported', 'not-supported');
  }
  const heartbeat = extension(channel.extension, HEARTBEAT_PERIOD)?.valueUnsignedInt;
  if (heartbeat !== undefined && (!Number.isInteger(heartbeat) || heartbeat < MIN_HEARTBEAT_SECONDS || heartbeat > MAX_HEARTBEAT_SECONDS)) {
    throw invalid('Subscription.channel.extension(backport-heartbeat-period)', `must be between ${MIN_HEARTBEAT_SECONDS} and ${MAX_HEARTBEAT_SECONDS} seconds`);
  }
  const filter = extension(body._criteria?.extension, FILTER_CRITERIA)?.valueString ?? null;
  if (filter !== null) checkFilter(filter, topic, patientId);
  return { topic, reason: body.reason, endpoint: channel.endpoint, filter, heartbeatSeconds: heartbeat ?? null };
}

/**
 * A filter may only restate the patient's own compartment (`DocumentReference?patient=Patient/123`,
 * or `?patient=123`): a subscription never reaches beyond its token's patient.
 */
function checkFilter(filter: string, topic: Topic, patientId: string): void {
  const expression = 'Subscription.criteria.extension(backport-filter-criteria)';
  const match = /^([A-Za-z]*)\?(patient|subject)=(?:Patient\/)?([A-Za-z0-9.-]{1,64})$/.exec(filter);
  if (!match) throw invalid(expression, `only a filter on the token's patient is accepted (${topic.resourceType}?patient=Patient/${patientId})`, 'not-supported');
  if (match[1] && match[1] !== topic.resourceType) throw invalid(expression, `filters ${match[1]}, but the topic's resource is ${topic.resourceType}`);
  if (match[3] !== patientId) throw invalid(expression, `names another patient; a subscription is only ever about the token's patient (Patient/${patientId})`);
}

/** Whether an endpoint is one of the app's registered notification endpoints, or under one (same origin, path below). */
export function endpointRegistered(endpoint: string, registered: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.username || url.password || url.hash) return false;
  return registered.some((entry) => {
    const base = new URL(entry);
    if (base.origin !== url.origin) return false;
    if (url.pathname === base.pathname) return url.search === base.search || base.search === '';
    const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    return base.search === '' && url.pathname.startsWith(prefix);
  });
}

export interface StoredSubscription {
  id: string;
  appId: string;
  clientId: string;
  grantId: string;
  patientId: string;
  topic: TopicName;
  filter: string | null;
  endpoint: string;
  fhirBase: string;
  heartbeatSeconds: number | null;
  status: 'requested' | 'active' | 'error' | 'off';
  statusReason: string | null;
  reason: string;
  createdAt: Date;
  endedAt: Date | null;
  eventsCount: number;
}

/** The Subscription as the API answers it. */
export function subscriptionResource(stored: StoredSubscription): SubscriptionResource {
  const channelExtension: Extension[] = stored.heartbeatSeconds === null ? [] : [{ url: HEARTBEAT_PERIOD, valueUnsignedInt: stored.heartbeatSeconds }];
  return {
    resourceType: 'Subscription',
    id: stored.id,
    meta: { profile: [BACKPORT_PROFILE] },
    status: stored.status,
    reason: stored.reason,
    criteria: topicUrl(stored.fhirBase, stored.topic),
    ...(stored.filter === null ? {} : { _criteria: { extension: [{ url: FILTER_CRITERIA, valueString: stored.filter }] } }),
    ...(stored.endedAt ? { end: stored.endedAt.toISOString() } : {}),
    ...(stored.statusReason && stored.status !== 'active' ? { error: stored.statusReason } : {}),
    channel: {
      ...(channelExtension.length ? { extension: channelExtension } : {}),
      type: 'rest-hook',
      endpoint: stored.endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: PAYLOAD_CONTENT, valueCode: 'id-only' }] },
    },
  };
}
