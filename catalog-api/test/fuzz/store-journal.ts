// What each request wrote to the store, so that a refused request that changed anything is
// caught, whatever it changed. Row triggers, installed on the fuzzer's throw-away store only,
// copy every inserted, updated and deleted row into a journal; after a refused request the
// journal must net to nothing (a row written then deleted in the same request is no change).
// Digesting every table around every request would say the same but costs O(rows) per request.
//
// Left out, because they change on requests that are rightly refused:
// - oauth_replay: every DPoP proof's jti is remembered when the proof is checked, at
//   authentication, before the request itself is judged (RFC 9449 §11.1): a refused request's
//   proof must not be replayable either;
// - sandbox_traffic: the sandbox records every request of an app's client, refusals included:
//   how an app meets errors is the evidence certification reads;
// - server_secrets: the DPoP nonce secret is created at its first use, by whichever request;
// - the `last_used_at` columns of publisher_api_keys and reviewer_api_keys: authentication notes
//   when a key was last used (at most once a minute), before the request is judged.
// Everything else must not move on a refused request: in particular access_history (a refused
// request read nothing) and idempotency_keys (a failed request keeps no key). One answer in the
// 4xx range is not a refusal but a completed read: a FHIR read of an id the token cannot see
// answers 404 and is recorded in the access history with no resource (records/routes.ts: the
// app learnt that the resource is absent, and an absent resource must look the same as another
// patient's); and the identity provider's answer at the sign-in callback takes the browser's
// sign-in attempt whatever the answer (an attempt is good for one answer: a refused answer ends
// it too). `allowedWrites` says so.
import type { Db } from '../../src/core/store/db.js';

export const excludedTables = ['oauth_replay', 'sandbox_traffic', 'server_secrets', 'schema_migrations'];
export const excludedColumns: Record<string, string[]> = {
  publisher_api_keys: ['last_used_at'],
  reviewer_api_keys: ['last_used_at'],
};

/** Tables a refused answer may still change, by operation and status (see above). */
export function allowedWrites(operationId: string, status: number): string[] {
  if (/^read[A-Z]/.test(operationId) && status === 404) return ['access_history', 'access_history_heads'];
  if (operationId === 'finishPatientSignIn') return ['patient_sign_in_attempts'];
  return [];
}

const JOURNAL = 'fuzz_store_journal';

export interface StoreJournal {
  /** Forgets what was written so far: the next `changes()` covers what comes after. */
  reset(): Promise<void>;
  /** Tables whose rows changed since the last reset (net), each with the rows added and removed. */
  changes(allowed?: string[]): Promise<string[]>;
  /** Rows per table now. */
  rowCounts(): Promise<Record<string, number>>;
}

export async function storeJournal(db: Db): Promise<StoreJournal> {
  // Partitioned tables get their trigger on the parent (it reaches every partition, present and future).
  const tables = (
    await db.query<{ table_name: string }>(
      `SELECT c.relname AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
    )
  )
    .map((row) => row.table_name)
    .filter((table) => !excludedTables.includes(table) && table !== JOURNAL);

  await db.query(`CREATE TABLE IF NOT EXISTS ${JOURNAL} (id bigserial PRIMARY KEY, table_name text NOT NULL, old_row jsonb, new_row jsonb)`);
  await db.query(`
    CREATE OR REPLACE FUNCTION ${JOURNAL}_row() RETURNS trigger LANGUAGE plpgsql AS $$
    -- Arguments: the table's name (a partition reports its parent's), then the columns to ignore.
    DECLARE
      ignored text[] := TG_ARGV[1:];
      before_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) - ignored END;
      after_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) - ignored END;
    BEGIN
      IF TG_OP = 'UPDATE' AND before_row = after_row THEN RETURN NULL; END IF;
      INSERT INTO ${JOURNAL} (table_name, old_row, new_row) VALUES (TG_ARGV[0], before_row, after_row);
      RETURN NULL;
    END $$`);
  for (const table of tables) {
    const args = [table, ...(excludedColumns[table] ?? [])].map((name) => `'${name}'`).join(', ');
    await db.query(`DROP TRIGGER IF EXISTS ${JOURNAL} ON "${table}"`);
    await db.query(`CREATE TRIGGER ${JOURNAL} AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION ${JOURNAL}_row(${args})`);
  }

  return {
    async reset() {
      await db.query(`DELETE FROM ${JOURNAL}`);
    },
    async changes(allowed = []) {
      const rows = await db.query<{ table_name: string; old_row: string | null; new_row: string | null }>(
        `SELECT table_name, old_row::text AS old_row, new_row::text AS new_row FROM ${JOURNAL} ORDER BY id`,
      );
      // Net effect per table: +1 per row version written, -1 per row version removed.
      const net = new Map<string, Map<string, number>>();
      for (const row of rows) {
        const table = row.table_name;
        if (allowed.includes(table)) continue;
        const versions = net.get(table) ?? new Map<string, number>();
        net.set(table, versions);
        if (row.old_row !== null) versions.set(row.old_row, (versions.get(row.old_row) ?? 0) - 1);
        if (row.new_row !== null) versions.set(row.new_row, (versions.get(row.new_row) ?? 0) + 1);
      }
      const changed: string[] = [];
      for (const [table, versions] of net) {
        const added = [...versions.values()].filter((n) => n > 0).reduce((sum, n) => sum + n, 0);
        const removed = [...versions.values()].filter((n) => n < 0).reduce((sum, n) => sum - n, 0);
        if (added || removed) changed.push(`${table} (+${added} −${removed} rows)`);
      }
      return changed;
    },
    async rowCounts() {
      const counts = await db.query<{ name: string; rows: number }>(tables.map((table) => `SELECT '${table}' AS name, count(*)::int AS rows FROM "${table}"`).join(' UNION ALL '));
      return Object.fromEntries(counts.map((row) => [row.name, row.rows]));
    },
  };
}
