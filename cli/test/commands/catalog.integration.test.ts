import { catalog, startTestServer, type TestServer } from '@mes/catalog-api';
import { createPublisherClient, type CatalogApp, type PageData } from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorJson } from '../../src/base-command.js';
import { mes, startCliEnvironment, tempConfigDir } from '../helpers/cli.js';
import { appInput, registerPublisher } from '../helpers/fixtures.js';

let server: TestServer;
let config: Awaited<ReturnType<typeof tempConfigDir>>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  ({ server, config } = await startCliEnvironment());
  const publisher = await registerPublisher(server.url, 'Catalogue SAS');
  const client = createPublisherClient({ baseUrl: server.url, apiKey: publisher.key });
  for (const [name, category] of [['Alpha Tension', 'suivi-maladie-chronique'], ['Bêta Sommeil', 'bien-etre'], ['Gamma Brouillon', 'prevention']] as const) {
    const app = await client.apps.create({ ...appInput, name, category });
    ids[name] = app.id;
    if (!name.includes('Brouillon')) await catalog.setCertificationStatus(server.app.db, app.id, 'certified');
  }
});

afterAll(async () => {
  await server?.close();
  await config?.remove();
});

describe('mes catalog', () => {
  it('lists certified apps without an API key', async () => {
    const { stdout, exitCode } = await mes(['catalog', 'list']);
    expect(exitCode).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+CATEGORY\s+PUBLISHER$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/)[1])).toEqual(['Alpha Tension', 'Bêta Sommeil']);
  });

  it('searches, filters and pages with --json', async () => {
    const search = JSON.parse((await mes(['catalog', 'list', '--search', 'beta', '--json'])).stdout) as PageData<CatalogApp>;
    expect(search.items.map((app) => app.name)).toEqual(['Bêta Sommeil']);
    const filtered = JSON.parse((await mes(['catalog', 'list', '--category', 'suivi-maladie-chronique', '--json'])).stdout) as PageData<CatalogApp>;
    expect(filtered.items.map((app) => app.id)).toEqual([ids['Alpha Tension']]);
    const first = JSON.parse((await mes(['catalog', 'list', '--limit', '1', '--json'])).stdout) as PageData<CatalogApp>;
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBeTruthy();
    const all = JSON.parse((await mes(['catalog', 'list', '--limit', '1', '--all', '--json'])).stdout) as PageData<CatalogApp>;
    expect(all.items.map((app) => app.name)).toEqual(['Alpha Tension', 'Bêta Sommeil']);
    const none = await mes(['catalog', 'list', '--search', 'introuvable']);
    expect(none.stdout.trim()).toBe('No certified app matches.');
  });

  it('shows a certified app, and not_found for one that is not certified', async () => {
    const shown = await mes<CatalogApp>(['catalog', 'show', ids['Alpha Tension']!]);
    expect(shown.stdout).toMatch(/^Name:\s+Alpha Tension$/m);
    expect(shown.stdout).toMatch(/^Publisher:\s+Catalogue SAS/m);
    expect(shown.stdout).toContain('patient/Observation.crs?category=vital-signs — Lire et ajouter vos mesures de tension artérielle.');
    const json = await mes<CatalogApp>(['catalog', 'show', ids['Alpha Tension']!, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: ids['Alpha Tension'], certificationStatus: 'certified' });

    const draft = await mes(['catalog', 'show', ids['Gamma Brouillon']!]);
    expect(draft.exitCode).toBe(1);
    expect(draft.error?.message).toMatch(/^not_found: /);
    const draftJson = await mes(['catalog', 'show', ids['Gamma Brouillon']!, '--json']);
    expect((JSON.parse(draftJson.stdout) as ErrorJson).error).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('refuses an unknown category before calling the server', async () => {
    const { exitCode, error } = await mes(['catalog', 'list', '--category', 'astrologie']);
    expect(exitCode).toBe(2);
    expect(error?.message).toContain('Expected --category=astrologie to be one of');
  });
});
