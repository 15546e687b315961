// SQL of the catalogue module: publishers, their API keys and their apps.
import { randomUUID } from 'node:crypto';
import type { components } from '@mes/openapi';
import type { Queryable } from '../../core/store/db.js';
import { foldText, type ScopeRequest } from './rules.js';

export type Publisher = components['schemas']['Publisher'];
export type ApiKey = components['schemas']['ApiKey'];
export type App = components['schemas']['App'];
export type AppInput = components['schemas']['AppInput'];
export type AppUpdate = components['schemas']['AppUpdate'];
export type CatalogApp = components['schemas']['CatalogApp'];
export type CertificationStatus = components['schemas']['CertificationStatus'];
export type AppCategory = components['schemas']['AppCategory'];

const iso = (value: unknown): string => (value instanceof Date ? value : new Date(String(value))).toISOString();
const isoOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : iso(value));

interface PublisherRow {
  id: string;
  name: string;
  registration_number: string;
  contact_email: string;
  domains: string[];
  status: Publisher['status'];
  verified_at: Date | null;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

function toPublisher(row: PublisherRow): Publisher {
  return {
    id: row.id,
    name: row.name,
    registrationNumber: row.registration_number,
    contactEmail: row.contact_email,
    domains: row.domains,
    status: row.status,
    verifiedAt: isoOrNull(row.verified_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export async function insertPublisher(
  db: Queryable,
  input: { name: string; registrationNumber: string; contactEmail: string; domains: string[]; verified: boolean },
): Promise<Publisher | null> {
  const rows = await db.query<PublisherRow>(
    `INSERT INTO publishers (id, name, registration_number, contact_email, domains, status, verified_at)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::boolean THEN now() END)
     ON CONFLICT (registration_number) DO NOTHING
     RETURNING *`,
    [
      randomUUID(),
      input.name,
      input.registrationNumber,
      input.contactEmail,
      input.domains,
      input.verified ? 'verified' : 'pending_verification',
      input.verified,
    ],
  );
  return rows[0] ? toPublisher(rows[0]) : null;
}

export async function findPublisher(db: Queryable, id: string): Promise<Publisher | null> {
  const rows = await db.query<PublisherRow>('SELECT * FROM publishers WHERE id = $1', [id]);
  return rows[0] ? toPublisher(rows[0]) : null;
}

export async function findPublisherByRegistrationNumber(db: Queryable, registrationNumber: string): Promise<Publisher | null> {
  const rows = await db.query<PublisherRow>('SELECT * FROM publishers WHERE registration_number = $1', [registrationNumber]);
  return rows[0] ? toPublisher(rows[0]) : null;
}

export async function updatePublisher(
  db: Queryable,
  id: string,
  changes: { name?: string; contactEmail?: string; domains?: string[] },
  domainsNeedVerification: boolean,
): Promise<Publisher | null> {
  const rows = await db.query<PublisherRow>(
    `UPDATE publishers SET
       name = COALESCE($2, name),
       contact_email = COALESCE($3, contact_email),
       domains = COALESCE($4, domains),
       status = CASE WHEN $5::boolean AND $4::text[] IS DISTINCT FROM domains THEN 'pending_verification' ELSE status END,
       verified_at = CASE WHEN $5::boolean AND $4::text[] IS DISTINCT FROM domains THEN NULL ELSE verified_at END,
       updated_at = now()
     WHERE id = $1
     RETURNING *`,
    [id, changes.name ?? null, changes.contactEmail ?? null, changes.domains ?? null, domainsNeedVerification && changes.domains !== undefined],
  );
  return rows[0] ? toPublisher(rows[0]) : null;
}

export async function markPublisherVerified(db: Queryable, id: string): Promise<Publisher | null> {
  const rows = await db.query<PublisherRow>(
    `UPDATE publishers SET status = 'verified', verified_at = COALESCE(verified_at, now()), updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id],
  );
  return rows[0] ? toPublisher(rows[0]) : null;
}

interface ApiKeyRow {
  id: string;
  label: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  [key: string]: unknown;
}

function toApiKey(row: ApiKeyRow): ApiKey {
  return { id: row.id, label: row.label, prefix: row.prefix, createdAt: iso(row.created_at), lastUsedAt: isoOrNull(row.last_used_at) };
}

export async function insertApiKey(
  db: Queryable,
  publisherId: string,
  key: { label: string; prefix: string; hash: string },
): Promise<ApiKey> {
  const rows = await db.query<ApiKeyRow>(
    `INSERT INTO publisher_api_keys (id, publisher_id, label, prefix, key_hash)
     VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [randomUUID(), publisherId, key.label, key.prefix, key.hash],
  );
  return toApiKey(rows[0]!);
}

export async function listApiKeys(db: Queryable, publisherId: string): Promise<ApiKey[]> {
  const rows = await db.query<ApiKeyRow>(
    `SELECT * FROM publisher_api_keys WHERE publisher_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id`,
    [publisherId],
  );
  return rows.map(toApiKey);
}

export async function revokeApiKey(db: Queryable, publisherId: string, keyId: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE publisher_api_keys SET revoked_at = now()
     WHERE id = $1 AND publisher_id = $2 AND revoked_at IS NULL RETURNING id`,
    [keyId, publisherId],
  );
  return rows.length === 1;
}

/** The active key with this hash, touching its last use at most once a minute. */
export async function useApiKey(db: Queryable, hash: string): Promise<{ apiKeyId: string; publisherId: string } | null> {
  const rows = await db.query<{ id: string; publisher_id: string; stale: boolean }>(
    `SELECT id, publisher_id,
            (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
     FROM publisher_api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
    [hash],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.stale) await db.query('UPDATE publisher_api_keys SET last_used_at = now() WHERE id = $1', [row.id]);
  return { apiKeyId: row.id, publisherId: row.publisher_id };
}

interface AppRow {
  id: string;
  seq: string;
  publisher_id: string;
  publisher_name?: string;
  name: string;
  short_description: App['shortDescription'];
  long_description: App['longDescription'];
  category: AppCategory;
  website_url: string;
  logo_url: string | null;
  redirect_uris: string[];
  launch_url: string | null;
  notification_endpoints: string[];
  scopes: ScopeRequest[];
  privacy_policy_url: string;
  terms_url: string;
  support_contact: App['supportContact'];
  compliance: App['compliance'] | null;
  certification_status: CertificationStatus;
  certified_at: Date | null;
  certificate_reference: string | null;
  sort_key: string;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

// Explicit columns (not a.*): search_text would be read for nothing, and every column costs.
const appColumns = `a.id, a.seq::text AS seq, a.publisher_id, a.name, a.short_description, a.long_description, a.category,
  a.website_url, a.logo_url, a.redirect_uris, a.launch_url, a.notification_endpoints, a.scopes, a.privacy_policy_url, a.terms_url, a.support_contact,
  a.compliance, a.certification_status, a.certified_at, a.certificate_reference, a.sort_key, a.created_at, a.updated_at`;
const catalogColumns = `${appColumns}, (SELECT p.name FROM publishers p WHERE p.id = a.publisher_id) AS publisher_name`;

function toApp(row: AppRow): App {
  return {
    id: row.id,
    publisherId: row.publisher_id,
    name: row.name,
    shortDescription: row.short_description,
    longDescription: row.long_description,
    category: row.category,
    websiteUrl: row.website_url,
    logoUrl: row.logo_url,
    redirectUris: row.redirect_uris,
    launchUrl: row.launch_url,
    notificationEndpoints: row.notification_endpoints ?? [],
    scopes: row.scopes,
    privacyPolicyUrl: row.privacy_policy_url,
    termsUrl: row.terms_url,
    supportContact: row.support_contact,
    compliance: row.compliance ?? null,
    certificationStatus: row.certification_status,
    certifiedAt: isoOrNull(row.certified_at),
    certificateReference: row.certificate_reference,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** The public view of a certified app: its listing fields, without what is private to the publisher. */
function toCatalogApp(row: AppRow): CatalogApp {
  // Exactly the catalogue's fields: its pages are served as serialized here (catalog/routes.ts).
  const { publisherId, redirectUris: _private, launchUrl: _launch, notificationEndpoints: _endpoints, compliance: _compliance, createdAt: _c, updatedAt: _u, certifiedAt, certificateReference, ...listing } = toApp(row);
  return {
    ...listing,
    publisher: { id: publisherId, name: row.publisher_name ?? '' },
    certificationStatus: 'certified',
    certifiedAt: certifiedAt ?? iso(row.updated_at),
    certificateReference: certificateReference ?? '',
  };
}

/** Text the catalogue search looks in: names and descriptions in both languages, folded. */
function searchText(app: Pick<App, 'name' | 'shortDescription' | 'longDescription'>): string {
  return foldText(
    [app.name, app.shortDescription.fr, app.shortDescription.en, app.longDescription.fr, app.longDescription.en]
      .filter(Boolean)
      .join(' \n '),
  );
}

/** Values of the app's editable columns, in the order of `editableColumns` ($3 to $18). */
function editableValues(
  app: Omit<AppInput, 'logoUrl' | 'launchUrl' | 'compliance'> & { logoUrl?: string | null; launchUrl?: string | null; compliance?: App['compliance'] | undefined },
): unknown[] {
  return [
    app.name,
    JSON.stringify(app.shortDescription),
    JSON.stringify(app.longDescription),
    app.category,
    app.websiteUrl,
    app.logoUrl ?? null,
    app.redirectUris,
    JSON.stringify(app.scopes),
    app.privacyPolicyUrl,
    app.termsUrl,
    JSON.stringify(app.supportContact),
    app.compliance ? JSON.stringify(app.compliance) : null,
    searchText(app),
    foldText(app.name),
    app.launchUrl ?? null,
    app.notificationEndpoints ?? [],
  ];
}

const editableColumns = [
  'name', 'short_description', 'long_description', 'category', 'website_url', 'logo_url', 'redirect_uris',
  'scopes', 'privacy_policy_url', 'terms_url', 'support_contact', 'compliance', 'search_text', 'sort_key', 'launch_url',
  'notification_endpoints',
];

export async function insertApp(db: Queryable, publisherId: string, input: AppInput): Promise<App> {
  const rows = await db.query<AppRow>(
    `INSERT INTO apps AS a (id, publisher_id, ${editableColumns.join(', ')})
     VALUES ($1, $2, ${editableColumns.map((_, i) => `$${i + 3}`).join(', ')})
     RETURNING ${appColumns}`,
    [randomUUID(), publisherId, ...editableValues(input)],
  );
  return toApp(rows[0]!);
}

export async function findApp(db: Queryable, publisherId: string, appId: string): Promise<App | null> {
  const rows = await db.query<AppRow>(`SELECT ${appColumns} FROM apps a WHERE a.id = $1 AND a.publisher_id = $2`, [appId, publisherId]);
  return rows[0] ? toApp(rows[0]) : null;
}

export async function listApps(
  db: Queryable,
  publisherId: string,
  page: { limit: number; after: number | null },
): Promise<{ items: App[]; last: number | null; more: boolean }> {
  const rows = await db.query<AppRow>(
    `SELECT ${appColumns} FROM apps a
     WHERE a.publisher_id = $1 AND ($2::bigint IS NULL OR a.seq > $2::bigint)
     ORDER BY a.seq LIMIT $3`,
    [publisherId, page.after, page.limit + 1],
  );
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  return { items: items.map(toApp), last: items.length ? Number(items[items.length - 1]!.seq) : null, more };
}

/**
 * Applies a partial update (the caller has validated it, in a transaction; `check` sees the app
 * as it would become, and throws to refuse). Null if the app is not the publisher's.
 */
export async function updateApp(db: Queryable, publisherId: string, appId: string, update: AppUpdate, check: (next: App) => void = () => {}): Promise<App | null> {
  const current = await db.query<AppRow>(
    `SELECT ${appColumns} FROM apps a WHERE a.id = $1 AND a.publisher_id = $2 FOR UPDATE`,
    [appId, publisherId],
  );
  if (!current[0]) return null;
  const next: App = { ...toApp(current[0]), ...update };
  check(next);
  const rows = await db.query<AppRow>(
    `UPDATE apps AS a SET ${editableColumns.map((column, i) => `${column} = $${i + 3}`).join(', ')}, updated_at = now()
     WHERE id = $1 AND publisher_id = $2
     RETURNING ${appColumns}`,
    [appId, publisherId, ...editableValues(next)],
  );
  return rows[0] ? toApp(rows[0]) : null;
}

/** The endpoints where an app may receive its subscriptions' notifications (none for an unknown app). */
export async function notificationEndpointsOf(db: Queryable, appId: string): Promise<string[]> {
  const [row] = await db.query<{ notification_endpoints: string[] }>('SELECT notification_endpoints FROM apps WHERE id = $1', [appId]);
  return row?.notification_endpoints ?? [];
}

/** A publisher's apps, in the order they were created: id, name and logoUrl. */
export async function appsOfPublisher(db: Queryable, publisherId: string): Promise<Array<{ id: string; name: string; logoUrl: string | null }>> {
  const rows = await db.query<{ id: string; name: string; logo_url: string | null }>('SELECT id, name, logo_url FROM apps WHERE publisher_id = $1 ORDER BY seq', [publisherId]);
  return rows.map((row) => ({ id: row.id, name: row.name, logoUrl: row.logo_url }));
}

export async function deleteApp(db: Queryable, publisherId: string, appId: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM apps WHERE id = $1 AND publisher_id = $2 RETURNING id', [appId, publisherId]);
  return rows.length === 1;
}

export async function setCertificationStatus(
  db: Queryable,
  appId: string,
  status: CertificationStatus,
): Promise<App | null> {
  const rows = await db.query<AppRow>(
    `UPDATE apps AS a SET certification_status = $2,
       certified_at = CASE WHEN $2 = 'certified' THEN COALESCE(certified_at, now()) ELSE certified_at END,
       certificate_reference = CASE WHEN $2 = 'certified' AND certificate_reference IS NULL
         THEN 'MES-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(nextval('certificate_numbers')::text, 6, '0')
         ELSE certificate_reference END,
       certification_changed_at = CASE WHEN certification_status IS DISTINCT FROM $2 THEN now() ELSE certification_changed_at END,
       updated_at = now()
     WHERE id = $1 RETURNING ${appColumns}`,
    [appId, status],
  );
  return rows[0] ? toApp(rows[0]) : null;
}

/** Records what the app's certified version covers: the authorization server's ceiling outside the sandbox. */
export async function setCertifiedVersion(db: Queryable, appId: string, version: { redirectUris: string[]; scopes: string[] }): Promise<void> {
  await db.query('UPDATE apps SET certified_redirect_uris = $2, certified_scopes = $3 WHERE id = $1', [appId, version.redirectUris, JSON.stringify(version.scopes)]);
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listCatalog(
  db: Queryable,
  filter: { q?: string; category?: AppCategory; limit: number; after: [string, string] | null },
): Promise<{ items: CatalogApp[]; last: [string, string] | null; more: boolean }> {
  // Only the filters in use go into the statement, so each combination gets its own plain plan.
  const params: unknown[] = [];
  const where = [`a.certification_status = 'certified'`];
  if (filter.q) where.push(`a.search_text LIKE '%' || $${params.push(escapeLike(foldText(filter.q)))} || '%' ESCAPE '\\'`);
  if (filter.category) where.push(`a.category = $${params.push(filter.category)}`);
  if (filter.after) where.push(`(a.sort_key, a.id) > ($${params.push(filter.after[0])}, $${params.push(filter.after[1])}::uuid)`);
  const rows = await db.query<AppRow>(
    `SELECT ${catalogColumns} FROM apps a WHERE ${where.join(' AND ')} ORDER BY a.sort_key, a.id LIMIT $${params.push(filter.limit + 1)}`,
    params,
  );
  const more = rows.length > filter.limit;
  const items = rows.slice(0, filter.limit);
  const lastRow = items[items.length - 1];
  return { items: items.map(toCatalogApp), last: lastRow ? [lastRow.sort_key, lastRow.id] : null, more };
}

export async function findCatalogApp(db: Queryable, appId: string): Promise<CatalogApp | null> {
  const rows = await db.query<AppRow>(
    `SELECT ${catalogColumns} FROM apps a WHERE a.id = $1 AND a.certification_status = 'certified'`,
    [appId],
  );
  return rows[0] ? toCatalogApp(rows[0]) : null;
}

/**
 * An app as patients are shown it on the consent screen and in "my connected apps", whatever its
 * certification status: the catalogue's fields, with its real status.
 */
export type AppForPatients = Omit<CatalogApp, 'certificationStatus' | 'certifiedAt' | 'certificateReference'> & {
  certificationStatus: CertificationStatus;
  certifiedAt: string | null;
  certificateReference: string | null;
  /** Where "Ouvrir l'application" leads (the launch itself goes through the platform), if the app offers it. */
  launchUrl: string | null;
};

const toAppForPatients = (row: AppRow): AppForPatients => ({
  ...toCatalogApp(row),
  certificationStatus: row.certification_status,
  certifiedAt: isoOrNull(row.certified_at),
  certificateReference: row.certificate_reference,
  launchUrl: row.launch_url,
});

export async function findAppForPatients(db: Queryable, appId: string): Promise<AppForPatients | null> {
  const rows = await db.query<AppRow>(`SELECT ${catalogColumns} FROM apps a WHERE a.id = $1`, [appId]);
  return rows[0] ? toAppForPatients(rows[0]) : null;
}

/** Several apps as patients see them, by id (unknown ids are left out). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function appsForPatients(db: Queryable, appIds: readonly string[]): Promise<Map<string, AppForPatients>> {
  // An id that is not a UUID (from a URL) names no app.
  const ids = [...new Set(appIds)].filter((id) => UUID.test(id));
  if (ids.length === 0) return new Map();
  const rows = await db.query<AppRow>(`SELECT ${catalogColumns} FROM apps a WHERE a.id = ANY($1::uuid[])`, [ids]);
  return new Map(rows.map((row) => [row.id, toAppForPatients(row)]));
}

/** Where an app's logo comes from (its `logoUrl`), its name (for its initials) and its certification status; null for an unknown app. */
export async function findAppLogoSource(
  db: Queryable,
  appId: string,
): Promise<{ name: string; logoUrl: string | null; certificationStatus: CertificationStatus } | null> {
  const rows = await db.query<{ name: string; logo_url: string | null; certification_status: CertificationStatus }>(
    'SELECT name, logo_url, certification_status FROM apps WHERE id = $1',
    [appId],
  );
  return rows[0] ? { name: rows[0].name, logoUrl: rows[0].logo_url, certificationStatus: rows[0].certification_status } : null;
}
