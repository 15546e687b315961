// The pages a patient meets less often, in Chromium with JavaScript off, each through the same
// checks as the main ones (axe-core WCAG 2.1 AA, no sideways scroll at 360 px, the keyboard walk):
// the sign-in page when an app is asking, the consent screen answering a mistake, an expired
// request, "Mon agenda", "Ma messagerie" and a conversation, the history's correction page, the signed-out page; the home page at both widths in
// both languages, in the sandbox and in production; the legal pages (accessibility statement,
// legal notice, personal data) at both widths in both languages; and, outside the sandbox, the
// sign-in page of the identity provider and the page saying sign-in is unavailable.
import { expect, it } from 'vitest';
import { records } from '../../src/index.js';
import { fhirRequest, patientToken, seedRecord } from '../fhir-helpers.js';
import { LEGAL_LINKS } from '../../src/web/legal-pages.js';
import { useServer } from '../helpers.js';
import { checkPage, describeInBrowser, expectDesignWithinBudget, pageWeight, setChoice, useBrowser, type Device } from './browser.js';
import { registerApp, signInAsPatient, startAuthorization, useAppSite } from './journey.js';

const PATIENT = 'other-pages-patient';

describeInBrowser('the other patient pages in Chromium', () => {
  const server = useServer();
  const browser = useBrowser();
  const appSite = useAppSite();

  it('passes every check on the sign-in page of a pending request, a consent mistake, and an expired request', async () => {
    await seedRecord(server(), PATIENT, { given: 'Odile', family: 'Marchand' });
    const app = await registerApp(server(), {
      name: 'Balance Connectée',
      redirectUri: appSite().redirectUri('balance'),
      scopes: [
        { scope: 'patient/Observation.crs?category=vital-signs', justification: 'Enregistrer votre poids à chaque pesée.' },
        { scope: 'patient/Condition.rs', justification: 'Adapter les conseils à vos problèmes de santé.' },
      ],
    });
    const page = await browser.newPage({ device: 'phone', baseURL: server().url });
    const started = await startAuthorization(server(), app, 'patient/Observation.crs?category=vital-signs patient/Condition.rs');
    await page.goto(started.url);
    expect(new URL(page.url()).pathname).toBe('/patient/sign-in');
    expect(await page.getByRole('main').innerText()).toContain('Balance Connectée');
    await checkPage(page);

    await signInAsPatient(page, PATIENT);
    for (const box of await page.getByRole('checkbox').all()) await setChoice(box, false);
    await page.getByRole('button', { name: 'Autoriser', exact: true }).click();
    expect(await page.getByRole('alert').innerText()).toContain('Choisissez au moins une permission');
    await checkPage(page);

    await page.goto(`/patient/authorize?interaction=${'A'.repeat(43)}`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Cette demande d’accès a expiré');
    await checkPage(page);
  });

  it.each(['desktop', 'phone'] as const)('passes every check on "Mon agenda" with a reminder, an app’s booking and a cancelled one (%s)', async (device) => {
    const patient = `${PATIENT}-agenda-${device}`;
    await seedRecord(server(), patient, { given: 'Odile', family: 'Marchand' });
    const app = await registerApp(server(), { name: 'RDV Santé', redirectUri: appSite().redirectUri('rdv'), scopes: [{ scope: 'patient/Appointment.crus', justification: 'Prendre et gérer vos rendez-vous.' }] });
    const soon = new Date(Date.now() + 26 * 3_600_000);
    soon.setUTCMinutes(0, 0, 0);
    const at = (hours: number) => new Date(soon.getTime() + hours * 3_600_000).toISOString();
    const booking = (start: string, end: string, extra: { status: 'booked' | 'cancelled'; [element: string]: unknown }) => ({
      resourceType: 'Appointment' as const,
      start,
      end,
      participant: [{ actor: { reference: `Patient/${patient}` }, status: 'accepted' as const }, { actor: { display: 'Dr Claire Martin, cardiologue' }, status: 'accepted' as const }],
      ...extra,
    });
    await records.insertResources(server().app.db, [
      { patientId: patient, sourceAppId: app.appId, resource: booking(at(0), at(0.5), { status: 'booked', description: 'Consultation de cardiologie', patientInstruction: 'Apporter vos derniers relevés de tension.' }) },
      { patientId: patient, sourceAppId: app.appId, resource: booking(at(24 * 9), at(24 * 9 + 0.5), { status: 'cancelled', description: 'Échographie cardiaque', cancelationReason: { text: 'Le cabinet a déplacé ses consultations' } }) },
    ]);
    const page = await browser.newPage({ device, baseURL: server().url });
    await signInAsPatient(page, patient, '/patient/agenda');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Mon agenda');
    const main = await page.getByRole('main').innerText();
    expect(main).toContain('Apporter vos derniers relevés de tension.');
    expect(main).toContain('Ajouté par l’application RDV Santé');
    expect(main).toContain('Motif de l’annulation : Le cabinet a déplacé ses consultations');
    await checkPage(page, device === 'desktop' ? { screenshot: 'agenda' } : {});
  });

  it('passes every check on "Ma messagerie" and a conversation with a file, and answers with the keyboard', async () => {
    const patient = `${PATIENT}-messages`;
    await seedRecord(server(), patient, { given: 'Odile', family: 'Marchand' });
    const tokens = await patientToken(server(), patient, 'patient/Communication.crs');
    const sent = await fhirRequest(server(), tokens, 'POST', '/fhir/Communication', {
      body: {
        resourceType: 'Communication',
        status: 'completed',
        sender: { display: 'Dr Claire Martin' },
        topic: { text: 'Votre ordonnance' },
        payload: [{ contentString: 'Bonjour, voici votre ordonnance.' }, { contentAttachment: { contentType: 'application/pdf', title: 'Ordonnance', data: Buffer.from('%PDF-1.4\n%test\n').toString('base64') } }],
      },
    });
    expect(sent.status).toBe(201);
    const page = await browser.newPage({ device: 'phone', baseURL: server().url });
    await signInAsPatient(page, patient, '/patient/messages');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Ma messagerie');
    await checkPage(page);
    await page.getByRole('link', { name: /Conversation avec/ }).click();
    expect(await page.getByRole('main').innerText()).toContain('Bonjour, voici votre ordonnance.');
    await checkPage(page, { screenshot: 'conversation' });
    await page.getByLabel('Votre message').fill('Merci, bien reçue.');
    await page.getByLabel('Votre message').press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('notice') === 'sent');
    expect(await page.getByRole('status').innerText()).toContain('Votre message a été envoyé.');
    expect(await page.getByRole('main').innerText()).toContain('Merci, bien reçue.');
  });

  it('passes every check on the history’s correction page and the signed-out page', async () => {
    const page = await browser.newPage({ baseURL: server().url });
    await signInAsPatient(page, PATIENT, '/patient/history');
    await page.goto('/patient/history?from=2026-13-45');
    expect(await page.getByRole('main').innerText()).toMatch(/date/i);
    await checkPage(page);

    await page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL((url) => url.pathname === '/patient/signed-out');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Vous êtes déconnecté');
    await checkPage(page);
  });
});

