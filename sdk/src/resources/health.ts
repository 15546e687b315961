// Liveness and readiness probes (getHealth, getReadiness).
import type { RequestOptions, Transport } from '../internal/transport.js';
import type { ResponseBody } from '../types.js';

export class HealthResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** GET /healthz: the process is up. */
  async get(options?: RequestOptions): Promise<ResponseBody<'getHealth'>> {
    return this.#transport.request({ method: 'GET', path: 'healthz' }, options);
  }

  /** GET /readyz: the store is reachable and migrated; rejects with a ServerError (`not_ready`) otherwise. */
  async ready(options?: RequestOptions): Promise<ResponseBody<'getReadiness'>> {
    return this.#transport.request({ method: 'GET', path: 'readyz' }, options);
  }
}
