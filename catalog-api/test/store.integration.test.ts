import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { copyText, openStore, statementNamer, type CopyValue } from '../src/core/store/db.js';
import { loadMigrations, migrate, MigrationError } from '../src/core/store/migrate.js';
import { dropTestSchema, testConfig } from '../src/testing.js';
import { appInput } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mes-store-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store of the kind the suite runs on: PGlite in memory (empty: not from the migrated template), or a fresh PostgreSQL schema. */
async function freshStore() {
  const config = testConfig();
  const db = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.databaseSchema, template: false });
  cleanups.push(async () => {
    await db.close();
    await dropTestSchema(config);
  });
  return { db, config };
}

describe('migrations', () => {
  it('apply once, in order, and record a checksum', async () => {
    const { db } = await freshStore();
    const all = loadMigrations();
    expect(all.map((m) => m.version)).toEqual([...all.map((m) => m.version)].sort((a, b) => a - b));
    expect(await migrate(db)).toEqual(all.map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
    const rows = await db.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.checksum)).toEqual(all.map((m) => m.checksum));
  });

  it('refuse to start when an applied migration was edited', async () => {
    const { db } = await freshStore();
    const all = loadMigrations();
    await migrate(db, all);
    const edited = all.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: 'different' } : m));
    await expect(migrate(db, edited)).rejects.toThrow(MigrationError);
  });

  it('roll back entirely when a migration fails', async () => {
    const { db } = await freshStore();
    const dir = tempDir();
    writeFileSync(join(dir, '0001_good.sql'), 'CREATE TABLE good (id int);');
    writeFileSync(join(dir, '0002_bad.sql'), 'CREATE TABLE bad (id int); SELECT * FROM missing_table;');
    await expect(migrate(db, loadMigrations(dir))).rejects.toThrow();
    expect(await db.query("SELECT 1 FROM information_schema.tables WHERE table_name IN ('good', 'bad', 'schema_migrations') AND table_schema = current_schema()")).toEqual([]);
  });

  it('are applied once when several instances start together', async () => {
    const config = testConfig();
    const stores = await Promise.all(
      [0, 1, 2].map(() => openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.databaseSchema, template: false })),
    );
    cleanups.push(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await dropTestSchema(config);
    });
    if (!config.databaseUrl) {
      // On PGlite each in-memory store is its own database: nothing is shared, each applies all.
      const results = await Promise.all(stores.map((s) => migrate(s)));
      for (const result of results) expect(result).toHaveLength(loadMigrations().length);
      return;
    }
    const results = await Promise.all(stores.map((s) => migrate(s)));
    expect(results.flat()).toEqual(loadMigrations().map((m) => m.version));
  });
});

describe('embedded store', () => {
  it('keeps data across a restart', async () => {
    const dataDir = tempDir();
    const config = { ...testConfig(), dataDir, databaseUrl: undefined, databaseSchema: undefined };
    const first = await buildApp(config);
    const registered = await first.inject({
      method: 'POST',
      url: '/publishers',
      payload: { name: 'Persistant', registrationNumber: '12312312312312', contactEmail: 'p@persistant.example.fr' },
    });
    const { apiKey } = registered.json();
    await first.inject({ method: 'POST', url: '/apps', headers: { authorization: `Bearer ${apiKey.key}` }, payload: appInput() });
    await first.close();

    const second = await buildApp(config);
    try {
      const apps = await second.inject({ method: 'GET', url: '/apps', headers: { authorization: `Bearer ${apiKey.key}` } });
      expect(apps.statusCode).toBe(200);
      expect(apps.json().items.map((app: { name: string }) => app.name)).toEqual(['TensioSuivi']);
    } finally {
      await second.close();
    }
  });

  it('creates its data directory when missing', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const db = await openStore({ dataDir });
    await db.close();
    expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
  });
});

