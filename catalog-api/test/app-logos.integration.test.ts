// Apps' logos served from the platform's origin: fetched once from the publisher's logoUrl (a
// real HTTPS server on loopback, see https-server.ts), checked by their bytes, cached with an
// ETag, fetched again when the URL changes or after a day, and every refusal: SVG, too large, a
// Content-Type that lies, a redirect, an error status, a private address outside a developer's
// sandbox, an app that patients cannot see; the placeholder answered instead (the app's initials,
// or an empty tile for an app nobody may see); and logos given to the platform directly.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus, type CertificationStatus } from '../src/modules/catalog/repository.js';
import { storeProvidedLogo } from '../src/web/app-logos.js';
import { initialsOf } from '../src/web/initials.js';
import { placeholderLogo, solidPng } from '../src/web/logo-images.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { startHttpsServer, type TestHttpsServer } from './https-server.js';

const HOST = 'logos.editeur.test';
const png = solidPng(32, [0x00, 0x30, 0x8f]);
const otherPng = solidPng(48, [0x0b, 0x6b, 0x2e]);
const jpeg = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
  Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x40, 0x00, 0x40, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9]),
]);
const tooBig = Buffer.concat([png, Buffer.alloc(300 * 1024)]);

/** What the publisher's host answers, by path; tests change entries. */
const routes = new Map<string, { status: number; type?: string; body: Buffer | string; chunked?: boolean; location?: string }>([
  ['/logo.png', { status: 200, type: 'image/png', body: png }],
  ['/other.png', { status: 200, type: 'image/png', body: otherPng }],
  ['/logo.jpg', { status: 200, type: 'image/jpeg', body: jpeg }],
  ['/logo.svg', { status: 200, type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' }],
  ['/big.png', { status: 200, type: 'image/png', body: tooBig }],
  ['/big-chunked.png', { status: 200, type: 'image/png', body: tooBig, chunked: true }],
  ['/lie.png', { status: 200, type: 'image/png', body: '<!doctype html><html><body><script>alert(1)</script></body></html>' }],
  ['/moved.png', { status: 302, body: '', location: '/logo.png' }],
  ['/gone.png', { status: 404, type: 'text/plain', body: 'not found' }],
]);

let publisherHost: TestHttpsServer;
beforeAll(async () => {
  publisherHost = await startHttpsServer([HOST], (request, response) => {
    const route = routes.get(request.url ?? '');
    if (!route) {
      response.writeHead(404);
      return void response.end();
    }
    const body = typeof route.body === 'string' ? Buffer.from(route.body) : route.body;
    response.writeHead(route.status, {
      ...(route.type ? { 'content-type': route.type } : {}),
      ...(route.location ? { location: route.location } : {}),
      ...(route.chunked ? {} : { 'content-length': String(body.length) }),
    });
    if (route.chunked) {
      for (let offset = 0; offset < body.length; offset += 16 * 1024) response.write(body.subarray(offset, offset + 16 * 1024));
      return void response.end();
    }
    response.end(body);
  });
});
afterAll(async () => publisherHost?.close());

const outbound = () => ({ outbound: { ca: publisherHost.ca, resolve: publisherHost.resolve } });
// A sandbox on a developer's machine: the publisher's host is on loopback, allowed.
const sandbox = useServer({ outboundAllowPrivateNetworks: true }, outbound);
// A production server: public addresses only.
const production = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' }, outbound);
// Production rules for statuses, with loopback allowed so that what stops a fetch is the status.
const productionOnLoopback = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr', outboundAllowPrivateNetworks: true }, outbound);

const logoUrl = (path: string) => `${publisherHost.origin}${path}`;
const fetchesOf = (path: string) => publisherHost.requests.filter((request) => request.path === path).length;

async function newApp(server: () => { url: string; app: { db: import('../src/core/store/db.js').Db } }, logo: string | null, status: CertificationStatus = 'certified') {
  const { key } = await registerPublisher(server());
  const created = await call(server(), 'POST', '/apps', { key, body: appInput(logo ? { logoUrl: logo } : {}) });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  // Suspended, withdrawn and expired apps were certified first.
  if (status !== 'draft') await setCertificationStatus(server().app.db, created.body.id, 'certified');
  if (status !== 'draft' && status !== 'certified') await setCertificationStatus(server().app.db, created.body.id, status);
  return { id: created.body.id as string, key, path: `/catalogue/${created.body.id}/logo` };
}

async function getLogo(server: () => { url: string }, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server().url}${path}`, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** The initials of appInput()'s name, which every app of these tests has. */
const INITIALS = initialsOf(appInput().name);

/** The placeholder: an SVG of `initials` (the app's, by default; '' for an empty tile), as a 404. */
function expectPlaceholder(answer: Awaited<ReturnType<typeof getLogo>>, initials = INITIALS) {
  expect(answer.status).toBe(404);
  expect(answer.headers.get('content-type')).toBe('image/svg+xml');
  expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
  expect(answer.headers.get('content-security-policy')).toBe("default-src 'none'");
  expect(answer.headers.get('cache-control')).toBe('public, max-age=600');
  expect(answer.headers.get('etag')).toBeNull();
  expect(answer.bytes.toString()).toBe(placeholderLogo(initials).toString());
}

const stored = async (server: () => { app: { db: import('../src/core/store/db.js').Db } }, appId: string) =>
  (await server().app.db.query<{ source_url: string; error: string | null; bytes: Uint8Array | null }>('SELECT source_url, error, bytes FROM app_logos WHERE app_id = $1', [appId]))[0];

describe('serving a logo', () => {
  it('fetches the PNG once and serves it from the platform, with its type, an ETag and the cache headers', async () => {
    const app = await newApp(sandbox, logoUrl('/logo.png'));
    const before = fetchesOf('/logo.png');
    const first = await getLogo(sandbox, app.path);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/png');
    expect(first.headers.get('content-length')).toBe(String(png.length));
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    expect(first.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(first.headers.get('cache-control')).toBe('public, max-age=86400');
    const etag = `"${createHash('sha256').update(png).digest('hex')}"`;
    expect(first.headers.get('etag')).toBe(etag);
    expect(first.bytes.equals(png)).toBe(true);
    expect(fetchesOf('/logo.png')).toBe(before + 1);
    // The platform asked for images only, and sent nothing of the patient's.
    const asked = publisherHost.requests.filter((request) => request.path === '/logo.png').at(-1)!;
    expect(asked.headers.accept).toBe('image/png, image/jpeg, image/webp');
    expect(asked.headers.cookie).toBeUndefined();

    const again = await getLogo(sandbox, app.path);
    expect(again.bytes.equals(png)).toBe(true);
    expect(fetchesOf('/logo.png')).toBe(before + 1);
  });

  it('answers 304 to a browser that has the current logo, and the logo to one that has another', async () => {
    const app = await newApp(sandbox, logoUrl('/logo.png'));
    const { headers } = await getLogo(sandbox, app.path);
    const etag = headers.get('etag')!;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const notModified = await getLogo(sandbox, app.path, { 'if-none-match': ifNoneMatch });
      expect(notModified.status, ifNoneMatch).toBe(304);
      expect(notModified.headers.get('etag')).toBe(etag);
      expect(notModified.headers.get('cache-control')).toBe('public, max-age=86400');
      expect(notModified.bytes.length).toBe(0);
    }
    const stale = await getLogo(sandbox, app.path, { 'if-none-match': '"something-else"' });
    expect(stale.status).toBe(200);
    expect(stale.bytes.equals(png)).toBe(true);
  });

  it('answers HEAD with the headers only', async () => {
    const app = await newApp(sandbox, logoUrl('/logo.png'));
    const response = await fetch(`${sandbox().url}${app.path}`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves a JPEG as a JPEG', async () => {
    const app = await newApp(sandbox, logoUrl('/logo.jpg'));
    const answer = await getLogo(sandbox, app.path);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/jpeg');
    expect(answer.bytes.equals(jpeg)).toBe(true);
  });

  it('fetches again when the publisher changes logoUrl, and after a day', async () => {
    const app = await newApp(sandbox, logoUrl('/logo.png'));
    const first = await getLogo(sandbox, app.path);
    const changed = await call(sandbox(), 'PATCH', `/apps/${app.id}`, { key: app.key, body: { logoUrl: logoUrl('/other.png') } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const before = fetchesOf('/other.png');
    const second = await getLogo(sandbox, app.path);
    expect(second.status).toBe(200);
    expect(second.bytes.equals(otherPng)).toBe(true);
    expect(second.headers.get('etag')).not.toBe(first.headers.get('etag'));
    expect(fetchesOf('/other.png')).toBe(before + 1);
    // The browser's copy of the old logo is not current any more.
    expect((await getLogo(sandbox, app.path, { 'if-none-match': first.headers.get('etag')! })).status).toBe(200);

    await sandbox().app.db.query(`UPDATE app_logos SET fetched_at = fetched_at - interval '25 hours' WHERE app_id = $1`, [app.id]);
    await getLogo(sandbox, app.path);
    expect(fetchesOf('/other.png')).toBe(before + 2);
  });

  it('keeps serving the logo it has when fetching the same URL again fails', async () => {
    routes.set('/flaky.png', { status: 200, type: 'image/png', body: png });
    const app = await newApp(sandbox, logoUrl('/flaky.png'));
    expect((await getLogo(sandbox, app.path)).status).toBe(200);
    routes.set('/flaky.png', { status: 500, type: 'text/plain', body: 'down' });
    await sandbox().app.db.query(`UPDATE app_logos SET fetched_at = fetched_at - interval '25 hours' WHERE app_id = $1`, [app.id]);
    const during = await getLogo(sandbox, app.path);
    expect(during.status).toBe(200);
    expect(during.bytes.equals(png)).toBe(true);
    expect((await stored(sandbox, app.id))!.error).toContain('answered 500');
  });

  it('fetches once when two first requests come together', async () => {
    routes.set('/together.png', { status: 200, type: 'image/png', body: png });
    const app = await newApp(sandbox, logoUrl('/together.png'));
    const answers = await Promise.all([getLogo(sandbox, app.path), getLogo(sandbox, app.path), getLogo(sandbox, app.path)]);
    for (const answer of answers) expect(answer.status).toBe(200);
    expect(new Set(answers.map((answer) => answer.headers.get('etag'))).size).toBe(1);
    expect(fetchesOf('/together.png')).toBe(1);
  });

  it('is shown by the catalogue as an image from the platform', async () => {
    const app = await newApp(sandbox, logoUrl('/logo.png'));
    const page = await fetch(`${sandbox().url}/catalogue/${app.id}`);
    expect(await page.text()).toContain(`<img src="/catalogue/${app.id}/logo" alt="" width="64" height="64">`);
  });
});

describe('refusing a logo', () => {
  const refusals: [string, string][] = [
    ['an SVG (it can carry scripts)', '/logo.svg'],
    ['a file over 256 KiB (declared)', '/big.png'],
    ['a file over 256 KiB (streamed without a length)', '/big-chunked.png'],
    ['HTML served as image/png', '/lie.png'],
    ['an error status', '/gone.png'],
  ];
  for (const [what, path] of refusals) {
    it(`refuses ${what}, answers the placeholder, and does not try again for 10 minutes`, async () => {
      const app = await newApp(sandbox, logoUrl(path));
      const before = fetchesOf(path);
      expectPlaceholder(await getLogo(sandbox, app.path));
      expect(fetchesOf(path)).toBe(before + 1);
      const row = await stored(sandbox, app.id);
      expect(row).toMatchObject({ source_url: logoUrl(path), bytes: null, error: expect.any(String) });
      expectPlaceholder(await getLogo(sandbox, app.path));
      expect(fetchesOf(path)).toBe(before + 1);
      await sandbox().app.db.query(`UPDATE app_logos SET failed_at = failed_at - interval '11 minutes' WHERE app_id = $1`, [app.id]);
      expectPlaceholder(await getLogo(sandbox, app.path));
      expect(fetchesOf(path)).toBe(before + 2);
    });
  }

  it('says why in the store, for operators', async () => {
    const svg = await newApp(sandbox, logoUrl('/logo.svg'));
    await getLogo(sandbox, svg.path);
    expect((await stored(sandbox, svg.id))!.error).toContain('image/svg+xml');
    const lie = await newApp(sandbox, logoUrl('/lie.png'));
    await getLogo(sandbox, lie.path);
    expect((await stored(sandbox, lie.id))!.error).toContain('not a PNG, JPEG or WebP');
    const big = await newApp(sandbox, logoUrl('/big.png'));
    await getLogo(sandbox, big.path);
    expect((await stored(sandbox, big.id))!.error).toContain('too_large');
  });

  it('does not follow a redirect', async () => {
    const app = await newApp(sandbox, logoUrl('/moved.png'));
    const before = { moved: fetchesOf('/moved.png'), target: fetchesOf('/logo.png') };
    expectPlaceholder(await getLogo(sandbox, app.path));
    expect(fetchesOf('/moved.png')).toBe(before.moved + 1);
    expect(fetchesOf('/logo.png')).toBe(before.target);
    expect((await stored(sandbox, app.id))!.error).toContain('redirect');
  });

  it('drops the logo of the previous URL when the new one fails', async () => {
    const app = await newApp(sandbox, logoUrl('/logo.png'));
    expect((await getLogo(sandbox, app.path)).status).toBe(200);
    await call(sandbox(), 'PATCH', `/apps/${app.id}`, { key: app.key, body: { logoUrl: logoUrl('/logo.svg') } });
    expectPlaceholder(await getLogo(sandbox, app.path));
  });

  it('never fetches from a private address outside a developer’s sandbox', async () => {
    const app = await newApp(production, logoUrl('/logo.png'));
    const before = publisherHost.requests.length;
    expectPlaceholder(await getLogo(production, app.path));
    expect(publisherHost.requests.length).toBe(before);
    expect((await stored(production, app.id))!.error).toContain('forbidden_address');
  });

  it('answers the app’s initials for an app without a logo, an empty tile for an unknown app and anything that is not an app id', async () => {
    const app = await newApp(sandbox, null);
    expectPlaceholder(await getLogo(sandbox, app.path), 'TS');
    expectPlaceholder(await getLogo(sandbox, '/catalogue/00000000-0000-4000-8000-000000000000/logo'), '');
    expectPlaceholder(await getLogo(sandbox, '/catalogue/not-an-app/logo'), '');
  });

  it('draws the initials of the app’s current name, escaped, with nothing active in the SVG', async () => {
    const { key } = await registerPublisher(sandbox());
    const created = await call(sandbox(), 'POST', '/apps', { key, body: appInput({ name: '<Éveil> & "santé"', logoUrl: logoUrl('/gone.png') }) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const path = `/catalogue/${created.body.id}/logo`;
    const answer = await getLogo(sandbox, path);
    expectPlaceholder(answer, 'ÉS');
    const svg = answer.bytes.toString();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/);
    expect(svg).toContain('>ÉS</text>');
    for (const active of ['<script', 'href', '<style', 'foreignObject', 'url(', '<!']) expect(svg).not.toContain(active);
    expect(svg).not.toMatch(/\son[a-z]+=/i);
    await call(sandbox(), 'PATCH', `/apps/${created.body.id}`, { key, body: { name: 'Mémo' } });
    expectPlaceholder(await getLogo(sandbox, path), 'M');
  });
});

describe('whose logo is served', () => {
  it('serves the apps patients can see, and never fetches for a draft outside the sandbox', async () => {
    routes.set('/draft.png', { status: 200, type: 'image/png', body: png });
    const draft = await newApp(productionOnLoopback, logoUrl('/draft.png'), 'draft');
    // Not even its initials: a draft is nobody's business yet.
    expectPlaceholder(await getLogo(productionOnLoopback, draft.path), '');
    expect(fetchesOf('/draft.png')).toBe(0);
    expect(await stored(productionOnLoopback, draft.id)).toBeUndefined();

    for (const status of ['certified', 'suspended', 'revoked', 'expired'] as const) {
      const app = await newApp(productionOnLoopback, logoUrl('/logo.png'), status);
      expect((await getLogo(productionOnLoopback, app.path)).status, status).toBe(200);
    }
    // Once certified, the draft's logo is served.
    await setCertificationStatus(productionOnLoopback().app.db, draft.id, 'certified');
    expect((await getLogo(productionOnLoopback, draft.path)).status).toBe(200);
  });

  it('serves every app’s logo in the sandbox, whose consent screen shows draft apps', async () => {
    const draft = await newApp(sandbox, logoUrl('/logo.png'), 'draft');
    expect((await getLogo(sandbox, draft.path)).status).toBe(200);
  });
});

describe('a logo given to the platform directly', () => {
  const given = solidPng(40, [0x6a, 0x3d, 0x9a]);

  it('is served like a fetched one, and never fetched while the logoUrl stays the same', async () => {
    routes.set('/given.png', { status: 200, type: 'image/png', body: otherPng });
    const app = await newApp(sandbox, logoUrl('/given.png'));
    expect(await storeProvidedLogo(sandbox().app.db, app.id, given)).toMatchObject({ ok: true, image: { type: 'image/png', width: 40, height: 40 } });
    const answer = await getLogo(sandbox, app.path);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/png');
    expect(answer.headers.get('etag')).toBe(`"${createHash('sha256').update(given).digest('hex')}"`);
    expect(answer.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(answer.bytes.equals(given)).toBe(true);
    // A day later it is still the one given, and the URL was never fetched.
    await sandbox().app.db.query(`UPDATE app_logos SET fetched_at = fetched_at - interval '3 days' WHERE app_id = $1`, [app.id]);
    expect((await getLogo(sandbox, app.path)).bytes.equals(given)).toBe(true);
    expect(fetchesOf('/given.png')).toBe(0);
  });

  it('gives way to the publisher’s logo when the logoUrl changes', async () => {
    const app = await newApp(sandbox, logoUrl('/logo.png'));
    await storeProvidedLogo(sandbox().app.db, app.id, given);
    await call(sandbox(), 'PATCH', `/apps/${app.id}`, { key: app.key, body: { logoUrl: logoUrl('/other.png') } });
    const answer = await getLogo(sandbox, app.path);
    expect(answer.status).toBe(200);
    expect(answer.bytes.equals(otherPng)).toBe(true);
    expect((await sandbox().app.db.query<{ provided: boolean }>('SELECT provided FROM app_logos WHERE app_id = $1', [app.id]))[0]!.provided).toBe(false);
  });

  it('is checked like a fetched one, and refused for an app without a logoUrl or an unknown app', async () => {
    const app = await newApp(sandbox, logoUrl('/never.png'));
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expect(await storeProvidedLogo(sandbox().app.db, app.id, svg)).toMatchObject({ ok: false });
    expect(await storeProvidedLogo(sandbox().app.db, app.id, Buffer.concat([given, Buffer.alloc(300 * 1024)]))).toMatchObject({ ok: false });
    expect(await stored(sandbox, app.id)).toBeUndefined();
    const bare = await newApp(sandbox, null);
    expect(await storeProvidedLogo(sandbox().app.db, bare.id, given)).toMatchObject({ ok: false, reason: expect.stringContaining('logoUrl') });
    expect(await storeProvidedLogo(sandbox().app.db, '00000000-0000-4000-8000-000000000000', given)).toMatchObject({ ok: false });
  });
});
