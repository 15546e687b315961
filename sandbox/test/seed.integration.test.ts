import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@mes/catalog-api';
import { demoApps, seedSandbox, seedSyntheticRecords } from '../src/index.js';
import { demoLogos, drawLogo } from '../src/demo-logos.js';
import { checkLogo } from '@mes/catalog-api';

const dataDir = mkdtempSync(join(tmpdir(), 'mes-seed-'));
let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('sandbox seed', () => {
  it('creates the demo publisher and apps once, and reuses them on the next start', async () => {
    server = await startTestServer();
    const first = await seedSandbox(server.app.db, dataDir);
    expect(first.createdApps).toHaveLength(demoApps.length);
    const keyFile = join(dataDir, 'sandbox-demo-api-key');
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(first.apiKey);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const second = await seedSandbox(server.app.db, dataDir);
    expect(second).toEqual({ publisherId: first.publisherId, apiKey: first.apiKey, createdApps: [] });

    const catalog = await (await fetch(`${server.url}/catalog/apps`)).json();
    expect(catalog.items.map((app: { name: string }) => app.name).sort()).toEqual(
      demoApps.filter((app) => app.certified).map((app) => app.name).sort(),
    );
    const mine = await (await fetch(`${server.url}/apps?limit=100`, { headers: { authorization: `Bearer ${first.apiKey}` } })).json();
    expect(mine.items).toHaveLength(demoApps.length);
  });

  it('issues a new demo key when the key file is lost, and the old key keeps working', async () => {
    const before = readFileSync(join(dataDir, 'sandbox-demo-api-key'), 'utf8').trim();
    rmSync(join(dataDir, 'sandbox-demo-api-key'));
    const again = await seedSandbox(server!.app.db, dataDir);
    expect(again.apiKey).not.toBe(before);
    expect(again.createdApps).toEqual([]);
    for (const key of [before, again.apiKey]) {
      expect((await fetch(`${server!.url}/publishers/me`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    }
  });

  it('gives every demo app a logo of its own, served by the platform without fetching the demo hosts', async () => {
    const key = readFileSync(join(dataDir, 'sandbox-demo-api-key'), 'utf8').trim();
    const mine = await (await fetch(`${server!.url}/apps?limit=100`, { headers: { authorization: `Bearer ${key}` } })).json();
    const served = new Set<string>();
    for (const app of mine.items as Array<{ id: string; name: string }>) {
      const logo = await fetch(`${server!.url}/catalogue/${app.id}/logo`);
      expect(logo.status, app.name).toBe(200);
      expect(logo.headers.get('content-type')).toBe('image/png');
      expect(logo.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
      const bytes = Buffer.from(await logo.arrayBuffer());
      expect(checkLogo(bytes, 'image/png')).toMatchObject({ ok: true, image: { width: 128, height: 128 } });
      served.add(bytes.toString('base64'));
    }
    expect(served.size).toBe(demoApps.length);
    // Nothing was fetched: no failure recorded, every logo marked as given.
    const rows = await server!.app.db.query<{ provided: boolean; error: string | null }>('SELECT provided, error FROM app_logos');
    expect(rows).toHaveLength(demoApps.length);
    for (const row of rows) expect(row).toEqual({ provided: true, error: null });
  });

  it('leaves alone the logo of a demo app whose logoUrl the developer changed', async () => {
    const key = readFileSync(join(dataDir, 'sandbox-demo-api-key'), 'utf8').trim();
    const mine = await (await fetch(`${server!.url}/apps?limit=100`, { headers: { authorization: `Bearer ${key}` } })).json();
    const app = (mine.items as Array<{ id: string; name: string }>).find((item) => item.name === 'Sommeil Zen')!;
    const changed = await fetch(`${server!.url}/apps/${app.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ logoUrl: 'https://sommeil.editeur.example.fr/logo.png' }),
    });
    expect(changed.status).toBe(200);
    await seedSandbox(server!.app.db, dataDir);
    const [row] = await server!.app.db.query<{ source_url: string; provided: boolean }>('SELECT source_url, provided FROM app_logos WHERE app_id = $1', [app.id]);
    expect(row).toEqual({ source_url: 'https://sommeilzen.demo-sante.example.fr/logo.png', provided: true });
  });

  it('draws distinct, small logos', () => {
    const drawn = Object.values(demoLogos).map(drawLogo);
    expect(new Set(drawn.map((png) => png.toString('base64'))).size).toBe(drawn.length);
    for (const png of drawn) expect(png.length).toBeLessThan(8 * 1024);
  });

  it('shows on the home page how many synthetic patients it loaded, and where the demo key is, never the key', async () => {
    const key = readFileSync(join(dataDir, 'sandbox-demo-api-key'), 'utf8').trim();
    const home = async () => (await fetch(`${server!.url}/`)).text();
    expect(await home()).toContain('<p id="sandbox-population">Aucun patient de synthèse n’est encore chargé.</p>');
    await seedSyntheticRecords(server!.app.db, { seed: 'accueil', patients: 3 });
    const page = await home();
    expect(page).toContain('<p id="sandbox-population">3 patients de synthèse sont chargés (graine «\u00a0accueil\u00a0»).</p>');
    expect(page).toContain('<code>sandbox-demo-api-key</code>');
    expect(page).not.toContain(key);
  });
});
