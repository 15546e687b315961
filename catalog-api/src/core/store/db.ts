// The store behind every module: a small Db interface over PostgreSQL, served either by the
// embedded PGlite (default, data in DATA_DIR) or by a PostgreSQL server through `pg`.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export type Row = Record<string, unknown>;

export interface Queryable {
  /** Runs one parameterized statement and returns its rows. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string;
  dataDir: string;
  /** PostgreSQL schema to work in; created if missing. */
  schema?: string;
}

const schemaName = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openStore(options: StoreOptions): Promise<Db> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.schema);
  return openPglite(options.dataDir);
}

async function openPglite(dataDir: string): Promise<Db> {
  const inMemory = dataDir === 'memory://' || dataDir === ':memory:';
  // PGlite's files live in a folder of their own, so the data directory can hold other state too.
  const pgliteDir = join(dataDir, 'pglite');
  if (!inMemory) mkdirSync(pgliteDir, { recursive: true });
  const client = inMemory ? new PGlite() : new PGlite(pgliteDir);
  await client.waitReady;
  const query = async <R extends Row>(sql: string, params?: readonly unknown[]) =>
    (await client.query<R>(sql, params as unknown[] | undefined)).rows;
  return {
    kind: 'pglite',
    query,
    // PGlite has a single connection, so transactions are serialized by PGlite itself.
    exec: async (sql) => {
      await client.exec(sql);
    },
    transaction: (fn) =>
      client.transaction((tx) =>
        fn({
          query: async <R extends Row>(sql: string, params?: readonly unknown[]) =>
            (await tx.query<R>(sql, params as unknown[] | undefined)).rows,
          exec: async (sql) => {
            await tx.exec(sql);
          },
        }),
      ),
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
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query('COMMIT');
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
  const query = <R extends Row>(sql: string, params?: readonly unknown[]) => run<R>(pool, sql, params);
  return {
    kind: 'postgres',
    query,
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: <R extends Row>(sql: string, params?: readonly unknown[]) => run<R>(client, sql, params),
          exec: async (sql) => {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