describeInBrowser('the sign-in pages outside the sandbox, in Chromium', () => {
  const withProvider = useServer({
    mode: 'production',
    publicUrl: 'https://api.mes.example.fr',
    patientIdentityProvider: { issuer: 'https://idp.example.fr', clientId: 'mes-platform', clientSecret: 'a-long-enough-client-secret', scopes: [], patientClaim: 'sub', name: 'FranceConnect' },
  });
  const withoutProvider = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });
  const browser = useBrowser();

  it('passes every check on the identity provider’s sign-in page, in both languages', async () => {
    for (const locale of ['fr-FR', 'en-GB']) {
      const page = await browser.newPage({ baseURL: withProvider().url, locale });
      await page.goto('/patient/sign-in?return_to=%2Fpatient%2Fapps');
      const link = page.getByRole('main').getByRole('link', { name: /FranceConnect/ });
      expect(await link.getAttribute('href')).toBe('/patient/sign-in/start?return_to=%2Fpatient%2Fapps');
      await checkPage(page, locale === 'fr-FR' ? { screenshot: 'sign-in-identity-provider' } : {});
    }
  });

  it('passes every check on the page saying sign-in is unavailable', async () => {
    const page = await browser.newPage({ baseURL: withoutProvider().url });
    const answer = await page.goto('/patient/sign-in');
    expect(answer?.status()).toBe(503);
    await checkPage(page);
  });
});

