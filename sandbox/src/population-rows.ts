// The synthetic population as batches of store rows, ready to load: made in a worker thread when
// the compiled sandbox runs (generation then overlaps the load), in this thread otherwise.
import { existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { copyText, records, type CopyValue } from '@mes/catalog-api';
import { generatePopulation, type Guardianship, type PopulationOptions } from './synthetic/generator.js';

export interface RowBatch {
  /** Rows of `records.resourceColumns` in COPY text, in generation order. */
  rows: string;
  links: Guardianship[];
  /** Patients in this batch and the ones before it. */
  patients: number;
  /** Resources in this batch and the ones before it. */
  resources: number;
}

/** The population's rows, in generation order, cut after the household that fills `rowsPerBatch`. */
export function* rowBatches(options: PopulationOptions, rowsPerBatch: number): Generator<RowBatch> {
  let rows: CopyValue[][] = [];
  let links: Guardianship[] = [];
  let patients = 0;
  let resources = 0;
  for (const household of generatePopulation(options)) {
    for (const item of household.resources) {
      rows.push(records.resourceRow(item));
      if (item.resource.resourceType === 'Patient') patients += 1;
    }
    links.push(...household.guardianships);
    resources += household.resources.length;
    if (rows.length >= rowsPerBatch) {
      yield { rows: copyText(rows), links, patients, resources };
      rows = [];
      links = [];
    }
  }
  if (rows.length || links.length) yield { rows: copyText(rows), links, patients, resources };
}

export interface WorkerRequest {
  options: PopulationOptions;
  rowsPerBatch: number;
}

/** Batches the worker keeps ready ahead of the one being loaded. */
const AHEAD = 2;

/** Milliseconds every core of the machine has spent idle since it started. */
const idleMs = () => cpus().reduce((sum, cpu) => sum + cpu.times.idle, 0);
/** Measured from when this module loads (the process's start) to when the load begins. */
const since = { at: performance.now(), idle: idleMs() };

/**
 * Whether a worker thread would have a core of its own. It pays only then: on an idle 2-core
 * machine it takes generation off the thread that loads; when every core is already busy it
 * only adds its own cost (measured at load 5 on 2 cores: 30 s to load 10 000 patients with it,
 * 26 s without; on a quiet one, 17 s with it, 22 to 27 s without). Judged from the machine's
 * idle time while this process started (about 4 s of opening the store, which keeps this thread
 * and some of V8's and PGlite's busy: 0.56 to 0.59 of a core stays idle on a quiet 2-core machine,
 * none when another process keeps a core busy): at least 0.3 of a core idle, on average. The load
 * average would say what the last minute was, and right after `npm run build` that is always busy.
 */
export function idleCore(): boolean {
  const elapsed = performance.now() - since.at;
  if (elapsed < 500) return availableParallelism() - loadavg()[0]! >= 1;
  return (idleMs() - since.idle) / elapsed >= 0.3;
}

/**
 * The same batches as `rowBatches`, made by a worker thread that stays `AHEAD` batches ahead
 * (bounded memory) when `inWorker` (default: when a core is idle), or in this thread (always so
 * when there is no compiled worker: tests run the sources).
 */
export async function* populationRows(options: PopulationOptions, rowsPerBatch: number, inWorker = idleCore()): AsyncGenerator<RowBatch> {
  const script = new URL('./population-worker.js', import.meta.url);
  if (!inWorker || !existsSync(fileURLToPath(script))) {
    yield* rowBatches(options, rowsPerBatch);
    return;
  }
  const worker = new Worker(script, { workerData: { options, rowsPerBatch } satisfies WorkerRequest });
  const ready: (RowBatch | null)[] = [];
  let failure: unknown;
  let wake: (() => void) | undefined;
  worker.on('message', (batch: RowBatch | null) => {
    ready.push(batch);
    wake?.();
  });
  worker.on('error', (error) => {
    failure = error;
    wake?.();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`the population worker stopped (exit code ${code})`);
    wake?.();
  });
  worker.postMessage(AHEAD);
  try {
    for (;;) {
      while (ready.length === 0 && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
      const batch = ready.shift();
      if (batch === undefined) throw failure;
      if (batch === null) return;
      worker.postMessage(1);
      yield batch;
    }
  } finally {
    await worker.terminate();
  }
}
