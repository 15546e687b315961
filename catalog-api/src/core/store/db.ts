// The store behind every module: a small Db interface over PostgreSQL, served either by the
// embedded PGlite (default, data in DATA_DIR) or by a PostgreSQL server through `pg`.
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { CHANGE_CHANNEL, LocalChanges, type ChangeFeed } from './changes.js';
import { loadMigrations, migrate } from './migrate.js';
import { pgliteTemplateFile, readPgliteTemplate } from './pglite-template.js';

export type Row = Record<string, unknown>;

export interface Queryable {
  /** Runs one parameterized statement and returns its rows. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A value `copyFrom` writes: given as PostgreSQL would read its text (a Date as an instant, an array as a text[]). */
export type CopyValue = string | number | boolean | Date | readonly (string | null)[] | null;

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Appends rows to `table` in one statement, the bulk-load path: `data` is the rows in COPY's
   * text format (`copyText` makes it). COPY on PGlite; on PostgreSQL (no COPY client here)
   * multi-row INSERTs of the texts in one transaction. Either way each value goes through its
   * column type's input function, as in COPY. Atomic; no ON CONFLICT: a row that is already
   * there fails the whole call (23505).
   */
  copyFrom(table: string, columns: readonly string[], data: string): Promise<void>;
  /** What changed in the store, for the state kept in memory (changes.ts). */
  readonly changes: ChangeFeed;
  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string;
  dataDir: string;
  /** PostgreSQL schema to work in; created if missing. */
  schema?: string;
  /**
   * Whether a new embedded store starts from the template of the migrated schema, when there is
   * one (true by default; pglite-template.ts). False gives an empty store, for the migrations' own tests.
   */
  template?: boolean;
}

const schemaName = /^[a-z_][a-z0-9_]{0,62}$/;
const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

function checkIdentifiers(table: string, columns: readonly string[]): void {
  for (const name of [table, ...columns]) if (!identifier.test(name)) throw new Error(`invalid identifier "${name}"`);
  if (columns.length === 0) throw new Error('copyFrom needs at least one column');
}

/** A value as PostgreSQL's input functions read it (null stays null). */
function textOf(value: CopyValue): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    let out = '{';
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as string | null;
      out += `${i ? ',' : ''}${item === null ? 'NULL' : `"${item.replace(/["\\]/g, '\\$&')}"`}`;
    }
    return `${out}}`;
  }
  return String(value);
}

const copySpecial = /[\\\t\n\r]/g;
const copyEscapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

const copyUnescapes: Record<string, string> = { '\\\\': '\\', '\\t': '\t', '\\n': '\n', '\\r': '\r' };

/** The values of COPY text: one array of texts (or nulls) per column. */
function copyColumns(data: string, width: number): (string | null)[][] {
  const columns: (string | null)[][] = Array.from({ length: width }, () => []);
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf('\n', start);
    if (end === -1) end = data.length;
    const fields = data.slice(start, end).split('\t');
    if (fields.length !== width) throw new Error(`COPY data: a row has ${fields.length} fields, not ${width}`);
    for (let i = 0; i < width; i++) {
      const field = fields[i]!;
      columns[i]!.push(field === '\\N' ? null : field.includes('\\') ? field.replace(/\\[\\tnr]/g, (e) => copyUnescapes[e]!) : field);
    }
    start = end + 1;
  }
  return columns;
}

/** Rows in COPY's text format (tab-separated, `\N` for null, backslash escapes), for `Db.copyFrom`. */
export function copyText(rows: readonly (readonly CopyValue[])[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) {
      const text = textOf(row[i]!);
      if (i) line += '\t';
      line += text === null ? '\\N' : text.replace(copySpecial, (c) => copyEscapes[c]!);
    }
    lines.push(line);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export async function openStore(options: StoreOptions): Promise<Db> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.schema);
  return openPglite(options.dataDir, options.template ?? true);
}

