// The fuzzer's world: a real server (sandbox mode) and, set up once through the public API, every
// credential an operation's `security` can ask for and the real ids its path parameters can name,
// so that requests reach the handlers rather than stopping at authentication or a 404.
//
// Operations that destroy what they name (deleting an app, revoking a key, withdrawing a grant,
// revoking a certificate) get a spare of their own, made again after it is consumed; operations
// that could cut the fuzzer's own access (sandbox controls, scenarios, publisher updates) are
// pointed at apps, clients, publishers and patients the credentials do not depend on. Tokens
// last five minutes: they are renewed before that, and after any 401.
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { startTestServer, uniqueRegistrationNumber, type TestServer } from '../../src/testing.js';
import { certifiableAppInput, createCertifiableApp, createReviewer, OPERATOR_TOKEN, PUBLISHER_DOMAIN, startPublisherHost, verdicts, type CertifiableApp } from '../certification-helpers.js';
import { ALL_PATIENT_SCOPES, patientToken, sampleRecord, seedRecord, type PatientSession } from '../fhir-helpers.js';
import { call, registerPublisher } from '../helpers.js';
import type { TestHttpsServer } from '../https-server.js';
import { signInAtProvider, startIdentityProvider, type TestIdentityProvider } from '../identity-provider.js';
import { clientAssertion, commandLineSignIn, createConfidentialClient, dpopProof, form, newKeys, pkce, postForm, resourceProof, type CommandLineSession, type Keys } from '../oauth-helpers.js';
import { pageBrowser } from '../page-browser.js';
import { seedSandboxReviewers } from '../../src/modules/certification/sandbox-accounts.js';
import type { FuzzOperation } from './model.js';
import { pick, type Generator } from './mutations.js';

/** The patient whose record, token and session the fuzzer uses; scenarios never name it. */
export const FUZZ_PATIENT = 'fuzz-patient-1';
const OTHER_PATIENT = 'fuzz-patient-2';
const redirectUri = `https://${PUBLISHER_DOMAIN}/oauth/callback`;
const TOKEN_RENEWAL_MS = 240_000;
const SESSION_RENEWAL_MS = 20 * 60_000;
const PATIENT_SCOPE = ALL_PATIENT_SCOPES.join(' ');

/** A port free now, for a server whose address must be known before it starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Values that make a request of an operation valid and meaningful, merged over generated ones. */
export interface Seed {
  path?: Record<string, string>;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
}

interface Timed<T> {
  value: T;
  at: number;
}

export interface Authentication {
  headers: Record<string, string>;
  /** Which credential was used, to renew it after a 401. */
  credential: string | null;
}

export class FuzzWorld {
  server!: TestServer;
  private host!: TestHttpsServer;
  /** The identity provider patients sign in at (OpenID Connect), besides the sandbox's picker. */
  private idp!: TestIdentityProvider;
  /** Owns the apps the fuzzer works on: the certified one, app B (sandbox controls, clients), the OAuth app and the spares. */
  private publisher!: { id: string; key: string };
  /** A publisher of its own for the /publishers/me operations (their updates change the caller). */
  private selfPublisher!: { id: string; key: string };
  private reviewers: { id: string; key: string }[] = [];
  private certified!: CertifiableApp;
  private certificateId = '';
  private decidedSubmissionId = '';
  private pendingSubmissionId: string | null = null;
  private criteriaVersion = '';
  private reviewVerdicts: unknown[] = [];
  private appB = { id: '', clients: [] as string[] };
  /** The app and clients OAuth requests are made for (never the target of sandbox controls). */
  private oauthApp = { id: '', publicClientId: '', confidential: null as null | { clientId: string; keys: Keys } };
  private spares = { app: '', client: '', apiKey: '', grant: '' };
  private patientData: Timed<PatientSession> | null = null;
  private session: Timed<{ cookie: string; csrf: string }> | null = null;
  private platformTokens = new Map<string, Timed<CommandLineSession>>();
  private versions = 0;
  private nonce: Timed<string> | null = null;

