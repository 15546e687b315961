import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { records, startTestServer, type TestServer } from '@mes/catalog-api';
import { seedSyntheticRecords } from '../src/seed-records.js';
import { GENERATOR_VERSION, generatePopulation } from '../src/synthetic/generator.js';

const options = { seed: 'sandbox-seed-test', patients: 200 };

/** What the generator makes of the options: resources by type and guardianships. */
function expected(patients: number) {
  const byType: Record<string, number> = {};
  let guardianships = 0;
  for (const household of generatePopulation({ ...options, patients })) {
    for (const item of household.resources) byType[item.resource.resourceType] = (byType[item.resource.resourceType] ?? 0) + 1;
    guardianships += household.guardianships.length;
  }
  return { byType, guardianships, total: Object.values(byType).reduce((sum, n) => sum + n, 0) };
}

async function stored(server: TestServer) {
  const rows = await server.app.db.query<{ resource_type: string; n: number }>(`SELECT resource_type, count(*)::int AS n FROM fhir_resources GROUP BY resource_type`);
  const [{ n: guardianships }] = (await server.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_guardians`)) as [{ n: number }];
  return { byType: Object.fromEntries(rows.map((row) => [row.resource_type, row.n])), guardianships };
}

describe('seeding the synthetic records', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('writes the population once, and finds it on the next start', async () => {
    const progress: number[] = [];
    const first = await seedSyntheticRecords(server.app.db, { ...options, onProgress: (done) => progress.push(done) });
    const want = expected(options.patients);
    expect(first).toMatchObject({ created: true, ...options, referenceDate: '2026-11-30', generatorVersion: GENERATOR_VERSION, resources: want.total });
    expect(progress.at(-1)).toBe(options.patients);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(await stored(server)).toEqual({ byType: want.byType, guardianships: want.guardianships });

    const second = await seedSyntheticRecords(server.app.db, options);
    expect(second).toMatchObject({ created: false, ...options, resources: want.total });
    expect(second.seconds).toBeLessThan(0.5);
    expect(await stored(server)).toEqual({ byType: want.byType, guardianships: want.guardianships });
  });

  it('stores patients with their folded names for the picker', async () => {
    const rows = await server.app.db.query<{ patient_id: string; search_text: string | null; content: { name: { given: string[]; family: string }[] } }>(
      `SELECT patient_id, search_text, content FROM fhir_resources WHERE resource_type = 'Patient'`,
    );
    expect(rows).toHaveLength(options.patients);
    for (const row of rows) {
      const name = row.content.name[0]!;
      expect(row.search_text).toBe(records.fold([...name.given, name.family].join(' ')));
    }
    const first = rows.find((row) => row.patient_id === 'sandbox-patient-1')!.content.name[0]!;
    const found = await records.findPatients(server.app.db, `${first.given[0]} ${first.family}`, 10);
    expect(found.map((patient) => patient.id)).toContain('sandbox-patient-1');
  });

  it('leaves another population in place and says which one it is', async () => {
    const before = await stored(server);
    const other = await seedSyntheticRecords(server.app.db, { seed: 'another', patients: 50, referenceDate: '2027-01-15' });
    expect(other).toMatchObject({ created: false, ...options, referenceDate: '2026-11-30' });
    expect(await stored(server)).toEqual(before);
  });

  it('refuses bad options before writing anything', async () => {
    await expect(seedSyntheticRecords(server.app.db, { seed: 'x', patients: 10, referenceDate: '30/11/2026' })).rejects.toThrow(RangeError);
  });
});

describe('an interrupted seeding', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is resumed by the next call with the same options, without duplicates', async () => {
    // 300 patients make two batches; failing after the first leaves half a population behind.
    const resumed = { ...options, patients: 300 };
    const interrupted = seedSyntheticRecords(server.app.db, {
      ...resumed,
      onProgress: () => {
        throw new Error('stopped');
      },
    });
    await expect(interrupted).rejects.toThrow('stopped');
    const want = expected(resumed.patients);
    const partial = await stored(server);
    expect(partial.byType.Patient).toBeGreaterThan(0);
    expect(partial.byType.Patient).toBeLessThan(resumed.patients);

    const again = await seedSyntheticRecords(server.app.db, resumed);
    expect(again).toMatchObject({ created: true, resources: want.total });
    expect(await stored(server)).toEqual({ byType: want.byType, guardianships: want.guardianships });
  });
});