async function openPglite(dataDir: string, useTemplate: boolean): Promise<Db> {
  const inMemory = dataDir === 'memory://' || dataDir === ':memory:';
  // PGlite's files live in a folder of their own, so the data directory can hold other state too.
  const pgliteDir = join(dataDir, 'pglite');
  if (!inMemory) mkdirSync(pgliteDir, { recursive: true });
  // A new store starts from the template of the current migrations when there is one (pglite-template.ts).
  const fresh = inMemory || !existsSync(join(pgliteDir, 'PG_VERSION'));
  const template = fresh && useTemplate ? await readPgliteTemplate() : null;
  const options = {
    ...(template ? { loadDataDir: template } : {}),
    // A store in memory holds its pages in memory already: PostgreSQL's default buffer pool of
    // 128 MB in front of them only costs its allocation, at every start.
    ...(inMemory ? { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${IN_MEMORY_SHARED_BUFFERS}`] } : {}),
  };
  const client = inMemory ? new PGlite(options) : new PGlite(pgliteDir, options);
  await client.waitReady;
  return pgliteStore(client);
}

/** PostgreSQL's buffer pool in a store held in memory (the default is 128 MB). */
export const IN_MEMORY_SHARED_BUFFERS = '16MB';

/**
 * Makes the template new embedded stores start from (pglite-template.ts), unless it is there
 * already: a store in memory, migrated, checkpointed, dumped. Returns its file. Its WAL segments
 * are 1 MB rather than 16: the segment travels whole in the template and is rewritten at every
 * start. The checkpoint leaves nothing to replay when a store starts from it.
 */
export async function writePgliteTemplate(): Promise<{ file: string; created: boolean }> {
  const migrations = loadMigrations();
  const file = pgliteTemplateFile(migrations);
  if (existsSync(file)) return { file, created: false };
  const client = new PGlite({ initDbStartParams: ['--wal-segsize=1'] });
  await client.waitReady;
  try {
    await migrate(pgliteStore(client), migrations);
    await client.exec('CHECKPOINT');
    const dump = await client.dumpDataDir('none');
    mkdirSync(dirname(file), { recursive: true });
    // Written whole, then put in place: a store being opened meanwhile sees no template, or all of
    // it. Linked rather than renamed, so that a template in place is never replaced by another
    // process's (stores read it as a Blob backed by the file, which a replaced file breaks).
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    try {
      linkSync(partial, file);
      unlinkSync(partial);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') unlinkSync(partial);
      else renameSync(partial, file); // a file system without hard links
    }
  } finally {
    await client.close();
  }
  return { file, created: true };
}

/** The Db of an open PGlite instance. */
export function pgliteStore(client: PGlite): Db {
  // One process owns the embedded store: every change is made here and seen at once.
  const local = new LocalChanges();
  const query = async <R extends Row>(sql: string, params?: readonly unknown[]) => {
    const { rows } = await client.query<R>(sql, params as unknown[] | undefined);
    local.wrote(sql);
    return rows;
  };
  return {
    kind: 'pglite',
    changes: { subscribe: (tables, listener) => local.subscribe(tables, listener), live: true },
    query,
    // PGlite has a single connection, so transactions are serialized by PGlite itself.
    exec: async (sql) => {
      await client.exec(sql);
      local.wrote(sql);
    },
    async transaction(fn) {
      const texts: string[] = [];
      const result = await client.transaction((tx) =>
        fn({
          query: async <R extends Row>(sql: string, params?: readonly unknown[]) => {
            const { rows } = await tx.query<R>(sql, params as unknown[] | undefined);
            texts.push(sql);
            return rows;
          },
          exec: async (sql) => {
            await tx.exec(sql);
            texts.push(sql);
          },
        }),
      );
      for (const sql of texts) local.wrote(sql);
      return result;
    },
    async copyFrom(table, columns, data) {
      checkIdentifiers(table, columns);
      if (data === '') return;
      // PGlite reads COPY's input from a virtual file holding the blob.
      await client.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], { blob: new Blob([data]) });
      local.emit(table);
    },
    close: () => client.close(),
  };
}

/** Arbitrary constant that identifies the schema-creation lock among the server's advisory locks. */
const SCHEMA_LOCK = 7_340_012;

/**
 * CREATE SCHEMA IF NOT EXISTS is not safe against itself: two instances starting together can
 * both try to create the schema. Serializing them on an advisory lock makes it safe.
 */
async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  });
}

/** Runs `fn` on one pooled connection inside BEGIN … COMMIT, rolled back if it throws. */
async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * How many distinct statement texts one process prepares on each connection. The platform's
 * statements come from a bounded set of templates (a few hundred at most); the cap only guards
 * against a text built from unbounded input, which then simply runs unprepared.
 */
export const PREPARED_STATEMENT_LIMIT = 2_000;

/** `cached plan must not change result type`: a table changed under a prepared statement. */
const PLAN_CHANGED = '0A000';

/**
 * Names statements so that `pg` prepares each text once per connection and then only binds and
 * executes it: PostgreSQL parses and plans it once instead of on every request. The name is a
 * digest of the text, so one text always has one name on every connection. A statement whose
 * table changed shape under it (a migration by a newer instance) fails once with 0A000: that text
 * is run unprepared from then on.
 */
export function statementNamer(limit = PREPARED_STATEMENT_LIMIT) {
  const names = new Map<string, string | null>();
  return {
    nameOf(sql: string): string | undefined {
      let name = names.get(sql);
      if (name === undefined) {
        name = names.size < limit ? `mes_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}` : null;
        if (name !== null || names.size < limit * 2) names.set(sql, name);
      }
      return name ?? undefined;
    },
    /**
     * Runs `run` prepared. If the prepared plan went stale, the text runs unprepared from then
     * on: at once when `retry` (outside a transaction, which the error has aborted), else from
     * the next attempt.
     */
    async run<T>(sql: string, run: (name: string | undefined) => Promise<T>, retry = true): Promise<T> {
      const name = this.nameOf(sql);
      try {
        return await run(name);
      } catch (error) {
        if (name === undefined || (error as { code?: string }).code !== PLAN_CHANGED) throw error;
        names.set(sql, null);
        if (!retry) throw error;
        return run(undefined);
      }
    },
  };
}

async function openPostgres(databaseUrl: string, schema?: string): Promise<Db> {
  if (schema !== undefined && !schemaName.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  if (schema) await createSchema(pool, schema);
  const statements = statementNamer();
  const run = <R extends Row>(on: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) =>
    statements.run(
      sql,
      async (name) => (await on.query<R>({ text: sql, values: params as unknown[] | undefined, ...(name ? { name } : {}) })).rows,
      on === pool,
    );
  const local = new LocalChanges();
  const columnTypes = new Map<string, Map<string, string>>();
  const listener = changeListener(databaseUrl, schema, local);
  const query = async <R extends Row>(sql: string, params?: readonly unknown[]) => {
    const rows = await run<R>(pool, sql, params);
    local.wrote(sql);
    return rows;
  };
  return {
    kind: 'postgres',
    changes: {
      subscribe(tables, onChange) {
        listener.start();
        return local.subscribe(tables, onChange);
      },
      get live() {
        return listener.live;
      },
    },
    query,
    exec: async (sql) => {
      await pool.query(sql);
      local.wrote(sql);
    },
    async transaction(fn) {
      const texts: string[] = [];
      const result = await inTransaction(pool, (client) =>
        fn({
          query: async <R extends Row>(sql: string, params?: readonly unknown[]) => {
            const rows = await run<R>(client, sql, params);
            texts.push(sql);
            return rows;
          },
          exec: async (sql) => {
            await client.query(sql);
            texts.push(sql);
          },
        }),
      );
      for (const sql of texts) local.wrote(sql);
      return result;
    },
    async copyFrom(table, columns, data) {
      checkIdentifiers(table, columns);
      if (data === '') return;
      let types = columnTypes.get(table);
      if (!types) {
        const found = await pool.query<{ name: string; type: string }>(
          `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
          [table],
        );
        types = new Map(found.rows.map((row) => [row.name, row.type]));
        columnTypes.set(table, types);
      }
      const casts = columns.map((column) => {
        const type = types!.get(column);
        if (!type) throw new Error(`no column "${column}" in ${table}`);
        return type;
      });
      // Multi-row VALUES of text parameters cast to the column types, in one transaction:
      // measured faster than one INSERT of unnest arrays (whose array literals PostgreSQL must
      // unescape). As many rows per statement as PostgreSQL's 65 535 parameters allow.
      const values = copyColumns(data, columns.length);
      const count = values[0]!.length;
      const perStatement = Math.floor(65_535 / columns.length);
      await inTransaction(pool, async (client) => {
        for (let start = 0; start < count; start += perStatement) {
          const end = Math.min(start + perStatement, count);
          const params: (string | null)[] = [];
          const tuples: string[] = [];
          for (let row = start; row < end; row++) {
            tuples.push(`(${casts.map((type, i) => `$${params.push(values[i]![row]!)}::${type}`).join(', ')})`);
          }
          // Unprepared: the text varies with the number of rows.
          await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
        }
      });
      local.wrote(`INSERT INTO ${table}`);
    },
    async close() {
      await listener.stop();
      await pool.end();
    },
  };
}

