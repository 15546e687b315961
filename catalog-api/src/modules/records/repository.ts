// SQL of the patient-data store. Every statement names the patient first: there is no query of
// resources that is not confined to one compartment.
import { randomUUID } from 'node:crypto';
import type { CopyValue, Db, Queryable } from '../../core/store/db.js';
import { fold, patientSearchText, resourceDate, searchTokens, type FhirResource, type FhirResourceType } from './resources.js';
import type { SearchPlan } from './search.js';
import type { SearchFilter } from '../oauth/index.js';

export interface StoredResource {
  resource: FhirResource;
  versionId: number;
  lastUpdated: Date;
  /** The sort value of the search that found it (for the next page's cursor). */
  sortValue: Date;
}

interface ResourceRow {
  id: string;
  version_id: number;
  last_updated: Date;
  resource_date: Date;
  content: Record<string, unknown>;
  [key: string]: unknown;
}

/** The stored resource as the API answers it: id and meta from the row, the rest as stored. */
function toStored(row: ResourceRow, sortColumn: 'resource_date' | 'last_updated'): StoredResource {
  // The driver gives Dates (PostgreSQL and PGlite alike); a copy only when it did not.
  const lastUpdated = row.last_updated instanceof Date ? row.last_updated : new Date(row.last_updated);
  const { resourceType, ...rest } = row.content;
  return {
    resource: { resourceType, id: row.id, meta: { versionId: String(row.version_id), lastUpdated: lastUpdated.toISOString() }, ...rest } as FhirResource,
    versionId: row.version_id,
    lastUpdated,
    sortValue: sortColumn === 'last_updated' ? lastUpdated : new Date(row.resource_date),
  };
}

/** `(tokens @> {a, b} OR tokens @> {c})`: a resource passes a scope when it matches one of its filters. */
function filterClause(filters: readonly SearchFilter[] | null, params: unknown[]): string {
  if (filters === null) return '';
  if (filters.length === 0) return ' AND false';
  const alternatives = filters.map((filter) => {
    params.push(filter.map(([name, value]) => `${name}=${value}`));
    return `tokens @> $${params.length}::text[]`;
  });
  return ` AND (${alternatives.join(' OR ')})`;
}

const columns = 'id, version_id, last_updated, resource_date, content';
const nullColumns = columns.replace(/[a-z_]+/g, 'NULL');

/**
 * The conditions of a search, whatever the page: the patient's compartment, the type, the search
 * parameters and the token's granular scope filters (null when unrestricted for this type).
 */
function searchConditions(plan: SearchPlan, filters: readonly SearchFilter[] | null, params: unknown[]): string {
  params.push(plan.patientId, plan.resourceType);
  let where = `patient_id = $${params.length - 1} AND resource_type = $${params.length}`;
  if (plan.ids) {
    params.push(plan.ids);
    where += ` AND id = ANY($${params.length}::text[])`;
  }
  for (const bound of plan.dates) {
    params.push(bound.value);
    where += ` AND ${bound.column} ${bound.op} $${params.length}`;
  }
  for (const group of plan.tokenGroups) {
    params.push(group);
    where += ` AND tokens && $${params.length}::text[]`;
  }
  if (plan.sourceAppId !== undefined) {
    params.push(plan.sourceAppId);
    where += ` AND source_app_id = $${params.length}`;
  }
  return where + filterClause(filters, params);
}

/**
 * The request's access check (DeferredAccessCheck.query), to run in the same statement as a query
 * of resources: its parameters come first, and the query's rows only when it can still pass.
 */
export interface AccessCheckQuery {
  ctes: string;
  params: readonly unknown[];
  ready: string;
}

/**
 * Runs `select` (which numbers its parameters after the check's), after the access check when one
 * is given, in one statement: the check's `access` row, and the rows in the order given.
 */
