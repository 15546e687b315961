// Publisher registration and the publisher of the API key (registerPublisher, getCurrentPublisher,
// updateCurrentPublisher).
import type { RequestOptions, Transport } from '../internal/transport.js';
import type { RequestBody, ResponseBody } from '../types.js';

export class PublishersResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** POST /publishers: registers a publisher; `apiKey.key` in the result is shown only once. */
  async register(body: RequestBody<'registerPublisher'>, options?: RequestOptions): Promise<ResponseBody<'registerPublisher'>> {
    return this.#transport.request({ method: 'POST', path: 'publishers', body }, options);
  }

  /** GET /publishers/me: the publisher that owns the client's API key. */
  async me(options?: RequestOptions): Promise<ResponseBody<'getCurrentPublisher'>> {
    return this.#transport.request({ method: 'GET', path: 'publishers/me' }, options);
  }

  /** PATCH /publishers/me: changes the publisher's details. */
  async update(body: RequestBody<'updateCurrentPublisher'>, options?: RequestOptions): Promise<ResponseBody<'updateCurrentPublisher'>> {
    return this.#transport.request({ method: 'PATCH', path: 'publishers/me', body }, options);
  }
}
