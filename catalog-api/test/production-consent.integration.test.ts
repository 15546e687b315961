// Outside the sandbox, end to end: a certified app pushes its request (PAR, private_key_jwt),
// the browser is handed to the consent screen, which sends it to sign in at the identity
// provider (a real oidc-provider over HTTPS), back to the consent screen, where the patient
// unticks a permission and approves; the app redeems its code and gets exactly what was approved.
// Without a provider configured, every authorization still ends with temporarily_unavailable.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../src/core/config.js';
import type { BuildOptions } from '../src/app.js';
import { setCertificationStatus } from '../src/modules/catalog/index.js';
import { startTestServer, type TestServer } from '../src/testing.js';
import { exchangeAtCallback, registerApp, startAuthorization, type TestApp } from './browser/journey.js';
import { seedRecord } from './fhir-helpers.js';
import { useServer } from './helpers.js';
import { startIdentityProvider, type TestIdentityProvider } from './identity-provider.js';
import { pageBrowser } from './page-browser.js';

const PUBLIC = 'https://api.mes.example.fr';
const REDIRECT = 'https://carnet.example.fr/oauth/callback';

describe('authorization outside the sandbox, through the identity provider and the consent screen', () => {
  let idp: TestIdentityProvider;
  let server: TestServer;
  let app: TestApp;
  beforeAll(async () => {
    idp = await startIdentityProvider({
      accounts: { 'prod-patient-1': {} },
      redirectUris: [`${PUBLIC}/patient/sign-in/callback`],
      postLogoutRedirectUris: [`${PUBLIC}/patient/signed-out`],
    });
    const overrides: Partial<AppConfig> = { mode: 'production', publicUrl: PUBLIC, patientIdentityProvider: idp.settings() };
    const options: BuildOptions = { outbound: { ca: idp.ca, resolve: idp.resolve } };
    server = await startTestServer(overrides, options);
    await seedRecord(server, 'prod-patient-1', { given: 'Jeanne', family: 'Lefebvre' });
    app = await registerApp(server, {
      name: 'Suivi Vaccins',
      confidential: true,
      redirectUri: REDIRECT,
      scopes: [
        { scope: 'patient/Immunization.rs', justification: 'Afficher vos vaccins et leurs rappels.', required: true },
        { scope: 'patient/Observation.rs', justification: 'Suivre votre poids entre deux rendez-vous.' },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await idp?.close();
  });

  /** A URL of the platform (its public origin) as the test server's. */
  const local = (url: string) => (url.startsWith(PUBLIC) ? url.slice(PUBLIC.length) : url);

  it('signs the patient in at the provider, shows the consent screen, and grants what stayed ticked', async () => {
    const me = pageBrowser(() => ({ url: server.url }));
    // The browser's Origin is the platform's public one.
    const post = (path: string, values: Record<string, string>) => me.post(path, values, { origin: PUBLIC });
    const started = await startAuthorization(server, app, 'patient/Immunization.rs patient/Observation.rs');
    const authorize = await me.get(local(started.url));
    expect(authorize.status).toBe(303);
    const screen = local(authorize.location!);
    expect(screen).toMatch(/^\/patient\/authorize\?interaction=/);

    const toSignIn = await me.get(screen);
    expect(toSignIn.location).toBe(`/patient/sign-in?return_to=${encodeURIComponent(screen)}`);
    const signInPage = await me.get(toSignIn.location!);
    expect(signInPage.status).toBe(200);
    expect(signInPage.html).toContain('Suivi Vaccins'); // which app is asking
    const startHref = /href="(\/patient\/sign-in\/start\?[^"]+)"/.exec(signInPage.html)![1]!.replaceAll('&amp;', '&');
    const toProvider = await me.get(startHref);
    expect(toProvider.status).toBe(303);
    const back = await idp.browser().signIn(toProvider.location!, { login: 'prod-patient-1' });
    const signedIn = await me.get(`${back.pathname}${back.search}`);
    expect(signedIn.status, signedIn.html).toBe(303);
    expect(signedIn.location).toBe(screen);

    const consent = await me.get(screen);
    expect(consent.status).toBe(200);
    expect(consent.html).toContain('<h1>Autoriser Suivi Vaccins\u00a0?</h1>');
    expect(consent.html).toContain('Connecté\u00a0: <strong>Jeanne Lefebvre</strong>');
    // The header's sign-out may lead to the provider, the decision to the app: nowhere else.
    expect(consent.headers.get('content-security-policy')).toContain(`form-action 'self' ${new URL(idp.issuer).origin} https://carnet.example.fr;`);
    const interaction = new URL(screen, PUBLIC).searchParams.get('interaction')!;
    const approved = await post('/patient/authorize', { interaction, csrf_token: me.csrfOf(consent.html), decision: 'approve' });
    expect(approved.status).toBe(303);
    const callback = new URL(approved.location!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    const tokens = await exchangeAtCallback(server, app, started, callback, PUBLIC);
    expect(tokens.scope).toBe('patient/Immunization.rs');
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ patient: 'prod-patient-1', sub: 'prod-patient-1' });
  });

  /** A browser signed in at the provider as prod-patient-1, on the consent screen of a new request. */
  async function onConsentScreen(extra: Record<string, string> = {}) {
    const me = pageBrowser(() => ({ url: server.url }));
    const started = await startAuthorization(server, app, 'patient/Immunization.rs', extra);
    const screen = local((await me.get(started.url)).location!);
    const toProvider = await me.get(`/patient/sign-in/start?return_to=${encodeURIComponent(screen)}`);
    const back = await idp.browser().signIn(toProvider.location!, { login: 'prod-patient-1' });
    expect((await me.get(`${back.pathname}${back.search}`)).location).toBe(screen);
    const consent = await me.get(screen);
    expect(consent.status).toBe(200);
    return { me, started, consent, interaction: new URL(screen, PUBLIC).searchParams.get('interaction')! };
  }

  it('ignores login_hint outside the sandbox: the patient still signs in and decides', async () => {
    const { consent } = await onConsentScreen({ login_hint: 'someone-else' });
    expect(consent.html).toContain('<h1>Autoriser Suivi Vaccins\u00a0?</h1>');
    expect(consent.html).toContain('Connecté\u00a0: <strong>Jeanne Lefebvre</strong>');
  });

  it('sends unauthorized_client back when the app is suspended while the patient decides', async () => {
    const { me, consent, interaction } = await onConsentScreen();
    await setCertificationStatus(server.app.db, app.appId, 'suspended');
    try {
      const approved = await me.post('/patient/authorize', { interaction, csrf_token: me.csrfOf(consent.html), decision: 'approve' }, { origin: PUBLIC });
      expect(approved.status).toBe(303);
      const back = new URL(approved.location!);
      expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
      expect(back.searchParams.get('error')).toBe('unauthorized_client');
      expect(back.searchParams.get('code')).toBeNull();
    } finally {
      await setCertificationStatus(server.app.db, app.appId, 'certified');
    }
  });

  it('refuses the app once it is suspended: the browser goes back to the app with unauthorized_client', async () => {
    await setCertificationStatus(server.app.db, app.appId, 'suspended');
    try {
      const started = await startAuthorization(server, app, 'patient/Immunization.rs');
      const answer = await fetch(started.url, { redirect: 'manual' });
      expect(new URL(answer.headers.get('location')!).searchParams.get('error')).toBe('unauthorized_client');
    } finally {
      await setCertificationStatus(server.app.db, app.appId, 'certified');
    }
  });
});

describe('outside the sandbox without an identity provider', () => {
  const production = useServer({ mode: 'production', publicUrl: PUBLIC });
  it('ends every authorization with temporarily_unavailable, and says sign-in is unavailable', async () => {
    const app = await registerApp(production(), { name: 'Sans fournisseur', confidential: true, redirectUri: REDIRECT, scopes: [{ scope: 'patient/Immunization.rs', justification: 'Afficher vos vaccins.' }] });
    const started = await startAuthorization(production(), app, 'patient/Immunization.rs');
    const answer = await fetch(started.url, { redirect: 'manual' });
    expect(answer.status).toBe(303);
    const back = new URL(answer.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('temporarily_unavailable');
    const signIn = await fetch(`${production().url}/patient/sign-in`);
    expect(signIn.status).toBe(503);
  });
});
