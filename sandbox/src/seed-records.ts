// Loads the synthetic population into the patient-data store once: a marker row remembers what was
// loaded, so a warm start costs one query and an interrupted load resumes where it stopped.
import { records, type Db, type Queryable } from '@mes/catalog-api';
import { populationRows } from './population-rows.js';
import { DEFAULT_REFERENCE_DATE, GENERATOR_VERSION, generatePopulation, type Guardianship } from './synthetic/generator.js';

export interface SyntheticSeedOptions {
  seed: string;
  patients: number;
  /** `YYYY-MM-DD`; default 2026-11-30. */
  referenceDate?: string;
  /** Called after each batch is committed, with the number of patients written so far. */
  onProgress?: (done: number) => void;
}

export interface SyntheticSeedResult {
  /** Whether this call wrote the population; false when the store already holds one (maybe another). */
  created: boolean;
  /** The options of the population in the store: the requested ones, or those recorded earlier. */
  seed: string;
  patients: number;
  referenceDate: string;
  /** The GENERATOR_VERSION that made it. */
  generatorVersion: number;
  /** Resources of that population (null when a load with other options was interrupted). */
  resources: number | null;
  seconds: number;
}

interface StateRow {
  seed: string;
  patients: number;
  reference_date: string;
  generator_version: number;
  resources: number | null;
  completed: boolean;
  [column: string]: unknown;
}

/**
 * A resource row binds 8 parameters: 2 000 rows are 16 000, far from PostgreSQL's 65 535 per
 * statement; bigger statements were measured no faster on PGlite, only heavier in memory.
 */
const ROWS_PER_INSERT = 2_000;
/** Guardianship rows bind 4 parameters each (64 000 per statement at most). */
const LINKS_PER_INSERT = 16_000;
/** Resources per transaction: large enough that commits are rare, small enough to hold in memory. */
const ROWS_PER_BATCH = 8_000;
/** Resources per COPY on a fresh load (one statement, so one commit, each). */
const ROWS_PER_COPY = 8_000;

/** The marker table is the sandbox's own, created here rather than in the platform's migrations. */
async function ensureStateTable(db: Db): Promise<void> {
  const ddl = `CREATE TABLE IF NOT EXISTS sandbox_synthetic_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    seed text NOT NULL,
    patients integer NOT NULL,
    reference_date text NOT NULL,
    generator_version integer NOT NULL,
    resources integer,
    started_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
  )`;
  // The indexes of fhir_resources dropped for a load in progress (deferIndexes).
  const deferred = `CREATE TABLE IF NOT EXISTS sandbox_deferred_indexes (name text PRIMARY KEY, definition text NOT NULL)`;
  for (const statement of [ddl, deferred]) {
    try {
      await db.query(statement);
    } catch (error) {
      // Two instances creating it at once on PostgreSQL: one of them loses on the catalog's unique index.
      if (!['23505', '42P07'].includes((error as { code?: string }).code ?? '')) throw error;
    }
  }
}

/**
 * Drops the secondary indexes of fhir_resources (not the primary key) before a fresh load on
 * PGlite, keeping their definitions: building them once afterwards is much cheaper than keeping
 * them up to date row by row (measured: a fresh load takes about a third less). Only on PGlite,
 * whose store this process alone uses; its queries meanwhile still find a patient's rows by the
 * primary key.
 */
async function deferIndexes(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    const indexes = await tx.query<{ name: string; definition: string }>(
      `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
       WHERE i.schemaname = current_schema() AND i.tablename = 'fhir_resources'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = 'fhir_resources'::regclass AND c.conname = i.indexname)`,
    );
    for (const index of indexes) {
      await tx.query(`INSERT INTO sandbox_deferred_indexes (name, definition) VALUES ($1, $2)`, [index.name, index.definition]);
      await tx.exec(`DROP INDEX "${index.name.replaceAll('"', '""')}"`);
    }
  });
}

/** Builds again the indexes deferIndexes dropped: at the end of the load, or at the next start when it was interrupted. */
async function restoreIndexes(db: Db): Promise<void> {
  const deferred = await db.query<{ definition: string }>(`SELECT definition FROM sandbox_deferred_indexes ORDER BY name`);
  if (deferred.length === 0) return;
  await db.transaction(async (tx) => {
    for (const { definition } of deferred) await tx.exec(definition);
    await tx.query(`DELETE FROM sandbox_deferred_indexes`);
  });
}

async function readState(db: Queryable): Promise<StateRow | undefined> {
  const rows = await db.query<StateRow>(
    `SELECT seed, patients, reference_date, generator_version, resources, completed_at IS NOT NULL AS completed FROM sandbox_synthetic_state WHERE id`,
  );
  return rows[0];
}

