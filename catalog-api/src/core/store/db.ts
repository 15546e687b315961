// The store behind every module: a small Db interface over PostgreSQL, served either by the
// embedded PGlite (default, data in DATA_DIR) or by a PostgreSQL server through `pg`.
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
  const query = async <R extends Row>(sql: string, params?: readonly unknown[]) =>
    (await pool.query<R>(sql, params as unknown[] | undefined)).rows;
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
          query: async <R extends Row>(sql: string, params?: readonly unknown[]) =>
            (await client.query<R>(sql, params as unknown[] | undefined)).rows,
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
