// createClient(): the entry point of the SDK. One client holds one base URL, one API key and
// one transport; its namespaces mirror the API's resources.
import { Transport, type TransportOptions } from './internal/transport.js';
import { ApiKeysResource } from './resources/api-keys.js';
import { AppsResource } from './resources/apps.js';
import { CatalogResource } from './resources/catalog.js';
import { ClientsResource } from './resources/clients.js';
import { HealthResource } from './resources/health.js';
import { PublishersResource } from './resources/publishers.js';
import { SandboxResource } from './resources/sandbox.js';

/** Options of `createClient`: the transport's settings (base URL, API key, fetch, timeout, retries, headers). */
export type ClientOptions = TransportOptions;

export class MesClient {
  readonly baseUrl: string;
  readonly health: HealthResource;
  readonly publishers: PublishersResource;
  readonly apiKeys: ApiKeysResource;
  readonly apps: AppsResource;
  readonly catalog: CatalogResource;
  readonly clients: ClientsResource;
  /** The sandbox's developer controls (sandbox servers only). */
  readonly sandbox: SandboxResource;

  constructor(options: ClientOptions) {
    const transport = new Transport(options);
    this.baseUrl = transport.baseUrl;
    this.health = new HealthResource(transport);
    this.publishers = new PublishersResource(transport);
    this.apiKeys = new ApiKeysResource(transport);
    this.apps = new AppsResource(transport);
    this.catalog = new CatalogResource(transport);
    this.clients = new ClientsResource(transport);
    this.sandbox = new SandboxResource(transport);
  }
}

export function createClient(options: ClientOptions): MesClient {
  return new MesClient(options);
}
