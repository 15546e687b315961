// The access history: what each app read, searched or wrote of a patient's record, appended in
// the same request (before the answer leaves, so an access is never shown without its entry),
// chained per patient by SHA-256 so that tampering is detectable, and verifiable end to end.
import { createHash } from 'node:crypto';
import type { Queryable } from '../../core/store/db.js';

export type AccessInteraction = 'read' | 'search' | 'create' | 'update';

export interface AccessEntry {
  patientId: string;
  appId: string;
  clientId: string;
  grantId: string;
  actorId: string;
  resourceType: string;
  interaction: AccessInteraction;
  resourceCount: number;
}

export interface RecordedAccess extends AccessEntry {
  seq: number;
  occurredAt: Date;
  prevHash: string;
  hash: string;
}

/** The previous hash of a patient's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of an entry: SHA-256 (hex) over the previous hash and the entry's fields, one per
 * line, in a fixed order. No field can hold a line break (ids, codes, numbers, an ISO instant),
 * so the lines cannot be shifted into one another. The store computes the same function when it
 * appends (recordAccess), and verification recomputes it here.
 */
export function entryHash(prevHash: string, entry: Omit<RecordedAccess, 'hash' | 'prevHash'>): string {
  return createHash('sha256').update([prevHash, ...entryFields(entry)].join('\n')).digest('hex');
}

function entryFields(entry: Omit<RecordedAccess, 'hash' | 'prevHash' | 'seq'> & { seq: number | string }): string[] {
  return [
    entry.patientId,
    String(entry.seq),
    entry.occurredAt.toISOString(),
    entry.appId,
    entry.clientId,
    entry.grantId,
    entry.actorId,
    entry.resourceType,
    entry.interaction,
    String(entry.resourceCount),
  ];
}

/** The statement that appends entries (migration 0030), one array per field, in entryHash's order. */
const APPEND_SQL = `SELECT entry, entry_seq, entry_prev_hash, entry_hash FROM append_access_history(
  $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`;

interface Pending {
  entry: AccessEntry;
  /** Timestamps are kept to the millisecond, as JavaScript dates (and the hash) have them. */
  occurredAt: Date;
}

/**
 * Appends entries to their patients' chains in one statement, in the order given: each chain head
 * is created or moved (its row lock orders the entries of one patient, across instances), each
 * entry's hash computed by the store from the previous one, and the entry written with it.
 */
async function appendEntries(db: Queryable, pending: readonly Pending[]): Promise<RecordedAccess[]> {
  const columns: string[][] = Array.from({ length: 9 }, () => []);
  for (const { entry, occurredAt } of pending) {
    entryFields({ ...entry, seq: 0, occurredAt }).forEach((value, i) => {
      // The position is the store's to give: every other field, in entryHash's order.
      if (i !== 1) columns[i === 0 ? 0 : i - 1]!.push(value);
    });
  }
  const rows = await db.query<{ entry: number; entry_seq: string; entry_prev_hash: string; entry_hash: string }>(APPEND_SQL, columns);
  return rows.map((row) => {
    const { entry, occurredAt } = pending[row.entry - 1]!;
    return { ...entry, seq: Number(row.entry_seq), occurredAt, prevHash: row.entry_prev_hash, hash: row.entry_hash };
  });
}

/**
 * Appends an entry to the patient's chain in one statement (in the caller's transaction, if any).
 * Returns the entry as recorded.
 */
export async function recordAccess(db: Queryable, entry: AccessEntry, now = new Date()): Promise<RecordedAccess> {
  const [recorded] = await appendEntries(db, [{ entry, occurredAt: new Date(Math.floor(now.getTime())) }]);
  return recorded!;
}

export interface AccessHistoryWriter {
  /** Appends the entry and resolves once it is committed, with the entry as recorded. */
  append(entry: AccessEntry, now?: Date): Promise<RecordedAccess>;
}

export interface AccessHistoryWriterOptions {
  /** Entries appended by one statement at most. */
  maxBatch?: number;
  /** Statements under way at once; the entries that arrive meanwhile wait for the next one. */
  maxInFlight?: number;
}

