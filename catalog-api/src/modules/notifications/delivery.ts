// The delivery worker: sends the outbox's due events to their endpoints, and heartbeats. Started
// with the server and stopped before the store closes. It wakes when events are written (through
// this process, or another instance's commit over LISTEN/NOTIFY: core/store/changes.ts) and polls
// besides, for retries that come due and for a notification connection that is down. Each row is
// claimed with a lease (repository.ts, claimDue), so instances deliver each event once, and an
// instance that dies mid-delivery leaves its rows to be claimed again when the lease runs out:
// delivery is at least once, and receivers deduplicate by event number.
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../../core/config.js';
import { OutboundError, safePost, type OutboundPolicy } from '../../core/outbound/safe-fetch.js';
import type { Db } from '../../core/store/db.js';
import { whyGrantEnded, type Signer } from '../oauth/index.js';
import { notificationBundle, NOTIFICATION_SIGNATURE_TYPE, retryable, retryAfterMs, retryDelayMs, SIGNATURE_HEADER, signatureClaims, type NotifiedEvent } from './notification.js';
import * as repo from './repository.js';
import type { StoredSubscription } from './subscription-resource.js';

/** Outbox rows claimed per round, and subscriptions delivered to at once. */
const CLAIM_BATCH = 100;
const CONCURRENCY = 8;
/** Events carried by one notification at most (the rest go in the next). */
const EVENTS_PER_NOTIFICATION = 20;
/** Largest answer read from an endpoint (it is only looked at for its status). */
const MAX_ANSWER_BYTES = 16 * 1024;

export interface DeliveryWorkerDeps {
  db: Db;
  config: AppConfig;
  sign: Pick<Signer, 'detached'>;
  /** Certificates and name resolution for outbound requests (tests); the system's by default. */
  outbound?: Pick<OutboundPolicy, 'ca' | 'resolve'> | undefined;
  log: { warn(details: object, message: string): void; debug(details: object, message: string): void };
}

export interface DeliveryWorker {
  /** Runs a round now (and again while there is more); resolves when it is done. */
  wake(): Promise<void>;
  /** No more rounds; resolves when the round under way has finished. */
  stop(): Promise<void>;
}

