// The State design system as the platform serves it: one stylesheet (the design system's rules the
// pages use, then the platform's), compressed as the browser accepts; the fonts and icons it points
// to under a versioned path, and nothing else of the package; and the French typography of every
// French page (a no-break space before « : ; ! ? »).
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DSFR_ASSETS, DSFR_ASSETS_PREFIX, DSFR_VERSION } from '../src/web/design-system.js';
import { frenchSpacing } from '../src/web/i18n.js';
import { STYLESHEET, STYLESHEET_HREF } from '../src/web/styles.js';
import { useServer } from './helpers.js';
import { pageBrowser } from './page-browser.js';

const raw = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers: { 'accept-encoding': 'identity', ...headers } });

describe('the pages’ stylesheet', () => {
  const server = useServer();

  it('starts with the design system’s rules the pages use, points only to files served here, and says its licence', () => {
    expect(STYLESHEET.startsWith(`/*! DSFR v${DSFR_VERSION} | SPDX-License-Identifier: Etalab-2.0`)).toBe(true);
    for (const rule of ['.fr-header', '.fr-footer', '.fr-btn', '.fr-checkbox-group', '.fr-radio-group', '.fr-tag', '.fr-card', '.fr-alert', '.fr-badge--success', '@font-face']) {
      expect(STYLESHEET).toContain(rule);
    }
    // Kept to what the pages use: no component they do not have (the modal, the tabs, the dark theme).
    for (const unused of ['.fr-modal', '.fr-tabs', 'data-fr-theme=dark']) expect(STYLESHEET).not.toContain(unused);
    const targets = [...STYLESHEET.matchAll(/url\(([^)]+)\)/g)].map(([, target]) => target!.replace(/^["']|["']$/g, '')).filter((target) => !target.startsWith('data:'));
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(target.startsWith(DSFR_ASSETS_PREFIX)).toBe(true);
    expect([...DSFR_ASSETS].some((file) => file.startsWith('fonts/Marianne-Regular'))).toBe(true);
  });

  it('is compressed with Brotli or gzip as the browser accepts, and plain otherwise, with Vary: Accept-Encoding', async () => {
    const url = `${server().url}${STYLESHEET_HREF}`;
    const plain = await raw(url);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('vary')).toContain('Accept-Encoding');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await plain.text()).toBe(STYLESHEET);

    const br = await raw(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers.get('content-encoding')).toBe('br');
    await br.arrayBuffer();
    // The bytes as sent (fetch would decompress them).
    const brBody = await rawBody(url, 'gzip, deflate, br');
    expect(brotliDecompressSync(brBody).toString()).toBe(STYLESHEET);
    expect(brBody.length).toBeLessThan(STYLESHEET.length / 4);

    const gzipBody = await rawBody(url, 'gzip');
    expect(gunzipSync(gzipBody).toString()).toBe(STYLESHEET);
    // The browser's preference counts: br refused, gzip given.
    expect((await raw(url, { 'accept-encoding': 'br;q=0, gzip' })).headers.get('content-encoding')).toBe('gzip');
    expect((await raw(url, { 'accept-encoding': 'compress' })).headers.get('content-encoding')).toBeNull();
  });
});

/** The body as the server sent it (undici's fetch would decompress it). */
async function rawBody(url: string, acceptEncoding: string): Promise<Buffer> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'accept-encoding': acceptEncoding } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('the design system’s fonts and icons', () => {
  const server = useServer();

  it('serves each file the stylesheet points to, cached for a year, never as a document', async () => {
    for (const file of ['fonts/Marianne-Regular.woff2', 'fonts/Marianne-Bold.woff2', [...DSFR_ASSETS].find((name) => name.endsWith('.svg'))!]) {
      expect(DSFR_ASSETS.has(file)).toBe(true);
      const response = await raw(`${server().url}${DSFR_ASSETS_PREFIX}${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type')).toMatch(file.endsWith('.svg') ? /^image\/svg\+xml/ : /^font\/woff2/);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('content-security-policy')).toContain('sandbox');
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  it('answers 404 for anything of the package the stylesheet does not point to, and for paths out of it', async () => {
    const unused = [...DSFR_ASSETS].some((file) => file === 'icons/system/close-line.svg') ? 'icons/business/archive-line.svg' : 'icons/system/close-line.svg';
    for (const path of [
      'dsfr.min.css',
      'dsfr.module.min.js',
      'favicon/favicon.svg',
      'utility/utility.min.css',
      unused,
      '../package.json',
      '..%2Fpackage.json',
      '%2e%2e/package.json',
      'fonts/../../package.json',
      '.dsfr.yml',
    ]) {
      const response = await raw(`${server().url}${DSFR_ASSETS_PREFIX}${path}`);
      expect(response.status, path).toBe(404);
      await response.arrayBuffer();
    }
    // Another version's path is not served either.
    expect((await raw(`${server().url}/assets/dsfr/0.0.1/fonts/Marianne-Regular.woff2`)).status).toBe(404);
  });
});

describe('French typography on the pages', () => {
  const server = useServer();

  it('puts a no-break space before « : ; ! ? » and inside « », once', () => {
    expect(frenchSpacing('Autoriser Premiers Pas ? Oui : « tout » ; non !')).toBe('Autoriser Premiers Pas\u00a0? Oui\u00a0: «\u00a0tout\u00a0»\u00a0; non\u00a0!');
    expect(frenchSpacing(frenchSpacing('Pourquoi :'))).toBe('Pourquoi\u00a0:');
    // Times and addresses have no space before their colon: left alone.
    expect(frenchSpacing('à 14:05, https://example.fr')).toBe('à 14:05, https://example.fr');
  });

  it('leaves no ordinary space before a colon, semicolon, question or exclamation mark in the text of French pages', async () => {
    const browser = pageBrowser(server);
    for (const path of ['/', '/catalogue', '/patient/sign-in', '/accessibilite', '/mentions-legales', '/donnees-personnelles']) {
      const page = await browser.get(path);
      expect(page.html).toContain('<html lang="fr">');
      const text = page.html.replace(/<[^>]+>/g, '');
      const loose = [...text.matchAll(/\S+ [:;!?](?=\s|$)/g)].map(([match]) => match);
      expect(loose, path).toEqual([]);
    }
  });
});
