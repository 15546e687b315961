import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@mes/catalog-api';
import { demoApps, seedSandbox } from '../src/index.js';

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
});
