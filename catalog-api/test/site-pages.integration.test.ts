// What every page shares: the stylesheet from the platform's own origin, and the language —
// French by default, English when the browser prefers it or the patient chose it with the switch,
// which only ever goes back to one of the platform's pages.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { preferredLanguage } from '../src/web/i18n.js';
import { RETURN_PATH } from '../src/web/layout.js';
import { STYLESHEET_HREF } from '../src/web/styles.js';
import { expectErrorPage, useServer } from './helpers.js';

const server = useServer();

describe('the pages’ language', () => {
  it.each([
    [undefined, 'fr'],
    ['', 'fr'],
    ['en', 'en'],
    ['en-GB,en;q=0.9', 'en'],
    ['de-DE,de;q=0.9', 'fr'],
    ['de,en;q=0.5', 'en'],
    ['en;q=0.4,fr;q=0.8', 'fr'],
    ['fr-CA,en;q=0.9', 'fr'],
    ['en;q=0,de', 'fr'],
    ['en;q=abc', 'fr'],
  ])('picks %s → %s', (header, lang) => {
    expect(preferredLanguage(header)).toBe(lang);
  });

  it('follows Accept-Language, and the switch remembers a choice that wins over it', async () => {
    const english = await fetch(`${server().url}/patient/sign-in`, { headers: { 'accept-language': 'en-GB,en;q=0.9' } });
    const englishPage = await english.text();
    expect(englishPage).toContain('<html lang="en">');
    expect(english.headers.get('content-language')).toBe('en');
    expect(english.headers.get('vary')).toContain('Accept-Language');
    expect(englishPage).toContain('href="/language?lang=fr&amp;return_to=%2Fpatient%2Fsign-in"');

    const switched = await fetch(`${server().url}/language?lang=fr&return_to=${encodeURIComponent('/patient/sign-in?return_to=%2Fpatient%2Fapps')}`, { redirect: 'manual' });
    expect(switched.status).toBe(303);
    expect(switched.headers.get('location')).toBe('/patient/sign-in?return_to=%2Fpatient%2Fapps');
    const cookie = switched.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^mes_lang=fr; Path=\/; HttpOnly; SameSite=Lax; Max-Age=31536000$/);
    const french = await fetch(`${server().url}/patient/sign-in`, { headers: { 'accept-language': 'en', cookie: cookie.split(';')[0]! } });
    expect(await french.text()).toContain('<html lang="fr">');
  });

  it('never sends the switch elsewhere than the platform’s pages', async () => {
    // A browser's link: refused with a page, never followed.
    const refused = (query: string) => fetch(`${server().url}/language?${query}`, { redirect: 'manual' });
    for (const target of ['https://evil.example.com/', '//evil.example.com/patient', '/patient/../../x', '/oauth/authorize']) {
      const result = await refused(`lang=en&return_to=${encodeURIComponent(target)}`);
      expect(result.headers.get('location')).toBeNull();
      expect(await expectErrorPage(result, 400)).toContain('/query/return_to');
    }
    expect(await expectErrorPage(await refused('lang=de'), 400)).toContain('/query/lang');
    const fallback = await fetch(`${server().url}/language?lang=en`, { redirect: 'manual' });
    expect(fallback.headers.get('location')).toBe('/catalogue');
  });

  it('checks return paths with the same rule as the spec', async () => {
    const spec = JSON.parse(await readFile(new URL('../../openapi/dist/openapi.json', import.meta.url), 'utf8'));
    expect(spec.components.schemas.ReturnToPath.pattern).toBe(RETURN_PATH.source.replaceAll('\\/', '/'));
  });
});

describe('the stylesheet', () => {
  it('is served from the platform, cacheable, and linked by its version from every page', async () => {
    const page = await (await fetch(`${server().url}/patient/sign-in`)).text();
    expect(page).toContain(`<link rel="stylesheet" href="${STYLESHEET_HREF}">`);
    const css = await fetch(`${server().url}${STYLESHEET_HREF}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = await css.text();
    expect(body).toContain(':focus-visible');
    // The State design system's rules the pages use, then the platform's: under 100 kB, and what
    // travels to a browser (Brotli) under 16 kB.
    expect(body.length).toBeLessThan(100_000);
    const travelled = await new Promise<number>((resolve, reject) => {
      request(`${server().url}${STYLESHEET_HREF}`, { headers: { 'accept-encoding': 'br' } }, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', () => resolve(response.headers['content-encoding'] === 'br' ? bytes : Number.NaN));
        response.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    expect(travelled).toBeLessThan(16_000);
  });
});
