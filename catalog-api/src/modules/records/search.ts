// FHIR search parameters turned into a search plan the repository runs: date ranges with their
// prefixes, token alternatives, ids, the sort, the page size and the keyset position of the page.
// The plan always belongs to one patient (the token's); a `patient` parameter may only name that
// patient, and a cursor only continues the very search it came from.
import { createHash } from 'node:crypto';
import { FhirError } from '../../core/fhir-error.js';
import { tokenParameters, type FhirResourceType } from './resources.js';

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 100;

export type SortColumn = 'resource_date' | 'last_updated';

export interface DateBound {
  column: SortColumn;
  /** `>=` the bound, or `<` it. */
  op: '>=' | '<';
  value: Date;
}

export interface SearchPlan {
  resourceType: FhirResourceType;
  patientId: string;
  ids: string[] | null;
  dates: DateBound[];
  /** Each group matches when the resource has any of its tokens; every group must match. */
  tokenGroups: string[][];
  sort: { column: SortColumn; descending: boolean };
  count: number;
  /** Where the page starts: after this sort value and id. */
  after: { value: Date; id: string } | null;
  /** Identifies the search (without its position), so that a cursor only continues it. */
  fingerprint: string;
  /** The search's own parameters, normalized, for the `self` and `next` links. */
  parameters: [string, string][];
  /** Only the resources of this app's (a conversation's messages); set by the caller, not by a parameter. */
  sourceAppId?: string;
}

const invalid = (parameter: string, message: string) => new FhirError(400, 'invalid', `${parameter}: ${message}`, { expression: [parameter] });

/**
 * The [start, end) range a date of the given precision stands for: `2026` is the whole year,
 * `2026-11-30` the day (UTC), `2026-11-30T08:00:00+01:00` the second.
 */
