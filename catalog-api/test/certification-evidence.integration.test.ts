// Signed sandbox evidence across deployments: the sandbox signs a client's traffic report, and a
// production platform that trusts that sandbox certifies an app on it, while refusing evidence
// that is tampered with, another publisher's, or from a sandbox it does not trust.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing.js';
import { call, expectProblem } from './helpers.js';
import { certifiableAppInput, createCertifiableApp, createReviewer, OPERATOR_TOKEN, PUBLISHER_DOMAIN, startPublisherHost, verdicts, type CertifiableApp } from './certification-helpers.js';
import type { TestHttpsServer } from './https-server.js';

let host: TestHttpsServer;
let sandbox: TestServer;
let production: TestServer;
let sandboxApp: CertifiableApp;
let evidence: { jws: string; clientId: string; issuer: string; report: { authorization: { pushed: number } } };

beforeAll(async () => {
  host = await startPublisherHost();
  const outbound = { outbound: { ca: host.ca, resolve: host.resolve } };
  sandbox = await startTestServer({ operatorToken: OPERATOR_TOKEN, outboundAllowPrivateNetworks: true }, outbound);
  sandboxApp = await createCertifiableApp(sandbox, host, 'Preuves SAS');
  const signed = await call(sandbox, 'GET', `/sandbox/clients/${sandboxApp.clientId}/evidence`, { key: sandboxApp.publisher.key });
  expect(signed.status).toBe(200);
  evidence = signed.body;
  const keys = (await call(sandbox, 'GET', '/jwks.json')).body.keys;
  // The publisher's host is on loopback here: production is allowed to reach it in this test only.
  production = await startTestServer(
    { mode: 'production', publicUrl: 'https://api.mes.example.fr', operatorToken: OPERATOR_TOKEN, outboundAllowPrivateNetworks: true, trustedSandbox: { issuer: sandbox.url, keys } },
    outbound,
  );
});

afterAll(async () => {
  await production?.close();
  await sandbox?.close();
  await host?.close();
});

/** The same publisher (same registration number) and app, on the production platform, verified. */
async function productionApp(registrationNumber: string, name: string) {
  const registered = await call(production, 'POST', '/publishers', {
    body: { name, registrationNumber, contactEmail: `dev@${PUBLISHER_DOMAIN}`, domains: [PUBLISHER_DOMAIN] },
  });
  expect(registered.status).toBe(201);
  const key = registered.body.apiKey.key as string;
  expect((await call(production, 'PUT', `/operator/publishers/${registered.body.publisher.id}/verification`, { key: OPERATOR_TOKEN })).status).toBe(200);
  const app = await call(production, 'POST', '/apps', { key, body: certifiableAppInput(host) });
  expect(app.status).toBe(201);
  return { key, appId: app.body.id as string };
}

