// The recording of each client's traffic in the sandbox, and the report made of it: which grant
// types it used, whether it pushed its requests (PAR), proved possession (DPoP) everywhere,
// refreshed, which resource types it called against the scopes it asked for, and how it
// reacted to 401, 429 and 503 and to being told its grant had ended. The developer reads it to
// fix their app; certification reads it as evidence of how the app really behaves.
import type { components } from '@mes/openapi';
import type { Queryable } from '../../core/store/db.js';
import { topics } from '../notifications/index.js';

export type TrafficReport = components['schemas']['TrafficReport'];

export interface TrafficEntry {
  clientId: string;
  operation: string;
  status: number;
  details: TrafficDetails;
}

export interface TrafficDetails {
  grantType?: string;
  dpop?: boolean;
  pushed?: boolean;
  scope?: string;
  resourceType?: string;
  interaction?: 'read' | 'search' | 'create' | 'update';
  retryAfter?: number;
  injected?: string;
  /** Why the answer said the client's grant had ended (`grant_ended`), when it did. */
  grantEnded?: string;
  /** A search's patient and how many resources its page held. */
  patient?: string;
  resultCount?: number;
}

/** When one of the client's subscriptions ran, for whom, on what. */
export interface SubscriptionSpan {
  patientId: string;
  topic: string;
  from: Date;
  to: Date | null;
}

/** The topic a search of each type would have been notified of instead. */
const topicOfType = new Map<string, string>(topics.map((topic) => [topic.resourceType, topic.name]));

export async function recordTraffic(db: Queryable, entry: TrafficEntry): Promise<void> {
  await db.query('INSERT INTO sandbox_traffic (client_id, operation, status, details) VALUES ($1, $2, $3, $4)', [
    entry.clientId,
    entry.operation,
    entry.status,
    JSON.stringify(entry.details),
  ]);
}

export async function clearTraffic(db: Queryable, clientId: string): Promise<number> {
  return (await db.query('DELETE FROM sandbox_traffic WHERE client_id = $1 RETURNING id', [clientId])).length;
}

interface Row {
  at: Date;
  operation: string;
  status: number;
  details: TrafficDetails;
  [key: string]: unknown;
}

/** Most requests a report reads (the newest ones). */
const REPORT_WINDOW = 50_000;

const isFhir = (row: Row) => row.details.resourceType !== undefined;
const isTokenRequest = (row: Row) => row.operation === 'token';