export function dateRange(text: string): { start: Date; end: Date } | null {
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  if (mo === undefined) return { start: new Date(Date.UTC(year, 0, 1)), end: new Date(Date.UTC(year + 1, 0, 1)) };
  const month = Number(mo) - 1;
  if (month < 0 || month > 11) return null;
  if (d === undefined) return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
  const day = Number(d);
  const start = new Date(Date.UTC(year, month, day));
  if (start.getUTCMonth() !== month || day < 1) return null;
  if (h === undefined) return { start, end: new Date(Date.UTC(year, month, day + 1)) };
  const instant = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${fraction ?? ''}${zone}`);
  if (Number.isNaN(instant.getTime()) || Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return null;
  const step = fraction ? 1 : s !== undefined ? 1000 : 60_000;
  return { start: instant, end: new Date(instant.getTime() + step) };
}

/** The bounds of one `date` (or `_lastUpdated`) value: `ge2026-01`, `lt2026-07-01`, `2026`. */
function dateBounds(parameter: string, column: SortColumn, value: string): DateBound[] {
  const prefix = /^(eq|gt|lt|ge|le)/.exec(value)?.[1] ?? 'eq';
  const range = dateRange(value.replace(/^(eq|gt|lt|ge|le)/, ''));
  if (!range) throw invalid(parameter, `${value} is not a date (YYYY, YYYY-MM, YYYY-MM-DD or a date-time with its time zone)`);
  switch (prefix) {
    case 'eq':
      return [
        { column, op: '>=', value: range.start },
        { column, op: '<', value: range.end },
      ];
    case 'gt':
      return [{ column, op: '>=', value: range.end }];
    case 'ge':
      return [{ column, op: '>=', value: range.start }];
    case 'lt':
      return [{ column, op: '<', value: range.start }];
    default: // le
      return [{ column, op: '<', value: range.end }];
  }
}

interface Cursor {
  f: string;
  v: string;
  i: string;
}

export function encodeSearchCursor(plan: SearchPlan, last: { value: Date; id: string }): string {
  const cursor: Cursor = { f: plan.fingerprint, v: last.value.toISOString(), i: last.id };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeSearchCursor(text: string, fingerprint: string): { value: Date; id: string } {
  let cursor: Partial<Cursor>;
  try {
    cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    throw invalid('_cursor', 'not a cursor this server issued');
  }
  if (typeof cursor !== 'object' || cursor === null || typeof cursor.f !== 'string' || typeof cursor.v !== 'string' || typeof cursor.i !== 'string') {
    throw invalid('_cursor', 'not a cursor this server issued');
  }
  // A cursor continues only the search it came from: same patient, type and parameters.
  if (cursor.f !== fingerprint) throw invalid('_cursor', 'this cursor belongs to another search; follow the next link of the search it came from');
  const value = new Date(cursor.v);
  if (Number.isNaN(value.getTime()) || !/^[A-Za-z0-9.-]{1,64}$/.test(cursor.i)) throw invalid('_cursor', 'not a cursor this server issued');
  return { value, id: cursor.i };
}

/** The parameters of a search request, as the validated query gives them. */
export type SearchQuery = Record<string, string | number | string[] | undefined>;

/** Turns a validated search query of `resourceType` into a plan for the token's `patientId`. */
export function planSearch(resourceType: FhirResourceType, query: SearchQuery, patientId: string): SearchPlan {
  const parameters: [string, string][] = [];
  if (query.patient !== undefined) {
    const named = String(query.patient).replace(/^Patient\//, '');
    if (named !== patientId) {
      throw new FhirError(403, 'forbidden', 'patient: this token gives access to one patient only; search without patient, or with that patient', {
        expression: ['patient'],
      });
    }
    parameters.push(['patient', `Patient/${patientId}`]);
  }
  let ids: string[] | null = null;
  if (query._id !== undefined) {
    ids = [...new Set(String(query._id).split(','))].sort();
    parameters.push(['_id', ids.join(',')]);
  }
  const dates: DateBound[] = [];
  for (const [name, column] of [['date', 'resource_date'], ['sent', 'resource_date'], ['_lastUpdated', 'last_updated']] as const) {
    const values = query[name];
    if (values === undefined) continue;
    for (const value of [values].flat().map(String)) {
      dates.push(...dateBounds(name, column, value));
      parameters.push([name, value]);
    }
  }
  const tokenGroups: string[][] = [];
  for (const name of tokenParameters[resourceType]) {
    const value = query[name];
    if (value === undefined) continue;
    const alternatives = [...new Set(String(value).split(','))];
    tokenGroups.push(alternatives.map((alternative) => `${name}=${alternative}`));
    parameters.push([name, alternatives.join(',')]);
  }
  const sortParameter = typeof query._sort === 'string' ? query._sort : '-date';
  const sort = { column: sortParameter.endsWith('_lastUpdated') ? ('last_updated' as const) : ('resource_date' as const), descending: sortParameter.startsWith('-') };
  if (query._sort !== undefined) parameters.push(['_sort', sortParameter]);
  // The spec's default fills in _count when absent: the links name it only when it differs.
  const count = typeof query._count === 'number' ? query._count : DEFAULT_COUNT;
  if (count !== DEFAULT_COUNT) parameters.push(['_count', String(count)]);

  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ resourceType, patientId, sort: sortParameter, count, parameters: parameters.filter(([name]) => name !== '_count' && name !== '_sort') }))
    .digest('base64url')
    .slice(0, 22);
  const after = typeof query._cursor === 'string' ? decodeSearchCursor(query._cursor, fingerprint) : null;
  return { resourceType, patientId, ids, dates, tokenGroups, sort, count, after, fingerprint, parameters };
}

/**
 * What `_summary` asks: the resources in full (`false`, `data`: the server keeps no narrative, so
 * the data is the whole resource), or, on a search, only their number (`count`). The summary
 * views FHIR defines from its own element flags (`true`, `text`) are not served.
 */
export function summaryOf(value: string | undefined, interaction: 'search' | 'read'): 'full' | 'count' {
  if (value === undefined || value === 'false' || value === 'data') return 'full';
  if (value === 'count' && interaction === 'search') return 'count';
  const hint = value === 'count' ? 'count applies to searches' : `${value} is not supported (the server keeps no narrative and serves no summary view); _elements chooses elements`;
  throw new FhirError(400, 'not-supported', `_summary: ${hint}; false and data answer the resource${interaction === 'search' ? 's' : ''} in full`, { expression: ['_summary'] });
}

/** Whether a search answers `Bundle.total`: `_total=estimate` gets the exact number too. */
export const wantsTotal = (total: string | undefined): boolean => total === 'accurate' || total === 'estimate';
