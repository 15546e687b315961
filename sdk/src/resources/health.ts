// Liveness and readiness probes (getHealth, getReadiness).
import type { ApiPromise } from '../internal/api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import type { ResponseBody } from '../types.js';

export class HealthResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** GET /healthz: the process is up. */
  get(options?: RequestOptions): ApiPromise<ResponseBody<'getHealth'>> {
    return this.#transport.request(() => ({ method: 'GET', path: 'healthz' }), options);
  }

  /** GET /readyz: the store is reachable and migrated; rejects with a ServerError (`not_ready`) otherwise. */
  ready(options?: RequestOptions): ApiPromise<ResponseBody<'getReadiness'>> {
    return this.#transport.request(() => ({ method: 'GET', path: 'readyz' }), options);
  }
}