/** Builds the report of a client from its recorded traffic, oldest first. */
export function buildReport(clientId: string, rows: readonly Row[], pendingFaults: number, subscriptions: readonly SubscriptionSpan[] = []): TrafficReport {
  const polling = { searches: 0, emptySearches: 0, savedBySubscriptions: 0, byTopic: {} as Record<string, { searches: number; empty: number; saved: number }> };
  const subscribedAt = (patientId: string, topic: string, at: Date) =>
    subscriptions.some((span) => span.patientId === patientId && span.topic === topic && span.from <= at && (span.to === null || span.to > at));
  const grantTypes: Record<string, number> = {};
  const requested = new Set<string>();
  const called = new Set<string>();
  let authorizations = 0;
  let pushedAuthorizations = 0;
  let tokenRequests = 0;
  let tokenWithProof = 0;
  let resourceRequests = 0;
  let resourceWithProof = 0;
  let refusedCalls = 0;
  let injected = 0;
  const reactions = {
    unauthorized: { count: 0, recovered: 0 },
    rateLimited: { count: 0, waitedRetryAfter: 0, retriedTooSoon: 0 },
    unavailable: { count: 0, waitedRetryAfter: 0, retriedTooSoon: 0 },
    grantEnded: { count: 0, stopped: 0, retried: 0 },
  };

  rows.forEach((row, index) => {
    const { details } = row;
    if (details.injected) injected += 1;
    if (details.scope) for (const scope of details.scope.split(' ')) requested.add(scope);
    if (row.operation === 'authorize' && row.status === 303) {
      authorizations += 1;
      if (details.pushed) pushedAuthorizations += 1;
    }
    if (isTokenRequest(row)) {
      tokenRequests += 1;
      if (details.dpop) tokenWithProof += 1;
      if (row.status === 200 && details.grantType) grantTypes[details.grantType] = (grantTypes[details.grantType] ?? 0) + 1;
    }
    if (isFhir(row)) {
      resourceRequests += 1;
      if (details.dpop) resourceWithProof += 1;
      if (row.status === 200 || row.status === 201) called.add(details.resourceType!);
      if (row.status === 403) refusedCalls += 1;
      const topic = topicOfType.get(details.resourceType!);
      if (topic && details.interaction === 'search' && row.status === 200) {
        const tally = (polling.byTopic[topic] ??= { searches: 0, empty: 0, saved: 0 });
        polling.searches += 1;
        tally.searches += 1;
        if (details.resultCount === 0) {
          polling.emptySearches += 1;
          tally.empty += 1;
          if (!details.patient || !subscribedAt(details.patient, topic, new Date(row.at))) {
            polling.savedBySubscriptions += 1;
            tally.saved += 1;
          }
        }
      }
    }
    // How the client went on after an error: did a new token come before its next FHIR call?
    // A 401 saying the grant ended calls for stopping, not a new token: it counts under grantEnded.
    if (isFhir(row) && row.status === 401 && !details.grantEnded) {
      reactions.unauthorized.count += 1;
      for (let i = index + 1; i < rows.length; i++) {
        if (isFhir(rows[i]!)) break;
        if (isTokenRequest(rows[i]!) && rows[i]!.status === 200) {
          reactions.unauthorized.recovered += 1;
          break;
        }
      }
    }
    for (const [status, tally] of [[429, reactions.rateLimited], [503, reactions.unavailable]] as const) {
      if (row.status !== status) continue;
      tally.count += 1;
      const next = rows[index + 1];
      if (!next) continue;
      const waited = (new Date(next.at).getTime() - new Date(row.at).getTime()) / 1000;
      if (waited >= (details.retryAfter ?? 0)) tally.waitedRetryAfter += 1;
      else tally.retriedTooSoon += 1;
    }
    // Told its grant ended, a client must stop using it: its next request answered the same way
    // means it kept going with the dead grant.
    if (details.grantEnded) {
      reactions.grantEnded.count += 1;
      if (rows[index + 1]?.details.grantEnded) reactions.grantEnded.retried += 1;
      else reactions.grantEnded.stopped += 1;
    }
  });

  const resourceScopeTypes = [...requested]
    .map((scope) => /^patient\/([A-Za-z*]+)\./.exec(scope)?.[1])
    .filter((type): type is string => type !== undefined && type !== '*');
  return {
    clientId,
    firstRequestAt: rows[0] ? new Date(rows[0].at).toISOString() : null,
    lastRequestAt: rows.at(-1) ? new Date(rows.at(-1)!.at).toISOString() : null,
    requests: rows.length,
    grantTypes,
    authorization: { requests: authorizations, pushed: pushedAuthorizations, pkce: authorizations },
    dpop: { tokenRequests, tokenRequestsWithProof: tokenWithProof, resourceRequests, resourceRequestsWithProof: resourceWithProof },
    refreshes: grantTypes.refresh_token ?? 0,
    scopes: {
      requested: [...requested].sort(),
      resourceTypesCalled: [...called].sort(),
      unusedResourceScopes: [...new Set(resourceScopeTypes)].filter((type) => !called.has(type)).sort(),
      refusedCalls,
    },
    reactions,
    faults: { injected, pending: pendingFaults },
    polling,
  };
}

export async function trafficReport(db: Queryable, clientId: string): Promise<TrafficReport> {
  const rows = await db.query<Row>(
    `SELECT at, operation, status, details FROM (
       SELECT id, at, operation, status, details FROM sandbox_traffic WHERE client_id = $1 ORDER BY id DESC LIMIT $2
     ) newest ORDER BY id`,
    [clientId, REPORT_WINDOW],
  );
  const [pending] = await db.query<{ n: string }>('SELECT coalesce(sum(remaining), 0) AS n FROM sandbox_faults WHERE client_id = $1', [clientId]);
  const spans = await db.query<{ patient_id: string; topic: string; created_at: Date; ended_at: Date | null }>(
    'SELECT patient_id, topic, created_at, ended_at FROM subscriptions WHERE client_id = $1',
    [clientId],
  );
  return buildReport(
    clientId,
    rows,
    Number(pending?.n ?? 0),
    spans.map((span) => ({ patientId: span.patient_id, topic: span.topic, from: new Date(span.created_at), to: span.ended_at ? new Date(span.ended_at) : null })),
  );
}