describeInBrowser('the home page in Chromium, without JavaScript', () => {
  const sandbox = useServer();
  const production = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });
  const browser = useBrowser();
  const devices: Device[] = ['desktop', 'phone'];

  for (const device of devices) {
    for (const locale of ['fr-FR', 'en-GB']) {
      it(`passes every check in the sandbox on ${device} (${locale}), with each audience's links and no key`, async () => {
        const page = await browser.newPage({ device, locale, baseURL: sandbox().url });
        try {
          const answer = await page.goto('/');
          expect(answer?.status()).toBe(200);
          const main = page.getByRole('main');
          expect(await main.getByRole('heading', { level: 1 }).innerText()).toBe(locale === 'fr-FR' ? 'La plateforme des applications de Mon espace santé' : 'The app platform of Mon espace santé');
          for (const href of ['/catalogue', '/patient/apps', '/developers/', '/docs', '/openapi.json']) expect(await main.locator(`a[href="${href}"]`).count(), href).toBeGreaterThan(0);
          expect(await main.getByRole('region').innerText()).toContain('sandbox-demo-api-key');
          const { stops } = await checkPage(page, locale === 'fr-FR' && device === 'desktop' ? { screenshot: 'home' } : {});
          // The keyboard reaches every link of the page.
          expect(stops.filter((stop) => stop.inMain).map((stop) => stop.href)).toEqual(expect.arrayContaining(['/catalogue', '/developers/', '/docs', '/openapi.json']));
          const weight = await pageWeight(page);
          expect(weight.documentBytes).toBeLessThanOrEqual(40_000);
          expect(weight.requests).toBeLessThanOrEqual(2);
          expectDesignWithinBudget(weight);
        } finally {
          await page.context().close();
        }
      });
    }

    it(`passes every check in production on ${device}, without the sandbox's part`, async () => {
      const page = await browser.newPage({ device, baseURL: production().url });
      try {
        expect((await page.goto('/'))?.status()).toBe(200);
        expect(await page.getByRole('region').count()).toBe(0);
        // The developers' part may say a sandbox exists; nothing says this server is one.
        expect(await page.locator('body').innerText()).not.toMatch(/sandbox-demo-api-key|npm start|synthèse|synthetic|Bac à sable :|test patients/i);
        await checkPage(page);
      } finally {
        await page.context().close();
      }
    });
  }

  it('follows the language switch and comes back home, without JavaScript', async () => {
    const page = await browser.newPage({ baseURL: sandbox().url });
    try {
      await page.goto('/');
      await page.getByRole('link', { name: 'Read this page in English' }).click();
      await page.waitForURL((url) => url.pathname === '/' && !url.search);
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
    } finally {
      await page.context().close();
    }
  });
});

describeInBrowser('the legal pages in Chromium, without JavaScript', () => {
  const server = useServer();
  const browser = useBrowser();
  const titles: Record<string, { fr: string; en: string }> = {
    [LEGAL_LINKS.accessibility]: { fr: 'Déclaration d’accessibilité', en: 'Accessibility statement' },
    [LEGAL_LINKS.legalNotice]: { fr: 'Mentions légales', en: 'Legal notice' },
    [LEGAL_LINKS.privacy]: { fr: 'Données personnelles', en: 'Personal data' },
  };

  for (const device of ['desktop', 'phone'] as const) {
    for (const locale of ['fr-FR', 'en-GB']) {
      it(`passes every check on each legal page on ${device} (${locale}), every link reached by the keyboard`, async () => {
        const page = await browser.newPage({ device, locale, baseURL: server().url });
        try {
          for (const path of Object.values(LEGAL_LINKS)) {
            expect((await page.goto(path))?.status(), path).toBe(200);
            expect(await page.getByRole('main').getByRole('heading', { level: 1 }).innerText()).toBe(titles[path]![locale === 'fr-FR' ? 'fr' : 'en']);
            const { stops } = await checkPage(page);
            const links = await page.getByRole('main').locator('a[href]').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
            expect(links.length, path).toBeGreaterThan(0);
            expect(stops.filter((stop) => stop.inMain).map((stop) => stop.href), path).toEqual(links);
          }
        } finally {
          await page.context().close();
        }
      });
    }
  }
});