async function insertLinks(db: Queryable, links: Guardianship[]): Promise<void> {
  for (let i = 0; i < links.length; i += LINKS_PER_INSERT) await records.insertGuardianships(db, links.slice(i, i + LINKS_PER_INSERT));
}

async function writeBatch(db: Db, resources: records.NewResource[], links: Guardianship[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (let i = 0; i < resources.length; i += ROWS_PER_INSERT) await records.insertResources(tx, resources.slice(i, i + ROWS_PER_INSERT));
    await insertLinks(tx, links);
  });
}

/**
 * Writes the synthetic population unless the store has it already: copied in by batches on a
 * fresh embedded store, inserted by batches (skipping the rows already there when resuming an
 * interrupted load) otherwise. The
 * marker keeps the options and GENERATOR_VERSION, which determine every byte, rather than a
 * digest: checking a digest would cost a whole generation on each warm start.
 *
 * With another population in the store (other seed, size, date or generator), nothing is
 * written: the result names the recorded one and the caller decides. A load that stopped
 * half-way is resumed (rows already there are skipped).
 */
export async function seedSyntheticRecords(db: Db, options: SyntheticSeedOptions): Promise<SyntheticSeedResult> {
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  const wanted = { seed: options.seed, patients: options.patients, referenceDate: options.referenceDate ?? DEFAULT_REFERENCE_DATE, generatorVersion: GENERATOR_VERSION };
  // Fails on bad options before anything is written.
  const population = generatePopulation(wanted);

  await ensureStateTable(db);
  await restoreIndexes(db);
  const claimed = await db.query(
    `INSERT INTO sandbox_synthetic_state (id, seed, patients, reference_date, generator_version) VALUES (true, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [wanted.seed, wanted.patients, wanted.referenceDate, wanted.generatorVersion],
  );
  if (claimed.length === 0) {
    const state = (await readState(db))!;
    const same =
      state.seed === wanted.seed && state.patients === wanted.patients && state.reference_date === wanted.referenceDate && state.generator_version === wanted.generatorVersion;
    if (!same || state.completed) {
      const recorded = { seed: state.seed, patients: state.patients, referenceDate: state.reference_date, generatorVersion: state.generator_version };
      return { created: false, ...recorded, resources: state.resources, seconds: seconds() };
    }
    // Same options, not completed: an earlier load was interrupted (or another instance is loading now; both finish it).
  } else if (db.kind === 'pglite') {
    // This call claimed the embedded store: none of the population's rows can be there yet, so
    // they are copied in (made meanwhile by a worker thread when a core is idle). Should rows of
    // it be there all the same, a copy fails: the load then goes on below, skipping them.
    // On PostgreSQL the multi-row INSERTs below are the faster path: the server works while this
    // thread makes the next batch (10 000 patients measured in 21 s that way, 29 s through
    // Db.copyFrom's INSERTs of text, 37 s through one INSERT of unnest arrays per batch).
    await deferIndexes(db);
    try {
      let resources = 0;
      for await (const batch of populationRows(wanted, ROWS_PER_COPY)) {
        await records.copyResources(db, batch.rows);
        await insertLinks(db, batch.links);
        resources = batch.resources;
        options.onProgress?.(batch.patients);
      }
      await restoreIndexes(db);
      await db.query(`UPDATE sandbox_synthetic_state SET resources = $1, completed_at = now() WHERE id`, [resources]);
      return { created: true, ...wanted, resources, seconds: seconds() };
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      await restoreIndexes(db);
    }
  }

  let resources = 0;
  let done = 0;
  let batch: records.NewResource[] = [];
  let links: Guardianship[] = [];
  // The next batch is generated while the previous one is written (this overlaps on PostgreSQL;
  // PGlite runs on this thread, so there it simply alternates).
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    await writing;
    const patients = done;
    writing = writeBatch(db, batch, links).then(() => options.onProgress?.(patients));
    writing.catch(() => {});
    batch = [];
    links = [];
  };
  for (const household of population) {
    for (const item of household.resources) {
      batch.push(item);
      if (item.resource.resourceType === 'Patient') done += 1;
    }
    links.push(...household.guardianships);
    resources += household.resources.length;
    if (batch.length >= ROWS_PER_BATCH) await flush();
  }
  if (batch.length || links.length) await flush();
  await writing;

  await db.query(`UPDATE sandbox_synthetic_state SET resources = $1, completed_at = now() WHERE id`, [resources]);
  return { created: true, ...wanted, resources, seconds: seconds() };
}
