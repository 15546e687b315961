// The publisher's apps (listApps, createApp, getApp, updateApp, deleteApp).
import { path } from '../internal/path.js';
import type { ApiPromise } from '../internal/api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';
import { paginate, type PagePromise } from '../pagination.js';
import type { App, ListAppsParams, RequestBody, ResponseBody } from '../types.js';

export class AppsResource {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * GET /apps: the publisher's apps, oldest first. Await it for the first page, or iterate it with
   * `for await` to go through every app.
   */
  list(params: ListAppsParams = {}, options?: RequestOptions): PagePromise<App> {
    const fetchPage = (query: ListAppsParams) =>
      this.#transport.request<ResponseBody<'listApps'>>(() => ({ method: 'GET', path: 'apps', query }), options);
    return paginate(fetchPage(params), (cursor) => fetchPage({ ...params, cursor }));
  }

  /** POST /apps: creates an app in `draft`. */
  create(body: RequestBody<'createApp'>, options?: RequestOptions): ApiPromise<ResponseBody<'createApp'>> {
    return this.#transport.request(() => ({ method: 'POST', path: 'apps', body, idempotent: true }), options);
  }

  /** GET /apps/{appId}. */
  get(appId: string, options?: RequestOptions): ApiPromise<ResponseBody<'getApp'>> {
    return this.#transport.request(() => ({ method: 'GET', path: path`apps/${appId}` }), options);
  }

  /** PATCH /apps/{appId}: send only the fields to change; `logoUrl: null` removes the logo. */
  update(appId: string, body: RequestBody<'updateApp'>, options?: RequestOptions): ApiPromise<ResponseBody<'updateApp'>> {
    return this.#transport.request(() => ({ method: 'PATCH', path: path`apps/${appId}`, body }), options);
  }

  /** DELETE /apps/{appId}: refused with a ConflictError (`app_not_deletable`) for certified or suspended apps. */
  delete(appId: string, options?: RequestOptions): ApiPromise<ResponseBody<'deleteApp'>> {
    return this.#transport.request(() => ({ method: 'DELETE', path: path`apps/${appId}` }), options);
  }
}
