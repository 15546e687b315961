// createClient(): the entry point of the SDK. One client holds one base URL, one API key and
// one transport; its namespaces mirror the API's resources.
import { Transport, type FetchLike } from './internal/transport.js';
import { ApiKeysResource } from './resources/api-keys.js';
import { AppsResource } from './resources/apps.js';
import { CatalogResource } from './resources/catalog.js';
import { ClientsResource } from './resources/clients.js';
import { HealthResource } from './resources/health.js';
import { PublishersResource } from './resources/publishers.js';

export interface ClientOptions {
  /** Base URL of the API, e.g. `https://api.sandbox.example` or `http://localhost:4010`. */
  baseUrl: string;
  /** A publisher API key (`mes_pk_…`), sent as `Authorization: Bearer`. Not needed for the catalogue. */
  apiKey?: string | undefined;
  /** A `fetch` implementation; defaults to the global `fetch`. */
  fetch?: FetchLike | undefined;
  /** Milliseconds to wait for each attempt's response (default 30 000). */
  timeout?: number | undefined;
  /** Retries of idempotent calls on network errors, 408, 429 and 5xx (default 2; 0 disables). */
  maxRetries?: number | undefined;
  /** Headers sent with every request. */
  headers?: Record<string, string> | undefined;
}

export class MesClient {
  readonly baseUrl: string;
  readonly health: HealthResource;
  readonly publishers: PublishersResource;
  readonly apiKeys: ApiKeysResource;
  readonly apps: AppsResource;
  readonly catalog: CatalogResource;
  readonly clients: ClientsResource;

  constructor(options: ClientOptions) {
    const transport = new Transport(options);
    this.baseUrl = transport.baseUrl;
    this.health = new HealthResource(transport);
    this.publishers = new PublishersResource(transport);
    this.apiKeys = new ApiKeysResource(transport);
    this.apps = new AppsResource(transport);
    this.catalog = new CatalogResource(transport);
    this.clients = new ClientsResource(transport);
  }
}

export function createClient(options: ClientOptions): MesClient {
  return new MesClient(options);
}
