// HTTP handlers of the catalogue module, keyed by operationId.
import { createHash } from 'node:crypto';
import type { AppConfig } from '../../core/config.js';
import { bearerChallenge, bearerKey } from '../../core/bearer-key.js';
import { ProblemError } from '../../core/errors.js';
import { publisherOf, type HandlerMap, type SecurityScheme } from '../../core/operations.js';
import { decodeCursor, encodeCursor } from '../../core/pagination.js';
import { ifNoneMatchNames } from '../../core/conditional-requests.js';
import { StateCache } from '../../core/store/changes.js';
import type { Db } from '../../core/store/db.js';
import * as repo from './repository.js';
import { API_KEY_PREFIX, hashApiKey } from './rules.js';
import * as service from './service.js';

type CatalogOperations =
  | 'registerPublisher'
  | 'getCurrentPublisher'
  | 'updateCurrentPublisher'
  | 'listApiKeys'
  | 'createApiKey'
  | 'revokeApiKey'
  | 'verifyPublisher'
  | 'listApps'
  | 'createApp'
  | 'getApp'
  | 'updateApp'
  | 'deleteApp'
  | 'listCatalogApps'
  | 'getCatalogApp';

/** A page of the public catalogue as sent: its JSON bytes and their entity tag. */
interface CatalogPageBytes {
  bytes: Buffer;
  etag: string;
}

/** What the catalogue's pages are read from: a change to one of these drops every page kept. */
const CATALOG_TABLES = ['apps', 'publishers', 'app_logos'];

/** How long any cache may keep a catalogue page (and this process, should no change ever reach it). */
const CATALOG_MAX_AGE_SECONDS = 60;

/**
 * The catalogue's JSON pages, read and serialized once and then served from memory until an app,
 * a publisher or a logo changes (through this instance or another: core/store/changes.ts). While
 * changes from other instances cannot reach this one, a page is kept one second at most.
 */
export function catalogPageCache(db: Db): StateCache<CatalogPageBytes> {
  return new StateCache<CatalogPageBytes>(db.changes, CATALOG_TABLES, {
    max: 512,
    maxAgeMs: CATALOG_MAX_AGE_SECONDS * 1000,
    fallbackMaxAgeMs: 1000,
  });
}

/** The publisher of an API key, or null when the key is unknown or revoked. */
export async function authenticateApiKey(db: Db, key: string): Promise<{ publisherId: string; apiKeyId: string } | null> {
  return key.startsWith(API_KEY_PREFIX) ? repo.useApiKey(db, hashApiKey(key)) : null;
}

/** Authenticates a publisher API key sent as a bearer token. */
export function publisherApiKeyScheme(db: Db): SecurityScheme {
  return {
    authScheme: 'bearer',
    challenge: 'Bearer realm="mes"',
    hint: 'your API key as "Authorization: Bearer <key>"',
    claims: (credential) => credential.startsWith(API_KEY_PREFIX),
    async authenticate(request) {
      const token = bearerKey(request, 'API key');
      if (!token) throw new ProblemError('authentication_required', 'Send your API key as "Authorization: Bearer <key>".', undefined, bearerChallenge());
      const found = await authenticateApiKey(db, token);
      if (!found) {
        const detail = token.startsWith(API_KEY_PREFIX) ? 'The API key is unknown or revoked.' : 'This is not a publisher API key (mes_pk_…): the publisher API takes one.';
        throw new ProblemError('invalid_api_key', detail, undefined, bearerChallenge('invalid_token'));
      }
      return { kind: 'publisher', via: 'api_key', ...found };
    },
  };
}

/**
 * The cursors of the catalogue's pages, the JSON API's and the catalogue pages' alike: the sort
 * key and id of the last app of a page. `decode` throws `invalid_cursor` for anything else.
 */
export const catalogCursor = {
  encode: (last: [string, string]): string => encodeCursor(last),
  decode(cursor: string): [string, string] {
    const after = decodeCursor(cursor, ['string', 'string']) as [string, string];
    if (!/^[0-9a-f-]{36}$/.test(after[1])) throw new ProblemError('invalid_cursor', 'The cursor is not one this server issued.');
    return after;
  },
};

