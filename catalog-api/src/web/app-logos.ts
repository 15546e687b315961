// Apps' logos, served from the platform's own origin (`/catalogue/{appId}/logo`): the pages'
// Content-Security-Policy allows images from nowhere else, and a patient's browser never contacts
// a publisher's server. This module owns the app_logos table: the logo is fetched from the app's
// `logoUrl` with the safe outbound fetcher, checked by its bytes (logo-images.ts), stored, served
// with an ETag, fetched again when the URL changes or after a day, and after a failure not tried
// again for a while. A logo can also be given to the platform directly (storeProvidedLogo: the
// sandbox's demo apps): checked the same way, served the same way, never fetched while the app's
// logoUrl stays the one it was given for. When there is no logo to show, the answer is a 404 whose
// body is a placeholder image, the app's initials on a tile (an empty tile for an app nobody may
// see), so the page shows the initials rather than a broken image.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../core/config.js';
import { ifNoneMatchNames } from '../core/conditional-requests.js';
import type { HandlerMap, Reply } from '../core/operations.js';
import { OutboundError, safeGet, type OutboundPolicy } from '../core/outbound/safe-fetch.js';
import type { Queryable } from '../core/store/db.js';
import { findAppLogoSource, type CertificationStatus } from '../modules/catalog/index.js';
import { initialsOf } from './initials.js';
import { checkLogo, LOGO_TYPES, MAX_LOGO_BYTES, PLACEHOLDER_TYPE, placeholderLogo, sniffImage, type LogoCheck, type LogoType } from './logo-images.js';

type LogoOperations = 'getCatalogueAppLogo';

/** A logo is fetched again after this long, so a publisher's new image at the same URL shows up. */
const REFRESH_AFTER = '1 day';
/** After a failed fetch, the URL is not tried again before this long (each page view would). */
const RETRY_AFTER = '10 minutes';
const CACHE_CONTROL = 'public, max-age=86400';
const PLACEHOLDER_CACHE_CONTROL = 'public, max-age=600';

/**
 * Statuses whose logo is served: apps patients can see, in the catalogue (certified) or in their
 * connected apps and history (suspended, withdrawn, expired). Drafts and apps under review are
 * nobody's business yet, and the platform does not fetch URLs for them.
 */
const SHOWN_STATUSES: readonly CertificationStatus[] = ['certified', 'suspended', 'revoked', 'expired'];

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppLogoDeps {
  db: Queryable;
  config: AppConfig;
  /** Certificates and name resolution of outbound fetches (tests); the system's by default. */
  outbound?: Pick<OutboundPolicy, 'ca' | 'resolve'> | undefined;
}

interface StoredLogo {
  source_url: string;
  content_type: LogoType | null;
  bytes: Uint8Array | null;
  sha256: string | null;
  /** The logo was fetched less than REFRESH_AFTER ago. */
  fresh: boolean;
  /** The last fetch failed less than RETRY_AFTER ago. */
  backing_off: boolean;
  /** Given to the platform rather than fetched: not fetched again while the logoUrl is source_url. */
  provided: boolean;
  [key: string]: unknown;
}

interface Logo {
  type: LogoType;
  bytes: Buffer;
  etag: string;
}

const returnedColumns = `source_url, content_type, bytes, sha256, provided,
  COALESCE(fetched_at > now() - interval '${REFRESH_AFTER}', false) AS fresh,
  COALESCE(failed_at > now() - interval '${RETRY_AFTER}', false) AS backing_off`;

async function storedLogo(db: Queryable, appId: string): Promise<StoredLogo | null> {
  const rows = await db.query<StoredLogo>(`SELECT ${returnedColumns} FROM app_logos WHERE app_id = $1`, [appId]);
  return rows[0] ?? null;
}

/** Records a logo accepted from `sourceUrl`. An upsert: two first requests fetching together both succeed. */
async function storeLogo(db: Queryable, appId: string, sourceUrl: string, type: LogoType, bytes: Buffer, provided = false): Promise<StoredLogo> {
  const rows = await db.query<StoredLogo>(
    `INSERT INTO app_logos AS l (app_id, source_url, content_type, bytes, sha256, fetched_at, provided)
     VALUES ($1, $2, $3, $4, $5, now(), $6)
     ON CONFLICT (app_id) DO UPDATE SET source_url = EXCLUDED.source_url, content_type = EXCLUDED.content_type,
       bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, fetched_at = EXCLUDED.fetched_at, failed_at = NULL, error = NULL, provided = EXCLUDED.provided
     RETURNING ${returnedColumns}`,
    [appId, sourceUrl, type, bytes, createHash('sha256').update(bytes).digest('hex'), provided],
  );
  return rows[0]!;
}

/**
 * Records a failed fetch of `sourceUrl`. The logo already accepted from the same URL is kept (a
 * publisher's server down for an hour does not blank the logo); one from another URL is dropped,
 * since the publisher replaced it.
 */
async function storeFailure(db: Queryable, appId: string, sourceUrl: string, error: string): Promise<StoredLogo> {
  const kept = (column: string) => `CASE WHEN l.source_url = EXCLUDED.source_url THEN l.${column} END`;
  const rows = await db.query<StoredLogo>(
    `INSERT INTO app_logos AS l (app_id, source_url, failed_at, error)
     VALUES ($1, $2, now(), $3)
     ON CONFLICT (app_id) DO UPDATE SET source_url = EXCLUDED.source_url, failed_at = EXCLUDED.failed_at, error = EXCLUDED.error,
       content_type = ${kept('content_type')}, bytes = ${kept('bytes')}, sha256 = ${kept('sha256')}, fetched_at = ${kept('fetched_at')},
       provided = COALESCE(${kept('provided')}, false)
     RETURNING ${returnedColumns}`,
    [appId, sourceUrl, error.slice(0, 500)],
  );
  return rows[0]!;
}