export function startDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const { db, config } = deps;
  const owner = randomUUID();
  const policy: OutboundPolicy = { allowPrivateNetworks: config.outboundAllowPrivateNetworks, timeoutMs: config.outboundTimeoutMs, ...deps.outbound };
  const leaseSeconds = Math.ceil(config.outboundTimeoutMs / 1000) * 2 + 10;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;

  async function post(subscription: StoredSubscription, bundle: ReturnType<typeof notificationBundle>) {
    const body = Buffer.from(JSON.stringify(bundle));
    const issuer = subscription.fhirBase.replace(/\/fhir$/, '');
    const signature = await deps.sign.detached(NOTIFICATION_SIGNATURE_TYPE, signatureClaims({ issuer, clientId: subscription.clientId, subscriptionId: subscription.id, bundleId: bundle.id }), body);
    const started = Date.now();
    try {
      const answer = await safePost(
        subscription.endpoint,
        { body, contentType: 'application/fhir+json', accept: 'application/fhir+json, application/json;q=0.9, */*;q=0.1', maxBytes: MAX_ANSWER_BYTES, headers: { [SIGNATURE_HEADER]: signature } },
        policy,
      );
      return { status: answer.status, error: null, retryAfter: retryAfterMs(answer.headers['retry-after']), durationMs: Date.now() - started };
    } catch (error) {
      const code = error instanceof OutboundError ? error.code : 'network_failure';
      return { status: null, error: code, retryAfter: null, durationMs: Date.now() - started };
    }
  }

  /** The subscription, if it may still be delivered to: ends it (and drops its events) when its grant has ended. */
  async function deliverable(subscriptionId: string): Promise<StoredSubscription | null> {
    const subscription = await repo.subscriptionById(db, subscriptionId);
    if (!subscription || subscription.status === 'off') return null;
    const ended = await whyGrantEnded(db, config, subscription.grantId);
    if (ended) {
      await repo.endSubscription(db, subscription.id, `the grant ended (${ended})`);
      return null;
    }
    return subscription;
  }

  async function deliver(subscriptionId: string, events: repo.ClaimedEvent[]): Promise<void> {
    const subscription = await deliverable(subscriptionId);
    if (!subscription) {
      await repo.dropEvents(db, events);
      return;
    }
    const handshakes = events.filter((event) => event.kind === 'handshake');
    const notified = events.filter((event) => event.kind === 'event-notification').sort((a, b) => a.eventNumber - b.eventNumber);
    const batches: { kind: 'handshake' | 'event-notification'; events: repo.ClaimedEvent[] }[] = handshakes.map((event) => ({ kind: 'handshake' as const, events: [event] }));
    for (let i = 0; i < notified.length; i += EVENTS_PER_NOTIFICATION) batches.push({ kind: 'event-notification', events: notified.slice(i, i + EVENTS_PER_NOTIFICATION) });
    for (const batch of batches) {
      const focused: NotifiedEvent[] = batch.kind === 'handshake' ? [] : batch.events.map((event) => ({ eventNumber: event.eventNumber, occurredAt: event.occurredAt, focus: event.focus! }));
      const outcome = await post(subscription, notificationBundle(subscription, batch.kind, focused));
      await repo.logDelivery(db, {
        subscriptionId,
        kind: batch.kind,
        eventNumbers: focused.map((event) => event.eventNumber),
        httpStatus: outcome.status,
        errorCode: outcome.error,
        durationMs: outcome.durationMs,
      });
      if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) {
        await repo.markDelivered(db, batch.events);
        await repo.markSent(db, subscriptionId);
        subscription.status = 'active';
        continue;
      }
      const attempts = Math.max(...batch.events.map((event) => event.attempts));
      const why = outcome.status === null ? `the endpoint could not be reached (${outcome.error})` : `the endpoint answered ${outcome.status}`;
      if (retryable(outcome.status) && attempts < config.notificationMaxAttempts) {
        const delay = retryDelayMs(attempts, { baseMs: config.notificationRetryBaseMs, maxMs: config.notificationRetryMaxMs, retryAfterMs: outcome.retryAfter });
        await repo.scheduleRetry(db, batch.events, delay);
      } else {
        await repo.markFailed(db, batch.events);
        await repo.markError(db, subscriptionId, `${why}; ${attempts} attempt${attempts === 1 ? '' : 's'} made, the last at ${new Date().toISOString()}`);
        subscription.status = 'error';
      }
    }
  }

  async function heartbeat(subscriptionId: string): Promise<void> {
    const subscription = await deliverable(subscriptionId);
    if (!subscription) return;
    const outcome = await post(subscription, notificationBundle(subscription, 'heartbeat', []));
    await repo.logDelivery(db, { subscriptionId, kind: 'heartbeat', eventNumbers: [], httpStatus: outcome.status, errorCode: outcome.error, durationMs: outcome.durationMs });
    if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) await repo.markSent(db, subscriptionId);
    else await repo.markError(db, subscriptionId, outcome.status === null ? `the endpoint could not be reached (${outcome.error})` : `the endpoint answered ${outcome.status} to a heartbeat`);
  }

  /** Runs `work` over `items`, at most CONCURRENCY at once. */
  async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const lanes = Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length && !stopped) {
        const item = items[next++]!;
        try {
          await work(item);
        } catch (error) {
          deps.log.warn({ err: error }, 'delivering a notification failed; its events are claimed again when their lease runs out');
        }
      }
    });
    await Promise.all(lanes);
  }

  async function round(): Promise<void> {
    for (;;) {
      if (stopped) return;
      // A read first: a round that finds nothing writes nothing (and so wakes no one).
      const claimed = (await repo.anyDue(db)) ? await repo.claimDue(db, owner, leaseSeconds, CLAIM_BATCH) : [];
      const bySubscription = new Map<string, repo.ClaimedEvent[]>();
      for (const event of claimed) bySubscription.set(event.subscriptionId, [...(bySubscription.get(event.subscriptionId) ?? []), event]);
      await inParallel([...bySubscription], ([id, events]) => deliver(id, events));
      const beats = stopped ? [] : await repo.claimHeartbeats(db, leaseSeconds, CLAIM_BATCH);
      await inParallel(beats, heartbeat);
      if (claimed.length < CLAIM_BATCH && beats.length < CLAIM_BATCH && !again) return;
      again = false;
    }
  }

  function wake(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = round()
      .catch((error: unknown) => {
        if (!stopped) deps.log.warn({ err: error }, 'a notification delivery round failed; retrying at the next one');
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  const unsubscribe = db.changes.subscribe(['subscription_events'], () => void wake());
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped || config.notificationPollMs <= 0) return;
    timer = setTimeout(() => {
      void wake().finally(schedule);
    }, config.notificationPollMs);
    timer.unref();
  };
  schedule();
  void wake();

  return {
    wake,
    async stop() {
      stopped = true;
      unsubscribe();
      clearTimeout(timer);
      await running;
    },
  };
}