async function afterAccessCheck(
  db: Queryable,
  check: AccessCheckQuery | undefined,
  select: string,
  params: unknown[],
  order?: { columns: string[]; direction: 'ASC' | 'DESC'; limit: string },
): Promise<{ rows: ResourceRow[]; access: Record<string, unknown> | null }> {
  const sort = order ? order.columns.map((column) => `${column} ${order.direction}`).join(', ') : '';
  const query = order ? `${select} ORDER BY ${sort} ${order.limit}` : select;
  if (!check) return { rows: await db.query<ResourceRow>(query, params), access: null };
  // The resources first, then one row with the check's (as JSON: one column, not one per field of it on every row).
  const rows = await db.query<ResourceRow & { part: number; access_state: Record<string, unknown> | null }>(
    `WITH ${check.ctes}, found AS (${query})
     SELECT 0 AS part, NULL::jsonb AS access_state, ${columns} FROM found
     UNION ALL SELECT 1, to_jsonb(access), ${nullColumns} FROM access
     ORDER BY part${order ? `, ${sort}` : ''}`,
    params,
  );
  return { rows: rows.slice(0, -1), access: rows.at(-1)!.access_state! };
}

/** One page of a search, plus whether there is more (and the access check's row, when given one). */
export async function searchResources(
  db: Queryable,
  plan: SearchPlan,
  filters: readonly SearchFilter[] | null,
  check?: AccessCheckQuery,
): Promise<{ page: StoredResource[]; more: boolean; access: Record<string, unknown> | null }> {
  const params: unknown[] = [...(check?.params ?? [])];
  let where = searchConditions(plan, filters, params);
  const { column, descending } = plan.sort;
  if (plan.after) {
    params.push(plan.after.value, plan.after.id);
    where += ` AND (${column}, id) ${descending ? '<' : '>'} ($${params.length - 1}, $${params.length})`;
  }
  if (check) where += ` AND ${check.ready}`;
  params.push(plan.count + 1);
  const direction = descending ? ('DESC' as const) : ('ASC' as const);
  const { rows, access } = await afterAccessCheck(db, check, `SELECT ${columns} FROM fhir_resources WHERE ${where}`, params, {
    columns: [column, 'id'],
    direction,
    limit: `LIMIT $${params.length}`,
  });
  const more = rows.length > plan.count;
  return { page: rows.slice(0, plan.count).map((row) => toStored(row, column)), more, access };
}

/** How many resources the whole search matches, on every page (`Bundle.total`): the cursor's position plays no part. */
export async function countResources(db: Queryable, plan: SearchPlan, filters: readonly SearchFilter[] | null): Promise<number> {
  const params: unknown[] = [];
  const rows = await db.query<{ total: number }>(`SELECT count(*)::int AS total FROM fhir_resources WHERE ${searchConditions(plan, filters, params)}`, params);
  return rows[0]!.total;
}

/** One resource of the patient, if it exists and passes the scope filters (and the access check's row, when given one). */
export async function readResource(
  db: Queryable,
  patientId: string,
  resourceType: FhirResourceType,
  id: string,
  filters: readonly SearchFilter[] | null,
  check?: AccessCheckQuery,
  sourceAppId?: string,
): Promise<{ stored: StoredResource | null; access: Record<string, unknown> | null }> {
  const params: unknown[] = [...(check?.params ?? []), patientId, resourceType, id];
  const n = params.length;
  let where = `patient_id = $${n - 2} AND resource_type = $${n - 1} AND id = $${n}${filterClause(filters, params)}${check ? ` AND ${check.ready}` : ''}`;
  if (sourceAppId !== undefined) {
    params.push(sourceAppId);
    where += ` AND source_app_id = $${params.length}`;
  }
  const { rows, access } = await afterAccessCheck(db, check, `SELECT ${columns} FROM fhir_resources WHERE ${where}`, params);
  return { stored: rows[0] ? toStored(rows[0], 'resource_date') : null, access };
}

/** What the store keeps of a resource: everything but the id, meta and narrative. */
function contentOf(resource: FhirResource): Record<string, unknown> {
  const { id: _id, meta: _meta, text: _text, ...content } = resource as FhirResource & { text?: unknown };
  return content;
}

export interface NewResource {
  patientId: string;
  resource: FhirResource;
  /** The app that writes it (none for what the record receives from elsewhere). */
  sourceAppId?: string;
  /** The resource's id; a new random one when absent. */
  id?: string;
  /** When it was last updated; now when absent. */
  lastUpdated?: Date;
}

/**
 * A resource's row, in `resourceColumns` order: what `insertResources` binds and what
 * `copyResources` loads (the sandbox makes them in a worker thread, away from the store).
 */
