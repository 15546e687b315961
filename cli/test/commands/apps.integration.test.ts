import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { App, PageData } from '@mes/sdk';
import { startTestServer, type TestServer } from '@mes/catalog-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorJson } from '../../src/base-command.js';
import { mes, mesProcess, startCliEnvironment, tempConfigDir } from '../helpers/cli.js';
import { registerPublisher, writeAppFile } from '../helpers/fixtures.js';

let server: TestServer;
let config: Awaited<ReturnType<typeof tempConfigDir>>;
let owner: { key: string; id: string };
let other: { key: string; id: string };

beforeAll(async () => {
  ({ server, config } = await startCliEnvironment());
  owner = await registerPublisher(server.url, 'Owner SAS');
  other = await registerPublisher(server.url, 'Other SAS');
  expect((await mes(['login', '--api-key', owner.key])).exitCode).toBe(0);
});

afterAll(async () => {
  await server?.close();
  await config?.remove();
});

async function createApp(name: string): Promise<App> {
  const file = await writeAppFile(config.dir, { name }, `${name}.json`);
  const { result, exitCode } = await mes<App>(['apps', 'create', '--file', file, '--json']);
  expect(exitCode).toBe(0);
  return result!;
}

describe('mes apps', () => {
  it('create --json prints only the app, which apps list --json then shows', async () => {
    const file = await writeAppFile(config.dir, { name: 'Created' }, 'created.json');
    const created = await mes<App>(['apps', 'create', '--file', file, '--json']);
    expect(created.exitCode).toBe(0);
    const app = JSON.parse(created.stdout) as App;
    expect(app).toMatchObject({ name: 'Created', publisherId: owner.id, certificationStatus: 'draft' });
    expect(created.result).toEqual(app);

    const listed = await mes<PageData<App>>(['apps', 'list', '--json']);
    const page = JSON.parse(listed.stdout) as PageData<App>;
    expect(page.items.map((item) => item.id)).toContain(app.id);
    expect(page.nextCursor).toBeNull();
  });

  it('prints a table without --json', async () => {
    const app = await createApp('Tabled');
    const { stdout } = await mes(['apps', 'list']);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+CATEGORY\s+STATUS\s+UPDATED$/);
    expect(rows.find((row) => row.startsWith(app.id))).toMatch(/Tabled\s+suivi-maladie-chronique\s+draft/);
  });

  it('pages with --limit and --cursor, or fetches everything with --all', async () => {
    const localConfig = await tempConfigDir();
    const env = { MES_CONFIG_DIR: localConfig.dir, MES_API_KEY: (await registerPublisher(server.url)).key };
    try {
      const file = await writeAppFile(config.dir, {}, 'paged.json');
      for (const name of ['P1', 'P2', 'P3']) expect((await mes(['apps', 'create', '--file', file, '--name', name, '--json'], env)).exitCode).toBe(0);
      const first = JSON.parse((await mes(['apps', 'list', '--limit', '2', '--json'], env)).stdout) as PageData<App>;
      expect(first.items.map((a) => a.name)).toEqual(['P1', 'P2']);
      expect(first.nextCursor).toBeTruthy();
      const human = await mes(['apps', 'list', '--limit', '2'], env);
      expect(human.stdout).toContain(`More results: mes apps list --limit 2 --cursor ${first.nextCursor}`);
      const second = JSON.parse((await mes(['apps', 'list', '--limit', '2', '--cursor', first.nextCursor!, '--json'], env)).stdout) as PageData<App>;
      expect(second.items.map((a) => a.name)).toEqual(['P3']);
      const all = JSON.parse((await mes(['apps', 'list', '--limit', '1', '--all', '--json'], env)).stdout) as PageData<App>;
      expect(all.items.map((a) => a.name)).toEqual(['P1', 'P2', 'P3']);
    } finally {
      await localConfig.remove();
    }
  });

  it('creates from flags alone, with repeated --redirect-uri and --scope', async () => {
    const { result, exitCode, error } = await mes<App>([
      'apps', 'create', '--json',
      '--name', 'FromFlags',
      '--category', 'prevention',
      '--short-description', '"Prévenir plutôt que guérir."',
      '--long-description', '"Une application de prévention pour toute la famille."',
      '--website-url', 'https://prevention.example.fr',
      '--redirect-uri', 'https://prevention.example.fr/cb',
      '--redirect-uri', 'http://127.0.0.1:8765/cb',
      '--scope', '"patient/Observation.rs?category=vital-signs=Lire vos mesures de tension."',
      '--scope', '"launch/patient=Ouvrir l\'application depuis le dossier."',
      '--privacy-policy-url', 'https://prevention.example.fr/confidentialite',
      '--terms-url', 'https://prevention.example.fr/cgu',
      '--support-email', 'aide@prevention.example.fr',
    ]);
    expect(error).toBeUndefined();
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({
      name: 'FromFlags',
      category: 'prevention',
      shortDescription: { fr: 'Prévenir plutôt que guérir.' },
      redirectUris: ['https://prevention.example.fr/cb', 'http://127.0.0.1:8765/cb'],
      scopes: [
        { scope: 'patient/Observation.rs?category=vital-signs', justification: 'Lire vos mesures de tension.' },
        { scope: 'launch/patient', justification: "Ouvrir l'application depuis le dossier." },
      ],
      supportContact: { email: 'aide@prevention.example.fr' },
    });
  });

  it('shows and updates an app; update sends only the given fields', async () => {
    const app = await createApp('ToUpdate');
    const shown = await mes(['apps', 'show', app.id]);
    expect(shown.stdout).toMatch(new RegExp(`^ID:\\s+${app.id}$`, 'm'));
    expect(shown.stdout).toMatch(/^Status:\s+draft$/m);

    const changes = join(config.dir, 'changes.json');
    await writeFile(changes, JSON.stringify({ category: 'bien-etre', supportContact: { email: 'aide@tensiosuivi.example.fr' } }));
    const fromFile = await mes<App>(['apps', 'update', app.id, '--file', changes, '--json']);
    expect(fromFile.result).toMatchObject({ name: 'ToUpdate', category: 'bien-etre', supportContact: { email: 'aide@tensiosuivi.example.fr' } });

    const updated = await mes<App>(['apps', 'update', app.id, '--name', 'Updated', '--logo-url', 'https://tensiosuivi.example.fr/logo.png', '--json']);
    expect(updated.exitCode).toBe(0);
    expect(updated.result).toMatchObject({ id: app.id, name: 'Updated', logoUrl: 'https://tensiosuivi.example.fr/logo.png', websiteUrl: app.websiteUrl });
    const removed = await mes<App>(['apps', 'update', app.id, '--remove-logo', '--json']);
    expect(removed.result?.logoUrl).toBeNull();

    const nothing = await mes(['apps', 'update', app.id]);
    expect(nothing.exitCode).toBe(1);
    expect(nothing.error?.message).toMatch(/^Nothing to change/);
  });

  it('reports validation errors with the server code and request id', async () => {
    const file = await writeAppFile(config.dir, { name: 'x' }, 'invalid.json');
    const human = await mes(['apps', 'create', '--file', file]);
    expect(human.exitCode).toBe(1);
    expect(human.error?.message).toMatch(/^validation_failed: \/body\/name: must NOT have fewer than 2 characters \(request id .+\)$/);

    const json = await mes(['apps', 'create', '--file', file, '--json']);
    expect(json.exitCode).toBe(1);
    const { error } = JSON.parse(json.stdout) as ErrorJson;
    expect(error).toMatchObject({ code: 'validation_failed', status: 400, errors: [{ pointer: '/body/name' }] });
    expect(error.requestId).toBeTruthy();
  });

  it("refuses another publisher's app with not_found for show, update and delete", async () => {
    const app = await createApp('Private');
    const env = { MES_API_KEY: other.key };
    for (const args of [['apps', 'show', app.id], ['apps', 'update', app.id, '--name', 'Stolen'], ['apps', 'delete', app.id, '--yes']]) {
      const { exitCode, error } = await mes(args, env);
      expect(exitCode, args.join(' ')).toBe(1);
      expect(error?.message).toMatch(new RegExp(`^not_found: No app ${app.id}\\. \\(request id .+\\)$`));
    }
    const json = await mes(['apps', 'show', app.id, '--json'], env);
    expect(json.exitCode).toBe(1);
    expect((JSON.parse(json.stdout) as ErrorJson).error.code).toBe('not_found');
    // Still there for its owner.
    expect((await mes<App>(['apps', 'show', app.id, '--json'])).result?.name).toBe('Private');
  });

  it('deletes only with --yes when not interactive', async () => {
    const app = await createApp('ToDelete');
    const refused = await mes(['apps', 'delete', app.id]);
    expect(refused.exitCode).toBe(1);
    expect(refused.error?.message).toContain('pass --yes');
    const refusedJson = await mes(['apps', 'delete', app.id, '--json']);
    expect((JSON.parse(refusedJson.stdout) as ErrorJson).error.code).toBe('confirmation_required');
    expect((await mes<App>(['apps', 'show', app.id, '--json'])).exitCode).toBe(0);

    const deleted = await mes(['apps', 'delete', app.id, '--yes', '--json']);
    expect(deleted.exitCode).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ id: app.id, deleted: true });
    const gone = await mes(['apps', 'show', app.id]);
    expect(gone.error?.message).toMatch(/^not_found: /);
  });

  it('the real binary prints nothing but JSON on stdout with --json, and exits non-zero on failure', async () => {
    const env = { MES_CONFIG_DIR: config.dir, MES_API_URL: server.url, MES_API_KEY: undefined };
    const ok = await mesProcess(['apps', 'list', '--json'], env);
    expect(ok.exitCode).toBe(0);
    expect(ok.stderr).toBe('');
    expect(Array.isArray((JSON.parse(ok.stdout) as PageData<App>).items)).toBe(true);

    const failed = await mesProcess(['apps', 'show', '00000000-0000-4000-8000-000000000000', '--json'], env);
    expect(failed.exitCode).toBe(1);
    expect((JSON.parse(failed.stdout) as ErrorJson).error.code).toBe('not_found');

    const piped = await mesProcess(['apps', 'create', '--file', '-', '--name', 'Piped', '--json'], env, await readFile(await writeAppFile(config.dir, {}, 'piped.json'), 'utf8'));
    expect(piped.exitCode).toBe(0);
    expect((JSON.parse(piped.stdout) as App).name).toBe('Piped');

    const human = await mesProcess(['apps', 'show', '00000000-0000-4000-8000-000000000000'], { ...env, MES_API_KEY: 'mes_pk_unknown' });
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr.replace(/\s*\n\s*›\s*/g, ' ')).toMatch(/Error: invalid_api_key: The API key is unknown or revoked\. \(request id [\w-]+\)/);
  });
});