/**
 * Stores a logo given to the platform directly rather than fetched (the sandbox's demo apps, whose
 * logoUrl is on a host that does not exist): checked by its bytes like a fetched one, kept for the
 * app's current logoUrl and served like a fetched one, not fetched while that URL stays the same
 * (a new logoUrl is fetched as usual). Refused for an unknown app, an app without a logoUrl (its
 * pages show no image), and bytes that would not pass as a fetched logo.
 */
export async function storeProvidedLogo(db: Queryable, appId: string, bytes: Buffer): Promise<LogoCheck> {
  const app = await findAppLogoSource(db, appId);
  if (!app) return { ok: false, reason: `no app ${appId}` };
  if (!app.logoUrl) return { ok: false, reason: 'the app has no logoUrl, so its pages show no logo' };
  const checked = checkLogo(bytes, sniffImage(bytes)?.type);
  if (!checked.ok) return checked;
  await storeLogo(db, appId, app.logoUrl, checked.image.type, bytes, true);
  return checked;
}

const asLogo = (row: StoredLogo | null): Logo | null =>
  row?.bytes && row.content_type && row.sha256 ? { type: row.content_type, bytes: Buffer.from(row.bytes), etag: `"${row.sha256}"` } : null;

/** Fetches and checks a logo: its type and bytes, or why it was refused. */
async function fetchLogo(url: string, policy: OutboundPolicy): Promise<{ ok: true; type: LogoType; bytes: Buffer } | { ok: false; reason: string }> {
  try {
    const answer = await safeGet(url, { maxBytes: MAX_LOGO_BYTES, accept: LOGO_TYPES.join(', ') }, policy);
    if (answer.status !== 200) return { ok: false, reason: `answered ${answer.status}` };
    const contentType = answer.headers['content-type'];
    const checked = checkLogo(answer.body, Array.isArray(contentType) ? contentType[0] : contentType);
    return checked.ok ? { ok: true, type: checked.image.type, bytes: answer.body } : checked;
  } catch (error) {
    if (error instanceof OutboundError) return { ok: false, reason: `${error.code}: ${error.message}` };
    throw error;
  }
}

const imageHeaders = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'",
};

/** An image answer, with its Content-Type; a 304 (and fastify's HEAD answer to the GET route) carries the headers only. */
function imageReply(status: 200 | 304 | 404, headers: Record<string, string>, bytes?: Buffer): Reply<LogoOperations> {
  const all = { ...imageHeaders, ...headers };
  if (status === 304 || !bytes) return { status: status as 304, headers: all };
  return { status, headers: { ...all, 'content-length': String(bytes.length) }, body: bytes };
}

export function appLogoHandlers(deps: AppLogoDeps): HandlerMap<LogoOperations> {
  const { db, config } = deps;
  const policy: OutboundPolicy = { allowPrivateNetworks: config.outboundAllowPrivateNetworks, timeoutMs: config.outboundTimeoutMs, ...deps.outbound };
  // The sandbox has only test apps, most of them drafts, and shows them on its consent screen.
  const shown = (status: CertificationStatus) => config.mode === 'sandbox' || SHOWN_STATUSES.includes(status);
  // One fetch at a time per app and URL in this process; other instances may fetch too (the store write is an upsert).
  const inFlight = new Map<string, Promise<StoredLogo>>();

  async function refreshed(request: FastifyRequest, appId: string, url: string): Promise<StoredLogo> {
    const key = `${appId} ${url}`;
    let pending = inFlight.get(key);
    if (!pending) {
      pending = (async () => {
        const fetched = await fetchLogo(url, policy);
        if (fetched.ok) return storeLogo(db, appId, url, fetched.type, fetched.bytes);
        request.log.info({ appId, logoUrl: url, reason: fetched.reason }, 'app logo refused');
        return storeFailure(db, appId, url, fetched.reason);
      })().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  /**
   * The logo to serve for an app, fetching it when needed (null when there is none), and the name
   * of an app patients may see, whose initials stand in for a missing logo.
   */
  async function currentLogo(request: FastifyRequest, appId: string): Promise<{ logo: Logo | null; name: string | null }> {
    if (!uuid.test(appId)) return { logo: null, name: null };
    const app = await findAppLogoSource(db, appId);
    if (!app || !shown(app.certificationStatus)) return { logo: null, name: null };
    if (!app.logoUrl) return { logo: null, name: app.name };
    const stored = await storedLogo(db, appId);
    if (stored && stored.source_url === app.logoUrl && ((stored.bytes && (stored.fresh || stored.provided)) || stored.backing_off)) {
      return { logo: asLogo(stored), name: app.name };
    }
    return { logo: asLogo(await refreshed(request, appId, app.logoUrl)), name: app.name };
  }

  return {
    async getCatalogueAppLogo({ request, params }) {
      const { logo, name } = await currentLogo(request, params.appId.toLowerCase());
      if (!logo) {
        return imageReply(404, { 'content-type': PLACEHOLDER_TYPE, 'cache-control': PLACEHOLDER_CACHE_CONTROL }, placeholderLogo(name === null ? '' : initialsOf(name)));
      }
      const headers = { 'content-type': logo.type, 'cache-control': CACHE_CONTROL, etag: logo.etag };
      if (ifNoneMatchNames(request.headers['if-none-match'], logo.etag)) return imageReply(304, { 'cache-control': CACHE_CONTROL, etag: logo.etag });
      return imageReply(200, headers, logo.bytes);
    },
  };
}