describe('signed sandbox evidence', () => {
  it('is the traffic report, signed by the sandbox, for the app and its publisher', async () => {
    expect(evidence).toMatchObject({ clientId: sandboxApp.clientId, issuer: sandbox.url, report: { authorization: { pushed: 1 } } });
    const [header, payload] = evidence.jws.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'ES256', typ: 'mes-sandbox-evidence+jwt' });
    expect(payload).toMatchObject({ iss: sandbox.url, sub: sandboxApp.clientId, app: { id: sandboxApp.appId }, publisher: { id: sandboxApp.publisher.id } });
    expect(payload.exp - payload.iat).toBe(90 * 86_400);
    // Only for the publisher's own clients, and only in a sandbox.
    const stranger = await call(sandbox, 'POST', '/publishers', { body: { name: 'Étranger', registrationNumber: '12345678901234', contactEmail: 'x@autre.example.fr', domains: ['autre.example.fr'] } });
    expectProblem(await call(sandbox, 'GET', `/sandbox/clients/${sandboxApp.clientId}/evidence`, { key: stranger.body.apiKey.key }), 404, 'not_found');
  });

  it('lets a production platform that trusts the sandbox certify the app', async () => {
    const publisher = (await call(sandbox, 'GET', '/publishers/me', { key: sandboxApp.publisher.key })).body;
    const app = await productionApp(publisher.registrationNumber, 'Preuves SAS');
    const submitted = await call(production, 'POST', `/apps/${app.appId}/submissions`, { key: app.key, body: { version: '1.0.0', sandboxEvidence: evidence.jws } });
    expect(submitted.status).toBe(201);
    expect(submitted.body.checks).toMatchObject({ sandboxClientId: sandboxApp.clientId, evidenceSource: { kind: 'signed', issuer: sandbox.url }, counts: { fail: 0 } });

    const reviewerA = await createReviewer(production, 'evidence-a');
    const reviewerB = await createReviewer(production, 'evidence-b');
    // A reviewer's new check run judges the same signed evidence again.
    const rerun = await call(production, 'POST', `/review/submissions/${submitted.body.id}/checks`, { key: reviewerA.key });
    expect(rerun.body).toMatchObject({ evidenceSource: { kind: 'signed' }, counts: { fail: 0 } });
    const criteriaVersion = submitted.body.criteriaVersion;
    const review = async (key: string) =>
      call(production, 'POST', `/review/submissions/${submitted.body.id}/reviews`, { key, body: { decision: 'approve', criteriaVersion, verdicts: await verdicts(production, criteriaVersion), note: 'Conforme.' } });
    expect((await review(reviewerA.key)).status).toBe(201);
    const certified = await review(reviewerB.key);
    expect(certified.body.certificate).toMatchObject({ appId: app.appId, state: 'certified' });
    expect((await call(production, 'GET', `/catalog/apps/${app.appId}`)).status).toBe(200);
  });

  it('without evidence, a production platform has no sandbox traffic: the sandbox checks fail and block approval', async () => {
    const app = await productionApp('98765432100012', 'Sans Preuve SAS');
    const run = await call(production, 'POST', `/apps/${app.appId}/checks`, { key: app.key, body: {} });
    expect(run.body.evidenceSource).toEqual({ kind: 'recorded', issuer: null, issuedAt: null });
    expect(run.body.results.find((result: { id: string }) => result.id === 'sandbox.complete_flow')).toMatchObject({ status: 'fail' });
  });

  it('refuses tampered evidence, evidence of another publisher, both kinds of evidence at once, and evidence nobody trusts', async () => {
    const app = await productionApp('11122233300014', 'Autre Éditeur SAS');
    const checks = (body: unknown, server = production, key = app.key, appId = app.appId) => call(server, 'POST', `/apps/${appId}/checks`, { key, body });
    expectProblem(await checks({ sandboxEvidence: evidence.jws }), 400, 'invalid_evidence');
    const [header, payload, signature] = evidence.jws.split('.');
    const inflated = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    inflated.report.refreshes = 99;
    const tampered = `${header}.${Buffer.from(JSON.stringify(inflated)).toString('base64url')}.${signature}`;
    expectProblem(await checks({ sandboxEvidence: tampered }), 400, 'invalid_evidence');
    expectProblem(await checks({ sandboxEvidence: 'not.even.a-valid-compact-jws' }), 400, 'invalid_evidence');
    expectProblem(await checks({ sandboxEvidence: evidence.jws, sandboxClientId: 'x' }), 400, 'validation_failed');
    // The sandbox itself trusts no other sandbox: its own traffic is its evidence.
    const refused = await checks({ sandboxEvidence: evidence.jws }, sandbox, sandboxApp.publisher.key, sandboxApp.appId);
    expectProblem(refused, 400, 'invalid_evidence');
    expect(refused.body.detail).toMatch(/trusts no sandbox/);
    // Nothing was submitted by the refusals.
    expect((await call(production, 'GET', `/apps/${app.appId}/submissions`, { key: app.key })).body.items).toEqual([]);
  });
});
