// State kept in memory and the changes that make it stale: the store's change feed (a change made
// through this process at once, another instance's through LISTEN/NOTIFY on PostgreSQL), the
// bounded cache built on it, and the public catalogue's pages (ETag, 304, dropped on any change).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { StateCache, type ChangeFeed, type ChangeListener } from '../src/core/store/changes.js';
import { openStore, type Db, type Queryable } from '../src/core/store/db.js';
import { migrate } from '../src/core/store/migrate.js';
import { setCertificationStatus } from '../src/modules/catalog/repository.js';
import { startServer, type RunningServer } from '../src/server.js';
import { dropTestSchema, testConfig } from '../src/testing.js';
import { appInput, call, registerPublisher } from './helpers.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Waits until `condition` holds, for a notification from another connection: at most `ms`. */
async function eventually(condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A feed driven by the test, for the cache's own rules. */
function manualFeed(): ChangeFeed & { change(table: string | null): void; live: boolean } {
  const listeners = new Set<ChangeListener>();
  return {
    live: true,
    subscribe(_tables, listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    change(table) {
      for (const listener of listeners) listener(table);
    },
  };
}

describe('state cache', () => {
  it('keeps at most `max` entries, dropping the least recently used', async () => {
    const cache = new StateCache<number>(manualFeed(), ['apps'], { max: 2, maxAgeMs: 60_000, fallbackMaxAgeMs: 1000 });
    await cache.get('a', async () => 1);
    await cache.get('b', async () => 2);
    expect(cache.peek('a')).toBe(1); // a is now the most recent
    await cache.get('c', async () => 3);
    expect(cache.size).toBe(2);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBe(1);
    expect(cache.peek('c')).toBe(3);
  });

  it('drops everything on a change, and does not keep a read that started before it', async () => {
    const feed = manualFeed();
    const cache = new StateCache<string>(feed, ['apps'], { max: 10, maxAgeMs: 60_000, fallbackMaxAgeMs: 1000 });
    await cache.get('k', async () => 'old');
    feed.change('apps');
    expect(cache.peek('k')).toBeUndefined();

    let finish!: (value: string) => void;
    const reading = cache.get('k', () => new Promise<string>((resolve) => (finish = resolve)));
    feed.change('apps'); // the change commits while the read is under way
    finish('read before the change');
    expect(await reading).toBe('read before the change');
    expect(cache.peek('k')).toBeUndefined();
    expect(await cache.get('k', async () => 'new')).toBe('new');
    expect(cache.peek('k')).toBe('new');
  });

  it('reads a missing key once for concurrent callers, and not at all when a read fails', async () => {
    const cache = new StateCache<number>(manualFeed(), ['apps'], { max: 10, maxAgeMs: 60_000, fallbackMaxAgeMs: 1000 });
    let reads = 0;
    const load = async () => {
      reads += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return 7;
    };
    expect(await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)])).toEqual([7, 7, 7]);
    expect(reads).toBe(1);
    await expect(cache.get('bad', async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(cache.peek('bad')).toBeUndefined();
  });

  it('trusts an entry for the fallback time only while changes cannot reach the process', async () => {
    const feed = manualFeed();
    let now = 0;
    const cache = new StateCache<string>(feed, ['apps'], { max: 10, maxAgeMs: 60_000, fallbackMaxAgeMs: 1000, now: () => now });
    await cache.get('k', async () => 'v');
    now = 5000;
    expect(cache.peek('k')).toBe('v');
    feed.live = false;
    expect(cache.peek('k')).toBeUndefined();
    await cache.get('k', async () => 'v2');
    now = 5900;
    expect(cache.peek('k')).toBe('v2');
    now = 6100;
    expect(cache.peek('k')).toBeUndefined();
  });

  it('stops following changes once closed', async () => {
    const feed = manualFeed();
    const cache = new StateCache<string>(feed, ['apps'], { max: 10, maxAgeMs: 60_000, fallbackMaxAgeMs: 1000 });
    cache.close();
    await cache.get('k', async () => 'v');
    feed.change('apps');
    expect(cache.peek('k')).toBe('v');
  });
});

describe('change feed of the store', () => {
  /** Two instances on one migrated store: two pools on one PostgreSQL schema, or PGlite twice. */
  async function twoInstances(): Promise<[Db, Db]> {
    const config = testConfig();
    const open = () => openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.databaseSchema });
    const first = await open();
    cleanups.push(async () => {
      await first.close();
      await dropTestSchema(config);
    });
    await migrate(first);
    if (!config.databaseUrl) return [first, first];
    const second = await open();
    cleanups.push(() => second.close());
    return [first, second];
  }

  const insertPublisher = (db: Queryable, name: string) =>
    db.query(`INSERT INTO publishers (id, name, registration_number, contact_email, status, created_at, updated_at)
              VALUES (gen_random_uuid(), $1, $2, 'contact@example.fr', 'verified', now(), now())`, [name, String(Math.random()).slice(2, 16)]);

  it("tells the subscribers of a table about another instance's committed change, and never about a rolled-back one", async () => {
    const [a, b] = await twoInstances();
    const seen: (string | null)[] = [];
    cleanups.push(b.changes.subscribe(['publishers'], (table) => seen.push(table)));
    await eventually(() => b.changes.live);
    seen.length = 0;

    await a.transaction(async (tx) => {
      await insertPublisher(tx, 'Éditeur annulé');
      throw new Error('rolled back');
    }).catch(() => {});
    await insertPublisher(a, 'Éditeur notifié');
    await eventually(() => seen.includes('publishers'));
    // One statement, one notice: the rolled-back one never arrived (it was sent first).
    expect(seen).toEqual(['publishers']);

    // A table the subscriber does not follow says nothing to it.
    await a.query("UPDATE oauth_replay SET expires_at = now() WHERE false");
    await a.query('DELETE FROM apps WHERE false');
    expect(seen).toEqual(['publishers']);
  });

  it('tells the subscribers to forget everything when the notification connection drops, and again when it is back', async () => {
    const [db] = await twoInstances();
    const seen: (string | null)[] = [];
    cleanups.push(db.changes.subscribe(['apps'], (table) => seen.push(table)));
    if (db.kind === 'pglite') {
      // One process owns the embedded store: nothing can change it unseen.
      expect(db.changes.live).toBe(true);
      await db.query('DELETE FROM apps WHERE false');
      expect(seen).toEqual(['apps']);
      return;
    }
    await eventually(() => db.changes.live);
    seen.length = 0;
    const admin = new pg.Client({ connectionString: testConfig().databaseUrl });
    await admin.connect();
    cleanups.push(() => admin.end());
    const [{ schema }] = (await db.query<{ schema: string }>('SELECT current_schema() AS schema')) as [{ schema: string }];
    const terminated = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [`mes changes ${schema}`],
    );
    expect(terminated.rowCount).toBe(1);
    await eventually(() => !db.changes.live);
    expect(seen[0]).toBeNull();
    // It connects again by itself, then says so: whatever was kept meanwhile may be stale.
    await eventually(() => db.changes.live && seen.filter((table) => table === null).length >= 2);
    await db.transaction((tx) => tx.query('DELETE FROM apps WHERE false'));
    expect(seen.at(-1)).toBe('apps');
  });
});

