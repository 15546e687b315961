// Periodic clean-up of rows that no rule needs any more (expired codes, pushed requests, ended
// sessions…). Each module names its own sweeps, since it owns its tables; this runs them on one
// instance at a time (a transaction-scoped advisory lock), a bounded batch per table per round,
// so that a backlog is worked off over a few rounds instead of in one long transaction.
import type { Db, Queryable } from './db.js';

/** One table's clean-up: deletes at most `batch` rows that are no longer needed; returns how many it deleted. */
export interface SweepTask {
  name: string;
  sweep(db: Queryable, batch: number): Promise<number>;
}

/** Advisory lock key of the sweeper (any constant unique among the platform's locks). */
const SWEEP_LOCK = 7340021;
export const SWEEP_BATCH = 5000;

/** Runs every task once, unless another instance is sweeping now; returns the rows deleted per task. */
export async function sweepOnce(db: Db, tasks: readonly SweepTask[], batch = SWEEP_BATCH): Promise<Record<string, number> | null> {
  return db.transaction(async (tx) => {
    const [lock] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SWEEP_LOCK]);
    if (!lock?.locked) return null;
    const deleted: Record<string, number> = {};
    for (const task of tasks) deleted[task.name] = await task.sweep(tx, batch);
    return deleted;
  });
}

export interface Sweeper {
  /** No more rounds; resolves when a round under way has finished. */
  stop(): Promise<void>;
}

/**
 * Sweeps every `intervalSeconds` (with up to 10 % jitter, so that instances started together do
 * not all try at once). A failed round is logged and retried at the next one.
 */
export function startSweeper(
  db: Db,
  tasks: readonly SweepTask[],
  options: { intervalSeconds: number; log: { warn(details: object, message: string): void; debug(details: object, message: string): void } },
): Sweeper {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    const delay = options.intervalSeconds * 1000 * (1 + Math.random() * 0.1);
    timer = setTimeout(() => {
      round = run();
    }, delay);
    timer.unref();
  };
  const run = async () => {
    try {
      const deleted = await sweepOnce(db, tasks);
      if (deleted) options.log.debug({ deleted }, 'swept expired rows');
    } catch (error) {
      if (!stopped) options.log.warn({ err: error }, 'sweeping expired rows failed; retrying at the next round');
    }
    schedule();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}

/** A task deleting, from `table`, up to `batch` rows matching `condition` (SQL over the table's columns). */
export function deleteWhere(name: string, table: string, condition: string): SweepTask {
  return {
    name,
    async sweep(db, batch) {
      const rows = await db.query(
        `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${condition} LIMIT $1) RETURNING 1 AS deleted`,
        [batch],
      );
      return rows.length;
    },
  };
}
