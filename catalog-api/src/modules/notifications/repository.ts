// SQL of subscriptions, their outbox of events and their delivery log.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../core/store/db.js';
import type { StoredSubscription } from './subscription-resource.js';
import type { TopicName } from './topics.js';

type SubscriptionRow = {
  id: string;
  app_id: string;
  client_id: string;
  grant_id: string;
  patient_id: string;
  topic: TopicName;
  filter: string | null;
  endpoint: string;
  fhir_base: string;
  heartbeat_seconds: number | null;
  status: StoredSubscription['status'];
  status_reason: string | null;
  reason: string;
  created_at: Date;
  ended_at: Date | null;
  events_count: string | number;
};

const toSubscription = (row: SubscriptionRow): StoredSubscription => ({
  id: row.id,
  appId: row.app_id,
  clientId: row.client_id,
  grantId: row.grant_id,
  patientId: row.patient_id,
  topic: row.topic,
  filter: row.filter,
  endpoint: row.endpoint,
  fhirBase: row.fhir_base,
  heartbeatSeconds: row.heartbeat_seconds,
  status: row.status,
  statusReason: row.status_reason,
  reason: row.reason,
  createdAt: new Date(row.created_at),
  endedAt: row.ended_at ? new Date(row.ended_at) : null,
  eventsCount: Number(row.events_count),
});

const columns = `id, app_id, client_id, grant_id, patient_id, topic, filter, endpoint, fhir_base, heartbeat_seconds, status, status_reason, reason, created_at, ended_at, events_count`;

/** Most subscriptions one grant may hold at once (not ended). */
export const MAX_SUBSCRIPTIONS_PER_GRANT = 20;

export async function countRunning(db: Queryable, grantId: string): Promise<number> {
  const [row] = await db.query<{ count: string }>(`SELECT count(*) AS count FROM subscriptions WHERE grant_id = $1 AND status <> 'off'`, [grantId]);
  return Number(row?.count ?? 0);
}

/** A new subscription, `requested` until its handshake is answered, with its handshake in the outbox. */
export async function insertSubscription(
  db: Queryable,
  input: { appId: string; clientId: string; grantId: string; patientId: string; scope: string; topic: TopicName; filter: string | null; endpoint: string; fhirBase: string; heartbeatSeconds: number | null; reason: string },
): Promise<StoredSubscription> {
  const id = randomUUID();
  const [row] = await db.query<SubscriptionRow>(
    `INSERT INTO subscriptions (id, app_id, client_id, grant_id, patient_id, scope, topic, filter, endpoint, fhir_base, heartbeat_seconds, status, reason)
     VALUES ($1, $2, $3, $4, $5, $12, $6, $7, $8, $9, $10, 'requested', $11) RETURNING ${columns}`,
    [id, input.appId, input.clientId, input.grantId, input.patientId, input.topic, input.filter, input.endpoint, input.fhirBase, input.heartbeatSeconds, input.reason, input.scope],
  );
  await db.query(`INSERT INTO subscription_events (subscription_id, event_number, kind) VALUES ($1, 0, 'handshake')`, [id]);
  return toSubscription(row!);
}

/** A subscription of this client and patient (another app's or patient's is not found). */
export async function findSubscription(db: Queryable, owner: { clientId: string; patientId: string }, id: string): Promise<StoredSubscription | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return null;
  const rows = await db.query<SubscriptionRow>(`SELECT ${columns} FROM subscriptions WHERE id = $1 AND client_id = $2 AND patient_id = $3`, [id, owner.clientId, owner.patientId]);
  return rows[0] ? toSubscription(rows[0]) : null;
}

/** The client's subscriptions for this patient, newest first. */
export async function listSubscriptions(db: Queryable, owner: { clientId: string; patientId: string }, options: { status?: string | undefined; limit: number }): Promise<StoredSubscription[]> {
  const rows = await db.query<SubscriptionRow>(
    `SELECT ${columns} FROM subscriptions WHERE client_id = $1 AND patient_id = $2 AND ($3::text IS NULL OR status = $3)
     ORDER BY created_at DESC, id LIMIT $4`,
    [owner.clientId, owner.patientId, options.status ?? null, options.limit],
  );
  return rows.map(toSubscription);
}

/** The subscriptions still running under these grants (the patient's "connected apps" page). */
export async function runningSubscriptionsOfGrants(db: Queryable, grantIds: readonly string[]): Promise<StoredSubscription[]> {
  if (grantIds.length === 0) return [];
  const rows = await db.query<SubscriptionRow>(
    `SELECT ${columns} FROM subscriptions WHERE grant_id = ANY($1::uuid[]) AND status <> 'off' ORDER BY created_at, id`,
    [grantIds],
  );
  return rows.map(toSubscription);
}

