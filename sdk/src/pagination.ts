// Keyset pagination as the caller sees it: a Page holds one page of items and fetches the next
// one; pages and the promise of a page are AsyncIterable over the items of every following page.
import { MesError } from './errors.js';

/** The wire shape of every paginated response. */
export interface PageData<T> {
  items: T[];
  nextCursor: string | null;
}

/** Fetches the page that starts at `cursor`. */
export type PageFetcher<T> = (cursor: string) => Promise<PageData<T>>;

/** The most items `all()` collects in one call. */
export const maxCollectLimit = 10_000;

export interface CollectOptions {
  /** Stop after this many items (1 to 10 000). Required: a catalogue can be large. */
  limit: number;
}

function checkLimit(options: CollectOptions | undefined): number {
  const limit = options?.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > maxCollectLimit) {
    throw new MesError(`all() needs a limit: an integer between 1 and ${maxCollectLimit}, got ${String(limit)}.`);
  }
  return limit;
}

export class Page<T> implements AsyncIterable<T>, PageData<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
  readonly #fetchPage: PageFetcher<T>;

  constructor(data: PageData<T>, fetchPage: PageFetcher<T>) {
    this.items = data.items;
    this.nextCursor = data.nextCursor;
    this.#fetchPage = fetchPage;
  }

  hasNextPage(): boolean {
    return this.nextCursor !== null;
  }

  /** Fetches the next page; check `hasNextPage()` first, this rejects on the last page. */
  async nextPage(): Promise<this> {
    if (this.nextCursor === null) throw new MesError('This is the last page: there is no next page to fetch.');
    const data = await this.#fetchPage(this.nextCursor);
    if (data.nextCursor !== null && data.nextCursor === this.nextCursor) {
      throw new MesError('The server returned the same cursor twice; stopping to avoid an endless loop.');
    }
    return this.wrap(data, this.#fetchPage) as this;
  }

  /** Makes the Page object of the next page's data (a subclass keeps its own kind of page). */
  protected wrap(data: PageData<T>, fetchPage: PageFetcher<T>): Page<T> {
    return new Page(data, fetchPage);
  }

  /** Iterates over this page and every following page, fetching them lazily. */
  async *pages(): AsyncGenerator<this> {
    let page: Page<T> = this;
    for (;;) {
      yield page as this;
      if (!page.hasNextPage()) return;
      page = await page.nextPage();
    }
  }

  /** Iterates over the items of this page and of every following page, fetching them lazily. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let page: Page<T> = this;
    for (;;) {
      yield* page.items;
      if (!page.hasNextPage()) return;
      page = await page.nextPage();
    }
  }

  /** Collects the items of this page and the following ones, up to `limit` items. */
  async all(options: CollectOptions): Promise<T[]> {
    const limit = checkLimit(options);
    const items: T[] = [];
    for await (const item of this) {
      items.push(item);
      if (items.length >= limit) break;
    }
    return items;
  }

  /** `JSON.stringify(page)` gives the wire shape. */
  toJSON(): PageData<T> {
    return { items: this.items, nextCursor: this.nextCursor };
  }
}

/**
 * What list methods return: awaiting it gives the first Page; iterating it with `for await` goes
 * through every item of every page; `all({ limit })` collects items.
 */
export class PagePromise<T, P extends Page<T> = Page<T>> implements PromiseLike<P>, AsyncIterable<T> {
  readonly #page: Promise<P>;

  constructor(page: Promise<P>) {
    this.#page = page;
  }

  then<R1 = P, R2 = never>(
    onFulfilled?: ((page: P) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#page.then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<P | R> {
    return this.#page.catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<P> {
    return this.#page.finally(onFinally);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* await this.#page;
  }

  all(options: CollectOptions): Promise<T[]> {
    return this.#page.then((page) => page.all(options));
  }

  /** Iterates over the pages themselves: the first one, then every following one. */
  async *pages(): AsyncGenerator<P> {
    yield* (await this.#page).pages();
  }
}

/** Starts fetching the first page at once and wraps it for awaiting or iterating. */
export function paginate<T>(first: Promise<PageData<T>>, fetchPage: PageFetcher<T>): PagePromise<T> {
  return new PagePromise(first.then((data) => new Page(data, fetchPage)));
}