export function catalogHandlers(db: Db, config: AppConfig, pages = catalogPageCache(db)): HandlerMap<CatalogOperations> {
  const notFound = (what: string) => new ProblemError('not_found', `No ${what}.`);
  return {
    async registerPublisher({ body }) {
      const result = await service.registerPublisher(db, body, { verified: config.mode === 'sandbox' });
      return { status: 201, body: result, headers: { location: '/publishers/me' } };
    },

    async getCurrentPublisher(context) {
      const { publisherId } = publisherOf(context);
      const publisher = await repo.findPublisher(db, publisherId);
      if (!publisher) throw notFound('publisher');
      return { status: 200, body: publisher };
    },

    async updateCurrentPublisher(context) {
      const { publisherId } = publisherOf(context);
      const publisher = await repo.updatePublisher(db, publisherId, context.body, config.mode !== 'sandbox');
      if (!publisher) throw notFound('publisher');
      return { status: 200, body: publisher };
    },

    async listApiKeys(context) {
      const { publisherId } = publisherOf(context);
      return { status: 200, body: { items: await repo.listApiKeys(db, publisherId) } };
    },

    async createApiKey(context) {
      const { publisherId } = publisherOf(context);
      const apiKey = await service.issueApiKey(db, publisherId, context.body?.label ?? 'unnamed');
      return { status: 201, body: apiKey };
    },

    async revokeApiKey(context) {
      const { publisherId } = publisherOf(context);
      if (!(await service.revokeApiKey(db, publisherId, context.params.keyId))) throw notFound(`API key ${context.params.keyId}`);
      return { status: 204 };
    },

    async verifyPublisher({ params }) {
      const publisher = await repo.markPublisherVerified(db, params.publisherId);
      if (!publisher) throw notFound(`publisher ${params.publisherId}`);
      return { status: 200, body: publisher };
    },

    async listApps(context) {
      const { publisherId } = publisherOf(context);
      const { limit = 20, cursor } = context.query;
      const after = cursor ? (decodeCursor(cursor, ['number'])[0] as number) : null;
      const page = await repo.listApps(db, publisherId, { limit, after });
      return {
        status: 200,
        body: { items: page.items, nextCursor: page.more && page.last !== null ? encodeCursor([page.last]) : null },
      };
    },

    async createApp(context) {
      const { publisherId } = publisherOf(context);
      const app = await service.createApp(db, publisherId, context.body, { sandbox: config.mode === 'sandbox' });
      return { status: 201, body: app, headers: { location: `/apps/${app.id}` } };
    },

    async getApp(context) {
      const { publisherId } = publisherOf(context);
      const app = await repo.findApp(db, publisherId, context.params.appId);
      if (!app) throw notFound(`app ${context.params.appId}`);
      return { status: 200, body: app };
    },

    async updateApp(context) {
      const { publisherId } = publisherOf(context);
      return { status: 200, body: await service.updateApp(db, publisherId, context.params.appId, context.body) };
    },

    async deleteApp(context) {
      const { publisherId } = publisherOf(context);
      await service.deleteApp(db, publisherId, context.params.appId);
      return { status: 204 };
    },

    async listCatalogApps({ query, request }) {
      const { limit = 20, cursor, q, category } = query;
      const after = cursor ? catalogCursor.decode(cursor) : null;
      const page = await pages.get(JSON.stringify([limit, cursor ?? null, q ?? null, category ?? null]), async () => {
        const found = await repo.listCatalog(db, { q, category, limit, after });
        const bytes = Buffer.from(JSON.stringify({ items: found.items, nextCursor: found.more && found.last ? catalogCursor.encode(found.last) : null }));
        return { bytes, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 32)}"` };
      });
      const headers = { etag: page.etag, 'cache-control': `public, max-age=${CATALOG_MAX_AGE_SECONDS}` };
      if (ifNoneMatchNames(request.headers['if-none-match'], page.etag)) return { status: 304, headers };
      // Already serialized: sent as these bytes, the JSON the page's schema describes.
      return { status: 200, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, body: page.bytes as never };
    },

    async getCatalogApp({ params }) {
      const app = await repo.findCatalogApp(db, params.appId);
      if (!app) throw notFound(`certified app ${params.appId}`);
      return { status: 200, body: app };
    },
  };
}
