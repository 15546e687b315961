// The publisher's API keys (listApiKeys, createApiKey, revokeApiKey).
import { path } from '../internal/path.js';
import type { ApiPromise } from '../internal/api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import type { RequestBody, ResponseBody } from '../types.js';

export class ApiKeysResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** GET /publishers/me/api-keys: the active keys, newest first (never their secrets). */
  list(options?: RequestOptions): ApiPromise<ResponseBody<'listApiKeys'>> {
    return this.#transport.request(() => ({ method: 'GET', path: 'publishers/me/api-keys' }), options);
  }

  /** POST /publishers/me/api-keys: a new key; its `key` is shown only in this result. */
  create(body: RequestBody<'createApiKey'> = {}, options?: RequestOptions): ApiPromise<ResponseBody<'createApiKey'>> {
    return this.#transport.request(() => ({ method: 'POST', path: 'publishers/me/api-keys', body, idempotent: true }), options);
  }

  /** DELETE /publishers/me/api-keys/{keyId}: the key stops working at once. */
  revoke(keyId: string, options?: RequestOptions): ApiPromise<ResponseBody<'revokeApiKey'>> {
    return this.#transport.request(() => ({ method: 'DELETE', path: path`publishers/me/api-keys/${keyId}` }), options);
  }
}
