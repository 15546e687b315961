// Certification test helpers: the publisher's host serving its privacy policy and terms over real
// HTTPS, an app that meets every check, its behaviour exercised in the sandbox with the real SDK
// (PAR, PKCE, DPoP, a refresh, a 429 waited out, a withdrawn grant), and reviewer accounts made
// through the operator API.
import { createPublisherClient, MesError } from '@mes/sdk/publisher';
import type { AppInput } from '../src/modules/catalog/index.js';
import type { TestServer } from '../src/testing.js';
import { seedRecord } from './fhir-helpers.js';
import { appInput, call, registrationNumber } from './helpers.js';
import { startHttpsServer, type TestHttpsServer } from './https-server.js';
import { createConfidentialClient } from './oauth-helpers.js';

export const PUBLISHER_DOMAIN = 'tensiosuivi.example.fr';
export const OPERATOR_TOKEN = 'operator-token-for-certification-tests-0123456789';
const redirectUri = `https://${PUBLISHER_DOMAIN}/oauth/callback`;

/** The publisher's web host: its privacy policy and terms, as HTML. */
export function startPublisherHost(): Promise<TestHttpsServer> {
  return startHttpsServer([PUBLISHER_DOMAIN], (request, response) => {
    if (request.url === '/confidentialite' || request.url === '/cgu') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><title>${request.url}</title><p>Nous ne revendons aucune donnée de santé.</p>`);
      return;
    }
    response.writeHead(404).end();
  });
}

let patients = 0;

export const compliance = {
  applicationType: 'web',
  hosting: { provider: 'Hébergeur Santé SAS', certificateReference: 'HDS-2025-0042' },
  dataProtectionOfficer: { name: 'Claire Martin', email: 'dpo@tensiosuivi.example.fr' },
  securityContact: { email: 'security@tensiosuivi.example.fr' },
  retentionPeriod: 'P2Y',
} as const;

/** An app every check passes for, once exercised in the sandbox. */
export function certifiableAppInput(host: TestHttpsServer, overrides: Partial<AppInput> = {}): AppInput {
  return appInput({
    redirectUris: [redirectUri],
    scopes: [
      { scope: 'patient/Observation.rs', justification: 'Lire vos mesures de tension pour tracer leur évolution.', purpose: 'suivi' },
      { scope: 'offline_access', justification: 'Actualiser vos mesures sans vous reconnecter chaque jour.' },
    ],
    privacyPolicyUrl: `${host.origin}/confidentialite`,
    termsUrl: `${host.origin}/cgu`,
    compliance,
    ...overrides,
  } as Partial<AppInput>);
}

export interface CertifiableApp {
  publisher: { id: string; key: string };
  appId: string;
  clientId: string;
  keys: { privateKey: CryptoKey };
}

/** A publisher of the domain, its app, and a confidential client whose sandbox traffic is the evidence. */
export async function createCertifiableApp(server: TestServer, host: TestHttpsServer, name = 'Tensio Éditions'): Promise<CertifiableApp> {
  const registered = await call(server, 'POST', '/publishers', {
    body: { name, registrationNumber: registrationNumber(), contactEmail: `dev@${PUBLISHER_DOMAIN}`, domains: [PUBLISHER_DOMAIN] },
  });
  if (registered.status !== 201) throw new Error(`registration failed: ${JSON.stringify(registered.body)}`);
  const publisher = { id: registered.body.publisher.id as string, key: registered.body.apiKey.key as string };
  const app = await call(server, 'POST', '/apps', { key: publisher.key, body: certifiableAppInput(host) });
  if (app.status !== 201) throw new Error(`app creation failed: ${JSON.stringify(app.body)}`);
  // The automatic public client goes: the confidential one, with PAR, is the evidence.
  const [automatic] = (await call(server, 'GET', `/apps/${app.body.id}/clients`, { key: publisher.key })).body.items;
  await call(server, 'DELETE', `/apps/${app.body.id}/clients/${automatic.clientId}`, { key: publisher.key });
  const client = await createConfidentialClient(server.url, publisher.key, app.body.id);
  await exerciseInSandbox(server, publisher.key, client);
  return { publisher, appId: app.body.id, clientId: client.clientId, keys: client.keys };
}

/**
 * What a well-behaved app does in the sandbox, through the SDK: signs a patient in (PAR, PKCE,
 * DPoP), reads, refreshes when its token expired, waits out a 429, and stops when the patient
 * withdraws consent.
 */
export async function exerciseInSandbox(server: TestServer, publisherKey: string, client: { clientId: string; keys: { privateKey: CryptoKey } }): Promise<void> {
  const developer = createPublisherClient({ baseUrl: server.url, apiKey: publisherKey });
  const app = await signIn(server, client, `cert-patient-${(patients += 1)}`);
  await app.fhir.search('Observation', { _count: 5 });
  await developer.sandbox.expireTokens(client.clientId);
  await app.fhir.search('Observation', { _count: 5 });
  await developer.sandbox.injectFault(client.clientId, { kind: 'rate_limited', target: 'fhir', count: 1, retryAfterSeconds: 1 });
  await app.fhir.search('Observation', { _count: 5 });
  await developer.sandbox.withdrawGrants(client.clientId);
  const ended = await app.fhir.search('Observation', { _count: 5 }).then(
    () => null,
    (error: unknown) => error,
  );
  if (!(ended instanceof MesError)) throw new Error('the withdrawn grant still worked');
}

/** The app's client with a patient signed in through the sandbox (PAR, PKCE, DPoP), as the SDK does it. */
export async function signIn(server: TestServer, client: { clientId: string; keys: { privateKey: CryptoKey } }, patient: string) {
  await seedRecord(server, patient);
  const app = createPublisherClient({
    baseUrl: server.url,
    clientId: client.clientId,
    clientAuth: { method: 'private_key_jwt', privateKey: client.keys.privateKey, kid: 'k1' },
    redirectUri,
  });
  const { url } = await app.authorize({ scope: 'patient/Observation.rs offline_access', loginHint: patient });
  await app.handleCallback(new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!));
  return app;
}

/** A reviewer account made by the operator; returns its key. */
export async function createReviewer(
  server: TestServer,
  login: string,
  options: { email?: string; publisherIds?: string[] } = {},
): Promise<{ id: string; key: string }> {
  const created = await call(server, 'POST', '/operator/reviewers', {
    key: OPERATOR_TOKEN,
    body: { login, name: `Reviewer ${login}`, email: options.email ?? `${login}@certification.example.gouv.fr`, publisherIds: options.publisherIds ?? [] },
  });
  if (created.status !== 201) throw new Error(`reviewer creation failed: ${JSON.stringify(created.body)}`);
  return { id: created.body.reviewer.id, key: created.body.apiKey };
}

/** Verdicts on every criterion of a version: `pass`, or what `overrides` says. */
export async function verdicts(server: TestServer, version: string, overrides: Record<string, { verdict: 'fail' | 'not_applicable'; note: string }> = {}) {
  const criteria = (await call(server, 'GET', `/certification/criteria?version=${version}`)).body;
  return criteria.groups.flatMap((group: { criteria: { id: string }[] }) =>
    group.criteria.map((criterion) => ({ criterion: criterion.id, ...(overrides[criterion.id] ?? { verdict: 'pass' }) })),
  );
}
