// `npm start` as a developer runs it: the sandbox process on the embedded store.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openStore } from '@mes/catalog-api';
import { GENERATOR_VERSION } from '../src/synthetic/generator.js';

const entry = fileURLToPath(new URL('../dist/start.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'mes-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function runSandbox(check: (banner: { url: string; key: string; text: string; output: () => string }) => Promise<void>) {
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', SANDBOX_PATIENTS: '30' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const banner = await new Promise<{ url: string; key: string; text: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner:\n${text}`)), 60_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const url = /API\s+(http:\/\/\S+)/.exec(text)?.[1];
      const key = /(mes_pk_[A-Za-z0-9_-]{43})/.exec(text)?.[1];
      if (url && key && text.includes('npx mes apps list')) {
        clearTimeout(timer);
        resolve({ url, key, text });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited with ${code}:\n${text}`)));
  });
  try {
    await check({ ...banner, output: () => text });
  } finally {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
}

describe('npm start (the sandbox process)', () => {
  it('starts ready, prints the URLs and a working demo key, and reuses its data on the next start', async () => {
    let firstKey = '';
    await runSandbox(async ({ url, key, text, output }) => {
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
      await vi.waitFor(() => expect(output()).toMatch(/Synthetic patients ready: 30 \(seed "sandbox", \d+ resources\)/), { timeout: 30_000, interval: 100 });
      const patients = await (await fetch(`${url}/sandbox/patients?limit=100`, { headers: { authorization: `Bearer ${key}` } })).json();
      expect(patients.items).toHaveLength(30);
      expect(patients.items[0].id).toBe('sandbox-patient-1');
    });
    await runSandbox(async ({ url, key, text, output }) => {
      expect(key).toBe(firstKey);
      expect(text).toContain('existing data reused');
      const mine = await (await fetch(`${url}/apps`, { headers: { authorization: `Bearer ${key}` } })).json();
      expect(mine.items).toHaveLength(5);
      await vi.waitFor(() => expect(output()).toContain('Synthetic patients ready: 30 (seed "sandbox"), reused.'), { timeout: 10_000, interval: 50 });
    });
  });

  it('says when the store holds patients of an earlier generator, rather than that it reuses them', async () => {
    const store = await openStore({ dataDir });
    await store.query('UPDATE sandbox_synthetic_state SET generator_version = generator_version - 1');
    await store.close();
    await runSandbox(async ({ output }) => {
      await vi.waitFor(() => expect(output()).toContain(`holds patients of an earlier generator (version ${GENERATOR_VERSION - 1}, now ${GENERATOR_VERSION})`), {
        timeout: 10_000,
        interval: 50,
      });
      expect(output()).not.toContain('reused.');
    });
  });

  it('refuses to run outside sandbox mode', async () => {
    const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH, DATA_DIR: dataDir, MES_MODE: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(1);
    expect(stderr).toContain('sandbox mode only');
  });
});