export function resourceRow(item: NewResource): CopyValue[] {
  const lastUpdated = item.lastUpdated ?? new Date();
  const date = resourceDate(item.resource);
  return [
    item.patientId,
    item.resource.resourceType,
    item.id ?? item.resource.id ?? randomUUID(),
    lastUpdated,
    date ? new Date(date) : lastUpdated,
    searchTokens(item.resource),
    patientSearchText(item.resource),
    JSON.stringify(contentOf(item.resource)),
  ];
}

export const resourceColumns = ['patient_id', 'resource_type', 'id', 'last_updated', 'resource_date', 'tokens', 'search_text', 'content'] as const;
/** The columns of an insert: a resource's row, then the app that wrote it. */
const withSource = `(${resourceColumns.join(', ')}, source_app_id)`;

/** Stores a new resource (version 1) and returns it as the API answers it. */
export async function insertResource(db: Queryable, item: NewResource): Promise<StoredResource> {
  const rows = await db.query<ResourceRow>(
    `INSERT INTO fhir_resources ${withSource} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${columns}`,
    [...resourceRow(item), item.sourceAppId ?? null],
  );
  return toStored(rows[0]!, 'resource_date');
}

/** A resource about to change, locked until the transaction ends, with the app that wrote it. */
export interface LockedResource {
  stored: StoredResource;
  sourceAppId: string | null;
}

/** Reads one resource of the patient and locks its row for the rest of the transaction. */
export async function lockResource(tx: Queryable, patientId: string, resourceType: FhirResourceType, id: string): Promise<LockedResource | null> {
  const rows = await tx.query<ResourceRow & { source_app_id: string | null }>(
    `SELECT ${columns}, source_app_id FROM fhir_resources WHERE patient_id = $1 AND resource_type = $2 AND id = $3 FOR UPDATE`,
    [patientId, resourceType, id],
  );
  return rows[0] ? { stored: toStored(rows[0], 'resource_date'), sourceAppId: rows[0].source_app_id } : null;
}

/** Replaces a resource's content with the next version (its dates and tokens recomputed). */
export async function updateResource(tx: Queryable, patientId: string, resource: FhirResource & { id: string }): Promise<StoredResource> {
  const date = resourceDate(resource);
  const rows = await tx.query<ResourceRow>(
    `UPDATE fhir_resources SET version_id = version_id + 1, last_updated = greatest(now(), last_updated + interval '1 millisecond'),
       resource_date = coalesce($4, now()), tokens = $5, content = $6
     WHERE patient_id = $1 AND resource_type = $2 AND id = $3 RETURNING ${columns}`,
    [patientId, resource.resourceType, resource.id, date ? new Date(date) : null, searchTokens(resource), JSON.stringify(contentOf(resource))],
  );
  return toStored(rows[0]!, 'resource_date');
}

/**
 * Serializes the changes of one patient's agenda until the transaction ends: a booking checks
 * for overlaps and writes in one step, so two bookings of the same slot cannot both pass.
 */
