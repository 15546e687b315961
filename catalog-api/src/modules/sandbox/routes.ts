// HTTP handlers of the sandbox's developer controls, keyed by operationId: failures to inject,
// tokens to expire, grants to withdraw, the app to suspend, the client's state to reset, its
// traffic report, synthetic patients to list and put into a state. Each acts on one of the
// caller's own clients; outside the sandbox, none exists (sandbox_only).
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../core/config.js';
import type { SecretBox } from '../../core/secret-box.js';
import { ProblemError } from '../../core/errors.js';
import { publisherOf, type HandlerContext, type HandlerMap, type OperationId } from '../../core/operations.js';
import type { Db } from '../../core/store/db.js';
import { findApp, findPublisher, setCertificationStatus } from '../catalog/index.js';
import { closePatientAccount, recordOpposition } from '../consent/index.js';
import { endSubscriptionsOf, enqueueResourceEvent } from '../notifications/index.js';
import { findClientById, RevocationReason, revokeGrantsOfClient } from '../oauth/index.js';
import { childrenOf, endGuardianshipsOf, factsOf, findPatients, insertResource, patientSummaries, searchTokens } from '../records/index.js';
import { sandboxEventResource } from './events.js';
import { clearFaults, injectFault, listFaults } from './faults.js';
import { clearTraffic, trafficReport } from './traffic.js';
import { signEvidence } from './evidence.js';

type SandboxOperations =
  | 'listSandboxPatients'
  | 'injectFault'
  | 'listFaults'
  | 'clearFaults'
  | 'expireClientTokens'
  | 'withdrawClientGrants'
  | 'triggerSandboxEvent'
  | 'suspendClientApp'
  | 'reinstateClientApp'
  | 'resetClient'
  | 'getTrafficReport'
  | 'getSandboxEvidence'
  | 'applyScenario';

