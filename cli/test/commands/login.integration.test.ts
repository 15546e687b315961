import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certification, startTestServer, type TestServer } from '@mes/catalog-api';
import type { App, PageData } from '@mes/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorJson } from '../../src/base-command.js';
import type { LoginResult } from '../../src/commands/login.js';
import { mes, startCliEnvironment, tempConfigDir } from '../helpers/cli.js';
import { registerPublisher, writeAppFile } from '../helpers/fixtures.js';

let server: TestServer;
let config: Awaited<ReturnType<typeof tempConfigDir>>;

beforeAll(async () => {
  ({ server, config } = await startCliEnvironment());
  await certification.seedSandboxReviewers(server.app.db);
});

afterAll(async () => {
  await server?.close();
  await config?.remove();
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('mes login / logout', () => {
  it('checks the key, then stores it with the API URL, readable by the owner only', async () => {
    const { key, id } = await registerPublisher(server.url, 'Login SAS');
    const { stdout, result, exitCode } = await mes<LoginResult>(['login', '--api-key', key]);
    expect(exitCode).toBe(0);
    expect(stdout).toContain(`Logged in to ${server.url} as Login SAS (${id}).`);
    expect(stdout).not.toContain(key);
    expect(result?.publisher).toEqual({ id, name: 'Login SAS', status: 'verified' });

    const file = join(config.dir, 'config.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ apiKey: key, apiUrl: server.url });
    if (process.platform !== 'win32') {
      expect(await mode(file)).toBe(0o600);
      expect(await mode(config.dir)).toBe(0o700);
    }

    // The stored key is used by the next commands.
    const list = await mes(['apps', 'list', '--json']);
    expect(list.exitCode).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ items: [], nextCursor: null });
  });

  it('refuses an unknown key and stores nothing', async () => {
    const other = await tempConfigDir();
    try {
      const { error, exitCode } = await mes(['login', '--api-key', 'mes_pk_not_a_real_key'], { MES_CONFIG_DIR: other.dir });
      expect(exitCode).toBe(1);
      expect(error?.message).toMatch(/^invalid_api_key: The API key is unknown or revoked\. \(request id .+\)$/);
      await expect(stat(join(other.dir, 'config.json'))).rejects.toThrow(/ENOENT/);
    } finally {
      await other.remove();
    }
  });

  it('keeps the file private when it already existed with a looser mode', async () => {
    const other = await tempConfigDir();
    try {
      await mkdir(other.dir, { recursive: true, mode: 0o755 });
      await writeFile(join(other.dir, 'config.json'), '{}', { mode: 0o644 });
      const { key } = await registerPublisher(server.url);
      expect((await mes(['login', '--api-key', key], { MES_CONFIG_DIR: other.dir })).exitCode).toBe(0);
      if (process.platform !== 'win32') {
        expect(await mode(join(other.dir, 'config.json'))).toBe(0o600);
        expect(await mode(other.dir)).toBe(0o700);
      }
    } finally {
      await other.remove();
    }
  });

  it('logout removes the key; commands then fail with a clear message', async () => {
    const { key } = await registerPublisher(server.url);
    await mes(['login', '--api-key', key]);
    const out = await mes<{ removed: boolean }>(['logout']);
    expect(out.stdout).toContain('Logged out');
    expect(out.result?.removed).toBe(true);
    await expect(stat(join(config.dir, 'config.json'))).rejects.toThrow(/ENOENT/);
    expect((await mes<{ removed: boolean }>(['logout'])).result?.removed).toBe(false);

    const { error, exitCode } = await mes(['apps', 'list']);
    expect(exitCode).toBe(1);
    expect(error?.message).toBe('Not signed in: run "mes login" (or "mes login --api-key <key>"), or set MES_TOKEN.');

    const json = await mes(['apps', 'list', '--json']);
    expect(json.exitCode).toBe(1);
    expect((JSON.parse(json.stdout) as ErrorJson).error.code).toBe('no_api_key');
  });

  it('prefers MES_API_KEY over the stored key', async () => {
    const stored = await registerPublisher(server.url, 'Stored SAS');
    const fromEnv = await registerPublisher(server.url, 'Env SAS');
    const login = await mes<LoginResult>(['login', '--api-key', stored.key, '--json']);
    expect(login.result?.publisher?.name).toBe('Stored SAS');

    const file = await writeAppFile(config.dir, { name: 'Env app' }, 'env-app.json');
    const created = await mes<App>(['apps', 'create', '--file', file, '--json'], { MES_API_KEY: fromEnv.key });
    expect(created.result?.publisherId).toBe(fromEnv.id);
    expect((await mes<PageData<App>>(['apps', 'list', '--json'])).result?.items).toEqual([]);

    const unknown = await mes(['apps', 'list', '--json'], { MES_API_KEY: 'mes_pk_revoked_or_unknown' });
    expect(unknown.exitCode).toBe(1);
    expect((JSON.parse(unknown.stdout) as ErrorJson).error.code).toBe('invalid_api_key');
  });
});

describe('mes login with the device flow', () => {
  const signedIn = async () => {
    const out = await mes<{ kind: string; name: string; via: string; scopes: string[] | null }>(['whoami', '--json']);
    return out.exitCode === 0 ? out.result : (JSON.parse(out.stdout) as ErrorJson).error.code;
  };

  it('signs in as a seeded sandbox reviewer, holds a private session, and signs out', async () => {
    const { result, exitCode, stdout } = await mes<LoginResult>(['login', '--sandbox-user', 'reviewer-a']);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('Approved in the sandbox as reviewer-a.');
    expect(result).toMatchObject({ method: 'device', caller: { kind: 'reviewer', scopes: ['offline_access', 'platform/certification.review'] } });
    const file = join(config.dir, 'session.json');
    if (process.platform !== 'win32') expect(await mode(file)).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toContain('mes_rk_');
    expect(await signedIn()).toMatchObject({ kind: 'reviewer', via: 'platform_token' });
    // The session reviews (any operation, through mes api) and does not manage apps.
    expect((await mes(['api', 'listReviewQueue', '--json'])).exitCode).toBe(0);
    const apps = await mes(['apps', 'list', '--json']);
    expect((JSON.parse(apps.stdout) as ErrorJson).error.code).toBe('insufficient_scope');

    const out = await mes<{ removed: boolean; sessionEnded: boolean }>(['logout', '--json']);
    expect(out.result).toMatchObject({ removed: true, sessionEnded: true });
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    expect(await signedIn()).toBe('no_api_key');
  });

  it('waits for a person to approve the code with their key', async () => {
    const reviewer = (await certification.createReviewer(server.app.db, { login: 'cli-device-reviewer', name: 'Device Reviewer', email: 'device@certification.example.gouv.fr' }))!;
    const login = mes<LoginResult>(['login', '--json']);
    // The person reads the code on their terminal and types it on /device with their key.
    let userCode: string | undefined;
    while (!userCode) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      [{ user_code: userCode } = { user_code: undefined }] = await server.app.db.query<{ user_code: string }>("SELECT user_code FROM device_authorizations WHERE status = 'pending'");
    }
    const approval = await fetch(`${server.url}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_code: userCode, api_key: reviewer.apiKey, decision: 'approve' }),
    });
    expect(approval.status).toBe(200);
    const { result, exitCode } = await login;
    expect(exitCode).toBe(0);
    expect(result?.caller).toMatchObject({ kind: 'reviewer', id: reviewer.reviewer.id, name: 'Device Reviewer' });
    expect(await signedIn()).toMatchObject({ kind: 'reviewer', name: 'Device Reviewer' });
    await mes(['logout']);
  }, 20_000);

  it('MES_TOKEN takes a reviewer key for automation, before any saved login', async () => {
    const { key } = await registerPublisher(server.url, 'Saved SAS');
    await mes(['login', '--api-key', key]);
    const reviewer = (await certification.createReviewer(server.app.db, { login: 'cli-token-reviewer', name: 'Token Reviewer', email: 'token@certification.example.gouv.fr' }))!;
    const out = await mes<{ kind: string; via: string }>(['whoami', '--json'], { MES_TOKEN: reviewer.apiKey });
    expect(out.result).toMatchObject({ kind: 'reviewer', name: 'Token Reviewer', via: 'api_key' });
    expect((await signedIn())).toMatchObject({ kind: 'publisher', name: 'Saved SAS' });
    // Signing in replaces the saved key (which would otherwise win), and a saved key replaces the session.
    await mes(['login', '--sandbox-user', 'reviewer-b']);
    expect(await signedIn()).toMatchObject({ kind: 'reviewer', via: 'platform_token' });
    expect(JSON.parse(await readFile(join(config.dir, 'config.json'), 'utf8'))).not.toHaveProperty('apiKey');
    await mes(['login', '--api-key', key]);
    expect(await signedIn()).toMatchObject({ kind: 'publisher', via: 'api_key' });
    await expect(stat(join(config.dir, 'session.json'))).rejects.toThrow(/ENOENT/);
    const unknown = await mes(['login', '--sandbox-user', 'nobody']);
    expect(unknown.exitCode).toBe(2);
    await mes(['logout']);
  });
});