export async function lockAgenda(tx: Queryable, patientId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('mes.agenda:' || $1, 0))`, [patientId]);
}

/** The patient's appointments with these statuses that start between two instants (to look for overlaps). */
export async function appointmentsStartingBetween(
  tx: Queryable,
  patientId: string,
  statuses: readonly string[],
  from: Date,
  to: Date,
): Promise<{ id: string; status: string; start?: string; end?: string }[]> {
  const rows = await tx.query<{ id: string; content: { status: string; start?: string; end?: string } }>(
    `SELECT id, content FROM fhir_resources
     WHERE patient_id = $1 AND resource_type = 'Appointment' AND resource_date > $2 AND resource_date < $3 AND tokens && $4::text[]`,
    [patientId, from, to, statuses.map((status) => `status=${status}`)],
  );
  return rows.map((row) => ({ id: row.id, status: row.content.status, start: row.content.start, end: row.content.end }));
}

/** An appointment as the patient's agenda shows it: the resource, whose it is, and the app that added it. */
export interface AgendaEntry {
  patientId: string;
  appointment: FhirResource & { resourceType: 'Appointment' };
  sourceAppId: string | null;
}

/** The appointments of these patients dated after `since`, soonest first (at most `limit`). */
export async function agendaOf(db: Queryable, patientIds: readonly string[], since: Date, limit: number): Promise<AgendaEntry[]> {
  if (patientIds.length === 0) return [];
  const rows = await db.query<ResourceRow & { patient_id: string; source_app_id: string | null }>(
    `SELECT patient_id, source_app_id, ${columns} FROM fhir_resources
     WHERE patient_id = ANY($1::text[]) AND resource_type = 'Appointment' AND resource_date >= $2
     ORDER BY resource_date, id LIMIT $3`,
    [patientIds, since, limit],
  );
  return rows.map((row) => ({
    patientId: row.patient_id,
    appointment: toStored(row, 'resource_date').resource as AgendaEntry['appointment'],
    sourceAppId: row.source_app_id,
  }));
}

/** Stores many resources in one statement; returns how many were written (existing ids are skipped). */
export async function insertResources(db: Queryable, items: readonly NewResource[]): Promise<number> {
  if (items.length === 0) return 0;
  const params: unknown[] = [];
  const tuples = items.map((item) => {
    const values = [...resourceRow(item), item.sourceAppId ?? null];
    const start = params.length;
    params.push(...values);
    return `(${values.map((_, i) => `$${start + i + 1}`).join(', ')})`;
  });
  const rows = await db.query(`INSERT INTO fhir_resources ${withSource} VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING RETURNING 1 AS inserted`, params);
  return rows.length;
}

/**
 * Loads rows made by `resourceRow`, in COPY text (`copyText`), in one statement (COPY on PGlite): the fastest way in, for
 * resources that are not in the store yet. One that is fails the whole call (23505).
 */
export async function copyResources(db: Db, data: string): Promise<void> {
  await db.copyFrom('fhir_resources', resourceColumns, data);
}

/** Records that a guardian may act for a child, until the date given (the child's 18th birthday). */
export async function insertGuardianships(
  db: Queryable,
  links: readonly { guardianId: string; childId: string; relationship: string; validUntil: string | null }[],
): Promise<void> {
  if (links.length === 0) return;
  const params: unknown[] = [];
  const tuples = links.map((link) => {
    params.push(link.guardianId, link.childId, link.relationship, link.validUntil);
    const n = params.length;
    return `($${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
  });
  await db.query(`INSERT INTO patient_guardians (guardian_id, child_id, relationship, valid_until) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, params);
}

/** Whether `guardianId` may act for `childId` today. */
export async function mayActFor(db: Queryable, guardianId: string, childId: string): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM patient_guardians WHERE guardian_id = $1 AND child_id = $2 AND (valid_until IS NULL OR valid_until > current_date)`,
    [guardianId, childId],
  );
  return rows.length > 0;
}

/** The children `guardianId` may act for today. */
export async function childrenOf(db: Queryable, guardianId: string): Promise<string[]> {
  const rows = await db.query<{ child_id: string }>(
    `SELECT child_id FROM patient_guardians WHERE guardian_id = $1 AND (valid_until IS NULL OR valid_until > current_date) ORDER BY child_id`,
    [guardianId],
  );
  return rows.map((row) => row.child_id);
}

/** A patient as a picker lists them. */
export interface PatientSummary {
  id: string;
  name: string;
  birthDate: string | undefined;
}

function summaryOf(row: { patient_id: string; content: { name?: { family?: string; given?: string[] }[]; birthDate?: string } }): PatientSummary {
  const name = row.content.name?.[0];
  return {
    id: row.patient_id,
    name: [...(name?.given ?? []), name?.family ?? ''].join(' ').trim() || row.patient_id,
    birthDate: row.content.birthDate,
  };
}

/**
 * Patients whose name contains `text` (folded: accents and case do not matter), or whose id it
 * is, at most `limit`, in id order; all of them (up to `limit`) without a text.
 */
export async function findPatients(db: Queryable, text: string, limit: number): Promise<PatientSummary[]> {
  const folded = fold(text.trim());
  const rows = await db.query<{ patient_id: string; content: Record<string, never> }>(
    `SELECT patient_id, content FROM fhir_resources
     WHERE resource_type = 'Patient' AND ($1 = '' OR search_text LIKE '%' || $1 || '%' OR patient_id = $2)
     ORDER BY length(patient_id), patient_id LIMIT $3`,
    [folded.replace(/[%_\\]/g, ''), text.trim(), limit],
  );
  return rows.map(summaryOf);
}

