// HTTP handlers of the access history: the patient's own history (and their children's), and
// the operators' verification of a chain.
import { ProblemError } from '../../core/errors.js';
import type { HandlerMap, Principal } from '../../core/operations.js';
import { decodeCursor, encodeCursor } from '../../core/pagination.js';
import type { Db } from '../../core/store/db.js';
import { childrenOf } from '../records/index.js';
import { listAccessHistory, verifyAccessChain } from './history.js';

type AuditOperations = 'listPatientAccessHistory' | 'verifyAccessHistory';

function patientOf(principal: Principal | null): string {
  if (principal?.kind !== 'patient') throw new ProblemError('authentication_required');
  return principal.patientId;
}

export function auditHandlers(db: Db): HandlerMap<AuditOperations> {
  return {
    async listPatientAccessHistory({ principal, query }) {
      const patientId = patientOf(principal);
      const patientIds = [patientId, ...(await childrenOf(db, patientId))];
      let after;
      if (query.cursor) {
        const [occurredAt, patient, seq] = decodeCursor(query.cursor, ['string', 'string', 'number']) as [string, string, number];
        after = { occurredAt: new Date(occurredAt), patientId: patient, seq };
        if (Number.isNaN(after.occurredAt.getTime())) throw new ProblemError('invalid_cursor', 'The cursor is not one this server issued.');
      }
      const { entries, more } = await listAccessHistory(db, {
        patientIds,
        appId: query.app,
        since: query.since ? new Date(query.since) : undefined,
        until: query.until ? new Date(query.until) : undefined,
        limit: query.limit ?? 20,
        after,
      });
      const last = entries.at(-1);
      return {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        body: {
          items: entries.map((entry) => ({
            occurredAt: entry.occurredAt.toISOString(),
            app: { id: entry.appId, name: entry.appName },
            patientId: entry.patientId,
            actorId: entry.actorId,
            resourceType: entry.resourceType,
            interaction: entry.interaction,
            resourceCount: entry.resourceCount,
          })),
          nextCursor: more && last ? encodeCursor([last.occurredAt.toISOString(), last.patientId, last.seq]) : null,
        },
      };
    },

    async verifyAccessHistory({ query }) {
      return { status: 200, body: await verifyAccessChain(db, query.patient) };
    },
  };
}