  async setup(log: (line: string) => void = () => {}): Promise<void> {
    const started = Date.now();
    const step = (name: string) => log(`fuzz: set-up ${name} at ${Date.now() - started} ms`);
    this.host = await startPublisherHost();
    const host = this.host;
    // The provider must know the platform's callback before the platform starts (which reads the
    // provider's metadata): the platform's port is chosen first.
    const port = await freePort();
    this.idp = await startIdentityProvider({ accounts: { [OTHER_PATIENT]: {} }, redirectUris: [`http://127.0.0.1:${port}/patient/sign-in/callback`] });
    const idp = this.idp;
    this.server = await startTestServer(
      // No sweeper: the store must change only through the requests whose effects are checked.
      { port, operatorToken: OPERATOR_TOKEN, outboundAllowPrivateNetworks: true, outboundTimeoutMs: 2000, sweepIntervalSeconds: 0, patientIdentityProvider: idp.settings() },
      {
        outbound: {
          ca: [host.ca, idp.ca],
          resolve: async (hostname) => [...(await host.resolve(hostname)), ...(await idp.resolve(hostname))],
        },
      },
    );
    step('server');
    this.reviewers = [await createReviewer(this.server, 'fuzz-reviewer-a'), await createReviewer(this.server, 'fuzz-reviewer-b')];
    // The sandbox's seeded reviewer accounts, which /sandbox/sign-ins approves sign-ins for.
    await seedSandboxReviewers(this.server.app.db);
    this.criteriaVersion = (await call(this.server, 'GET', '/certification/criteria')).body.version;
    this.reviewVerdicts = await verdicts(this.server, this.criteriaVersion);
    this.certified = await createCertifiableApp(this.server, host, 'Éditions du fuzzer');
    this.publisher = this.certified.publisher;
    step('certifiable app');
    await this.certify();
    step('certificate');
    this.selfPublisher = await registerPublisher(this.server, 'Éditeur du fuzzer (profil)');

    const appB = await this.createApp('Appli B du fuzzer');
    const clients = (await call(this.server, 'GET', `/apps/${appB}/clients`, { key: this.publisher.key })).body.items.map((client: { clientId: string }) => client.clientId);
    const confidential = await createConfidentialClient(this.server.url, this.publisher.key, appB);
    this.appB = { id: appB, clients: [...clients, confidential.clientId] };

    // Launchable from the patient's space (a launch URL and the launch scope), for /patient/launch.
    const oauthApp = await this.createApp('Appli OAuth du fuzzer', {
      launchUrl: `https://${PUBLISHER_DOMAIN}/launch`,
      scopes: [...certifiableAppInput(host).scopes, { scope: 'launch', justification: 'Ouvrir l’application depuis votre espace santé.' }],
    });
    const [publicClient] = (await call(this.server, 'GET', `/apps/${oauthApp}/clients`, { key: this.publisher.key })).body.items;
    this.oauthApp = { id: oauthApp, publicClientId: publicClient.clientId, confidential: await createConfidentialClient(this.server.url, this.publisher.key, oauthApp) };

    await seedRecord(this.server, FUZZ_PATIENT);
    await seedRecord(this.server, OTHER_PATIENT, { given: 'Paul' });
    step('apps and clients');
    await this.patientDataSession();
    await this.patientSession();
    step('patient credentials');
    this.spares.app = await this.createApp('Appli à supprimer');
    this.spares.client = await this.spareClient();
    this.spares.apiKey = await this.spareApiKey();
    this.spares.grant = await this.spareGrant();
  }

  async close(): Promise<void> {
    await this.server?.close();
    await this.host?.close();
    await this.idp?.close();
  }

  // ---- fixtures ----------------------------------------------------------------------------

  private async createApp(name: string, overrides: Partial<ReturnType<typeof certifiableAppInput>> = {}): Promise<string> {
    const created = await call(this.server, 'POST', '/apps', { key: this.publisher.key, body: certifiableAppInput(this.host, { name, ...overrides }) });
    if (created.status !== 201) throw new Error(`app creation failed: ${JSON.stringify(created.body)}`);
    return created.body.id;
  }

  private async spareClient(): Promise<string> {
    const created = await call(this.server, 'POST', `/apps/${this.appB.id}/clients`, { key: this.publisher.key, body: { type: 'public' } });
    if (created.status !== 201) throw new Error(`client creation failed: ${JSON.stringify(created.body)}`);
    return created.body.clientId;
  }