describe('prepared statements', () => {
  it('prepares each statement text once per connection, under a name derived from the text', async () => {
    const { db } = await freshStore();
    const sql = 'SELECT $1::int + 1 AS n';
    const prepared = await db.transaction(async (tx) => {
      expect(await tx.query(sql, [1])).toEqual([{ n: 2 }]);
      expect(await tx.query(sql, [41])).toEqual([{ n: 42 }]);
      return tx.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements WHERE statement = $1', [sql]);
    });
    if (db.kind === 'postgres') {
      // One entry, named after the text: the second run only bound and executed it.
      expect(prepared).toEqual([{ name: statementNamer().nameOf(sql), statement: sql }]);
    } else {
      // PGlite runs every statement through its one connection's unnamed statement.
      expect(prepared).toEqual([]);
    }
  });

  it('runs a statement again, unprepared, when its table changed shape under it', async () => {
    const { db } = await freshStore();
    await db.exec('CREATE TABLE reshaped (a int); INSERT INTO reshaped VALUES (1)');
    const sql = 'SELECT * FROM reshaped WHERE a = $1';
    // Every pooled connection prepares it, so the change hits whichever connection runs it next.
    await Promise.all(Array.from({ length: 12 }, () => db.query(sql, [1])));
    await db.exec('ALTER TABLE reshaped ADD COLUMN b text');
    const after = await Promise.all(Array.from({ length: 12 }, () => db.query(sql, [1])));
    expect(after).toEqual(Array.from({ length: 12 }, () => [{ a: 1, b: null }]));
  });

  it('names a bounded number of texts and runs the others unprepared', () => {
    const namer = statementNamer(3);
    const names = ['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 4'].map((sql) => namer.nameOf(sql));
    expect(names.slice(0, 3).every((name) => /^mes_[A-Za-z0-9_-]{22}$/.test(name ?? ''))).toBe(true);
    expect(new Set(names.slice(0, 3)).size).toBe(3);
    expect(names[3]).toBeUndefined();
    // A named text keeps its name.
    expect(namer.nameOf('SELECT 1')).toBe(names[0]);
  });
});

describe('bulk copy', () => {
  const columns = ['id', 'label', 'n', 'at', 'tags', 'doc', 'flag'];
  const ddl = (table: string) => `CREATE TABLE ${table} (id text PRIMARY KEY, label text, n integer, at timestamptz, tags text[] NOT NULL, doc jsonb, flag boolean)`;
  const rows: CopyValue[][] = [
    ['a', 'plain', 1, new Date('2026-11-30T08:15:00.123Z'), ['x=1', 'y=http://loinc.org|8480-6'], JSON.stringify({ k: 'v', n: [1, 2] }), true],
    // Everything COPY's text format escapes, in every kind of column.
    ['b\\t', 'tab\there\nnew line\r\\back\\slash \\N', -7, new Date(0), ['with "quotes"', 'back\\slash', 'comma,brace}', ''], JSON.stringify({ text: 'a\tb\nc "q" \\ é 😀' }), false],
    ['c', null, null, null, [], null, null],
    ['d', '', 0, new Date('1999-12-31T23:59:59Z'), ['\\N', 'NULL'], JSON.stringify('\\N'), null],
  ];
  const select = (table: string) =>
    `SELECT id, label, n, at, tags, doc::text AS doc, flag FROM ${table} ORDER BY id`;

  it('writes exactly the rows a parameterized INSERT of the same values writes', async () => {
    const { db } = await freshStore();
    await db.exec(`${ddl('copied')}; ${ddl('inserted')};`);
    await db.copyFrom('copied', columns, copyText(rows));
    for (const row of rows) {
      await db.query(`INSERT INTO inserted (${columns.join(', ')}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, row);
    }
    const copied = await db.query(select('copied'));
    expect(copied).toHaveLength(rows.length);
    expect(copied).toEqual(await db.query(select('inserted')));
    expect(copied.find((row) => row.id === 'c')).toEqual({ id: 'c', label: null, n: null, at: null, tags: [], doc: null, flag: null });
    expect(copied.find((row) => row.id === 'd')).toMatchObject({ label: '', tags: ['\\N', 'NULL'] });
  });

  it('writes nothing when one row is already there, and says so with 23505', async () => {
    const { db } = await freshStore();
    await db.exec(ddl('copied'));
    await db.copyFrom('copied', columns, copyText([rows[0]!]));
    await expect(db.copyFrom('copied', columns, copyText(rows))).rejects.toMatchObject({ code: '23505' });
    expect(await db.query('SELECT id FROM copied')).toEqual([{ id: 'a' }]);
  });

  it('tells the change feed, refuses names that are not plain identifiers, and does nothing with no rows', async () => {
    const { db } = await freshStore();
    await db.exec(ddl('copied'));
    const seen: (string | null)[] = [];
    const unsubscribe = db.changes.subscribe(['copied'], (table) => seen.push(table));
    await db.copyFrom('copied', columns, '');
    expect(seen).toEqual([]);
    await db.copyFrom('copied', columns, copyText([rows[0]!]));
    unsubscribe();
    expect(seen).toContain('copied');
    await expect(db.copyFrom('copied; DROP TABLE copied', columns, copyText([rows[0]!]))).rejects.toThrow(/invalid identifier/);
    await expect(db.copyFrom('copied', ['id', 'label"'], copyText([['z', 'y']]))).rejects.toThrow(/invalid identifier/);
    expect(await db.query('SELECT count(*)::int AS n FROM copied')).toEqual([{ n: 1 }]);
  });
});
