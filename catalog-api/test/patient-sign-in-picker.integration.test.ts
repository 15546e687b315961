// The sandbox's sign-in: a picker of synthetic patients (search by name or id, accents and case
// aside; one button per patient; a typed id still works), the app that is asking when the sign-in
// comes from an authorization, and a sandbox that also has an identity provider configured
// (the provider's link first, the picker below). Signing out of the sandbox shows the
// signed-out page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing.js';
import { seedGuardianship, seedRecord } from './fhir-helpers.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { startIdentityProvider, type TestIdentityProvider } from './identity-provider.js';
import { form, pkce } from './oauth-helpers.js';
import { pageBrowser } from './page-browser.js';

/** Follows the sandbox's pages like a browser (cookies kept, the page's Origin on posts, redirects by hand). */
const browser = (server: () => TestServer, origin?: string) => pageBrowser(server, origin ? { origin } : {});

/** The forms of the picker's list: patient id and button text, in order. */
const listed = (html: string) =>
  [...html.matchAll(/<input type="hidden" name="patient_id" value="([^"]+)">\n<button class="fr-btn fr-btn--secondary" aria-describedby="[^"]+">([^<]+)<\/button>/g)].map(([, id, name]) => ({ id, name }));

describe('the sandbox’s patient picker', () => {
  const server = useServer();
  beforeAll(async () => {
    await seedRecord(server(), 'picker-helene', { given: 'Hélène', family: 'Dupré', birthDate: '1975-03-02' });
    await seedRecord(server(), 'picker-jean', { given: 'Jean', family: 'Martin' });
    await seedRecord(server(), 'picker-lucie', { given: 'Lucie', family: 'Dupré', birthDate: '2015-09-30' });
    await seedGuardianship(server(), 'picker-helene', 'picker-lucie', null);
  });

  it('finds patients by name whatever the accents and case, and by id', async () => {
    const me = browser(server);
    for (const q of ['helene', 'HÉLÈNE', 'DuPre']) {
      const page = await me.get(`/patient/sign-in?q=${encodeURIComponent(q)}&return_to=%2Fpatient%2Fhistory`);
      expect(page.status).toBe(200);
      expect(listed(page.html).map((patient) => patient.id)).toContain('picker-helene');
      expect(listed(page.html).map((patient) => patient.id)).not.toContain('picker-jean');
    }
    const byId = await me.get('/patient/sign-in?q=picker-jean');
    expect(listed(byId.html)).toEqual([{ id: 'picker-jean', name: 'Jean Martin' }]);
    const none = await me.get('/patient/sign-in?q=zzz-nobody');
    expect(listed(none.html)).toEqual([]);
    expect(none.html).toContain('Aucun patient de test ne correspond à cette recherche.');
    expect(none.html).toContain('value="zzz-nobody"');
  });

  it('shows each patient as one button, with birth date, id and whom they are the guardian of', async () => {
    const page = await browser(server).get('/patient/sign-in?q=dupre&return_to=%2Fpatient%2Fhistory');
    expect(listed(page.html)).toEqual([
      { id: 'picker-lucie', name: 'Lucie Dupré' },
      { id: 'picker-helene', name: 'Hélène Dupré' },
    ]);
    expect(page.html).toContain('Né(e) le 2 mars 1975 · identifiant picker-helene · représentant légal de Lucie Dupré');
    // Every form goes back to where the sign-in was asked from.
    expect(page.html.match(/name="return_to" value="\/patient\/history"/g)?.length).toBe(4);
    // The search is a GET form with a label; the typed id is still offered.
    expect(page.html).toContain('<form method="get" action="/patient/sign-in" class="filters" role="search">');
    expect(page.html).toContain('<label class="fr-label" for="q">Rechercher un patient (nom, prénom ou identifiant)</label>');
    expect(page.html).toContain('<label class="fr-label" for="patient_id">Identifiant du patient de test</label>');
    // The typed field starts empty (an example as placeholder), so nobody signs in as a patient they did not choose.
    expect(page.html).toMatch(/<input class="fr-input" type="text" id="patient_id" name="patient_id" required maxlength="64" autocomplete="off" placeholder="sandbox-patient-1">/);
  });

  it('signs the chosen patient in with one click, back to return_to', async () => {
    const me = browser(server);
    const page = await me.get('/patient/sign-in?q=helene&return_to=%2Fpatient%2Fapps');
    const chosen = listed(page.html).find((patient) => patient.name === 'Hélène Dupré')!;
    const signedIn = await me.post('/patient/sign-in', { patient_id: chosen.id!, return_to: '/patient/apps' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe('/patient/apps');
    const apps = await me.get('/patient/apps');
    expect(apps.status).toBe(200);
    expect(apps.html).toContain('Hélène Dupré');
  });

  it('refuses a choice posted from another site', async () => {
    const attacked = browser(server, 'https://evil.example.com');
    const result = await attacked.post('/patient/sign-in', { patient_id: 'picker-helene', return_to: '/patient/apps' });
    expect(result.status).toBe(403);
    expect(attacked.cookies.size).toBe(0);
  });

  it('says which app is asking when the sign-in comes from an authorization', async () => {
    const publisher = await registerPublisher(server());
    const created = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput({ name: 'TensioSuivi' }) });
    const [client] = (await call(server(), 'GET', `/apps/${created.body.id}/clients`, { key: publisher.key })).body.items;
    const authorize = await fetch(
      `${server().url}/oauth/authorize?${form({
        client_id: client.clientId,
        response_type: 'code',
        redirect_uri: 'https://tensiosuivi.example.fr/oauth/callback',
        scope: 'patient/Observation.rs?category=vital-signs',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    );
    const interaction = /interaction=([A-Za-z0-9_-]{43})/.exec(authorize.headers.get('location') ?? '')?.[1];
    expect(interaction, authorize.headers.get('location') ?? '').toBeDefined();
    const returnTo = `/patient/authorize?interaction=${interaction}`;
    const page = await browser(server).get(`/patient/sign-in?return_to=${encodeURIComponent(returnTo)}`);
    expect(page.html).toContain('<div class="fr-alert fr-alert--info fr-alert--sm"><p>TensioSuivi demande l’accès à vos données. Connectez-vous pour continuer.</p></div>');
  });

  it('signs out to the signed-out page', async () => {
    const me = browser(server);
    await me.post('/patient/sign-in', { patient_id: 'picker-jean', return_to: '/patient/apps' });
    const csrf = /name="csrf_token" value="([^"]+)"/.exec((await me.get('/patient/apps')).html)![1]!;
    const out = await me.post('/patient/sign-out', { csrf_token: csrf });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/patient/signed-out');
    expect((await me.get('/patient/apps')).status).toBe(303);
    const page = await me.get('/patient/signed-out');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<a href="/patient/sign-in">Se connecter à nouveau</a>');
  });
});

describe('a sandbox with an identity provider configured', () => {
  const PUBLIC = 'https://sandbox.mes.example.fr';
  let idp: TestIdentityProvider;
  let server: TestServer;
  beforeAll(async () => {
    idp = await startIdentityProvider({ accounts: { 'sandbox-oidc': {} }, redirectUris: [`${PUBLIC}/patient/sign-in/callback`], hostname: 'sandbox-idp.test' });
    server = await startTestServer({ publicUrl: PUBLIC, patientIdentityProvider: idp.settings({ name: 'Keycloak local' }) }, { outbound: { ca: idp.ca, resolve: idp.resolve } });
    await seedRecord(server, 'sandbox-oidc', { given: 'Émile', family: 'Zola' });
  });
  afterAll(async () => {
    await server?.close();
    await idp?.close();
  });

  it('offers the provider first and the picker below; both sign in', async () => {
    const me = browser(() => server, PUBLIC);
    const page = await me.get('/patient/sign-in');
    expect(page.html).toMatch(/<a class="fr-btn" href="\/patient\/sign-in\/start\?return_to=%2Fpatient%2Fapps">Se connecter avec Keycloak local<\/a><\/p>\n<h2>Ou choisissez un patient de test<\/h2>/);
    expect(listed(page.html).map((patient) => patient.id)).toContain('sandbox-oidc');

    const started = await me.get('/patient/sign-in/start');
    expect(started.headers.getSetCookie()[0]).toMatch(/^__Host-mes_sign_in=/);
    const back = await idp.browser().signIn(started.location!, { login: 'sandbox-oidc' });
    const done = await me.get(`${back.pathname}${back.search}`);
    expect(done.status, done.html).toBe(303);
    expect((await me.get('/patient/apps')).html).toContain('Émile Zola');

    const picked = browser(() => server, PUBLIC);
    expect((await picked.post('/patient/sign-in', { patient_id: 'sandbox-oidc' })).status).toBe(303);
  });
});