  private async spareApiKey(): Promise<string> {
    const created = await call(this.server, 'POST', '/publishers/me/api-keys', { key: this.selfPublisher.key, body: { label: 'à révoquer' } });
    if (created.status !== 201) throw new Error(`API key creation failed: ${JSON.stringify(created.body)}`);
    return created.body.id;
  }

  /** A grant of the fuzzer's patient, through another app, for the withdrawal operations. */
  private async spareGrant(): Promise<string> {
    return (await patientToken(this.server, FUZZ_PATIENT, 'patient/Observation.rs')).grantId;
  }

  /** The certified app's open submission (or a new one) approved by both reviewers: a new certificate. */
  private async certify(): Promise<void> {
    this.pendingSubmissionId = null;
    const submissionId = await this.pendingSubmission();
    let certificate: { id: string } | undefined;
    for (const reviewer of this.reviewers) {
      // The fuzzer's own reviews may have brought the submission one approval away.
      if (certificate) break;
      const review = await call(this.server, 'POST', `/review/submissions/${submissionId}/reviews`, {
        key: reviewer.key,
        body: { decision: 'approve', criteriaVersion: this.criteriaVersion, verdicts: this.reviewVerdicts, note: 'Conforme aux critères.' },
      });
      // A reviewer may have approved this submission already, among the fuzzer's own requests.
      if (review.status !== 201 && review.body?.code !== 'already_approved') throw new Error(`review failed: ${JSON.stringify(review.body)}`);
      certificate = review.body.certificate ?? certificate;
    }
    if (!certificate) throw new Error('no certificate after two approvals');
    this.certificateId = certificate.id;
    this.decidedSubmissionId = submissionId;
    this.pendingSubmissionId = null;
  }

  private nextVersion(): string {
    this.versions += 1;
    return `1.${this.versions}.${randomBytes(2).readUInt16BE()}`;
  }

  /** An open submission of the certified app for the reviewers' operations: the open one, or a new one. */
  private async pendingSubmission(): Promise<string> {
    if (this.pendingSubmissionId) return this.pendingSubmissionId;
    const listed = await call(this.server, 'GET', `/apps/${this.certified.appId}/submissions?limit=100`, { key: this.publisher.key });
    const open = (listed.body?.items ?? []).find((item: { state: string }) => item.state === 'submitted' || item.state === 'in_review');
    if (open) return (this.pendingSubmissionId = open.id as string);
    const submitted = await call(this.server, 'POST', `/apps/${this.certified.appId}/submissions`, { key: this.publisher.key, body: { version: this.nextVersion() } });
    if (submitted.status !== 201) throw new Error(`submission failed: ${JSON.stringify(submitted.body)}`);
    return (this.pendingSubmissionId = submitted.body.id as string);
  }

  /** The certified app's certificate, certified again when the fuzzer revoked it. */
  private async liveCertificate(): Promise<string> {
    const live = (state: string) => state === 'certified' || state === 'suspended';
    const current = await call(this.server, 'GET', `/certification/certificates/${this.certificateId}`);
    if (current.status === 200 && live(current.body.state)) return this.certificateId;
    // Superseded by a version the fuzzer's own reviews certified: that version's certificate.
    const listed = await call(this.server, 'GET', `/certification/certificates?appId=${this.certified.appId}`);
    const newer = (listed.body?.items ?? []).find((item: { state: string }) => live(item.state));
    if (newer) return (this.certificateId = newer.id as string);
    await this.certify();
    return this.certificateId;
  }

