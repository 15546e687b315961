// The public catalogue of certified apps (listCatalogApps, getCatalogApp); no API key needed.
import { path } from '../internal/path.js';
import type { ApiPromise } from '../internal/api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import { paginate, type PagePromise } from '../pagination.js';
import type { CatalogApp, ListCatalogParams, ResponseBody } from '../types.js';

export class CatalogResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * GET /catalog/apps: certified apps sorted by name, optionally searched (`q`) or filtered by
   * `category`. Await it for the first page, or iterate it with `for await`.
   */
  list(params: ListCatalogParams = {}, options?: RequestOptions): PagePromise<CatalogApp> {
    const fetchPage = (query: ListCatalogParams) =>
      this.#transport.request<ResponseBody<'listCatalogApps'>>(() => ({ method: 'GET', path: 'catalog/apps', query }), options);
    return paginate(fetchPage(params), (cursor) => fetchPage({ ...params, cursor }));
  }

  /** GET /catalog/apps/{appId}: a certified app. */
  get(appId: string, options?: RequestOptions): ApiPromise<ResponseBody<'getCatalogApp'>> {
    return this.#transport.request(() => ({ method: 'GET', path: path`catalog/apps/${appId}` }), options);
  }
}