export function sandboxHandlers(
  db: Db,
  config: AppConfig,
  evidence: { box: SecretBox; issuerOf: (request: FastifyRequest) => string },
): HandlerMap<SandboxOperations> {
  const sandboxOnly = () => {
    if (config.mode !== 'sandbox') throw new ProblemError('sandbox_only', 'The developer controls exist only in the sandbox (npm start).');
  };

  /** The client of the path, if it belongs to one of the caller's apps: another publisher's is missing. */
  async function ownClient<K extends OperationId>(context: HandlerContext<K>, clientId: string) {
    sandboxOnly();
    const { publisherId } = publisherOf(context);
    const client = await findClientById(db, clientId);
    if (!client || !(await findApp(db, publisherId, client.appId))) throw new ProblemError('not_found', `No client ${clientId}.`);
    return client;
  }

  async function reinstate(appId: string): Promise<boolean> {
    const [suspended] = await db.query<{ previous_status: string }>('DELETE FROM sandbox_suspensions WHERE app_id = $1 RETURNING previous_status', [appId]);
    if (!suspended) return false;
    await setCertificationStatus(db, appId, suspended.previous_status as never);
    return true;
  }

  async function suspend(appId: string, status: string): Promise<boolean> {
    if (status === 'suspended') return false;
    await db.query('INSERT INTO sandbox_suspensions (app_id, previous_status) VALUES ($1, $2) ON CONFLICT (app_id) DO NOTHING', [appId, status]);
    await setCertificationStatus(db, appId, 'suspended');
    return true;
  }

  return {
    async listSandboxPatients(context) {
      sandboxOnly();
      publisherOf(context);
      const patients = await findPatients(db, context.query.q ?? '', context.query.limit ?? 20);
      const items = [];
      for (const patient of patients) items.push({ ...patient, birthDate: patient.birthDate ?? null, children: await childrenOf(db, patient.id) });
      return { status: 200, body: { items } };
    },

    async injectFault(context) {
      const client = await ownClient(context, context.params.clientId);
      return { status: 201, body: await injectFault(db, client.clientId, context.body) };
    },

    async listFaults(context) {
      const client = await ownClient(context, context.params.clientId);
      return { status: 200, body: { items: await listFaults(db, client.clientId) } };
    },

    async clearFaults(context) {
      const client = await ownClient(context, context.params.clientId);
      const count = await clearFaults(db, client.clientId);
      return { status: 200, body: { clientId: client.clientId, done: 'pending faults cleared', count } };
    },

    async expireClientTokens(context) {
      const client = await ownClient(context, context.params.clientId);
      // Tokens say when they were issued to the second: every token of this second and before
      // is expired, and the answer waits for the next second, so a token obtained after it works.
      const [cutoff] = await db.query<{ not_before: Date }>(
        `INSERT INTO client_token_cutoffs (client_id, not_before) VALUES ($1, date_trunc('second', now()) + interval '1 second')
         ON CONFLICT (client_id) DO UPDATE SET not_before = EXCLUDED.not_before RETURNING not_before`,
        [client.clientId],
      );
      const wait = new Date(cutoff!.not_before).getTime() - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return { status: 200, body: { clientId: client.clientId, done: 'every access token issued so far now fails as expired; refresh tokens still work' } };
    },

    async withdrawClientGrants(context) {
      const client = await ownClient(context, context.params.clientId);
      const count = await revokeGrantsOfClient(db, client.clientId, context.body?.patient, RevocationReason.withdrawnByPatient);
      await endSubscriptionsOf(db, { clientId: client.clientId, patientId: context.body?.patient }, 'the patient withdrew the app’s access');
      return { status: 200, body: { clientId: client.clientId, done: 'grants withdrawn, as the patient would from "my connected apps"', count } };
    },

    async triggerSandboxEvent(context) {
      const client = await ownClient(context, context.params.clientId);
      const { topic, patient } = context.body;
      if ((await patientSummaries(db, [patient])).length === 0) throw new ProblemError('not_found', `No synthetic patient ${patient}.`);
      const { resource, sourceAppId } = sandboxEventResource(topic, patient, client.appId);
      // The resource and its notifications commit together, as for a write through the API.
      const { stored, notified } = await db.transaction(async (tx) => {
        const stored = await insertResource(tx, { patientId: patient, resource, ...(sourceAppId ? { sourceAppId } : {}) });
        const notified = await enqueueResourceEvent(tx, {
          patientId: patient,
          resourceType: resource.resourceType,
          id: stored.resource.id!,
          interaction: 'create',
          facts: factsOf(searchTokens(stored.resource)),
          ...(sourceAppId ? { appId: sourceAppId } : {}),
        });
        return { stored, notified };
      });
      return { status: 201, body: { clientId: client.clientId, topic, patient, resource: `${resource.resourceType}/${stored.resource.id}`, notified } };
    },

    async suspendClientApp(context) {
      const client = await ownClient(context, context.params.clientId);
      const changed = await suspend(client.appId, client.appCertificationStatus);
      return { status: 200, body: { clientId: client.clientId, done: changed ? 'app suspended: its tokens stop working at once' : 'the app was already suspended' } };
    },

    async reinstateClientApp(context) {
      const client = await ownClient(context, context.params.clientId);
      const changed = await reinstate(client.appId);
      return { status: 200, body: { clientId: client.clientId, done: changed ? 'app reinstated' : 'the app was not suspended by the sandbox' } };
    },

    async resetClient(context) {
      const client = await ownClient(context, context.params.clientId);
      const faults = await clearFaults(db, client.clientId);
      await db.query('DELETE FROM client_token_cutoffs WHERE client_id = $1', [client.clientId]);
      const traffic = await clearTraffic(db, client.clientId);
      const reinstated = await reinstate(client.appId);
      return {
        status: 200,
        body: {
          clientId: client.clientId,
          done: `faults, token expiry and traffic cleared${reinstated ? ', app reinstated' : ''}`,
          count: faults + traffic,
        },
      };
    },

    async getTrafficReport(context) {
      const client = await ownClient(context, context.params.clientId);
      return { status: 200, body: await trafficReport(db, client.clientId) };
    },

    async getSandboxEvidence(context) {
      const client = await ownClient(context, context.params.clientId);
      const { publisherId } = publisherOf(context);
      const [app, publisher] = await Promise.all([findApp(db, publisherId, client.appId), findPublisher(db, publisherId)]);
      const signed = await signEvidence(db, evidence.box, evidence.issuerOf(context.request), {
        clientId: client.clientId,
        app: { id: app!.id, name: app!.name, scopes: app!.scopes.map((scope) => scope.scope), redirectUris: app!.redirectUris },
        publisher: { id: publisherId, name: publisher!.name, registrationNumber: publisher!.registrationNumber },
        report: await trafficReport(db, client.clientId),
      });
      return { status: 200, body: signed };
    },

    async applyScenario(context) {
      sandboxOnly();
      publisherOf(context);
      const { scenario, patient, clientId } = context.body;
      const result = (done: string) => ({ status: 200 as const, body: { scenario, patient, done } });
      switch (scenario) {
        case 'consent-withdrawn': {
          if (clientId) {
            const client = await ownClient(context, clientId);
            const count = await revokeGrantsOfClient(db, client.clientId, patient, RevocationReason.withdrawnByPatient);
            await endSubscriptionsOf(db, { clientId: client.clientId, patientId: patient }, 'the patient withdrew the app’s access');
            return result(`${count} grant(s) of the client withdrawn`);
          }
          const count = await revokeGrantsOfClient(db, null, patient, RevocationReason.withdrawnByPatient);
          await endSubscriptionsOf(db, { clientId: null, patientId: patient }, 'the patient withdrew the app’s access');
          return result(`${count} grant(s) withdrawn`);
        }
        case 'app-suspended': {
          if (!clientId) throw new ProblemError('validation_failed', 'app-suspended needs clientId.', [{ pointer: '/body/clientId', detail: 'is required for app-suspended' }]);
          const client = await ownClient(context, clientId);
          await suspend(client.appId, client.appCertificationStatus);
          return result('app suspended');
        }
        case 'child-turns-18':
          return result(`${await endGuardianshipsOf(db, patient)} guardianship(s) ended today: guardians no longer act for this patient`);
        case 'account-closed':
          return result(`account closed; ${(await closePatientAccount(db, patient)).grantsEnded} grant(s) ended`);
        case 'patient-opposed':
          return result(`opposition recorded; ${(await recordOpposition(db, patient)).grantsEnded} grant(s) ended`);
      }
    },
  };
}
