// What changed in the store, for the state each process keeps in memory (the public catalogue's
// pages, client registrations): a change made through this process is seen when its statement
// (or its transaction) completes; a change made by another instance on the same PostgreSQL
// database arrives through LISTEN/NOTIFY, sent by the statement triggers of migration 0029 when
// the writing transaction commits. While the notification connection is down, no change from
// elsewhere can be seen: caches then keep an entry for a short bounded time only
// (`fallbackMaxAgeMs`), and everything cached is dropped when it comes back.

/** The channel the triggers notify on; the payload is `<schema>.<table>`. */
export const CHANGE_CHANNEL = 'mes_changes';

export type ChangeListener = (table: string | null) => void;

/** Changes of the store's tables, as a process can learn them. */
export interface ChangeFeed {
  /**
   * Calls `listener` with the table's name whenever rows of one of `tables` may have changed, and
   * with null when changes may have been missed (the notification connection dropped or came
   * back): then everything derived from the store must be read again. Returns the unsubscription.
   */
  subscribe(tables: readonly string[], listener: ChangeListener): () => void;
  /** Whether changes made by other instances reach this process now. */
  readonly live: boolean;
}

const writtenTablePattern = /\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?"?([A-Za-z_][A-Za-z0-9_]*)"?/gi;
const KNOWN_TEXTS = 5_000;

/**
 * The local half of a feed: the tables a statement writes, read from its text (memoized per
 * text), announced when it completes. A foreign-key cascade writes tables its text does not name:
 * a subscriber lists the tables whose changes reach it (`apps` for its clients, say).
 */
export class LocalChanges {
  private readonly listeners = new Set<{ tables: ReadonlySet<string>; listener: ChangeListener }>();
  private readonly written = new Map<string, readonly string[]>();

  /** The tables `sql` writes (lower-case), memoized for the platform's bounded set of texts. */
  tablesWrittenBy(sql: string): readonly string[] {
    let tables = this.written.get(sql);
    if (tables === undefined) {
      tables = [...new Set([...sql.matchAll(writtenTablePattern)].map((match) => match[1]!.toLowerCase()))].filter((name) => name !== 'set');
      if (this.written.size < KNOWN_TEXTS) this.written.set(sql, tables);
    }
    return tables;
  }

  subscribe(tables: readonly string[], listener: ChangeListener): () => void {
    const entry = { tables: new Set(tables.map((table) => table.toLowerCase())), listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Tells the subscribers of `table` (all of them for null) that it changed. */
  emit(table: string | null): void {
    for (const { tables, listener } of this.listeners) if (table === null || tables.has(table)) listener(table);
  }

  /** After `sql` ran (or its transaction committed): announces the tables it wrote. */
  wrote(sql: string): void {
    if (this.listeners.size === 0) return;
    for (const table of this.tablesWrittenBy(sql)) this.emit(table);
  }

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }
}

export interface StateCacheOptions {
  /** Entries kept at most (least recently used dropped first). */
  max: number;
  /** Longest an entry is trusted while changes reach this process (a safety net, not the mechanism). */
  maxAgeMs: number;
  /** Longest an entry is trusted while the notification connection is down. */
  fallbackMaxAgeMs: number;
  /** Clock in milliseconds (default Date.now). */
  now?: () => number;
}

/**
 * State read from the store and kept in memory, dropped when one of `tables` changes. A read that
 * started before a change is not kept (its result may predate the change), so an entry never
 * outlives the change that made it stale by more than the notification's delay. Concurrent gets
 * of a missing key share one read.
 */
export class StateCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  private readonly pending = new Map<string, Promise<V>>();
  private generation = 0;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly feed: ChangeFeed,
    tables: readonly string[],
    private readonly options: StateCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.unsubscribe = feed.subscribe(tables, () => this.clear());
  }

  /** Stops following the changes (the cache is no longer used). */
  close(): void {
    this.unsubscribe();
    this.clear();
  }

  /** Drops every entry, and every read under way is not kept. */
  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.pending.clear();
  }

  /** Drops the entry of `key` (and a read of it under way): its next get reads it again. */
  forget(key: string): void {
    this.entries.delete(key);
    this.pending.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value cached for `key` if still trusted, else undefined. */
  peek(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const limit = this.feed.live ? this.options.maxAgeMs : this.options.fallbackMaxAgeMs;
    if (this.now() - entry.at > limit) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last, so the first key is the one to drop.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The value for `key`: cached, or read with `load` (once for concurrent callers). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.peek(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const shared = this.pending.get(key);
    if (shared) return shared;
    const generation = this.generation;
    const at = this.now();
    const reading = load().then(
      (value) => {
        if (this.pending.get(key) === reading) this.pending.delete(key);
        if (generation === this.generation) {
          this.entries.set(key, { value, at });
          while (this.entries.size > this.options.max) this.entries.delete(this.entries.keys().next().value!);
        }
        return value;
      },
      (error: unknown) => {
        if (this.pending.get(key) === reading) this.pending.delete(key);
        throw error;
      },
    );
    this.pending.set(key, reading);
    return reading;
  }
}
