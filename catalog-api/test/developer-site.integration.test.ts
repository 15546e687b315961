// The developer documentation site under /developers/ (docs/, built by VitePress): its pages with
// the navigation by audience, a CSP that allows only its own inline scripts (by hash), the search
// index, links to the API reference and the spec; no file from outside the site whatever the path
// says; and, when the site was not built, an answer saying how to build it.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultDeveloperSiteDir } from '../src/core/developer-site.js';
import { call, expectProblem, useServer } from './helpers.js';

const server = useServer();

/** A GET sent with its path exactly as written (fetch would resolve `..` and re-encode it first). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const outgoing = request({ host: target.hostname, port: target.port, path, method: 'GET' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const scriptSources = (csp: string) => csp.split(';').map((directive) => directive.trim()).find((directive) => directive.startsWith('script-src '))?.split(/\s+/).slice(1) ?? [];

describe('the developer site', () => {
  it('answers /developers with a redirect to /developers/', async () => {
    const answer = await fetch(`${server().url}/developers`, { redirect: 'manual' });
    expect(answer.status).toBe(301);
    expect(answer.headers.get('location')).toBe('/developers/');
  });

  it.each(['/developers/', '/developers/authorization.html', '/developers/reference/errors.html'])('serves %s with the audiences’ navigation and a CSP that allows its inline scripts by hash only', async (path) => {
    const answer = await fetch(`${server().url}${path}`);
    const html = await answer.text();
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    for (const audience of ['App developers', 'Reviewers', 'Operators', 'Patients']) expect(html).toContain(`>${audience}<`);

    const csp = answer.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const scripts = scriptSources(csp);
    expect(scripts[0]).toBe("'self'");
    expect(scripts).not.toContain("'unsafe-inline'");
    expect(scripts).not.toContain("'unsafe-eval'");
    expect(scripts.slice(1).every((source) => /^'sha256-[A-Za-z0-9+/]+=*'$/.test(source))).toBe(true);
    // Every inline script of the page is allowed by its hash.
    const inline = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].filter(([, attributes]) => !/\bsrc=/.test(attributes!)).map(([, , body]) => body!);
    expect(inline.length).toBeGreaterThan(0);
    for (const body of inline) expect(scripts).toContain(`'sha256-${createHash('sha256').update(body).digest('base64')}'`);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('cache-control')).toBe('no-cache');
  });

  it('links the API reference (/docs) and the spec (/openapi.json), served by the platform, as plain links', async () => {
    const html = await (await fetch(`${server().url}/developers/sdk.html`)).text();
    expect(html).toMatch(/<a [^>]*href="\/docs" target="_self"/);
    expect(html).toMatch(/<a [^>]*href="\/openapi.json" target="_self"/);
    expect((await fetch(`${server().url}/docs`)).status).toBe(200);
    expect((await fetch(`${server().url}/openapi.json`)).status).toBe(200);
  });

  it('serves the local search index, which knows the guides', async () => {
    const index = readdirSync(join(defaultDeveloperSiteDir, 'assets', 'chunks')).find((name) => name.startsWith('@localSearchIndex'));
    expect(index).toBeDefined();
    const answer = await fetch(`${server().url}/developers/assets/chunks/${index}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/javascript/);
    expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = await answer.text();
    expect(body).toContain('DPoP');
    expect(body).toContain('authorization.html');
  });

  it('gives the repository files the guides link to pages of their own', async () => {
    const guide = await (await fetch(`${server().url}/developers/operators.html`)).text();
    expect(guide).toContain('href="/developers/repository/cluster/README.html"');
    const page = await fetch(`${server().url}/developers/repository/cluster/README.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('cluster/README.md');
  });
});

describe('paths outside the site', () => {
  const paths = [
    '/developers/../package.json',
    '/developers/../../../package.json',
    '/developers/%2e%2e/%2e%2e/%2e%2e/package.json',
    '/developers/..%2f..%2f..%2fpackage.json',
    '/developers/%2E%2E%2F%2E%2E%2F%2E%2E%2Fpackage.json',
    '/developers/%252e%252e/%252e%252e/%252e%252e/package.json',
    '/developers/..%5c..%5c..%5cpackage.json',
    '/developers/assets/../../config.mts',
    '/developers/%2e%2e/config.mts',
    '/developers//etc/passwd',
    '/developers/%2fetc%2fpasswd',
    '/developers/.build-stamp.json',
  ];

  it.each(paths)('%s gets no file', async (path) => {
    const answer = await rawGet(server().url, path);
    expect(answer.status, answer.body.slice(0, 200)).toBeGreaterThanOrEqual(400);
    expect(answer.body).not.toContain('"workspaces"');
    expect(answer.body).not.toContain('defineConfig');
    expect(answer.body).not.toContain('root:');
    expect(answer.body).not.toContain('scriptHashes');
  });
});

describe('a platform whose site was not built', () => {
  const empty = mkdtempSync(join(tmpdir(), 'mes-no-site-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));
  const unbuilt = useServer({}, { developerSiteDir: empty });

  it.each(['/developers', '/developers/', '/developers/sdk.html'])('answers %s with a problem that says how to build it', async (path) => {
    const answer = await call(unbuilt(), 'GET', path);
    expectProblem(answer, 503, 'not_ready');
    expect(answer.body.detail).toContain('npm run docs:build');
  });
});
