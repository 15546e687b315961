// Publisher registration and the publisher of the API key (registerPublisher, getCurrentPublisher,
// updateCurrentPublisher).
import type { ApiPromise } from '../internal/api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import type { RequestBody, ResponseBody } from '../types.js';

export class PublishersResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** POST /publishers: registers a publisher; `apiKey.key` in the result is shown only once. */
  register(body: RequestBody<'registerPublisher'>, options?: RequestOptions): ApiPromise<ResponseBody<'registerPublisher'>> {
    return this.#transport.request(() => ({ method: 'POST', path: 'publishers', body }), options);
  }

  /** GET /publishers/me: the publisher that owns the client's API key. */
  me(options?: RequestOptions): ApiPromise<ResponseBody<'getCurrentPublisher'>> {
    return this.#transport.request(() => ({ method: 'GET', path: 'publishers/me' }), options);
  }

  /** PATCH /publishers/me: changes the publisher's details. */
  update(body: RequestBody<'updateCurrentPublisher'>, options?: RequestOptions): ApiPromise<ResponseBody<'updateCurrentPublisher'>> {
    return this.#transport.request(() => ({ method: 'PATCH', path: 'publishers/me', body }), options);
  }
}
