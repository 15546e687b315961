// HTTP handlers of the Subscription API (FHIR R4 with the Subscriptions R5 Backport IG), keyed by
// operationId. The security scheme has checked the token and that its grant is in force; here a
// subscription is confined to the token's client and patient (anyone else's is not found), and
// subscribing to a topic needs the token's scopes to read the topic's resource type.
import type { FastifyRequest } from 'fastify';
import type { components } from '@mes/openapi';
import { FhirError } from '../../core/fhir-error.js';
import { grantFactsOf, type HandlerContext, type HandlerMap, type Principal } from '../../core/operations.js';
import type { Db } from '../../core/store/db.js';
import { notificationEndpointsOf } from '../catalog/index.js';
import { access, dpopChallenge, grantedScopes, type ResourceType } from '../oauth/index.js';
import { subscriptionStatus } from './notification.js';
import * as repo from './repository.js';
import { endpointRegistered, parseSubscriptionRequest, subscriptionResource, type SubscriptionResource } from './subscription-resource.js';

type SubscriptionOperations = 'createSubscription' | 'readSubscription' | 'searchSubscription' | 'deleteSubscription' | 'getSubscriptionStatus';
type PatientData = Extract<Principal, { kind: 'patient_data' }>;

export interface NotificationRoutesDeps {
  db: Db;
  issuerOf: (request: FastifyRequest) => string;
  /** Wakes the delivery worker (the handshake of a new subscription goes at once). */
  wake?: () => void;
}

const noStore = { 'cache-control': 'no-store' };
const MAX_LISTED = 100;

function patientDataOf(context: { principal: Principal | null }): PatientData {
  if (context.principal?.kind !== 'patient_data') throw new FhirError(401, 'login', 'a patient-data access token is required');
  return context.principal;
}

const notFound = () => new FhirError(404, 'not-found', 'no Subscription with this id for this app and patient');

export function notificationHandlers(deps: NotificationRoutesDeps): HandlerMap<SubscriptionOperations> {
  const { db } = deps;
  const fhirBase = (request: FastifyRequest) => `${deps.issuerOf(request)}/fhir`;

  /** The grant's facts, refusing a guardian whose guardianship has ended. */
  async function actingGrant(principal: PatientData) {
    const grant = await grantFactsOf(principal);
    if (!grant.actorMayAct) throw new FhirError(403, 'forbidden', 'the person who approved this grant may no longer act for this patient (guardianship ended)');
    return grant;
  }

  async function owned(context: HandlerContext<'readSubscription' | 'deleteSubscription' | 'getSubscriptionStatus'>) {
    const principal = patientDataOf(context);
    await actingGrant(principal);
    const subscription = await repo.findSubscription(db, principal, (context.params as { id: string }).id);
    if (!subscription) throw notFound();
    return subscription;
  }

  return {
    async createSubscription(context) {
      const principal = patientDataOf(context);
      const grant = await actingGrant(principal);
      const base = fhirBase(context.request);
      const request = parseSubscriptionRequest(context.body as unknown as SubscriptionResource, base, principal.patientId);
      // The app reads what it is told about with its token: it must be able to read the topic's resource.
      if (access(grantedScopes(principal.scope), request.topic.resourceType as ResourceType, 'r').kind === 'denied') {
        const needed = `patient/${request.topic.resourceType}.r`;
        throw new FhirError(403, 'forbidden', `this token's scopes do not allow reading ${request.topic.resourceType}, which the topic ${request.topic.name} is about (needs ${needed})`, {
          headers: { 'www-authenticate': dpopChallenge('insufficient_scope', `needs ${needed}`, needed) },
        });
      }
      const registered = await notificationEndpointsOf(db, grant.appId);
      if (!endpointRegistered(request.endpoint, registered)) {
        throw new FhirError(422, 'value', `Subscription.channel.endpoint: ${request.endpoint} is not one of the app's registered notification endpoints, nor under one (${registered.length ? registered.join(', ') : 'the app registered none: add notificationEndpoints to the app'})`, {
          expression: ['Subscription.channel.endpoint'],
        });
      }
      const answer = await db.transaction(async (tx) => {
        if ((await repo.countRunning(tx, principal.grantId)) >= repo.MAX_SUBSCRIPTIONS_PER_GRANT) {
          throw new FhirError(422, 'too-costly', `this grant already holds ${repo.MAX_SUBSCRIPTIONS_PER_GRANT} subscriptions; delete one first`);
        }
        const stored = await repo.insertSubscription(tx, {
          appId: grant.appId,
          clientId: principal.clientId,
          grantId: principal.grantId,
          patientId: principal.patientId,
          scope: principal.scope,
          topic: request.topic.name,
          filter: request.filter,
          endpoint: request.endpoint,
          fhirBase: base,
          heartbeatSeconds: request.heartbeatSeconds,
          reason: request.reason,
        });
        const created = {
          status: 201 as const,
          headers: { ...noStore, location: `${base}/Subscription/${stored.id}` },
          body: subscriptionResource(stored),
        };
        await context.settleIdempotency?.(tx, created);
        return created;
      });
      deps.wake?.();
      return answer as never;
    },

    async readSubscription(context) {
      const subscription = await owned(context);
      return { status: 200, headers: noStore, body: subscriptionResource(subscription) } as never;
    },

    async searchSubscription(context) {
      const principal = patientDataOf(context);
      await actingGrant(principal);
      const status = (context.query as { status?: string }).status;
      const found = await repo.listSubscriptions(db, principal, { status, limit: MAX_LISTED });
      const base = fhirBase(context.request);
      return {
        status: 200,
        headers: noStore,
        body: {
          resourceType: 'Bundle',
          type: 'searchset',
          total: found.length,
          link: [{ relation: 'self', url: `${base}/Subscription${status ? `?status=${encodeURIComponent(status)}` : ''}` }],
          ...(found.length ? { entry: found.map((subscription) => ({ fullUrl: `${base}/Subscription/${subscription.id}`, resource: subscriptionResource(subscription), search: { mode: 'match' } })) } : {}),
        },
      } as never;
    },

    async deleteSubscription(context) {
      const subscription = await owned(context);
      await repo.endSubscription(db, subscription.id, 'deleted by the app');
      return { status: 204, headers: noStore } as never;
    },

    async getSubscriptionStatus(context) {
      const subscription = await owned(context);
      const status = subscriptionStatus({ ...subscription, error: subscription.statusReason }, 'query-status');
      return {
        status: 200,
        headers: noStore,
        body: { resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ fullUrl: `urn:uuid:${status.id}`, resource: status, search: { mode: 'match' } }] },
      } as never;
    },
  } as HandlerMap<SubscriptionOperations>;
}

export type SubscriptionBody = components['schemas']['Subscription'];
