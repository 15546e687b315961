// Public surface of the notifications module: FHIR Subscriptions (R5 Backport IG on R4) — the
// API's handlers, the outbox the other modules write events to, the delivery worker, and what
// the patient's pages show.
import type { Queryable } from '../../core/store/db.js';
import { deleteWhere, type SweepTask } from '../../core/store/sweeper.js';
import { allows, grantedScopes, type ResourceFacts, type ResourceType } from '../oauth/index.js';
import * as repo from './repository.js';
import { topicNamed, topicsOfEvent, type TopicInteraction } from './topics.js';

export { notificationHandlers } from './routes.js';
export { startDeliveryWorker, type DeliveryWorker } from './delivery.js';
export { topics, topicUrls, topicNamed, type Topic, type TopicName } from './topics.js';
export { SIGNATURE_HEADER, NOTIFICATION_SIGNATURE_TYPE } from './notification.js';

export interface ResourceEvent {
  patientId: string;
  resourceType: string;
  id: string;
  interaction: TopicInteraction;
  /** The resource's search facts (records' factsOf(searchTokens(resource))): a subscriber whose scopes are granular is told only of what they let it read. */
  facts?: ResourceFacts;
  /** Only this app's subscribers: a message belongs to one app's conversation, and no other app may read it. */
  appId?: string;
}

/**
 * Queues, in the caller's transaction (the one that writes the resource), one outbox row per
 * running subscription of the patient to a topic this event belongs to, whose token could read
 * the resource. Committed with the resource or not at all. Returns how many rows were queued.
 */
export async function enqueueResourceEvent(tx: Queryable, event: ResourceEvent): Promise<number> {
  const names = topicsOfEvent(event.resourceType, event.interaction);
  if (names.length === 0) return 0;
  const subscribers = await repo.subscribersOf(tx, event.patientId, names, event.appId);
  const readers = subscribers.filter((subscriber) => allows(grantedScopes(subscriber.scope), event.resourceType as ResourceType, 'r', event.facts));
  if (readers.length === 0) return 0;
  return repo.enqueueEvent(
    tx,
    readers.map((reader) => reader.id),
    `${event.resourceType}/${event.id}`,
  );
}

/** Ends the subscriptions of a grant that has just ended (the patient withdrew it). */
export async function endSubscriptionsOfGrant(db: Queryable, grantId: string, reason = 'the patient withdrew the app’s access'): Promise<number> {
  return repo.endSubscriptionsOfGrant(db, grantId, reason);
}

/**
 * Ends the subscriptions of a client's grants for a patient, or of every grant for the patient
 * (clientId null), once those grants have ended (a withdrawal in the sandbox, an opposition, an
 * account closed). Grants that end otherwise end their subscriptions at the next delivery.
 */
export async function endSubscriptionsOf(db: Queryable, owner: { clientId: string | null; patientId?: string | undefined }, reason: string): Promise<number> {
  return repo.endSubscriptionsOf(db, owner, reason);
}

/** A running subscription as the patient's pages show it. */
export interface SubscriptionSummary {
  id: string;
  grantId: string;
  topicLabel: { fr: string; en: string };
  status: 'requested' | 'active' | 'error' | 'off';
  createdAt: Date;
}

/** The running subscriptions under these grants, for "Mes applications connectées". */
export async function subscriptionsOfGrants(db: Queryable, grantIds: readonly string[]): Promise<SubscriptionSummary[]> {
  const found = await repo.runningSubscriptionsOfGrants(db, grantIds);
  return found.map((subscription) => ({
    id: subscription.id,
    grantId: subscription.grantId,
    topicLabel: topicNamed(subscription.topic)?.label ?? { fr: subscription.topic, en: subscription.topic },
    status: subscription.status,
    createdAt: subscription.createdAt,
  }));
}

/** Days the delivery log and finished outbox rows are kept; ended subscriptions are kept as long. */
export const DELIVERY_LOG_DAYS = 30;

export const notificationSweepTasks: readonly SweepTask[] = [
  deleteWhere('subscription_deliveries', 'subscription_deliveries', `attempted_at < now() - interval '${DELIVERY_LOG_DAYS} days'`),
  deleteWhere('subscription_events', 'subscription_events', `state <> 'pending' AND finished_at < now() - interval '7 days'`),
  deleteWhere('subscriptions', 'subscriptions', `status = 'off' AND ended_at < now() - interval '${DELIVERY_LOG_DAYS} days'`),
];
