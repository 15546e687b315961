// Sandbox evidence from the command line, across two platforms: `mes sandbox evidence` on the
// sandbox writes the signed report, `mes apps checks|submit --evidence` on a production platform
// that trusts the sandbox uses it; a file that holds no evidence is refused before any call.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from '@mes/catalog-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifiableAppInput, createCertifiableApp, OPERATOR_TOKEN, PUBLISHER_DOMAIN, startPublisherHost, type CertifiableApp } from '../../../catalog-api/test/certification-helpers.js';
import type { TestHttpsServer } from '../../../catalog-api/test/https-server.js';
import type { ErrorJson } from '../../src/base-command.js';
import { mes, tempConfigDir } from '../helpers/cli.js';

let host: TestHttpsServer;
let sandbox: TestServer;
let production: TestServer;
let sandboxApp: CertifiableApp;
let config: Awaited<ReturnType<typeof tempConfigDir>>;

beforeAll(async () => {
  host = await startPublisherHost();
  const outbound = { outbound: { ca: host.ca, resolve: host.resolve } };
  sandbox = await startTestServer({ operatorToken: OPERATOR_TOKEN, outboundAllowPrivateNetworks: true }, outbound);
  sandboxApp = await createCertifiableApp(sandbox, host, 'Preuves CLI SAS');
  const keys = ((await (await fetch(`${sandbox.url}/jwks.json`)).json()) as { keys: JsonWebKey[] }).keys;
  production = await startTestServer(
    { mode: 'production', publicUrl: 'https://api.mes.example.fr', operatorToken: OPERATOR_TOKEN, outboundAllowPrivateNetworks: true, trustedSandbox: { issuer: sandbox.url, keys } },
    outbound,
  );
  config = await tempConfigDir();
  process.env.MES_CONFIG_DIR = config.dir;
  delete process.env.MES_API_KEY;
  delete process.env.MES_TOKEN;
});

afterAll(async () => {
  await production?.close();
  await sandbox?.close();
  await host?.close();
  await config?.remove();
});

async function post(server: TestServer, path: string, body: unknown, key?: string) {
  const response = await fetch(`${server.url}${path}`, {
    method: path.includes('verification') ? 'PUT' : 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { authorization: `Bearer ${key}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as any;
}

describe('mes sandbox evidence, then --evidence elsewhere', () => {
  it('certifies on production with evidence signed by the sandbox', async () => {
    const evidenceFile = join(dirname(config.dir), 'evidence.jws');
    const signed = await mes<{ jws: string; issuer: string }>(['sandbox', 'evidence', sandboxApp.clientId, '--output', evidenceFile, '--json'], {
      MES_TOKEN: sandboxApp.publisher.key,
      MES_API_URL: sandbox.url,
    });
    expect(signed.exitCode).toBe(0);
    expect(signed.result?.issuer).toBe(sandbox.url);
    expect((await readFile(evidenceFile, 'utf8')).trim()).toBe(signed.result?.jws);
    if (process.platform !== 'win32') expect((await stat(evidenceFile)).mode & 0o777).toBe(0o600);

    // The same publisher on production (its registration number), verified, with the same app.
    const me = await (await fetch(`${sandbox.url}/publishers/me`, { headers: { authorization: `Bearer ${sandboxApp.publisher.key}` } })).json();
    const registered = await post(production, '/publishers', { name: 'Preuves CLI SAS', registrationNumber: me.registrationNumber, contactEmail: `dev@${PUBLISHER_DOMAIN}`, domains: [PUBLISHER_DOMAIN] });
    await post(production, `/operator/publishers/${registered.publisher.id}/verification`, undefined, OPERATOR_TOKEN);
    const key = registered.apiKey.key as string;
    const app = await post(production, '/apps', certifiableAppInput(host), key);
    const env = { MES_TOKEN: key, MES_API_URL: production.url };

    const withoutEvidence = await mes(['apps', 'checks', app.id, '--json'], env);
    expect(withoutEvidence.exitCode).toBe(1);
    const checks = await mes<{ evidenceSource: { kind: string }; counts: { fail: number } }>(['apps', 'checks', app.id, '--evidence', evidenceFile, '--json'], env);
    expect(checks.exitCode, checks.stdout).toBe(0);
    expect(checks.result).toMatchObject({ evidenceSource: { kind: 'signed' }, counts: { fail: 0 } });
    const submitted = await mes<{ state: string; checks: { evidenceSource: { issuer: string } } }>(['apps', 'submit', app.id, '--version', '1.0.0', '--evidence', evidenceFile, '--json'], env);
    expect(submitted.exitCode).toBe(0);
    expect(submitted.result).toMatchObject({ state: 'submitted', checks: { evidenceSource: { issuer: sandbox.url } } });
  });

  it('refuses a file without evidence, and evidence with a client, before calling', async () => {
    const wrong = join(dirname(config.dir), 'not-evidence.txt');
    await writeFile(wrong, 'hello');
    const env = { MES_TOKEN: sandboxApp.publisher.key, MES_API_URL: sandbox.url };
    const refused = await mes(['apps', 'checks', sandboxApp.appId, '--evidence', wrong, '--json'], env);
    expect(refused.exitCode).toBe(1);
    expect((JSON.parse(refused.stdout) as ErrorJson).error.code).toBe('invalid_file');
    const both = await mes(['apps', 'submit', sandboxApp.appId, '--version', '9.0.0', '--evidence', wrong, '--sandbox-client', sandboxApp.clientId]);
    expect(both.exitCode).not.toBe(0);
    expect(both.error?.message).toMatch(/--sandbox-client|--evidence/);
  });
});
