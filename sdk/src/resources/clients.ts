// An app's OAuth clients (listClients, createClient, getClient, deleteClient, replaceClientKeys).
import { path } from '../internal/path.js';
import type { ApiPromise } from '../internal/api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import type { RequestBody, ResponseBody } from '../types.js';

export class ClientsResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** GET /apps/{appId}/clients: the app's clients, oldest first. */
  list(appId: string, options?: RequestOptions): ApiPromise<ResponseBody<'listClients'>> {
    return this.#transport.request(() => ({ method: 'GET', path: path`apps/${appId}/clients` }), options);
  }

  /** POST /apps/{appId}/clients: a confidential client (with `jwks` or `jwksUri`) or a public one. */
  create(appId: string, body: RequestBody<'createClient'>, options?: RequestOptions): ApiPromise<ResponseBody<'createClient'>> {
    return this.#transport.request(() => ({ method: 'POST', path: path`apps/${appId}/clients`, body, idempotent: true }), options);
  }

  /** GET /apps/{appId}/clients/{clientId}. */
  get(appId: string, clientId: string, options?: RequestOptions): ApiPromise<ResponseBody<'getClient'>> {
    return this.#transport.request(() => ({ method: 'GET', path: path`apps/${appId}/clients/${clientId}` }), options);
  }

  /** PUT /apps/{appId}/clients/{clientId}/keys: rotate a confidential client's keys. */
  replaceKeys(
    appId: string,
    clientId: string,
    body: RequestBody<'replaceClientKeys'>,
    options?: RequestOptions,
  ): ApiPromise<ResponseBody<'replaceClientKeys'>> {
    return this.#transport.request(() => ({ method: 'PUT', path: path`apps/${appId}/clients/${clientId}/keys`, body }), options);
  }

  /** DELETE /apps/{appId}/clients/{clientId}: the client can no longer obtain tokens. */
  delete(appId: string, clientId: string, options?: RequestOptions): ApiPromise<ResponseBody<'deleteClient'>> {
    return this.#transport.request(() => ({ method: 'DELETE', path: path`apps/${appId}/clients/${clientId}` }), options);
  }
}