/** Ends a subscription and drops its pending events; false when it was already off. */
export async function endSubscription(db: Queryable, id: string, reason: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE subscriptions SET status = 'off', status_reason = $2, ended_at = now() WHERE id = $1 AND status <> 'off' RETURNING id`,
    [id, reason],
  );
  if (rows.length) await db.query(`DELETE FROM subscription_events WHERE subscription_id = $1 AND state = 'pending'`, [id]);
  return rows.length === 1;
}

/** Ends every running subscription of a grant; returns how many. */
export async function endSubscriptionsOfGrant(db: Queryable, grantId: string, reason: string): Promise<number> {
  const rows = await db.query<{ id: string }>(
    `UPDATE subscriptions SET status = 'off', status_reason = $2, ended_at = now() WHERE grant_id = $1 AND status <> 'off' RETURNING id`,
    [grantId, reason],
  );
  if (rows.length) await db.query(`DELETE FROM subscription_events WHERE subscription_id = ANY($1::uuid[]) AND state = 'pending'`, [rows.map((row) => row.id)]);
  return rows.length;
}

/** Ends every running subscription of a client (any client for null) for a patient (any patient when not given); returns how many. */
export async function endSubscriptionsOf(db: Queryable, owner: { clientId: string | null; patientId?: string | undefined }, reason: string): Promise<number> {
  const rows = await db.query<{ id: string }>(
    `UPDATE subscriptions SET status = 'off', status_reason = $3, ended_at = now()
     WHERE ($1::text IS NULL OR client_id = $1) AND ($2::text IS NULL OR patient_id = $2) AND status <> 'off' RETURNING id`,
    [owner.clientId, owner.patientId ?? null, reason],
  );
  if (rows.length) await db.query(`DELETE FROM subscription_events WHERE subscription_id = ANY($1::uuid[]) AND state = 'pending'`, [rows.map((row) => row.id)]);
  return rows.length;
}

/** Running subscriptions of a patient and topics, with the token scope they were made with. */
export async function subscribersOf(db: Queryable, patientId: string, topicNames: readonly TopicName[], appId?: string): Promise<{ id: string; scope: string }[]> {
  return db.query<{ id: string; scope: string }>(
    `SELECT s.id, s.scope FROM subscriptions s
     WHERE s.patient_id = $1 AND s.topic = ANY($2::text[]) AND s.status IN ('requested', 'active', 'error') AND ($3::uuid IS NULL OR s.app_id = $3::uuid)`,
    [patientId, topicNames, appId ?? null],
  );
}

/** One outbox row per subscription for an event, each with the subscription's next event number. */
export async function enqueueEvent(db: Queryable, subscriptionIds: readonly string[], focus: string): Promise<number> {
  const rows = await db.query(
    `WITH numbered AS (
       UPDATE subscriptions SET events_count = events_count + 1 WHERE id = ANY($1::uuid[]) AND status <> 'off' RETURNING id, events_count)
     INSERT INTO subscription_events (subscription_id, event_number, kind, focus)
     SELECT id, events_count, 'event-notification', $2 FROM numbered RETURNING 1 AS queued`,
    [subscriptionIds, focus],
  );
  return rows.length;
}

export interface ClaimedEvent {
  subscriptionId: string;
  eventNumber: number;
  kind: 'event-notification' | 'handshake';
  focus: string | null;
  occurredAt: Date;
  attempts: number;
}

/** Whether some outbox row is due now (a read only, so that looking writes nothing). */
export async function anyDue(db: Queryable): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM subscription_events WHERE state = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now()) LIMIT 1`,
  );
  return rows.length > 0;
}

/**
 * Claims up to `limit` due outbox rows for `owner` for `leaseSeconds`: rows another instance is
 * claiming are skipped (SKIP LOCKED), rows whose lease ran out are claimed again.
 */
export async function claimDue(db: Queryable, owner: string, leaseSeconds: number, limit: number): Promise<ClaimedEvent[]> {
  const rows = await db.query<{ subscription_id: string; event_number: string | number; kind: ClaimedEvent['kind']; focus: string | null; occurred_at: Date; attempts: number }>(
    `UPDATE subscription_events e SET lease_owner = $1, lease_until = now() + make_interval(secs => $2), attempts = e.attempts + 1
     FROM (SELECT subscription_id, event_number, kind FROM subscription_events
           WHERE state = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
     WHERE e.subscription_id = due.subscription_id AND e.event_number = due.event_number AND e.kind = due.kind
     RETURNING e.subscription_id, e.event_number, e.kind, e.focus, e.occurred_at, e.attempts`,
    [owner, leaseSeconds, limit],
  );
  return rows.map((row) => ({
    subscriptionId: row.subscription_id,
    eventNumber: Number(row.event_number),
    kind: row.kind,
    focus: row.focus,
    occurredAt: new Date(row.occurred_at),
    attempts: row.attempts,
  }));
}

type EventKey = Pick<ClaimedEvent, 'subscriptionId' | 'eventNumber' | 'kind'>;
const keysOf = (events: readonly EventKey[]) => [events.map((e) => e.subscriptionId), events.map((e) => String(e.eventNumber)), events.map((e) => e.kind)];
const matchKeys = `(subscription_id, event_number, kind) IN (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[]))`;