/**
 * Group commit of the access history, for the entries written outside any other transaction (FHIR
 * reads and searches): the entries of concurrent requests are appended by one statement, which
 * commits them together, so a patient's chain head is locked and the store's log flushed once per
 * batch rather than once per request. With nothing under way an entry is sent at once; while
 * `maxInFlight` statements are under way, the entries that arrive wait and go together in the
 * next. Each caller's promise resolves only once its entry is committed (an answer never leaves
 * before its entry). A batch is sorted by patient, so two batches lock their heads in the same
 * order; if a batch fails, its entries are appended one by one, so that only the entry at fault
 * fails.
 */
export function accessHistoryWriter(db: Queryable, options: AccessHistoryWriterOptions = {}): AccessHistoryWriter {
  const maxBatch = options.maxBatch ?? 256;
  const maxInFlight = options.maxInFlight ?? 2;
  const queue: (Pending & { resolve: (recorded: RecordedAccess) => void; reject: (error: unknown) => void })[] = [];
  let inFlight = 0;

  const send = async (batch: typeof queue) => {
    // Stable: one patient's entries keep their order.
    batch.sort((a, b) => (a.entry.patientId < b.entry.patientId ? -1 : a.entry.patientId > b.entry.patientId ? 1 : 0));
    try {
      const recorded = await appendEntries(db, batch);
      batch.forEach((pending, i) => pending.resolve(recorded[i]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const pending of batch) await appendEntries(db, [pending]).then(([recorded]) => pending.resolve(recorded!), pending.reject);
    }
  };
  const flush = () => {
    while (inFlight < maxInFlight && queue.length > 0) {
      inFlight += 1;
      void send(queue.splice(0, maxBatch)).finally(() => {
        inFlight -= 1;
        flush();
      });
    }
  };
  return {
    append(entry, now = new Date()) {
      return new Promise((resolve, reject) => {
        queue.push({ entry, occurredAt: new Date(Math.floor(now.getTime())), resolve, reject });
        flush();
      });
    },
  };
}

interface EntryRow {
  patient_id: string;
  seq: string;
  occurred_at: Date;
  app_id: string;
  client_id: string;
  grant_id: string;
  actor_id: string;
  resource_type: string;
  interaction: AccessInteraction;
  resource_count: number;
  prev_hash: string;
  hash: string;
  [key: string]: unknown;
}

const toEntry = (row: EntryRow): RecordedAccess => ({
  patientId: row.patient_id,
  seq: Number(row.seq),
  occurredAt: new Date(row.occurred_at),
  appId: row.app_id,
  clientId: row.client_id,
  grantId: row.grant_id,
  actorId: row.actor_id,
  resourceType: row.resource_type,
  interaction: row.interaction,
  resourceCount: row.resource_count,
  prevHash: row.prev_hash,
  hash: row.hash,
});

export interface ChainVerification {
  patientId: string;
  /** Entries checked. */
  entries: number;
  ok: boolean;
  /** The first position where the chain breaks, and why. */
  broken?: { seq: number; reason: string };
}

const VERIFY_BATCH = 1000;

/**
 * Recomputes a patient's chain from its first entry: every entry's hash, its link to the one
 * before, positions without gaps, and the head at the end. A changed, removed or inserted entry
 * breaks it.
 */
export async function verifyAccessChain(db: Queryable, patientId: string): Promise<ChainVerification> {
  let expectedPrev = GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
  const fail = (seq: number, reason: string): ChainVerification => ({ patientId, entries, ok: false, broken: { seq, reason } });
  for (;;) {
    const rows = await db.query<EntryRow>(
      `SELECT * FROM access_history WHERE patient_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
      [patientId, expectedSeq, VERIFY_BATCH],
    );
    for (const row of rows.map(toEntry)) {
      if (row.seq !== expectedSeq) return fail(expectedSeq, `entry ${expectedSeq} is missing`);
      if (row.prevHash !== expectedPrev) return fail(row.seq, 'its link to the previous entry does not match');
      if (entryHash(row.prevHash, row) !== row.hash) return fail(row.seq, 'its content does not match its hash');
      expectedPrev = row.hash;
      expectedSeq += 1;
      entries += 1;
    }
    if (rows.length < VERIFY_BATCH) break;
  }
  const [head] = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM access_history_heads WHERE patient_id = $1', [patientId]);
  const headSeq = head ? Number(head.seq) : 0;
  if (headSeq !== entries) return fail(entries + 1, `the chain ends at ${entries} but its head says ${headSeq}`);
  if (head && head.hash !== expectedPrev) return fail(entries, 'the last entry is not the head of the chain');
  return { patientId, entries, ok: true };
}

export interface HistoryQuery {
  /** The patients whose history is shown (the person, and the children they may act for). */
  patientIds: string[];
  appId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  limit: number;
  /** Resume after this entry (newest first). */
  after?: { occurredAt: Date; patientId: string; seq: number } | undefined;
}

/** A page of history, newest first, with the app names. */
export async function listAccessHistory(db: Queryable, query: HistoryQuery): Promise<{ entries: (RecordedAccess & { appName: string })[]; more: boolean }> {
  const params: unknown[] = [query.patientIds];
  let where = 'h.patient_id = ANY($1::text[])';
  if (query.appId) {
    params.push(query.appId);
    where += ` AND h.app_id = $${params.length}`;
  }
  if (query.since) {
    params.push(query.since);
    where += ` AND h.occurred_at >= $${params.length}`;
  }
  if (query.until) {
    params.push(query.until);
    where += ` AND h.occurred_at < $${params.length}`;
  }
  if (query.after) {
    params.push(query.after.occurredAt, query.after.patientId, query.after.seq);
    where += ` AND (h.occurred_at, h.patient_id, h.seq) < ($${params.length - 2}, $${params.length - 1}, $${params.length})`;
  }
  params.push(query.limit + 1);
  const rows = await db.query<EntryRow & { app_name: string | null }>(
    `SELECT h.*, (SELECT name FROM apps a WHERE a.id = h.app_id) AS app_name FROM access_history h
     WHERE ${where} ORDER BY h.occurred_at DESC, h.patient_id DESC, h.seq DESC LIMIT $${params.length}`,
    params,
  );
  return {
    entries: rows.slice(0, query.limit).map((row) => ({ ...toEntry(row), appName: row.app_name ?? 'application supprimée' })),
    more: rows.length > query.limit,
  };
}

/**
 * The apps that appear in these patients' history, by name (for a filter's list); an app since
 * deleted is named as listAccessHistory names it. It goes through every entry of these patients
 * (by the (patient_id, occurred_at) index): tens of thousands of rows for an app that syncs every
 * few minutes for years, which an index on (patient_id, app_id) would avoid if that ever matters.
 */
export async function appsInAccessHistory(db: Queryable, patientIds: string[]): Promise<{ id: string; name: string }[]> {
  if (patientIds.length === 0) return [];
  const rows = await db.query<{ id: string; name: string | null }>(
    `SELECT ids.app_id AS id, a.name FROM (SELECT DISTINCT app_id FROM access_history WHERE patient_id = ANY($1::text[])) ids
     LEFT JOIN apps a ON a.id = ids.app_id ORDER BY a.name, ids.app_id`,
    [patientIds],
  );
  return rows.map((row) => ({ id: row.id, name: row.name ?? 'application supprimée' }));
}

const monthStart = (year: number, month: number) => new Date(Date.UTC(year, month, 1));

/**
 * Creates the monthly partitions of the current month and the next `ahead` ones, if missing. A
 * month whose rows already went to the default partition cannot get its own (PostgreSQL refuses):
 * that is reported, and its rows stay where they are.
 */
export async function ensureAccessHistoryPartitions(db: Queryable, now = new Date(), ahead = 2): Promise<string[]> {
  const problems: string[] = [];
  for (let offset = 0; offset <= ahead; offset++) {
    const start = monthStart(now.getUTCFullYear(), now.getUTCMonth() + offset);
    const end = monthStart(start.getUTCFullYear(), start.getUTCMonth() + 1);
    const name = `access_history_${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
    try {
      await db.query(
        `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF access_history FOR VALUES FROM ('${start.toISOString()}') TO ('${end.toISOString()}')`,
      );
    } catch (error) {
      // Another instance created it at the same moment, or the default partition holds its rows.
      if (!/already exists/.test(String((error as Error).message))) problems.push(`${name}: ${(error as Error).message}`);
    }
  }
  return problems;
}
