// Liveness and readiness probes.
import { ProblemError } from '../../core/errors.js';
import type { HandlerMap } from '../../core/operations.js';
import type { Db } from '../../core/store/db.js';
import { migrationsApplied, type Migration } from '../../core/store/migrate.js';

export function healthHandlers(db: Db, migrations: Migration[]): HandlerMap<'getHealth' | 'getReadiness'> {
  return {
    async getHealth() {
      return { status: 200, body: { status: 'ok' } };
    },
    async getReadiness() {
      let applied: boolean;
      try {
        applied = await migrationsApplied(db, migrations);
      } catch {
        throw new ProblemError('not_ready', 'The store does not answer.');
      }
      if (!applied) throw new ProblemError('not_ready', 'Some migrations are not applied yet.');
      return { status: 200, body: { status: 'ready', checks: { store: 'ok', migrations: 'ok' } } };
    },
  };
}
