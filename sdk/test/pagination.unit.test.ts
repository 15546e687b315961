import { createPublisherClient, MesError, Page, type App, type CatalogApp } from '@mes/sdk/publisher';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { baseUrl, fakeFetch, json, type RecordedRequest } from './helpers/fake-fetch.js';

/** A server of `total` items answering pages of `limit` with numeric cursors. */
function pagedServer(total: number) {
  return (request: RecordedRequest) => {
    const limit = Number(request.url.searchParams.get('limit') ?? 20);
    const start = Number(request.url.searchParams.get('cursor') ?? 0);
    const items = Array.from({ length: Math.min(limit, total - start) }, (_, i) => ({ id: `app-${start + i}` }));
    const next = start + items.length;
    return json(200, { items, nextCursor: next < total ? String(next) : null });
  };
}

function client(total: number, pages: number) {
  const fake = fakeFetch(...Array.from({ length: pages }, () => pagedServer(total)));
  return { client: createPublisherClient({ baseUrl, fetch: fake.fetch }), requests: fake.requests };
}

const ids = (items: { id: string }[]) => items.map((item) => item.id);

describe('pages', () => {
  it('awaiting a list gives the first page, which fetches the next one', async () => {
    const { client: mes, requests } = client(5, 3);
    const first = await mes.apps.list({ limit: 2 });
    expect(first).toBeInstanceOf(Page);
    expect(ids(first.items)).toEqual(['app-0', 'app-1']);
    expect(first.nextCursor).toBe('2');
    expect(first.hasNextPage()).toBe(true);
    const second = await first.nextPage();
    expect(ids(second.items)).toEqual(['app-2', 'app-3']);
    const last = await second.nextPage();
    expect(ids(last.items)).toEqual(['app-4']);
    expect(last.hasNextPage()).toBe(false);
    await expect(last.nextPage()).rejects.toBeInstanceOf(MesError);
    expect(requests.map((r) => r.url.search)).toEqual(['?limit=2', '?limit=2&cursor=2', '?limit=2&cursor=4']);
    expect(JSON.parse(JSON.stringify(last))).toEqual({ items: [{ id: 'app-4' }], nextCursor: null });
  });

  it('iterates over every item of every page, from the promise or from a page', async () => {
    const { client: mes, requests } = client(5, 3);
    const seen: string[] = [];
    for await (const app of mes.apps.list({ limit: 2 })) seen.push(app.id);
    expect(seen).toEqual(['app-0', 'app-1', 'app-2', 'app-3', 'app-4']);
    expect(requests).toHaveLength(3);

    const again = client(3, 2);
    const page = await again.client.apps.list({ limit: 2 });
    const fromPage: string[] = [];
    for await (const app of page) fromPage.push(app.id);
    expect(fromPage).toEqual(['app-0', 'app-1', 'app-2']);
  });

  it('fetches pages lazily: breaking out of the loop stops fetching', async () => {
    const { client: mes, requests } = client(10, 5);
    for await (const app of mes.apps.list({ limit: 2 })) if (app.id === 'app-1') break;
    expect(requests).toHaveLength(1);
  });

  it('all() collects up to the limit it requires', async () => {
    const { client: mes, requests } = client(7, 4);
    expect(ids(await mes.apps.list({ limit: 3 }).all({ limit: 4 }))).toEqual(['app-0', 'app-1', 'app-2', 'app-3']);
    expect(requests).toHaveLength(2);

    const short = client(3, 1);
    expect(ids(await short.client.apps.list().all({ limit: 100 }))).toEqual(['app-0', 'app-1', 'app-2']);

    const bad = client(3, 3);
    // @ts-expect-error: collecting every item requires a limit
    await expect(bad.client.apps.list().all()).rejects.toThrow(/needs a limit/);
    await expect(bad.client.apps.list().all({ limit: 0 })).rejects.toBeInstanceOf(MesError);
    await expect(bad.client.apps.list().all({ limit: 1.5 })).rejects.toBeInstanceOf(MesError);
  });

  it('keeps the catalogue search and filter on every page', async () => {
    const { client: mes, requests } = client(3, 2);
    await mes.catalog.list({ q: 'tension', category: 'prevention', limit: 2 }).all({ limit: 10 });
    expect(requests.map((r) => Object.fromEntries(r.url.searchParams))).toEqual([
      { q: 'tension', category: 'prevention', limit: '2' },
      { q: 'tension', category: 'prevention', limit: '2', cursor: '2' },
    ]);
  });

  it('stops when the server repeats a cursor', async () => {
    const { fetch } = fakeFetch(json(200, { items: [{ id: 'a' }], nextCursor: 'same' }), json(200, { items: [{ id: 'b' }], nextCursor: 'same' }));
    const page = await createPublisherClient({ baseUrl, fetch }).apps.list();
    await expect(page.nextPage()).rejects.toThrow(/same cursor/);
  });

  it('types items from the spec', () => {
    const mes = createPublisherClient({ baseUrl });
    expectTypeOf(mes.apps.list).returns.resolves.toEqualTypeOf<Page<App>>();
    expectTypeOf(mes.catalog.list).returns.resolves.toEqualTypeOf<Page<CatalogApp>>();
    expectTypeOf<Parameters<typeof mes.catalog.list>[0]>().toEqualTypeOf<
      { q?: string; category?: CatalogApp['category']; limit?: number; cursor?: string } | undefined
    >();
    // @ts-expect-error: not a category of the spec
    void (() => mes.catalog.list({ category: 'astrologie' }));
    // @ts-expect-error: apps.list takes no search
    void (() => mes.apps.list({ q: 'x' }));
  });
});