/** How long the change listener waits before connecting again after losing its connection. */
export const CHANGE_LISTENER_RETRY_MS = 1_000;

/**
 * The connection that LISTENs for the changes other instances make (migration 0029's triggers),
 * opened at the first subscription. When it drops, every subscriber is told to forget what it
 * holds (changes may be missed from then on) and it connects again; once back, they are told again
 * (changes may have been missed meanwhile).
 */
function changeListener(databaseUrl: string, schema: string | undefined, local: LocalChanges) {
  let client: pg.Client | undefined;
  let live = false;
  let started = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const lost = (from: pg.Client) => {
    if (client !== from) return;
    client = undefined;
    live = false;
    local.emit(null);
    from.end().catch(() => {});
    if (!stopped) retry = setTimeout(connect, CHANGE_LISTENER_RETRY_MS).unref();
  };

  async function connect(): Promise<void> {
    retry = undefined;
    const next = new pg.Client({
      connectionString: databaseUrl,
      // Named, so that an operator sees it for what it is in pg_stat_activity.
      application_name: `mes changes ${schema ?? ''}`.trim().slice(0, 63),
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    client = next;
    next.on('error', () => lost(next));
    next.on('end', () => lost(next));
    try {
      await next.connect();
      const [row] = (await next.query<{ schema: string }>('SELECT current_schema() AS schema')).rows;
      const prefix = `${row!.schema}.`;
      next.on('notification', (message) => {
        if (message.channel === CHANGE_CHANNEL && message.payload?.startsWith(prefix)) local.emit(message.payload.slice(prefix.length));
      });
      await next.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (client !== next || stopped) return;
      live = true;
      // Whatever was cached before now may have missed a change.
      local.emit(null);
    } catch {
      lost(next);
    }
  }

  return {
    get live() {
      return live;
    },
    start() {
      if (started || stopped) return;
      started = true;
      void connect();
    },
    async stop() {
      stopped = true;
      live = false;
      if (retry) clearTimeout(retry);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}
