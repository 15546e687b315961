// The fresh load's fast path on PGlite (rows made by a worker thread, copied in, indexes built
// afterwards) must leave exactly what the multi-row INSERT path leaves: the same rows, byte for
// byte, and the same indexes as the migrations make. (On PostgreSQL the load is that INSERT path.)
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { records, startTestServer, type Db, type TestServer } from '@mes/catalog-api';
import { rowBatches } from '../src/population-rows.js';
import { seedSyntheticRecords } from '../src/seed-records.js';
import { generatePopulation } from '../src/synthetic/generator.js';

// Enough patients for two batches of the load (8 000 resources each): an interruption leaves half.
const options = { seed: 'copy-check', patients: 220 };

const servers: TestServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});
async function store(): Promise<Db> {
  const server = await startTestServer();
  servers.push(server);
  return server.app.db;
}

/** The previous load: multi-row INSERTs of `records.insertResources`, in transactions. */
async function insertPopulation(db: Db): Promise<void> {
  const households = [...generatePopulation(options)];
  const resources = households.flatMap((household) => household.resources);
  await db.transaction(async (tx) => {
    for (let i = 0; i < resources.length; i += 2_000) await records.insertResources(tx, resources.slice(i, i + 2_000));
    await records.insertGuardianships(tx, households.flatMap((household) => household.guardianships));
  });
}

/** Every stored column of every resource and guardianship, as PostgreSQL prints them, digested. */
async function digest(db: Db): Promise<{ resources: number; guardianships: number; sha256: string }> {
  const resources = await db.query(
    `SELECT patient_id, resource_type, id, version_id, last_updated::text, resource_date::text, tokens::text, search_text, content::text
     FROM fhir_resources ORDER BY patient_id, resource_type, id`,
  );
  const links = await db.query(`SELECT guardian_id, child_id, relationship, valid_until::text FROM patient_guardians ORDER BY guardian_id, child_id`);
  const hash = createHash('sha256');
  for (const row of [...resources, ...links]) hash.update(`${JSON.stringify(Object.values(row))}\n`);
  return { resources: resources.length, guardianships: links.length, sha256: hash.digest('hex') };
}

const indexes = (db: Db) =>
  // Without the schema's name, which differs from one test store to the next on PostgreSQL.
  db.query(`SELECT indexname, replace(indexdef, current_schema() || '.', '') AS indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('fhir_resources', 'patient_guardians') ORDER BY indexname`);

describe('the fresh load', () => {
  // Two stores and a population each: longer than most tests on a busy machine.
  it('stores exactly the rows of the multi-row INSERT path, with the indexes the migrations make', { timeout: 120_000 }, async () => {
    const reference = await store();
    const migrated = await indexes(reference);
    await insertPopulation(reference);
    const want = await digest(reference);
    expect(want.resources).toBeGreaterThan(options.patients);
    expect(want.guardianships).toBeGreaterThan(0);

    const copied = await store();
    const result = await seedSyntheticRecords(copied, options);
    expect(result).toMatchObject({ created: true, resources: want.resources });
    expect(await digest(copied)).toEqual(want);
    expect(await indexes(copied)).toEqual(migrated);
    expect(migrated.map((index) => index.indexname)).toContain('fhir_resources_by_date');
  });

  it('interrupted, is finished by the next start with the same rows and all the indexes back', { timeout: 120_000 }, async () => {
    const reference = await store();
    const migrated = await indexes(reference);
    await insertPopulation(reference);
    const want = await digest(reference);

    const db = await store();
    await expect(
      seedSyntheticRecords(db, {
        ...options,
        onProgress: () => {
          throw new Error('stopped');
        },
      }),
    ).rejects.toThrow('stopped');
    const partial = await digest(db);
    expect(partial.resources).toBeGreaterThan(0);
    expect(partial.resources).toBeLessThan(want.resources);

    expect(await seedSyntheticRecords(db, options)).toMatchObject({ created: true, resources: want.resources });
    expect(await digest(db)).toEqual(want);
    expect(await indexes(db)).toEqual(migrated);
  });
});

describe('the rows of the population', () => {
  it('are the same from the worker thread as from this one, whatever the batch size', async () => {
    // The compiled module runs its worker (`npm test` builds first); the sources run in this thread.
    const compiled = (await import('../dist/population-rows.js')) as typeof import('../src/population-rows.js');
    const flatten = (batches: { rows: string; links: unknown[]; patients: number; resources: number }[]) => ({
      rows: batches.map((batch) => batch.rows).join(''),
      links: batches.flatMap((batch) => batch.links),
      patients: batches.at(-1)!.patients,
      resources: batches.at(-1)!.resources,
    });
    const here = [...rowBatches({ ...options, patients: 300 }, 8_000)];
    const fromWorker: Awaited<ReturnType<typeof flatten>>[] = [];
    for (const size of [500, 8_000]) {
      const batches = [];
      for await (const batch of compiled.populationRows({ ...options, patients: 300 }, size, true)) batches.push(batch);
      expect(batches.length).toBeGreaterThan(size === 500 ? 5 : 1);
      fromWorker.push(flatten(batches));
    }
    const want = flatten(here);
    expect(want.patients).toBe(300);
    expect(fromWorker).toEqual([want, want]);
  });
});
