// The patient's whole journey in a real browser (Debian's Chromium, JavaScript off): an app starts
// an authorization (PAR, confidential client), the patient signs in, reads the consent screen,
// unticks a permission, chooses a duration and approves; the app reads only what was approved;
// the patient sees the access in their history, withdraws the app from "my connected apps", and
// the app's next request fails. Then the same for a guardian acting for a child, and a refusal.
// Every page on the way passes axe (WCAG 2.1 AA), fits 360 px, and works by keyboard.
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { fhirRequest, seedGuardianship, seedRecord } from '../fhir-helpers.js';
import { call, useServer } from '../helpers.js';
import { clientAssertion, form, postForm } from '../oauth-helpers.js';
import { checkPage, describeInBrowser, setChoice, useBrowser } from './browser.js';
import { arrivedAtApp, finishAuthorization, registerApp, signInAsPatient, startAuthorization, useAppSite, type AppTokens, type TestApp } from './journey.js';

const PATIENT = 'journey-claire';
const GUARDIAN = 'journey-karim';
const CHILD = 'journey-nour';
const SCOPE = 'launch/patient offline_access patient/Immunization.rs patient/Observation.rs patient/AllergyIntolerance.rs';

describeInBrowser('the patient journey in Chromium', () => {
  const server = useServer();
  const browser = useBrowser();
  const appSite = useAppSite();
  let app: TestApp;

  beforeAll(async () => {
    await seedRecord(server(), PATIENT, { given: 'Claire', family: 'Martin', birthDate: '1968-04-12' });
    await seedRecord(server(), GUARDIAN, { given: 'Karim', family: 'Haddad', birthDate: '1984-11-03' });
    await seedRecord(server(), CHILD, { given: 'Nour', family: 'Haddad', birthDate: '2017-06-21' });
    await seedGuardianship(server(), GUARDIAN, CHILD, '2035-06-21');
    app = await registerApp(server(), {
      name: 'Carnet Santé Famille',
      confidential: true,
      redirectUri: appSite().redirectUri('carnet'),
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel patient le carnet est ouvert.' },
        { scope: 'offline_access', justification: 'Mettre le carnet à jour sans vous redemander.' },
        { scope: 'patient/Immunization.rs', justification: 'Afficher vos vaccins et les rappels à venir.', required: true },
        { scope: 'patient/Observation.rs', justification: 'Suivre vos mesures (poids, tension) dans le carnet.' },
        { scope: 'patient/AllergyIntolerance.rs', justification: 'Signaler une allergie avant un vaccin.' },
      ],
    });
  });

  /** The app sends the browser to the authorization endpoint; the patient signs in and lands on the consent screen. */
  async function toConsentScreen(patient: string, device: 'desktop' | 'phone' = 'desktop') {
    const page = await browser.newPage({ device, baseURL: server().url });
    const started = await startAuthorization(server(), app, SCOPE);
    await page.goto(started.url);
    expect(new URL(page.url()).pathname).toBe('/patient/sign-in');
    await signInAsPatient(page, patient);
    expect(new URL(page.url()).pathname).toBe('/patient/authorize');
    return { page, started };
  }

  const appRead = (tokens: AppTokens, path: string) => fhirRequest(server(), { token: tokens.accessToken, keys: tokens.keys }, 'GET', path);

  async function withdrawFromConnectedApps(page: Page) {
    await page.goto('/patient/apps');
    await page.getByRole('button', { name: `Retirer l’accès de ${app.name}` }).click();
    // A confirmation step: nothing is withdrawn until the patient says yes.
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(`Retirer l’accès de ${app.name}\u00a0?`);
    await page.getByRole('button', { name: 'Oui, retirer l’accès' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'withdrawn');
    expect(await page.getByRole('status').first().innerText()).toContain('L’accès a été retiré');
  }

  it('approves less than asked, reads only that, sees it in the history, withdraws, and the app is cut off', async () => {
    const { page, started } = await toConsentScreen(PATIENT);
    // What the patient reads before deciding.
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(`Autoriser ${app.name}\u00a0?`);
    const main = page.getByRole('main');
    await expect.poll(() => main.getByText('Certifiée', { exact: true }).count()).toBe(1);
    expect(await main.innerText()).toMatch(/Certificat n° MES-\d{4}-\d{6}/);
    expect(await main.innerText()).toContain('Pourquoi\u00a0: Suivre vos mesures (poids, tension) dans le carnet.');
    const required = page.getByRole('checkbox', { name: /Lire vos vaccinations/ });
    expect(await required.isDisabled()).toBe(true);
    expect(await required.isChecked()).toBe(true);
    await checkPage(page, { screenshot: 'consent' });

    // Untick the measurements, keep the allergies, one year, approve.
    await setChoice(page.getByRole('checkbox', { name: /Lire vos mesures et résultats/ }), false);
    await setChoice(page.getByRole('radio', { name: /^1 an/ }), true);
    await page.getByRole('button', { name: 'Autoriser', exact: true }).click();
    const tokens = await finishAuthorization(server(), app, started, await arrivedAtApp(page, app));
    expect(tokens.scope).toBe('launch/patient offline_access patient/AllergyIntolerance.rs patient/Immunization.rs');
    expect(tokens.scope).not.toContain('Observation');
    expect(tokens.patient).toBe(PATIENT);

    // The app reads what was approved, and not the unticked measurements.
    const vaccinations = await appRead(tokens, `/fhir/Immunization?patient=${PATIENT}`);
    expect(vaccinations.status).toBe(200);
    expect(vaccinations.body.entry.length).toBeGreaterThan(0);
    expect((await appRead(tokens, `/fhir/AllergyIntolerance?patient=${PATIENT}`)).status).toBe(200);
    const measurements = await appRead(tokens, `/fhir/Observation?patient=${PATIENT}`);
    expect(measurements.status).toBe(403);

    // The patient sees the access in their history.
    await page.goto('/patient/history');
    const history = page.getByRole('table');
    expect(await history.innerText()).toContain(app.name);
    expect(await history.innerText()).toMatch(/Vaccinations/);
    expect(await history.innerText()).not.toMatch(/Mesures/);
    await checkPage(page, { screenshot: 'access-history' });

    // "My connected apps": what it may do, until when, its last access; withdraw.
    await page.goto('/patient/apps');
    const card = page.locator('li.mes-card', { has: page.getByRole('heading', { name: app.name }) });
    expect(await card.innerText()).toMatch(/jusqu’au \d{1,2} \S+ \d{4}/);
    expect(await card.innerText()).toMatch(/Dernier accès à vos données\u00a0: /);
    expect(await card.innerText()).toContain('Lire vos allergies');
    expect(await card.innerText()).not.toContain('Lire vos mesures');
    await checkPage(page, { screenshot: 'connected-apps-journey' });
    await withdrawFromConnectedApps(page);
    await checkPage(page);

    // The app's next request fails, and so does its refresh.
    const after = await appRead(tokens, `/fhir/Immunization?patient=${PATIENT}`);
    expect(after.status).toBe(401);
    const issuer = (await call(server(), 'GET', '/.well-known/oauth-authorization-server')).body.issuer;
    const refresh = await postForm(
      server().url,
      '/oauth/token',
      form({
        grant_type: 'refresh_token',
        client_id: app.clientId,
        refresh_token: tokens.refreshToken!,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(issuer, { clientId: app.clientId, keys: app.keys! }),
      }),
      tokens.keys,
    );
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('lets a guardian give access to their child’s record, on a phone', async () => {
    const { page, started } = await toConsentScreen(GUARDIAN, 'phone');
    const forChild = page.getByRole('radio', { name: /Pour Nour Haddad, né\(e\) le 21 juin 2017/ });
    expect(await page.getByRole('radio', { name: /Pour moi-même/ }).isChecked()).toBe(true);
    await checkPage(page, { screenshot: 'consent-guardian' });
    await setChoice(forChild, true);
    await setChoice(page.getByRole('radio', { name: /Jusqu’à ce que je retire l’accès/ }), true);
    await page.getByRole('button', { name: 'Autoriser', exact: true }).click();
    const tokens = await finishAuthorization(server(), app, started, await arrivedAtApp(page, app));
    expect(tokens.patient).toBe(CHILD);
    expect(tokens.scope).toContain('patient/Observation.rs');

    // The app reads the child's record, never the guardian's.
    expect((await appRead(tokens, `/fhir/Immunization?patient=${CHILD}`)).status).toBe(200);
    const guardians = await appRead(tokens, `/fhir/Immunization?patient=${GUARDIAN}`);
    expect(guardians.status).not.toBe(200);

    await page.goto('/patient/history');
    expect(await page.getByRole('table').innerText()).toContain('Nour Haddad');
    await page.goto('/patient/apps');
    expect(await page.getByRole('main').innerText()).toContain('Pour Nour Haddad, dont vous êtes le représentant légal');
    await checkPage(page);
    await withdrawFromConnectedApps(page);
    expect((await appRead(tokens, `/fhir/Immunization?patient=${CHILD}`)).status).toBe(401);
  });

  it('sends the app access_denied when the patient refuses', async () => {
    const { page, started } = await toConsentScreen(PATIENT);
    await page.getByRole('button', { name: 'Refuser', exact: true }).click();
    const callback = await arrivedAtApp(page, app);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(started.state);
  });
});
