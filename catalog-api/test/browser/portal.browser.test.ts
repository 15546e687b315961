// The platform as a newcomer walks it, in Chromium: the home page, the developer documentation
// site, the catalogue, an app's page, sign-in, "Mes applications connectées", the access history
// and a legal page from the footer, then the same in English. Every patient page is in the State's
// design: the République Française block and the service's name in the header, the Marianne
// typeface actually loaded from the platform, the footer with its legal links; and each passes the
// page checks (axe, no sideways scroll, the keyboard walk).
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { seedRecord } from '../fhir-helpers.js';
import { useServer } from '../helpers.js';
import { checkPage, describeInBrowser, useBrowser } from './browser.js';
import { registerApp, signInAsPatient } from './journey.js';

const PATIENT = 'portal-walker';

/** The header, the typeface and the footer of the State's design, on the page now shown. */
async function expectStateDesign(page: Page, lang: 'fr' | 'en'): Promise<void> {
  const banner = page.getByRole('banner');
  expect(await banner.locator('.fr-logo').first().innerText()).toMatch(/RÉPUBLIQUE\s+FRANÇAISE/i);
  expect(await banner.getByRole('link', { name: lang === 'fr' ? 'Mon espace santé · Applications' : 'Mon espace santé · Apps' }).getAttribute('href')).toBe('/');
  // The design system's typeface, loaded from the platform itself.
  await page.evaluate(() => document.fonts.ready);
  const fonts = await page.evaluate(() => [...document.fonts].filter((font) => font.status === 'loaded').map((font) => font.family.replace(/"/g, '')));
  expect(fonts).toContain('Marianne');
  expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toMatch(/^Marianne/);
  const footer = page.getByRole('contentinfo');
  const legal = lang === 'fr' ? ['Accessibilité\u00a0: non conforme', 'Mentions légales', 'Données personnelles'] : ['Accessibility: not compliant', 'Legal notice', 'Personal data'];
  for (const name of legal) await expect.poll(() => footer.getByRole('link', { name, exact: true }).count()).toBe(1);
}

describeInBrowser('the platform walked by a newcomer, in Chromium', () => {
  const server = useServer();
  const browser = useBrowser();

  it('goes from the home page to the docs, the catalogue, the patient pages and a legal page, in French then English', async () => {
    await seedRecord(server(), PATIENT, { given: 'Paule', family: 'Portail' });
    const app = await registerApp(server(), { name: 'Tension Portail' });
    // JavaScript on: the documentation site needs it; the patient pages have none to run.
    const page = await browser.newPage({ baseURL: server().url, javaScriptEnabled: true });
    const failures: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().includes('/logo')) failures.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) failures.push(message.text());
    });

    await page.goto('/');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('La plateforme des applications de Mon espace santé');
    await expectStateDesign(page, 'fr');
    await checkPage(page);

    // The developer documentation, then back.
    await page.getByRole('main').getByRole('link', { name: 'Documentation des développeurs' }).click();
    await page.waitForURL((url) => url.pathname === '/developers/');
    await page.locator('.VPHero').waitFor();
    await page.goBack();
    await page.waitForURL((url) => url.pathname === '/');

    // The catalogue, an app, and signing in to reach the patient's pages.
    await page.getByRole('main').getByRole('link', { name: 'Découvrir les applications certifiées' }).click();
    await page.waitForURL((url) => url.pathname === '/catalogue');
    await expectStateDesign(page, 'fr');
    await checkPage(page);
    await page.getByRole('main').getByRole('link', { name: app.name, exact: true }).click();
    await page.waitForURL((url) => url.pathname === `/catalogue/${app.appId}`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(app.name);
    await expectStateDesign(page, 'fr');

    await signInAsPatient(page, PATIENT, '/patient/apps');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Mes applications connectées');
    await expectStateDesign(page, 'fr');
    await checkPage(page);
    await page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Historique des accès' }).click();
    await page.waitForURL((url) => url.pathname === '/patient/history');
    await expectStateDesign(page, 'fr');
    await checkPage(page);

    // A legal page from the footer.
    await page.getByRole('contentinfo').getByRole('link', { name: 'Accessibilité\u00a0: non conforme' }).click();
    await page.waitForURL((url) => url.pathname === '/accessibilite');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Déclaration d’accessibilité');
    await expectStateDesign(page, 'fr');

    // In English from the header's switch, page after page.
    await page.getByRole('banner').getByRole('link', { name: 'Read this page in English' }).click();
    await page.waitForURL((url) => url.pathname === '/accessibilite');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await expectStateDesign(page, 'en');
    await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'App catalogue' }).click();
    await page.waitForURL((url) => url.pathname === '/catalogue');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('App catalogue');
    await expectStateDesign(page, 'en');
    await checkPage(page);
    await page.getByRole('banner').getByRole('link', { name: 'Mon espace santé · Apps' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await expectStateDesign(page, 'en');

    expect(failures).toEqual([]);
  });
});
