// A TokenStorage in the tab's sessionStorage, for a browser app: the authorization survives the
// round trip to the platform and a reload, and ends with the tab. Never localStorage: the values
// include the DPoP private key (as JWK), which any script of the origin could read there for good.
import type { TokenStorage } from '@mes/sdk';

export function sessionStorageStorage(storage: Storage = globalThis.sessionStorage): TokenStorage {
  return {
    keepsObjects: false,
    get(key) {
      const text = storage.getItem(key);
      return text === null ? undefined : (JSON.parse(text) as unknown);
    },
    set(key, value) {
      storage.setItem(key, JSON.stringify(value));
    },
    delete(key) {
      storage.removeItem(key);
    },
  };
}
