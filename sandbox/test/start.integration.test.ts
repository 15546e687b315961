// `npm start` as a developer runs it: the sandbox process on the embedded store. Each start is
// waited for by what the process prints (its banner, then its synthetic patients), within generous
// limits, since a loaded machine may take many times the usual few seconds; every process is
// stopped when its test ends, however it ends (catalog-api/test/spawn-server.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '@mes/catalog-api';
import { READY_TIMEOUT_MS, startProcess } from '../../catalog-api/test/spawn-server.js';
import { GENERATOR_VERSION } from '../src/synthetic/generator.js';

const entry = fileURLToPath(new URL('../dist/start.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'mes-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** A start (banner, then the patients) within READY_TIMEOUT_MS each, and a few requests. */
const PER_START_MS = 2 * READY_TIMEOUT_MS + 30_000;

interface Banner {
  url: string;
  key: string;
  text: string;
  output: () => string;
  /** The first match of `pattern` in the output from now on or before, within READY_TIMEOUT_MS. */
  waitFor: (pattern: RegExp) => Promise<RegExpExecArray>;
}

async function runSandbox(check: (banner: Banner) => Promise<void>) {
  const sandbox = startProcess(entry, { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', SANDBOX_PATIENTS: '30' });
  // The banner ends with the last "Try it" line; the URL and the key come before it.
  await sandbox.waitFor(/npx mes apps list/);
  const text = sandbox.output();
  const url = /API\s+(http:\/\/\S+)/.exec(text)?.[1];
  const key = /(mes_pk_[A-Za-z0-9_-]{43})/.exec(text)?.[1];
  if (!url || !key) throw new Error(`no URL or key in the banner:\n${text}`);
  await check({ url, key, text, output: sandbox.output, waitFor: (pattern) => sandbox.waitFor(pattern) });
  expect(await sandbox.stop()).toBe(0);
}

describe('npm start (the sandbox process)', () => {
  it('starts ready, prints the URLs and a working demo key, and reuses its data on the next start', { timeout: 2 * PER_START_MS }, async () => {
    let firstKey = '';
    await runSandbox(async ({ url, key, text, waitFor }) => {
      firstKey = key;
      expect(text).toContain(`${url}/docs`);
      expect(text).toContain(`${url}/patient/apps`);
      expect((await fetch(`${url}/patient/apps`, { redirect: 'manual' })).status).toBe(303);
      expect(text).toContain('seeded 5 demo apps');
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const me = await fetch(`${url}/publishers/me`, { headers: { authorization: `Bearer ${key}` } });
      expect((await me.json()).name).toBe('Démo Santé Numérique');
      const catalog = await (await fetch(`${url}/catalog/apps`)).json();
      expect(catalog.items).toHaveLength(4);
      // The synthetic patients load after the banner; the picker's list finds them once loaded.
      await waitFor(/Synthetic patients ready: 30 \(seed "sandbox", \d+ resources\)/);
      const patients = await (await fetch(`${url}/sandbox/patients?limit=100`, { headers: { authorization: `Bearer ${key}` } })).json();
      expect(patients.items).toHaveLength(30);
      expect(patients.items[0].id).toBe('sandbox-patient-1');
    });
    await runSandbox(async ({ url, key, text, waitFor }) => {
      expect(key).toBe(firstKey);
      expect(text).toContain('existing data reused');
      const mine = await (await fetch(`${url}/apps`, { headers: { authorization: `Bearer ${key}` } })).json();
      expect(mine.items).toHaveLength(5);
      await waitFor(/Synthetic patients ready: 30 \(seed "sandbox"\), reused\./);
    });
  });

  it('says when the store holds patients of an earlier generator, rather than that it reuses them', { timeout: PER_START_MS }, async () => {
    const store = await openStore({ dataDir });
    await store.query('UPDATE sandbox_synthetic_state SET generator_version = generator_version - 1');
    await store.close();
    await runSandbox(async ({ output, waitFor }) => {
      await waitFor(new RegExp(`holds patients of an earlier generator \\(version ${GENERATOR_VERSION - 1}, now ${GENERATOR_VERSION}\\)`));
      expect(output()).not.toContain('reused.');
    });
  });

  it('refuses to run outside sandbox mode', { timeout: PER_START_MS }, async () => {
    const sandbox = startProcess(entry, { DATA_DIR: dataDir, MES_MODE: 'production' });
    expect(await sandbox.exited).toBe(1);
    expect(sandbox.stderr()).toContain('sandbox mode only');
  });
});
