// The process entry as operators run it: configuration from the environment, graceful stop on
// SIGTERM/SIGINT (in-flight requests finish, the store closes), data kept across restarts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appInput, registrationNumber } from './helpers.js';
import { entry, spawnServer } from './spawn-server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mes-process-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const start = () => spawnServer({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', MES_MODE: 'sandbox' });

/** Sends an HTTP request over a raw socket in two halves, calling `between` in the middle. */
function slowRequest(url: string, path: string, headers: Record<string, string>, body: string, between: () => Promise<void>) {
  const { hostname, port } = new URL(url);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
    socket.on('connect', async () => {
      const head = [`POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      const half = Math.floor(body.length / 2);
      socket.write(`${head.join('\r\n')}\r\n\r\n${body.slice(0, half)}`);
      await between();
      socket.end(body.slice(half));
    });
  });
}

describe('the catalog-api process', () => {
  it('finishes in-flight requests on SIGTERM, closes the store, and keeps the data for the next start', async () => {
    const first = await start();
    const registered = await fetch(`${first.url}/publishers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Arrêt propre', registrationNumber: registrationNumber(), contactEmail: 'a@arret.example.fr' }),
    });
    const { apiKey } = await registered.json();

    const response = await slowRequest(first.url, '/apps', { Authorization: `Bearer ${apiKey.key}` }, JSON.stringify(appInput({ name: 'En vol' })), async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      first.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    expect(response).toMatch(/^HTTP\/1\.1 201 /);
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('SIGTERM received');

    const second = await start();
    try {
      const apps = await fetch(`${second.url}/apps`, { headers: { authorization: `Bearer ${apiKey.key}` } });
      expect((await apps.json()).items.map((app: { name: string }) => app.name)).toEqual(['En vol']);
    } finally {
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    }
  });

  it('refuses to start with a bad configuration, saying why', async () => {
    const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH, PORT: 'eighty', DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain('PORT must be an integer');
  });
});