/** The patients with these ids that exist, as a picker shows them. */
export async function patientSummaries(db: Queryable, ids: readonly string[]): Promise<PatientSummary[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ patient_id: string; content: Record<string, never> }>(
    `SELECT patient_id, content FROM fhir_resources WHERE resource_type = 'Patient' AND patient_id = ANY($1::text[]) ORDER BY patient_id`,
    [ids],
  );
  return rows.map(summaryOf);
}

/**
 * The patient whose Patient resource holds this identifier (e.g. an INS), when exactly one does:
 * a containment search on the Patient rows' identifiers (GIN index of migration 0018).
 */
export async function findPatientByIdentifier(db: Queryable, system: string, value: string): Promise<string | null> {
  const rows = await db.query<{ patient_id: string }>(
    `SELECT patient_id FROM fhir_resources WHERE resource_type = 'Patient' AND content -> 'identifier' @> $1::jsonb LIMIT 2`,
    [JSON.stringify([{ system, value }])],
  );
  return rows.length === 1 ? rows[0]!.patient_id : null;
}

/** Ends today every guardianship over a child (the child comes of age); returns how many. */
export async function endGuardianshipsOf(db: Queryable, childId: string): Promise<number> {
  const rows = await db.query(
    `UPDATE patient_guardians SET valid_until = current_date WHERE child_id = $1 AND (valid_until IS NULL OR valid_until > current_date) RETURNING child_id`,
    [childId],
  );
  return rows.length;
}

/** A conversation between a person and an app's care team (appId null: their care team, through no app), as "Ma messagerie" lists it. */
export interface ConversationSummary {
  patientId: string;
  appId: string | null;
  messages: number;
  last: FhirResource & { resourceType: 'Communication' };
}

/** The conversations of these patients: one per patient and app, the most recent first. */
export async function conversationsOf(db: Queryable, patientIds: readonly string[]): Promise<ConversationSummary[]> {
  if (patientIds.length === 0) return [];
  const rows = await db.query<ResourceRow & { patient_id: string; source_app_id: string | null; messages: number }>(
    `SELECT * FROM (
       SELECT DISTINCT ON (patient_id, source_app_id) patient_id, source_app_id, count(*) OVER (PARTITION BY patient_id, source_app_id)::int AS messages, ${columns}
       FROM fhir_resources
       WHERE patient_id = ANY($1::text[]) AND resource_type = 'Communication'
       ORDER BY patient_id, source_app_id, resource_date DESC, id DESC
     ) last ORDER BY resource_date DESC`,
    [patientIds],
  );
  return rows.map((row) => ({
    patientId: row.patient_id,
    appId: row.source_app_id,
    messages: Number(row.messages),
    last: toStored(row, 'resource_date').resource as ConversationSummary['last'],
  }));
}

/** The messages between a patient and an app's care team (null: the care team's, through no app), oldest first (the last `limit`). */
export async function conversationMessages(db: Queryable, patientId: string, appId: string | null, limit: number): Promise<StoredResource[]> {
  const rows = await db.query<ResourceRow>(
    `SELECT * FROM (
       SELECT ${columns} FROM fhir_resources
       WHERE patient_id = $1 AND resource_type = 'Communication' AND source_app_id IS NOT DISTINCT FROM $2
       ORDER BY resource_date DESC, id DESC LIMIT $3
     ) recent ORDER BY resource_date, id`,
    [patientId, appId, limit],
  );
  return rows.map((row) => toStored(row, 'resource_date'));
}

/** One message of a conversation (appId null: the care team's), or null. */
export async function conversationMessage(db: Queryable, patientId: string, appId: string | null, id: string): Promise<StoredResource | null> {
  const rows = await db.query<ResourceRow>(
    `SELECT ${columns} FROM fhir_resources WHERE patient_id = $1 AND resource_type = 'Communication' AND id = $2 AND source_app_id IS NOT DISTINCT FROM $3`,
    [patientId, id, appId],
  );
  return rows[0] ? toStored(rows[0], 'resource_date') : null;
}