  /** The token endpoint's current DPoP nonce (usable 5 to 10 minutes; kept 4). */
  private async dpopNonce(): Promise<string | undefined> {
    if (this.nonce && Date.now() - this.nonce.at < TOKEN_RENEWAL_MS) return this.nonce.value;
    // A token request with a proof but no nonce is answered use_dpop_nonce, with the nonce.
    const probe = await fetch(`${this.server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(await newKeys(), `${this.server.url}/oauth/token`) },
      body: form({ grant_type: 'refresh_token', client_id: this.oauthApp.publicClientId, refresh_token: 'x' }),
    });
    await probe.arrayBuffer();
    const nonce = probe.headers.get('dpop-nonce') ?? undefined;
    if (nonce) this.nonce = { value: nonce, at: Date.now() };
    return nonce;
  }

  /** A pending command-line sign-in's user code, for the operations that approve one. */
  private async userCode(scope = 'platform/apps.read'): Promise<string> {
    const started = await postForm(this.server.url, '/oauth/device_authorization', form({ client_id: 'mes-cli', scope }));
    return started.body?.user_code ?? 'ABCD-EFGH';
  }

  /**
   * The parameters of an authorization request of the OAuth app's public client. Without
   * login_hint the sandbox hands the request over to the patient's consent pages.
   */
  private authorizeParameters(challenge: string, loginHint: string | undefined): Record<string, string> {
    return {
      client_id: this.oauthApp.publicClientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'patient/Observation.rs',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(loginHint === undefined ? {} : { login_hint: loginHint }),
    };
  }

  /** An authorization request of the OAuth app's public client, answered with a redirect. */
  private async authorizeRedirect(loginHint: string | undefined): Promise<{ location: URL; verifier: string }> {
    const { verifier, challenge } = pkce();
    const query = form(this.authorizeParameters(challenge, loginHint));
    const answer = await fetch(`${this.server.url}/oauth/authorize?${query}`, { redirect: 'manual' });
    return { location: new URL(answer.headers.get('location') ?? '/', this.server.url), verifier };
  }

  /** A fresh authorization code (and its verifier) of the OAuth app's public client, for a valid token request. */
  private async authorizationCode(): Promise<{ code: string; verifier: string }> {
    const { location, verifier } = await this.authorizeRedirect(OTHER_PATIENT);
    return { code: location.searchParams.get('code') ?? randomBytes(16).toString('base64url'), verifier };
  }

  /** A pending consent (the sandbox asks the patient when no login_hint names one), for the consent screen's operations. */
  private async interaction(): Promise<string> {
    const { location } = await this.authorizeRedirect(undefined);
    return location.searchParams.get('interaction') ?? randomBytes(32).toString('base64url');
  }

  /**
   * A real answer of the identity provider to a sign-in the platform started in a browser of its
   * own (never the fuzzer's signed-in one, which a sign-in would sign out): the callback's query
   * and the browser's attempt cookie.
   */
  private async providerAnswer(): Promise<{ query: Record<string, string>; cookie: string }> {
    const browser = pageBrowser(() => this.server);
    const started = await browser.get('/patient/sign-in/start?return_to=%2Fpatient%2Fapps');
    if (started.status !== 303 || !started.location) throw new Error(`sign-in start failed: ${started.status}`);
    const back = await signInAtProvider(this.idp, started.location, { login: OTHER_PATIENT });
    return { query: Object.fromEntries(back.searchParams), cookie: [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }

  // ---- credentials ---------------------------------------------------------------------------

  private async patientDataSession(): Promise<PatientSession> {
    if (!this.patientData || Date.now() - this.patientData.at > TOKEN_RENEWAL_MS) {
      this.patientData = { value: await patientToken(this.server, FUZZ_PATIENT, PATIENT_SCOPE), at: Date.now() };
    }
    return this.patientData.value;
  }

  private async patientSession(): Promise<{ cookie: string; csrf: string }> {
    if (!this.session || Date.now() - this.session.at > SESSION_RENEWAL_MS) {
      const browser = pageBrowser(() => this.server);
      const signedIn = await browser.post('/patient/sign-in', { patient_id: FUZZ_PATIENT, return_to: '/patient/apps' });
      if (signedIn.status !== 303) throw new Error(`patient sign-in failed: ${signedIn.status}`);
      const page = await browser.get('/patient/apps');
      const cookie = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      this.session = { value: { cookie, csrf: browser.csrfOf(page.html) }, at: Date.now() };
    }
    return this.session.value;
  }

  private async platformToken(apiKey: string, scope: string): Promise<CommandLineSession> {
    const cached = this.platformTokens.get(apiKey);
    if (cached && Date.now() - cached.at < TOKEN_RENEWAL_MS) return cached.value;
    const session = await commandLineSignIn(this.server.url, apiKey, scope);
    this.platformTokens.set(apiKey, { value: session, at: Date.now() });
    return session;
  }

  /**
   * The Authorization (and DPoP, Cookie, Origin) headers of a request: a credential of one of the
   * operation's schemes, with a fresh DPoP proof for the request's method and URL when the
   * scheme is DPoP. Page operations get the patient's session cookie.
   */
  async authenticate(operation: FuzzOperation, method: string, pathWithQuery: string, g: Generator): Promise<Authentication> {
    const url = `${this.server.url}${pathWithQuery.split('?')[0]}`;
    const dpop = async (session: { accessToken: string; keys: Keys }) => ({
      authorization: `DPoP ${session.accessToken}`,
      dpop: await resourceProof(session.keys, { method, url, accessToken: session.accessToken }),
    });
    const schemes = operation.schemes;
    if (schemes.length === 0) {
      // The provider's answer comes with the browser that started the sign-in (its seed's cookie).
      if (operation.id === 'finishPatientSignIn') return { headers: {}, credential: null };
      if (/^\/(patient|catalogue|language)/.test(operation.path)) {
        const session = await this.patientSession();
        return { headers: { cookie: session.cookie, ...(operation.body ? { origin: this.server.url } : {}) }, credential: 'patientSession' };
      }
      return { headers: operation.body?.mediaType === 'application/x-www-form-urlencoded' ? { origin: this.server.url } : {}, credential: null };
    }
    const scheme = pick(g, schemes);
    const ownPublisher = operation.path.startsWith('/publishers/me') ? this.selfPublisher : this.publisher;
    switch (scheme) {
      case 'publisherApiKey':
        return { headers: { authorization: `Bearer ${ownPublisher.key}` }, credential: null };
      case 'reviewerApiKey':
        return { headers: { authorization: `Bearer ${pick(g, this.reviewers).key}` }, credential: null };
      case 'operatorToken':
        return { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` }, credential: null };
      case 'platformToken': {
        const reviewer = schemes.includes('reviewerApiKey') && !schemes.includes('publisherApiKey');
        const key = reviewer ? this.reviewers[0]!.key : ownPublisher.key;
        const session = await this.platformToken(key, reviewer ? 'platform/certification.review' : 'platform/apps.read platform/apps.write');
        return { headers: await dpop(session), credential: `platformToken:${key}` };
      }
      case 'patientDataToken': {
        const session = await this.patientDataSession();
        return { headers: await dpop({ accessToken: session.token, keys: session.keys }), credential: 'patientDataToken' };
      }
      case 'patientSession': {
        const session = await this.patientSession();
        return { headers: { cookie: session.cookie }, credential: 'patientSession' };
      }
      default:
        throw new Error(`no credential for security scheme ${scheme}`);
    }
  }

  // ---- valid values --------------------------------------------------------------------------

  /** Real ids for path parameters, and values that make a request valid and meaningful. */
  async seed(operation: FuzzOperation, g: Generator, valid: boolean): Promise<Seed> {
    const id = operation.id;
    const path: Record<string, string> = {};
    for (const parameter of operation.parameters.filter((p) => p.in === 'path')) {
      const value = await this.pathValue(id, parameter.name, g);
      if (value !== undefined) path[parameter.name] = value;
    }
    return { path, ...(await this.values(operation, g, valid)) };
  }

  private async pathValue(operationId: string, name: string, g: Generator): Promise<string | undefined> {
    const certifiedApp = this.certified.appId;
    switch (name) {
      case 'appId':
        if (operationId === 'deleteApp') return this.spares.app;
        if (/Catalog|catalogue|Notice/i.test(operationId)) return certifiedApp;
        if (['runAppChecks', 'submitApp', 'listAppSubmissions', 'getAppCertification'].includes(operationId)) return pick(g, [certifiedApp, this.appB.id]);
        return this.appB.id;
      case 'clientId':
        if (operationId === 'deleteClient') return this.spares.client;
        // Only a confidential client has keys to replace.
        if (operationId === 'replaceClientKeys') return this.appB.clients.at(-1);
        return pick(g, this.appB.clients);
      case 'keyId':
        return this.spares.apiKey;
      case 'publisherId':
        return pick(g, [this.publisher.id, this.selfPublisher.id]);
      case 'submissionId':
        return g(fc.nat, { max: 3 }) === 0 ? this.decidedSubmissionId : await this.pendingSubmission();
      case 'certificateId':
        return await this.liveCertificate();
      case 'grantId':
        return this.spares.grant;
      case 'id': {
        const type = /^read(.+)$/.exec(operationId)?.[1];
        if (type === 'Patient') return FUZZ_PATIENT;
        const resources = sampleRecord(FUZZ_PATIENT).filter((resource) => resource.resource.resourceType === type);
        return resources.length ? pick(g, resources).id : undefined;
      }
      default:
        return undefined;
    }
  }

  /** `valid`: the request is the valid one of its turn, so single-use values (an authorization code) are worth spending. */
  private async values(operation: FuzzOperation, g: Generator, valid: boolean): Promise<Omit<Seed, 'path'>> {
    const text = (...options: string[]) => pick(g, options);
    const session = () => this.patientSession();
    const jwk = async () => ({ ...(await newKeys()).publicJwk, kid: `fuzz-${randomBytes(3).toString('hex')}` });
    const { challenge } = pkce();
    switch (operation.id) {
      case 'registerPublisher':
        return { body: { name: 'Éditeur aléatoire', registrationNumber: uniqueRegistrationNumber(), contactEmail: 'dev@editeur.example.fr', domains: ['editeur.example.fr'] } };
      case 'createApp':
        return { body: certifiableAppInput(this.host, { name: text('Appli du fuzzer', 'TensioTest', 'Suivi Glycémie') }) as unknown as Record<string, unknown> };
      case 'updateApp':
        return { body: { name: text('Appli B renommée', 'Appli B du fuzzer') } };
      case 'createClient':
        return { body: g(fc.boolean) ? { type: 'public' } : { type: 'confidential', jwks: { keys: [await jwk()] } } };
      case 'replaceClientKeys':
        return { body: { jwks: { keys: [await jwk()] } } };
      case 'createApiKey':
        return { body: { label: 'clé du fuzzer' } };
      case 'submitApp':
        return { body: { version: this.nextVersion() } };
      case 'reviewSubmission':
        return { body: { decision: text('approve', 'request_changes'), criteriaVersion: this.criteriaVersion, verdicts: this.reviewVerdicts, note: 'Avis du fuzzer.' } };
      case 'reinstateCertificate':
        // Only a suspended certificate can be reinstated (the world reinstates it again afterwards).
        await call(this.server, 'POST', `/certification/certificates/${this.certificateId}/suspension`, { key: this.reviewers[0]!.key, body: { reason: 'Suspendu par le fuzzer.' } });
        return { body: { reason: 'Motif donné par le fuzzer.' } };
      case 'suspendCertificate':
      case 'revokeCertificate':
        return { body: { reason: 'Motif donné par le fuzzer.' } };
      case 'createReviewer':
        return { body: { login: `fuzz-${randomBytes(4).toString('hex')}`, name: 'Relecteur du fuzzer', email: 'relecteur@certification.example.gouv.fr' } };
      case 'injectFault':
        return { body: { kind: text('rate_limited', 'unavailable', 'latency', 'expired_token'), count: 1 } };
      case 'withdrawClientGrants':
        return { body: { patient: OTHER_PATIENT } };
      case 'applyScenario':
        // Never the fuzzer's patient: account-closed or patient-opposed would end its access.
        return { body: { scenario: text('consent-withdrawn', 'app-suspended', 'child-turns-18', 'account-closed', 'patient-opposed'), patient: `fuzz-scenario-${randomBytes(3).toString('hex')}`, clientId: this.appB.clients[0]! } };
      case 'approveSandboxSignIn':
        // The seeded reviewers (the sandbox's demo publisher is not seeded here): a reviewer's scope.
        return { body: { userCode: await this.userCode('platform/certification.review'), user: text('reviewer-a', 'reviewer-b', 'reviewer-linked') } };
      case 'showDeviceSignIn':
        return { query: { user_code: await this.userCode() } };
      case 'showAuthorization':
        return { query: { interaction: await this.interaction() } };
      case 'listCertificates':
        return { query: { appId: this.certified.appId } };
      case 'getCriteria':
        return { query: { version: this.criteriaVersion } };
      case 'verifyAccessHistory':
        return { query: { patient: FUZZ_PATIENT } };
      case 'switchLanguage':
        return { query: { lang: text('fr', 'en'), return_to: '/patient/apps' } };
      case 'createObservation':
      case 'createDocumentReference': {
        const type = operation.id.slice('create'.length);
        const resource = sampleRecord(FUZZ_PATIENT).find((item) => item.resource.resourceType === type)!.resource;
        return { body: structuredClone(resource) as unknown as Record<string, unknown> };
      }
      case 'authorize':
        return { query: { ...this.authorizeParameters(challenge, g(fc.boolean) ? OTHER_PATIENT : undefined), state: randomBytes(8).toString('hex') } };
      case 'pushAuthorizationRequest': {
        const client = this.oauthApp.confidential!;
        return {
          body: {
            client_id: client.clientId,
            response_type: 'code',
            redirect_uri: redirectUri,
            scope: 'patient/Observation.rs',
            code_challenge: challenge,
            code_challenge_method: 'S256',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: await clientAssertion(this.server.url, client),
          },
        };
      }
      case 'token': {
        // A real code only for the valid request: a mutated one must not spend it (whether a
        // refused exchange burns a code is the server's call, not a change this fuzzer judges).
        const { code, verifier } = valid ? await this.authorizationCode() : { code: randomBytes(16).toString('base64url'), verifier: pkce().verifier };
        return {
          headers: { dpop: await dpopProof(await newKeys(), `${this.server.url}/oauth/token`, await this.dpopNonce()) },
          body: { grant_type: 'authorization_code', client_id: this.oauthApp.publicClientId, code, code_verifier: verifier, redirect_uri: redirectUri },
        };
      }
      case 'revokeToken':
      case 'introspectToken':
        return { body: { token: randomBytes(16).toString('base64url'), client_id: this.oauthApp.publicClientId } };
      case 'deviceAuthorization':
        return { body: { client_id: 'mes-cli', scope: 'platform/apps.read' } };
      case 'decideDeviceSignIn':
        return { body: { user_code: await this.userCode(), api_key: this.selfPublisher.key, decision: text('approve', 'deny') } };
      case 'patientSignIn':
        return { body: { patient_id: OTHER_PATIENT, return_to: '/patient/apps' } };
      case 'finishPatientSignIn': {
        // A real answer only for the valid request: a mutated one must not spend an attempt.
        if (!valid) return { query: { code: randomBytes(32).toString('base64url'), state: randomBytes(32).toString('base64url'), iss: this.idp.issuer } };
        const answer = await this.providerAnswer();
        return { query: answer.query, headers: { cookie: answer.cookie } };
      }
      case 'patientSignOut':
      case 'withdrawConnectedApp':
      case 'dismissCertificationNotice':
        return { body: { csrf_token: (await session()).csrf } };
      case 'launchApp':
        return { body: { app_id: this.oauthApp.id, csrf_token: (await session()).csrf } };
      case 'decideAuthorization':
        return { body: { interaction: await this.interaction(), csrf_token: (await session()).csrf, decision: text('approve', 'refuse'), grant_0: 'patient/Observation.rs' } };
      default: {
        if (operation.spec.errorFormat !== 'fhir') return {};
        // FHIR: this patient's record, and a _format that admits JSON when one is sent at all.
        const query: Record<string, string> = {};
        if (operation.parameters.some((p) => p.name === 'patient')) query.patient = FUZZ_PATIENT;
        if (operation.parameters.some((p) => p.name === '_format') && g(fc.boolean)) query._format = text('json', 'application/fhir+json', 'application/json');
        return { query };
      }
    }
  }

  /**
   * For an optional parameter or top-level body member the world gives no value for: values the
   * server can act on (a generated cursor or `_elements` is well-formed but meaningless, so a valid
   * request would stop at a semantic 400), `null` to leave it out, undefined to let the schema
   * generate one.
   */
  plausible(operation: FuzzOperation, name: string): string[] | null | undefined {
    const fhir = operation.spec.errorFormat === 'fhir';
    switch (name) {
      case 'cursor':
      case '_cursor':
      case 'dpop_jkt':
      case 'launch':
      case 'request_uri':
      case 'client_assertion_type':
      case 'client_assertion':
      case 'sandboxEvidence':
      case 'sandboxClientId':
      case 'for':
        return null;
      // An error from the provider would refuse the sign-in the world's valid answer makes.
      case 'error':
      case 'error_description':
      case 'error_uri':
        return operation.id === 'finishPatientSignIn' ? null : undefined;
      case '_format':
        return ['json', 'application/fhir+json'];
      case '_elements':
        return ['id', 'status,code', 'subject'];
      case '_summary':
        return ['false', 'data', 'count'];
      case '_lastUpdated':
      case 'date':
        return fhir ? ['ge2020-01-01', 'lt2030-01-01T00:00:00Z', '2026'] : undefined;
      case '_id':
        return [FUZZ_PATIENT];
      case 'category':
        return fhir ? ['vital-signs', 'laboratory', 'medication'] : undefined;
      case 'code':
        return fhir ? ['http://loinc.org|29463-7', '4548-4'] : undefined;
      case 'status':
        return fhir ? ['final', 'current', 'booked'] : undefined;
      case 'vaccine-code':
        return ['J07CA01'];
      case 'clinical-status':
        return ['active'];
      case 'type':
        return fhir ? ['http://loinc.org|11488-4'] : undefined;
      case 'token_type_hint':
        return ['access_token', 'refresh_token'];
      case 'aud':
        return [`${this.server.url}/fhir`];
      case 'from':
      case 'to':
        return operation.path.startsWith('/patient/history') ? ['2026-01-01', '2026-12-31'] : undefined;
      case 'app':
        return operation.path.startsWith('/patient/history') ? null : undefined;
      default:
        return undefined;
    }
  }

  // ---- after each request --------------------------------------------------------------------

  /**
   * Replaces what a request consumed (a spare deleted, the session signed out) and renews a
   * credential the server no longer accepts.
   */
  async after(operation: FuzzOperation, status: number, credential: string | null, valid: boolean): Promise<void> {
    // A mutated request can earn a 401 of its own (a path that no longer matches the DPoP proof's htu).
    if (status === 401 && credential && valid) this.forget(credential);
    // The world suspended the certificate for this request: back in the catalogue whatever came of it.
    if (operation.id === 'reinstateCertificate' && status >= 400) await this.reinstate();
    if (status >= 400) return;
    switch (operation.id) {
      case 'deleteApp':
        if (status === 204) this.spares.app = await this.createApp('Appli à supprimer');
        break;
      case 'deleteClient':
        if (status === 204) this.spares.client = await this.spareClient();
        break;
      case 'revokeApiKey':
        if (status === 204) this.spares.apiKey = await this.spareApiKey();
        break;
      case 'withdrawConnectedApp':
      case 'withdrawConnectedAppApi':
        this.spares.grant = await this.spareGrant();
        break;
      case 'patientSignOut':
        this.session = null;
        break;
      case 'reviewSubmission':
      case 'submitApp':
        this.pendingSubmissionId = null;
        break;
      // The certified app goes back in the catalogue at once, so that the catalogue's operations
      // keep a certified app to show: reinstated after a suspension, certified again (a new
      // version) after a revocation.
      case 'suspendCertificate':
        await this.reinstate();
        break;
      case 'revokeCertificate':
        await this.liveCertificate();
        break;
      default:
        break;
    }
  }

  private async reinstate(): Promise<void> {
    await call(this.server, 'POST', `/certification/certificates/${this.certificateId}/reinstatement`, { key: this.reviewers[0]!.key, body: { reason: 'Rétabli par le fuzzer.' } });
  }

  private forget(credential: string): void {
    if (credential === 'patientDataToken') this.patientData = null;
    else if (credential === 'patientSession') this.session = null;
    else if (credential.startsWith('platformToken:')) this.platformTokens.delete(credential.slice('platformToken:'.length));
  }
}
