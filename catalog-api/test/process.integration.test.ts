// The process entry as operators run it: configuration from the environment, graceful stop on
// SIGTERM/SIGINT (in-flight requests finish, the store closes), data kept across restarts.
// The servers are waited for by their "listening on" line, within generous limits (a loaded
// machine may take long to start one), and stopped when the test ends however it ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appInput, registrationNumber } from './helpers.js';
import { entry, READY_TIMEOUT_MS, spawnServer, startProcess } from './spawn-server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mes-process-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const start = () => spawnServer({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', MES_MODE: 'sandbox' });
/** Two starts at most, each within READY_TIMEOUT_MS, and a few requests. */
const TEST_TIMEOUT_MS = 2 * READY_TIMEOUT_MS + 60_000;

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
  it('finishes in-flight requests on SIGTERM, closes the store, and keeps the data for the next start', { timeout: TEST_TIMEOUT_MS }, async () => {
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
    const apps = await fetch(`${second.url}/apps`, { headers: { authorization: `Bearer ${apiKey.key}` } });
    expect((await apps.json()).items.map((app: { name: string }) => app.name)).toEqual(['En vol']);
    expect(await second.stop('SIGINT')).toBe(0);
  });

  it('refuses to start with a bad configuration, saying why', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = startProcess(entry, { PORT: 'eighty', DATA_DIR: dataDir });
    const code = await server.exited;
    expect(code).not.toBe(0);
    expect(server.stderr()).toContain('PORT must be an integer');
  });
});
