// The developer documentation site (/developers/) works in a real browser under the
// Content-Security-Policy it is served with: the search box finds a guide, the result leads to it,
// and the browser reports no blocked script, style or request and no error.
import { expect, it } from 'vitest';
import { useServer } from '../helpers.js';
import { describeInBrowser, useBrowser } from './browser.js';

describeInBrowser('the developer site in Chromium', () => {
  const server = useServer();
  const browser = useBrowser();

  it('finds a guide with the search box, under its CSP', async () => {
    const page = await browser.newPage({ baseURL: server().url, javaScriptEnabled: true });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()) || message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    const answer = await page.goto('/developers/');
    expect(answer?.headers()['content-security-policy']).toContain("script-src 'self' 'sha256-");
    await page.locator('.VPHero').waitFor();

    await page.locator('.VPNavBarSearch button.DocSearch').click();
    const input = page.locator('.VPLocalSearchBox input.search-input');
    await input.fill('DPoP');
    const result = page.locator('.VPLocalSearchBox a.result').first();
    await result.waitFor();
    const href = await result.getAttribute('href');
    expect(href).toMatch(/^\/developers\/[a-z-]+\.html#/);

    await result.click();
    await page.waitForURL((url) => url.pathname === href!.split('#')[0]);
    await expect.poll(() => page.locator('.vp-doc h1').first().innerText()).not.toBe('');
    expect(problems).toEqual([]);
  });
});
