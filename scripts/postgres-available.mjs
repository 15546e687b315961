#!/usr/bin/env node
// Exits 0 when a PostgreSQL server answers at the URL given (or TEST_DATABASE_URL), 1 otherwise.
import pg from 'pg';

const url = process.argv[2] ?? process.env.TEST_DATABASE_URL;
if (!url) process.exit(1);
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
try {
  await client.connect();
  await client.query('SELECT 1');
  await client.end();
  process.exit(0);
} catch {
  process.exit(1);
}
