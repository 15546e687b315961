// The catalogue pages in a real browser (Debian's Chromium) with JavaScript off: the list, a
// search with no result, an app's page and an app out of the catalogue, each passing axe-core's
// WCAG 2.1 AA rules, without sideways scroll at 360 px, with the keyboard walk from the skip link,
// in French and English; the search and the category filter used with the keyboard alone; and the
// logos: the platform's copy shown under the pages' strict CSP, a refused one shown as the app's
// initials (the platform's SVG placeholder) rather than a broken image.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setCertificationStatus } from '../../src/modules/catalog/repository.js';
import { solidPng } from '../../src/web/logo-images.js';
import { appInput, call, registerPublisher, useServer } from '../helpers.js';
import { startHttpsServer, type TestHttpsServer } from '../https-server.js';
import { checkPage, describeInBrowser, expectDesignWithinBudget, pageWeight, useBrowser, type Device } from './browser.js';

const HOST = 'logos.catalogue.test';
const LONG_NAME = 'Équilibre, méditation guidée et sommeil réparateur pour toute la famille';
/** A page and what it loads (stylesheet, logos): what a patient's phone downloads, at most. */
const BUDGET = { documentBytes: 40_000, bytes: 80_000 };

describeInBrowser('catalogue pages in Chromium, without JavaScript', () => {
  let publisherHost: TestHttpsServer;
  beforeAll(async () => {
    publisherHost = await startHttpsServer([HOST], (request, response) => {
      if (request.url === '/logo.png') {
        const body = solidPng(64, [0x00, 0x30, 0x8f]);
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(body.length) });
        return void response.end(body);
      }
      response.writeHead(200, { 'content-type': 'image/svg+xml' });
      response.end('<svg xmlns="http://www.w3.org/2000/svg"/>');
    });
  });
  afterAll(async () => publisherHost?.close());

  const server = useServer({ outboundAllowPrivateNetworks: true }, () => ({ outbound: { ca: publisherHost.ca, resolve: publisherHost.resolve } }));
  const browser = useBrowser();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const { key } = await registerPublisher(server(), 'Santé Numérique SAS');
    const apps = [
      { name: 'TensioSuivi', logoUrl: `${publisherHost.origin}/logo.png` },
      { name: LONG_NAME, logoUrl: `${publisherHost.origin}/logo.svg`, category: 'bien-etre' as const },
      { name: 'Vaccins', category: 'prevention' as const },
    ];
    for (const app of apps) {
      const created = await call(server(), 'POST', '/apps', {
        key,
        body: appInput({
          name: app.name,
          longDescription: { fr: `${app.name}, une application de test.\n\nElle sert aux tests du catalogue.` },
          ...(app.logoUrl ? { logoUrl: app.logoUrl } : {}),
          ...(app.category ? { category: app.category } : {}),
          scopes: [
            { scope: 'launch/patient', justification: 'Savoir pour qui vous utilisez l’application.', required: true },
            { scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension artérielle.' },
          ],
          supportContact: { email: 'support-avec-une-adresse-tres-longue@tensiosuivi-application.example.fr', phone: '+33 1 23 45 67 89' },
        }),
      });
      ids[app.name] = created.body.id;
      await setCertificationStatus(server().app.db, created.body.id, 'certified');
    }
  });

  async function open(path: string, device: Device, locale = 'fr-FR'): Promise<Page> {
    const page = await browser.newPage({ device, locale, baseURL: server().url });
    await page.goto(path, { waitUntil: 'load' });
    return page;
  }

  const pages: [string, () => string][] = [
    ['the catalogue', () => '/catalogue'],
    ['a search without results', () => '/catalogue?q=zzz'],
    ['an app’s page', () => `/catalogue/${ids['TensioSuivi']}`],
    ['an app not in the catalogue', () => '/catalogue/00000000-0000-4000-8000-000000000000'],
  ];
  // Screenshots of the list and of an app's page, in French, at both widths.
  const screenshots: Record<string, string> = { 'the catalogue': 'catalogue', 'an app’s page': 'catalogue-app' };
  for (const device of ['desktop', 'phone'] as const) {
    for (const locale of ['fr-FR', 'en-GB']) {
      for (const [what, path] of pages) {
        it(`${what} passes the page checks on ${device} (${locale})`, async () => {
          const page = await open(path(), device, locale);
          try {
            const name = locale === 'fr-FR' && device === 'desktop' ? screenshots[what] : undefined;
            await checkPage(page, name ? { screenshot: name } : {});
            const weight = await pageWeight(page);
            expect(weight.documentBytes).toBeLessThanOrEqual(BUDGET.documentBytes);
            expect(weight.bytes).toBeLessThanOrEqual(BUDGET.bytes);
            expectDesignWithinBudget(weight);
          } finally {
            await page.context().close();
          }
        });
      }
    }
  }

  it('shows the platform’s copy of a logo, and the placeholder for a refused one, never a broken image', async () => {
    const page = await open('/catalogue', 'desktop');
    try {
      const images = await page.locator('main img').evaluateAll((nodes) =>
        nodes.map((node) => ({ src: node.getAttribute('src'), width: (node as HTMLImageElement).naturalWidth, complete: (node as HTMLImageElement).complete })),
      );
      expect(images.map((image) => image.src).sort()).toEqual([`/catalogue/${ids['TensioSuivi']}/logo`, `/catalogue/${ids[LONG_NAME]}/logo`].sort());
      // A broken image has no natural width; the placeholder (a 404 with an SVG body of the initials) has 64 px.
      for (const image of images) expect(image, image.src ?? '').toMatchObject({ width: 64, complete: true });
    } finally {
      await page.context().close();
    }
  });

  it('searches, filters by category and opens an app with the keyboard alone', async () => {
    const page = await open('/catalogue', 'phone');
    try {
      await page.getByLabel('Rechercher une application').focus();
      await page.keyboard.type('tensiosuivi');
      await page.keyboard.press('Enter');
      await page.waitForURL(/q=tensiosuivi/);
      expect(await page.locator('main h3').allTextContents()).toEqual(['TensioSuivi']);
      await page.getByLabel('Rechercher une application').fill('');
      await page.getByLabel('Catégorie').selectOption('prevention');
      await page.getByRole('button', { name: 'Rechercher' }).press('Enter');
      await page.waitForURL(/category=prevention/);
      expect(await page.locator('main h3').allTextContents()).toEqual(['Vaccins']);
      await page.getByRole('link', { name: 'Vaccins' }).press('Enter');
      await page.waitForURL(new RegExp(`/catalogue/${ids['Vaccins']}$`));
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Vaccins');
    } finally {
      await page.context().close();
    }
  });
});
