// New embedded stores start from a template of the migrated schema (core/store/pglite-template.ts):
// what such a store holds must be exactly what the migrations make from nothing, and a template
// made for other migrations must never be used.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, pgliteStore, writePgliteTemplate, type Db } from '../src/core/store/db.js';
import { loadMigrations, migrate } from '../src/core/store/migrate.js';
import { pgliteTemplateFile, readPgliteTemplate } from '../src/core/store/pglite-template.js';

/** Everything the migrations define, as text: tables, columns, indexes, constraints, triggers, functions, rows they insert. */
async function schemaOf(db: Db): Promise<unknown> {
  const queries = {
    columns: `SELECT table_name, column_name, data_type, column_default, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
    indexes: `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
    constraints: `SELECT conrelid::regclass::text AS on_table, conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
    triggers: `SELECT tgrelid::regclass::text AS on_table, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`,
    functions: `SELECT proname, md5(prosrc) AS body FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1, 2`,
    migrations: `SELECT version, name, checksum FROM schema_migrations ORDER BY 1`,
    certificationLog: `SELECT seq, hash FROM certification_log_head`,
  };
  const schema: Record<string, unknown> = {};
  for (const [name, sql] of Object.entries(queries)) schema[name] = await db.query(sql);
  return schema;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the embedded store template', () => {
  it('gives a new store exactly the schema the migrations make from nothing', async () => {
    const { file } = await writePgliteTemplate();
    expect(file).toBe(pgliteTemplateFile());
    expect(await readPgliteTemplate()).not.toBeNull();

    const client = new PGlite();
    const scratch = pgliteStore(client);
    await migrate(scratch, loadMigrations());
    const fromTemplate = await openStore({ dataDir: 'memory://' });
    try {
      // At boot the migrations run on it too, and find every one applied, unchanged.
      expect(await migrate(fromTemplate, loadMigrations())).toEqual([]);
      const expected = await schemaOf(scratch);
      expect((expected as { columns: unknown[] }).columns.length).toBeGreaterThan(100);
      expect(await schemaOf(fromTemplate)).toEqual(expected);
    } finally {
      await fromTemplate.close();
      await client.close();
    }
  });

  it('makes a data directory that keeps its data when opened again', async () => {
    await writePgliteTemplate();
    const dataDir = mkdtempSync(join(tmpdir(), 'mes-template-'));
    dirs.push(dataDir);
    const first = await openStore({ dataDir });
    await first.query(`INSERT INTO oauth_replay (namespace, jti, expires_at) VALUES ('test', 'é-template', now() + interval '1 hour')`);
    await first.close();
    const again = await openStore({ dataDir });
    try {
      expect(await again.query(`SELECT jti FROM oauth_replay WHERE namespace = 'test'`)).toEqual([{ jti: 'é-template' }]);
      expect(await migrate(again, loadMigrations())).toEqual([]);
    } finally {
      await again.close();
    }
  });

  it('is never used for other migrations: its name follows every migration’s content', () => {
    const migrations = loadMigrations();
    const changed = migrations.map((migration, i) => (i === migrations.length - 1 ? { ...migration, checksum: `${migration.checksum}0` } : migration));
    expect(pgliteTemplateFile(changed)).not.toBe(pgliteTemplateFile(migrations));
    expect(pgliteTemplateFile(migrations.slice(0, -1))).not.toBe(pgliteTemplateFile(migrations));
    expect(pgliteTemplateFile(migrations)).toBe(pgliteTemplateFile(loadMigrations()));
  });
});