describe('public catalogue pages across instances', () => {
  let first: RunningServer & { config: ReturnType<typeof testConfig> };
  let second: RunningServer;
  let key: string;

  beforeAll(async () => {
    const config = testConfig();
    first = { ...(await startServer(config)), config };
    // A second instance on the same store: its own pool on PostgreSQL; the same PGlite otherwise.
    second = await startServer(config, config.databaseUrl ? {} : { db: first.app.db });
    ({ key } = await registerPublisher(first, 'Éditeur en cache'));
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await dropTestSchema(first.config);
  });

  const certifiedApp = async (name: string) => {
    const created = await call(first, 'POST', '/apps', { key, body: appInput({ name }) });
    await setCertificationStatus(first.app.db, created.body.id, 'certified');
    return created.body.id as string;
  };
  const names = (body: { items: { name: string }[] }) => body.items.map((app) => app.name);

  it('carries a strong ETag and Cache-Control, and answers 304 to If-None-Match', async () => {
    await certifiedApp('Alpha Cache');
    const page = await call(first, 'GET', '/catalog/apps?limit=5');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('public, max-age=60');
    const etag = page.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(names(page.body)).toContain('Alpha Cache');

    const again = await call(first, 'GET', '/catalog/apps?limit=5', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBeUndefined();
    expect(again.headers.get('etag')).toBe(etag);
    // A weak comparison, as for every GET, and a list of tags.
    expect((await call(first, 'GET', '/catalog/apps?limit=5', { headers: { 'if-none-match': `"other", W/${etag}` } })).status).toBe(304);
    // Another page, or another tag, is a full answer.
    expect((await call(first, 'GET', '/catalog/apps?limit=5&q=absente', { headers: { 'if-none-match': etag } })).status).toBe(200);
    expect((await call(first, 'GET', '/catalog/apps?limit=5', { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    // Refusals are not cached pages.
    const bad = await call(first, 'GET', '/catalog/apps?cursor=nonsense');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('etag')).toBeNull();
  });

  it('shows a change made through either instance at the next request of the instance that made it, and soon on the other', async () => {
    const before = await call(second, 'GET', '/catalog/apps?limit=50');
    const etag = before.headers.get('etag')!;
    expect((await call(second, 'GET', '/catalog/apps?limit=50', { headers: { 'if-none-match': etag } })).status).toBe(304);

    const id = await certifiedApp('Bêta Cache');
    const onFirst = await call(first, 'GET', '/catalog/apps?limit=50');
    expect(names(onFirst.body)).toContain('Bêta Cache');
    // The other instance learns it through the store's notification.
    await eventually(async () => (await call(second, 'GET', '/catalog/apps?limit=50', { headers: { 'if-none-match': etag } })).status === 200);
    const onSecond = await call(second, 'GET', '/catalog/apps?limit=50');
    expect(onSecond.body).toEqual(onFirst.body);
    expect(onSecond.headers.get('etag')).toBe(onFirst.headers.get('etag'));

    // A suspension through the second instance takes the app out of the first's pages.
    await setCertificationStatus(second.app.db, id, 'suspended');
    expect(names((await call(second, 'GET', '/catalog/apps?limit=50')).body)).not.toContain('Bêta Cache');
    await eventually(async () => !names((await call(first, 'GET', '/catalog/apps?limit=50')).body).includes('Bêta Cache'));

    // A publisher's new name reaches the pages too.
    await call(first, 'PATCH', '/publishers/me', { key, body: { name: 'Éditeur renommé' } });
    const renamed = await call(first, 'GET', '/catalog/apps?limit=50');
    expect(renamed.body.items.every((app: { publisher: { name: string } }) => app.publisher.name === 'Éditeur renommé')).toBe(true);
  });
});
