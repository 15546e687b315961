// `mes.sandbox` against a real sandbox server, and a production one: each control answers as the
// spec says, on the publisher's own clients only; the runtime lists match the spec's enums.
import type { components } from '@mes/openapi';
import { records, startTestServer, type TestServer } from '@mes/catalog-api';
import { createPublisherClient, faultKinds, faultTargets, NotFoundError, ProblemCode, sandboxScenarios, type PublisherClient } from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { appInput, publisherRegistration } from './helpers/fixtures.js';

type Schemas = components['schemas'];

let server: TestServer;
let mes: PublisherClient;
let clientId: string;

beforeAll(async () => {
  server = await startTestServer();
  const registered = await createPublisherClient({ baseUrl: server.url }).publishers.register(publisherRegistration('Bac à sable SAS'));
  mes = createPublisherClient({ baseUrl: server.url, apiKey: registered.apiKey.key });
  const app = await mes.apps.create(appInput());
  clientId = (await mes.clients.list(app.id)).items[0]!.clientId;
  await records.insertResources(server.app.db, [
    { patientId: 'sdk-sandbox-patient', id: 'sdk-sandbox-patient', resource: { resourceType: 'Patient', name: [{ family: 'Bernard', given: ['Anaïs'] }], birthDate: '1990-01-02' } },
  ]);
});

afterAll(async () => {
  await server?.close();
});

describe('the sandbox resource', () => {
  it('lists synthetic patients', async () => {
    await expect(mes.sandbox.patients({ q: 'anais bernard', limit: 5 })).resolves.toEqual({
      items: [{ id: 'sdk-sandbox-patient', name: 'Anaïs Bernard', birthDate: '1990-01-02', children: [] }],
    });
  });

  it('injects, lists and clears faults', async () => {
    const fault = await mes.sandbox.injectFault(clientId, { kind: 'unavailable', count: 2, target: 'fhir', retryAfterSeconds: 5 });
    expect(fault).toMatchObject({ kind: 'unavailable', target: 'fhir', remaining: 2, retryAfterSeconds: 5, latencyMs: null });
    await expect(mes.sandbox.listFaults(clientId)).resolves.toEqual({ items: [fault] });
    await expect(mes.sandbox.clearFaults(clientId)).resolves.toEqual({ clientId, done: 'pending faults cleared', count: 1 });
    await expect(mes.sandbox.listFaults(clientId)).resolves.toEqual({ items: [] });
  });

  it('expires tokens, withdraws grants, suspends and reinstates, resets, reports', async () => {
    await expect(mes.sandbox.expireTokens(clientId)).resolves.toMatchObject({ clientId, done: expect.stringContaining('expired') });
    await expect(mes.sandbox.withdrawGrants(clientId)).resolves.toMatchObject({ clientId, count: 0 });
    await expect(mes.sandbox.withdrawGrants(clientId, { patient: 'sdk-sandbox-patient' })).resolves.toMatchObject({ count: 0 });
    await expect(mes.sandbox.suspendApp(clientId)).resolves.toEqual({ clientId, done: 'app suspended: its tokens stop working at once' });
    await expect(mes.sandbox.reinstateApp(clientId)).resolves.toEqual({ clientId, done: 'app reinstated' });
    await expect(mes.sandbox.reset(clientId)).resolves.toMatchObject({ clientId, done: 'faults, token expiry and traffic cleared' });
    await expect(mes.sandbox.report(clientId)).resolves.toMatchObject({ clientId, requests: 0, grantTypes: {}, faults: { injected: 0, pending: 0 } });
  });

  it('applies scenarios', async () => {
    await expect(mes.sandbox.applyScenario({ scenario: 'consent-withdrawn', patient: 'sdk-sandbox-patient' })).resolves.toEqual({
      scenario: 'consent-withdrawn',
      patient: 'sdk-sandbox-patient',
      done: '0 grant(s) withdrawn',
    });
  });

  it("another publisher's client is not found; so is any control outside the sandbox", async () => {
    const stranger = await createPublisherClient({ baseUrl: server.url }).publishers.register(publisherRegistration('Étranger SAS'));
    const other = createPublisherClient({ baseUrl: server.url, apiKey: stranger.apiKey.key });
    const missing = await other.sandbox.report(clientId).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).code).toBe(ProblemCode.not_found);

    const production = await startTestServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });
    try {
      const registered = await createPublisherClient({ baseUrl: production.url }).publishers.register(publisherRegistration('Production SAS'));
      const outside = await createPublisherClient({ baseUrl: production.url, apiKey: registered.apiKey.key }).sandbox.patients().catch((error: unknown) => error);
      expect(outside).toBeInstanceOf(NotFoundError);
      expect((outside as NotFoundError).code).toBe(ProblemCode.sandbox_only);
    } finally {
      await production.close();
    }
  });

  it('lists exactly the fault kinds, targets and scenarios of the spec', () => {
    // Fails to compile when the spec adds or removes a value and the list is not updated.
    expectTypeOf<(typeof faultKinds)[number]>().toEqualTypeOf<Schemas['FaultKind']>();
    expectTypeOf<(typeof faultTargets)[number]>().toEqualTypeOf<Schemas['FaultTarget']>();
    expectTypeOf<(typeof sandboxScenarios)[number]>().toEqualTypeOf<Schemas['ScenarioInput']['scenario']>();
    // @ts-expect-error: not a fault kind of the spec
    void (() => mes.sandbox.injectFault(clientId, { kind: 'teapot' }));
  });

  it('refuses a client id that would change the path', async () => {
    await expect(mes.sandbox.reset('..')).rejects.toThrow(/not allowed/);
  });
});
