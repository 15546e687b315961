// The patient's pages in a real browser (Debian's Chromium) with JavaScript off: signing in
// through the sign-in page, "my connected apps", the language switch, a withdrawal with the
// keyboard alone; on each page axe-core's WCAG 2.1 AA rules, no sideways scroll at 360 px, the
// keyboard walk from the skip link, a small weight, and screenshots at both widths. Then what a
// real browser refuses: scripts (CSP), framing, and form posts from another site.
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { layoutText } from '../../src/web/layout.js';
import { fhirRequest, seedRecord } from '../fhir-helpers.js';
import { useServer } from '../helpers.js';
import { checkAccessibility, checkKeyboard, checkNoHorizontalScroll, checkPage, describeInBrowser, expectDesignWithinBudget, pageWeight, screenshot, useBrowser, type Device } from './browser.js';
import { arrivedAtApp, finishAuthorization, registerApp, signInAsPatient, startAuthorization, useAppSite, type AppTokens, type TestApp } from './journey.js';

const PATIENT = 'browser-patient-1';
const devices: Device[] = ['desktop', 'phone'];
/** A page and its stylesheet: what a patient's phone downloads, at most. */
const BUDGET = { documentBytes: 40_000, bytes: 80_000, requests: 3 };

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).innerText();
const lang = (page: Page) => page.locator('html').getAttribute('lang');
const grantActive = async (server: ReturnType<typeof useServer>, grantId: string) =>
  (await server().app.db.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM grants WHERE id = $1', [grantId]))[0]!.revoked_at === null;

describeInBrowser('patient pages in Chromium, without JavaScript', () => {
  const server = useServer();
  const browser = useBrowser();
  const appSite = useAppSite();
  let tensio: TestApp;
  let vaccins: TestApp;
  let grants: AppTokens[];

  /** The app's side of an authorization through the browser, pre-approved by login_hint (sandbox). */
  async function authorizeInBrowser(app: TestApp, patient: string, scope: string): Promise<AppTokens> {
    const page = await browser.newPage({ baseURL: server().url });
    const started = await startAuthorization(server(), app, scope, { login_hint: patient });
    await page.goto(started.url);
    const tokens = await finishAuthorization(server(), app, started, await arrivedAtApp(page, app));
    await page.context().close();
    return tokens;
  }

  beforeAll(async () => {
    await seedRecord(server(), PATIENT, { given: 'Claire', family: 'Martin' });
    tensio = await registerApp(server(), {
      name: 'TensioSuivi',
      redirectUri: appSite().redirectUri('tensiosuivi'),
      scopes: [
        { scope: 'offline_access', justification: 'Synchroniser vos mesures sans vous redemander.' },
        { scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension.' },
      ],
    });
    vaccins = await registerApp(server(), {
      name: 'Carnet de vaccination',
      confidential: true,
      redirectUri: appSite().redirectUri('vaccins'),
      scopes: [{ scope: 'patient/Immunization.rs', justification: 'Afficher vos vaccins et leurs rappels.' }],
    });
    grants = [
      await authorizeInBrowser(tensio, PATIENT, 'offline_access patient/Observation.rs?category=vital-signs'),
      await authorizeInBrowser(vaccins, PATIENT, 'patient/Immunization.rs'),
    ];
  });

  it('opens pages with JavaScript off', async () => {
    const page = await browser.newPage();
    await page.setContent('<title>before</title><script>document.title = "a script ran"</script>');
    expect(await page.title()).toBe('before');
  });

  it('runs the app side of an authorization: a public client, and a confidential one with PAR, both DPoP-bound', async () => {
    expect(grants.map((grant) => grant.scope)).toEqual(['offline_access patient/Observation.rs?category=vital-signs', 'patient/Immunization.rs']);
    expect(grants[0]!.refreshToken).toBeTruthy();
    expect(appSite().callbacks.map((url) => url.pathname)).toEqual(expect.arrayContaining(['/tensiosuivi/callback', '/vaccins/callback']));
    for (const grant of grants) {
      expect((decodeJwt(grant.accessToken).cnf as { jkt: string }).jkt).toBe(await calculateJwkThumbprint(grant.keys.publicJwk));
    }
    const read = await fhirRequest(server(), { token: grants[1]!.accessToken, keys: grants[1]!.keys }, 'GET', '/fhir/Immunization');
    expect(read.status).toBe(200);
    expect(read.body.entry.length).toBeGreaterThan(0);
  });

  it.each(devices)('signs a patient in through the sign-in page, to their connected apps (%s)', async (device) => {
    const page = await browser.newPage({ device, baseURL: server().url });
    await page.goto('/patient/apps');
    expect(new URL(page.url()).pathname).toBe('/patient/sign-in');
    expect(new URL(page.url()).searchParams.get('return_to')).toBe('/patient/apps');
    expect(await lang(page)).toBe('fr');
    await checkPage(page, device === 'desktop' ? { screenshot: 'sign-in' } : {});
    const signInWeight = await pageWeight(page);
    expect(signInWeight.documentBytes).toBeLessThan(BUDGET.documentBytes);
    expect(signInWeight.bytes).toBeLessThan(BUDGET.bytes);
    expectDesignWithinBudget(signInWeight);

    await signInAsPatient(page, PATIENT);
    expect(new URL(page.url()).pathname).toBe('/patient/apps');
    expect(await heading(page)).toBe(layoutText('fr').apps);
    for (const name of ['TensioSuivi', 'Carnet de vaccination']) {
      expect(await page.getByRole('heading', { name, exact: true }).isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: `Retirer l’accès de ${name}` }).isVisible()).toBe(true);
    }
    const { stops } = await checkPage(page, device === 'desktop' ? { screenshot: 'connected-apps' } : {});
    // Both withdrawals are reachable by keyboard, after the header.
    expect(stops.filter((stop) => stop.inMain && stop.tag === 'button').map((stop) => stop.name)).toEqual(
      expect.arrayContaining(['Retirer l’accès de TensioSuivi', 'Retirer l’accès de Carnet de vaccination']),
    );
    const weight = await pageWeight(page);
    expect(weight.requests, JSON.stringify(weight.transfers)).toBeLessThanOrEqual(BUDGET.requests);
    expect(weight.documentBytes).toBeLessThan(BUDGET.documentBytes);
    expect(weight.bytes).toBeLessThan(BUDGET.bytes);
    expectDesignWithinBudget(weight);
  });

  it('switches to English from the header and stays there, page after page', async () => {
    const page = await browser.newPage({ device: 'phone', baseURL: server().url });
    await page.goto('/patient/sign-in?return_to=%2Fpatient%2Fapps');
    await page.getByRole('banner').getByRole('link', { name: /english/i }).click();
    expect(new URL(page.url()).pathname).toBe('/patient/sign-in');
    expect(new URL(page.url()).searchParams.get('return_to')).toBe('/patient/apps');
    expect(await lang(page)).toBe('en');
    expect(await page.getByRole('navigation').getByRole('link', { name: layoutText('en').apps }).isVisible()).toBe(true);
    await checkAccessibility(page);

    await signInAsPatient(page, PATIENT);
    expect(await lang(page)).toBe('en');
    expect(await heading(page)).toBe(layoutText('en').apps);
    await checkAccessibility(page);
    await checkNoHorizontalScroll(page);
    await screenshot(page, 'connected-apps-english');

    await page.getByRole('banner').getByRole('link', { name: /français/i }).click();
    expect(await lang(page)).toBe('fr');
    expect(await heading(page)).toBe(layoutText('fr').apps);
  });

  it('withdraws an app with the keyboard alone, and the app is cut off at once', async () => {
    const patient = 'browser-patient-keyboard';
    await seedRecord(server(), patient, { given: 'Louis', family: 'Bernard' });
    const grant = await authorizeInBrowser(tensio, patient, 'offline_access patient/Observation.rs?category=vital-signs');
    const page = await browser.newPage({ device: 'phone', baseURL: server().url });
    await signInAsPatient(page, patient);
    const target = `Retirer l’accès de ${tensio.name}`;
    const focusedName = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
    for (let presses = 0; (await focusedName()) !== target; presses += 1) {
      if (presses > 40) throw new Error(`Tab never reached "${target}"`);
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    // The confirmation step, by keyboard too: the first control after the text is the one that withdraws.
    await page.waitForURL((url) => url.pathname.endsWith('/withdrawal'));
    await checkAccessibility(page);
    for (let presses = 0; (await focusedName()) !== 'Oui, retirer l’accès'; presses += 1) {
      if (presses > 40) throw new Error('Tab never reached the confirmation');
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('notice') === 'withdrawn');
    expect(await page.getByRole('status').innerText()).toContain('L’accès a été retiré');
    expect(await page.getByRole('button', { name: target }).count()).toBe(0);
    expect(await grantActive(server, grant.grantId)).toBe(false);
    await checkAccessibility(page);
    await checkNoHorizontalScroll(page);
  });

  it('runs no script on a page, even with JavaScript on: the CSP forbids it', async () => {
    const page = await browser.newPage({ javaScriptEnabled: true, baseURL: server().url });
    const refusals: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refusals.push(message.text());
    });
    await page.goto('/patient/sign-in');
    const before = await page.title();
    await page.addScriptTag({ content: 'document.title = "injected"' }).catch(() => undefined);
    expect(await page.title()).toBe(before);
    expect(refusals.join('\n')).toMatch(/script-src|default-src/);
  });

  it('is not shown inside another site’s frame', async () => {
    const page = await browser.newPage({ baseURL: server().url });
    await page.route('https://framing.example.com/', (route) =>
      route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>framing</title><iframe src="${server().url}/patient/sign-in"></iframe>` }),
    );
    await page.goto('https://framing.example.com/');
    const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
    expect(frame).toBeDefined();
    await frame!.waitForLoadState('load').catch(() => undefined);
    const signInForm = 'form[action="/patient/sign-in"]';
    expect(await frame!.locator(signInForm).count()).toBe(0);
    // The same page, opened on its own, does show its form.
    await page.goto('/patient/sign-in');
    expect(await page.locator(signInForm).count()).toBeGreaterThan(0);
  });

  it('refuses a form another site makes the browser post, even with the right CSRF token, and changes nothing', async () => {
    const patient = 'browser-patient-csrf';
    await seedRecord(server(), patient, { given: 'Inès', family: 'Roux' });
    const grant = await authorizeInBrowser(tensio, patient, 'patient/Observation.rs?category=vital-signs');
    const page = await browser.newPage({ baseURL: server().url });
    await signInAsPatient(page, patient);
    const csrf = await page.locator('input[name="csrf_token"]').first().getAttribute('value');
    expect(csrf).toBeTruthy();
    const evil = 'https://evil.example.com/';
    await page.route(evil, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><title>Gagnez un prix</title>
<form method="post" action="${server().url}/patient/apps/${grant.grantId}/withdrawal"><input type="hidden" name="csrf_token" value="${csrf}"><button>Withdraw</button></form>
<form method="post" action="${server().url}/patient/sign-in"><input type="hidden" name="patient_id" value="browser-patient-evil"><button>Sign in</button></form>`,
      }),
    );
    await page.goto(evil);
    await page.getByRole('button', { name: 'Withdraw' }).click();
    expect(new URL(page.url()).pathname).toBe(`/patient/apps/${grant.grantId}/withdrawal`);
    expect(await page.locator('body').innerText()).toContain('Rien n’a été modifié');
    expect(await grantActive(server, grant.grantId)).toBe(true);

    const cookiesBefore = await page.context().cookies(server().url);
    await page.goto(evil);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.locator('body').innerText()).toContain('Rien n’a été modifié');
    expect(await page.context().cookies(server().url)).toEqual(cookiesBefore);
    // The patient's own session is still theirs.
    await page.goto('/patient/apps');
    expect(await page.getByRole('button', { name: `Retirer l’accès de ${tensio.name}` }).isVisible()).toBe(true);
  });

  it('fails the checks on pages built to fail them: no skip link, focus hidden or invisible, axe violations, sideways scroll', async () => {
    const page = await browser.newPage({ baseURL: server().url });
    await page.route(`${server().url}/broken`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><html><title>x</title><main id="content"><img src="/x.png"><a href="/a">a</a></main></html>' }),
    );
    await page.goto('/broken');
    await expect(checkKeyboard(page)).rejects.toThrow(/not a skip link/);
    await expect(checkAccessibility(page)).rejects.toThrow(/html-has-lang|image-alt/);
    await page.route(`${server().url}/hidden-focus`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><html lang="fr"><title>x</title><style>a{position:absolute;left:-999px}button:focus{outline:none}</style><a href="#content">Aller au contenu</a><main id="content"><button>OK</button></main></html>',
      }),
    );
    await page.goto('/hidden-focus');
    await expect(checkKeyboard(page)).rejects.toThrow(/stop 1 <a> "Aller au contenu" is not on screen[\s\S]*stop 2 <button> "OK" shows no focus indicator/);
    const phone = await browser.newPage({ device: 'phone', baseURL: server().url });
    await phone.route(`${server().url}/wide`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><html lang="fr"><title>x</title><main><div style="width:500px">wide</div></main></html>' }),
    );
    await phone.goto('/wide');
    await expect(checkNoHorizontalScroll(phone)).rejects.toThrow(/scrolls sideways/);
  });

  it('signs in a patient the picker does not list at once, through its search (run last: it adds patients)', async () => {
    for (let i = 0; i < 25; i += 1) await seedRecord(server(), `browser-many-${i}`, { given: 'Alix', family: `Aubert${i}` });
    await seedRecord(server(), 'browser-zz-searched', { given: 'Zoé', family: 'Zola' });
    const page = await browser.newPage({ device: 'phone', baseURL: server().url });
    await signInAsPatient(page, 'browser-zz-searched');
    expect(new URL(page.url()).pathname).toBe('/patient/apps');
    expect(await page.getByRole('banner').innerText()).toContain('Zoé Zola');
  });
});