export async function markDelivered(db: Queryable, events: readonly EventKey[]): Promise<void> {
  await db.query(`UPDATE subscription_events SET state = 'delivered', finished_at = now(), lease_owner = NULL, lease_until = NULL WHERE ${matchKeys}`, keysOf(events));
}

export async function markFailed(db: Queryable, events: readonly EventKey[]): Promise<void> {
  await db.query(`UPDATE subscription_events SET state = 'failed', finished_at = now(), lease_owner = NULL, lease_until = NULL WHERE ${matchKeys}`, keysOf(events));
}

export async function scheduleRetry(db: Queryable, events: readonly EventKey[], delayMs: number): Promise<void> {
  await db.query(
    `UPDATE subscription_events SET next_attempt_at = now() + make_interval(secs => $4), lease_owner = NULL, lease_until = NULL WHERE ${matchKeys}`,
    [...keysOf(events), delayMs / 1000],
  );
}

export async function dropEvents(db: Queryable, events: readonly EventKey[]): Promise<void> {
  await db.query(`DELETE FROM subscription_events WHERE ${matchKeys}`, keysOf(events));
}

/** A subscription as the worker needs it, or null when gone. */
export async function subscriptionById(db: Queryable, id: string): Promise<StoredSubscription | null> {
  const rows = await db.query<SubscriptionRow>(`SELECT ${columns} FROM subscriptions WHERE id = $1`, [id]);
  return rows[0] ? toSubscription(rows[0]) : null;
}

/** After a successful delivery: active (from requested or error), and something was sent now. */
export async function markSent(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE subscriptions SET status = CASE WHEN status = 'off' THEN 'off' ELSE 'active' END,
       status_reason = CASE WHEN status = 'off' THEN status_reason ELSE NULL END, last_sent_at = now(), heartbeat_lease_until = NULL WHERE id = $1`,
    [id],
  );
}

/** After deliveries failed for good: `error`, saying why (an ended subscription stays off). */
export async function markError(db: Queryable, id: string, reason: string): Promise<void> {
  await db.query(`UPDATE subscriptions SET status = 'error', status_reason = $2, last_sent_at = now(), heartbeat_lease_until = NULL WHERE id = $1 AND status <> 'off'`, [id, reason]);
}

/** Claims the subscriptions whose heartbeat is due (nothing sent for heartbeat_seconds). */
export async function claimHeartbeats(db: Queryable, leaseSeconds: number, limit: number): Promise<string[]> {
  const due = await db.query(
    `SELECT 1 FROM subscriptions WHERE status IN ('active', 'error') AND heartbeat_seconds IS NOT NULL
       AND last_sent_at + make_interval(secs => heartbeat_seconds) <= now() AND (heartbeat_lease_until IS NULL OR heartbeat_lease_until < now()) LIMIT 1`,
  );
  if (due.length === 0) return [];
  const rows = await db.query<{ id: string }>(
    `UPDATE subscriptions s SET heartbeat_lease_until = now() + make_interval(secs => $1)
     FROM (SELECT id FROM subscriptions WHERE status IN ('active', 'error') AND heartbeat_seconds IS NOT NULL
             AND last_sent_at + make_interval(secs => heartbeat_seconds) <= now() AND (heartbeat_lease_until IS NULL OR heartbeat_lease_until < now())
           LIMIT $2 FOR UPDATE SKIP LOCKED) due
     WHERE s.id = due.id RETURNING s.id`,
    [leaseSeconds, limit],
  );
  return rows.map((row) => row.id);
}

export async function logDelivery(
  db: Queryable,
  entry: { subscriptionId: string; kind: string; eventNumbers: readonly number[]; httpStatus: number | null; errorCode: string | null; durationMs: number },
): Promise<void> {
  await db.query(
    `INSERT INTO subscription_deliveries (subscription_id, kind, event_numbers, http_status, error_code, duration_ms) VALUES ($1, $2, $3::bigint[], $4, $5, $6)`,
    [entry.subscriptionId, entry.kind, entry.eventNumbers.map(String), entry.httpStatus, entry.errorCode, entry.durationMs],
  );
}

export interface DeliveryLogEntry {
  attemptedAt: Date;
  kind: string;
  eventNumbers: number[];
  httpStatus: number | null;
  errorCode: string | null;
  durationMs: number;
}

export async function recentDeliveries(db: Queryable, subscriptionId: string, limit: number): Promise<DeliveryLogEntry[]> {
  const rows = await db.query<{ attempted_at: Date; kind: string; event_numbers: (string | number)[]; http_status: number | null; error_code: string | null; duration_ms: number }>(
    `SELECT attempted_at, kind, event_numbers, http_status, error_code, duration_ms FROM subscription_deliveries WHERE subscription_id = $1 ORDER BY attempted_at DESC, id DESC LIMIT $2`,
    [subscriptionId, limit],
  );
  return rows.map((row) => ({
    attemptedAt: new Date(row.attempted_at),
    kind: row.kind,
    eventNumbers: row.event_numbers.map(Number),
    httpStatus: row.http_status,
    errorCode: row.error_code,
    durationMs: row.duration_ms,
  }));
}
