// A SMART EHR launch in a real browser (Debian's Chromium, JavaScript off), started where patients
// start it: "Ouvrir l'application" on "Mes applications connectées". The app on the other end is
// an existing SMART app built on the SMART JS client (`fhirclient`, Node adapter), unchanged: it
// receives `iss` and `launch`, authorizes with the `launch` scope, comes back with a code, gets
// its (Bearer) token and reads the patient. The browser follows every hop itself, so the pages'
// Content-Security-Policy must let the form lead to the app; for a guardian, the same for a child.
import { beforeAll, expect, it } from 'vitest';
import { setCertificationStatus } from '../../src/modules/catalog/index.js';
import { seedGuardianship, seedRecord } from '../fhir-helpers.js';
import { useFhirclientApp } from '../fhirclient-app.js';
import { appInput, call, registerPublisher, useServer } from '../helpers.js';
import { form, pkce, postForm } from '../oauth-helpers.js';
import { checkPage, describeInBrowser, useBrowser } from './browser.js';
import { signInAsPatient } from './journey.js';

const GUARDIAN = 'ehr-launch-sophie';
const CHILD = 'ehr-launch-hugo';
const APP = 'Croissance';

describeInBrowser('a SMART EHR launch from the patient space, in Chromium', () => {
  const server = useServer();
  const browser = useBrowser();
  // The app's site: its launch URL and redirect URI, served by the SMART JS client.
  const app = useFhirclientApp({
    scope: 'launch patient/Patient.rs patient/Observation.rs',
    async render(fhir) {
      const patient = (await fhir.patient.read()) as { name?: { given?: string[]; family?: string }[] };
      const name = `${patient.name?.[0]?.given?.[0] ?? ''} ${patient.name?.[0]?.family ?? ''}`.trim();
      const body = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${APP}</title></head><body><main><h1>Dossier de ${name}</h1><p id="patient">${fhir.getPatientId()}</p></main></body></html>`;
      return { type: 'text/html; charset=utf-8', body };
    },
  });

  beforeAll(async () => {
    await seedRecord(server(), GUARDIAN, { given: 'Sophie', family: 'Bernard', birthDate: '1986-03-09' });
    await seedRecord(server(), CHILD, { given: 'Hugo', family: 'Bernard', birthDate: '2019-11-20' });
    await seedGuardianship(server(), GUARDIAN, CHILD, '2037-11-20');
    const origin = app().origin;
    const publisher = await registerPublisher(server(), 'Éditeur Croissance');
    const created = await call(server(), 'POST', '/apps', {
      key: publisher.key,
      body: appInput({
        name: APP,
        redirectUris: [`${origin}/callback`],
        launchUrl: `${origin}/launch`,
        scopes: [
          { scope: 'launch', justification: 'S’ouvrir depuis votre espace santé.' },
          { scope: 'patient/Patient.rs', justification: 'Afficher le nom de l’enfant.' },
          { scope: 'patient/Observation.rs', justification: 'Tracer la courbe de croissance.' },
        ],
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await setCertificationStatus(server().app.db, created.body.id, 'certified');
    const clientId = (await call(server(), 'POST', `/apps/${created.body.id}/clients`, { key: publisher.key, body: { type: 'public', dpopBoundAccessTokens: false } })).body.clientId;
    app().clientId = clientId;

    // The guardian authorized the app for her son earlier (the sandbox pre-approves with login_hint).
    const { verifier, challenge } = pkce();
    const earlier = await fetch(
      `${server().url}/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: `${origin}/callback`, scope: 'patient/Patient.rs patient/Observation.rs', code_challenge: challenge, code_challenge_method: 'S256', login_hint: `${GUARDIAN}:${CHILD}` })}`,
      { redirect: 'manual' },
    );
    const code = new URL(earlier.headers.get('location')!).searchParams.get('code')!;
    const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: `${origin}/callback` }));
    expect(tokens.status).toBe(200);
  });

  it('opens the app from "Mes applications connectées" for the child, and the app reads the child’s record', async () => {
    const page = await browser.newPage({ baseURL: server().url });
    await signInAsPatient(page, GUARDIAN);
    await page.goto('/patient/apps');
    const open = page.getByRole('button', { name: `Ouvrir ${APP} pour Hugo Bernard` });
    expect(await open.count()).toBe(1);
    await checkPage(page, { screenshot: 'connected-apps-launch' });

    await open.click();
    await page.waitForURL((url) => url.origin === app().origin && url.pathname === '/callback');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Dossier de Hugo Bernard');
    expect(await page.locator('#patient').innerText()).toBe(CHILD);
    // No consent screen on the way: the grant the guardian gave covers what the app asked.
    const [grants] = await server().app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM grants WHERE patient_id = $1', [CHILD]);
    expect(grants!.n).toBe(1);
  });
});
