// Helpers for tests of this and other packages: a real server on port 0 over a throw-away store,
// PGlite in memory by default, or a fresh schema of TEST_DATABASE_URL when that is set.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { defaultConfig, type AppConfig } from './core/config.js';
import { startServer, type RunningServer } from './server.js';

/** Configuration for a test app: isolated store, silent logs, sandbox mode unless overridden. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  return {
    ...defaultConfig,
    mode: 'sandbox',
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    port: 0,
    dataDir: 'memory://',
    ...(databaseUrl ? { databaseUrl, databaseSchema: `test_${randomBytes(6).toString('hex')}` } : {}),
    ...overrides,
  };
}

/** Drops the schema a test configuration created on PostgreSQL (nothing to do on PGlite). */
export async function dropTestSchema(config: AppConfig): Promise<void> {
  if (!config.databaseUrl || !config.databaseSchema?.startsWith('test_')) return;
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${config.databaseSchema} CASCADE`);
  } finally {
    await client.end();
  }
}

export interface TestServer extends RunningServer {
  config: AppConfig;
}

/** Starts a real server on a free port; `close()` stops it and drops its PostgreSQL schema. */
export async function startTestServer(overrides: Partial<AppConfig> = {}): Promise<TestServer> {
  const config = testConfig(overrides);
  const server = await startServer(config);
  return {
    ...server,
    config,
    async close() {
      await server.close();
      await dropTestSchema(config);
    },
  };
}
