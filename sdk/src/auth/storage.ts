// Where the SDK keeps what must survive between calls: the tokens of a session and its DPoP key,
// and the PKCE verifier of an authorization in progress. An interface, so that an app keeps them
// where it keeps its own state: memory by default, a file (a Node backend), sessionStorage or
// IndexedDB (a browser app).

/**
 * A key-value store for the SDK's state. Methods may be synchronous or return promises.
 * Values are plain JSON objects, unless `keepsObjects` is true.
 */
export interface TokenStorage {
  get(key: string): unknown | Promise<unknown>;
  set(key: string, value: unknown): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  /**
   * True when the storage keeps values as they are, `CryptoKey` objects included (memory,
   * IndexedDB): DPoP keys are then generated non-extractable. False or absent when values are
   * serialized as JSON (a file, sessionStorage): DPoP private keys must then be exportable, and are
   * stored as JWK — protect that storage like a password file.
   */
  readonly keepsObjects?: boolean;
}

/** The default storage: a Map in this process's memory, lost when it ends. DPoP keys stay non-extractable. */
export function memoryStorage(): TokenStorage {
  const values = new Map<string, unknown>();
  return {
    keepsObjects: true,
    get: (key) => values.get(key),
    set: (key, value) => void values.set(key, value),
    delete: (key) => void values.delete(key),
  };
}
