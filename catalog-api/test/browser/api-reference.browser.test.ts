// The interactive API reference (`/docs`, Swagger UI) works in a real browser under the
// Content-Security-Policy it is served with: it renders the operations of the spec and calls the
// API ("Try it out"), and the browser reports no blocked script, style or request.
import { expect, it } from 'vitest';
import { useServer } from '../helpers.js';
import { describeInBrowser, useBrowser } from './browser.js';

describeInBrowser('the API reference in Chromium', () => {
  const server = useServer();
  const browser = useBrowser();

  it('renders every tag of the spec under its CSP, and runs a call', async () => {
    const page = await browser.newPage({ baseURL: server().url, javaScriptEnabled: true });
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) blocked.push(message.text());
    });
    const answer = await page.goto('/docs');
    expect(answer?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.opblock-tag').count()).toBeGreaterThan(5);

    // The liveness probe, run from the page (try-it-out is on by default): a request of the page's
    // own, which connect-src 'self' allows.
    const health = page.locator('.opblock', { hasText: '/healthz' }).first();
    await health.locator('.opblock-summary-control').click();
    await health.getByRole('button', { name: 'Execute' }).click();
    await expect.poll(() => health.locator('.live-responses-table').innerText().catch(() => '')).toMatch(/\b200\b/);
    expect(blocked).toEqual([]);
  });
});
