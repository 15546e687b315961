// The benchmark scenarios. `bench/run.mjs` measures every entry of `scenarios` against the
// `baseline` measured right before it, in the same run (see bench/README.md).
//
// This module is imported twice: by run.mjs (main thread, where the servers live) and by the load
// generator (a worker thread, see lib/load-worker.mjs). Keep it free of imports of the platform:
// whatever a scenario needs from the server side comes through the `ctx` given to `setup()`.
//
// A scenario is:
//   name         unique, used in BENCH_SCENARIOS and in the results
//   target       'platform' (the catalog-api server in sandbox mode), 'platform-without-history' (a
//                second server on the same store that does not record the FHIR access history,
//                for what the history costs) or 'baseline' (bare fastify)
//   description  one line for the results file and the README
//   setup(ctx)   optional, main thread, once before any request: create what the scenario needs
//                (clients, grants, tokens...) with ctx.app / ctx.db / ctx.catalog / ctx.seed /
//                ctx.url (ctx.api is the built @mes/catalog-api module, e.g. its sampleAppInput).
//                Returns `params` handed to load() and check(); they cross to the worker by
//                structured cloning, so plain data (a JWK, not a key object).
//   load(params[, supply])  load-generator thread: the autocannon options of one run besides
//                url, duration and connections, e.g. { method, path, headers, body } or
//                { requests: [{ setupRequest(req, context) {...}, onResponse(...) {...} }] } when
//                each request must differ (a fresh DPoP proof per request, for instance).
//                Functions are fine here: the worker imports this module itself.
//   preflight(ctx, params)  optional, main thread: one request proving the scenario answers
//                what it should before it is measured; throw to fail it. By default one fetch of
//                load(params)'s method/path/headers/body (or of its first `requests` entry, through
//                its setupRequest) must answer 2xx, then check() runs on the answer.
//   expectedStatus optional: the status every answer must have (e.g. 304); by default any 2xx.
//   check(response, params) optional, called by the default preflight with
//                { status, headers, text, json }; throw when the answer is wrong.
//   supply       optional, for requests that each consume a single-use, short-lived item the
//                server must issue first (an authorization code): { lifetimeSeconds,
//                concurrency, mint(ctx, params) }. mint() runs in the main thread and returns one
//                item (plain data). The harness mints the items a run needs while no load runs,
//                hands them to the load generator, and sizes each run (autocannon `amount`) to the
//                items it has, so the measured window holds only the scenario's own requests:
//                see bench/README.md, "Scenarios that consume single-use items". load() then gets
//                a second argument, `supply`, whose take() returns the next item (FIFO), and may
//                be async (to fetch a DPoP nonce, for instance).

import { codeExchangeScenario, confidentialRefreshScenario, publicRefreshScenario } from './lib/oauth-scenarios.mjs';
import { apiKeyScenario, platformTokenScenario } from './lib/platform-scenarios.mjs';
import { fhirReadScenario, fhirSearchScenario, fhirSearchWithoutHistoryScenario } from './lib/fhir-scenarios.mjs';
import { cataloguePageScenario, connectedAppsPageScenario } from './lib/page-scenarios.mjs';
import { yardstickScenarios } from './lib/yardstick-scenarios.mjs';

/** Page size of the catalogue scenario, and how many certified apps run.mjs puts in the catalogue. */
export const catalogPageSize = 20;

/** The reference every scenario is compared with: bare fastify answering a constant small JSON. */
export const baseline = {
  name: 'baseline',
  target: 'baseline',
  description: 'bare fastify 5, GET / answering a constant small JSON body',
  load: () => ({ method: 'GET', path: '/' }),
  check(response) {
    if (response.json?.ok !== true) throw new Error(`unexpected body ${response.text}`);
  },
};

export const scenarios = [
  {
    name: 'catalog-list',
    target: 'platform',
    description: `GET /catalog/apps?limit=${catalogPageSize}: first page of the public catalogue of certified apps`,
    load: () => ({ method: 'GET', path: `/catalog/apps?limit=${catalogPageSize}` }),
    check(response) {
      const items = response.json?.items;
      if (!Array.isArray(items)) throw new Error(`no items in ${response.text.slice(0, 200)}`);
      if (items.length !== catalogPageSize) {
        throw new Error(`expected a full page of ${catalogPageSize} apps, got ${items.length}`);
      }
    },
  },
  {
    // The revalidation a browser or a cache on the way makes: the page's ETag in If-None-Match.
    name: 'catalog-list-304',
    target: 'platform',
    description: `GET /catalog/apps?limit=${catalogPageSize} with If-None-Match: the page is unchanged, 304 without a body`,
    expectedStatus: 304,
    async setup(ctx) {
      const response = await fetch(`${ctx.url}/catalog/apps?limit=${catalogPageSize}`);
      const etag = response.headers.get('etag');
      if (!etag) throw new Error('the catalogue page has no ETag');
      return { etag };
    },
    load: (params) => ({ method: 'GET', path: `/catalog/apps?limit=${catalogPageSize}`, headers: { 'if-none-match': params.etag } }),
    async preflight(ctx, params) {
      const response = await fetch(`${ctx.url}/catalog/apps?limit=${catalogPageSize}`, { headers: { 'if-none-match': params.etag } });
      if (response.status !== 304) throw new Error(`expected 304, got ${response.status}`);
    },
  },
  // POST /oauth/token: 'oauth-token-code', 'oauth-token-code-public', 'oauth-token-refresh',
  // 'oauth-token-refresh-public' (lib/oauth-scenarios.mjs).
  codeExchangeScenario({ confidential: true }),
  codeExchangeScenario({ confidential: false }),
  confidentialRefreshScenario(),
  publicRefreshScenario(),
  // GET /apps: 'apps-list-api-key' and 'apps-list-platform-token' (lib/platform-scenarios.mjs),
  // the cost of the resource-server checks (DPoP proof with ath, token, session) beside an API key.
  apiKeyScenario,
  platformTokenScenario,
  // The FHIR API: 'fhir-search' and 'fhir-read' with the access history appended, and
  // 'fhir-search-without-history' on a second server that does not record it (lib/fhir-scenarios.mjs).
  fhirSearchScenario,
  fhirReadScenario,
  fhirSearchWithoutHistoryScenario,
  // The patient pages: 'catalogue-page' (public HTML) and 'connected-apps-page' (signed in), lib/page-scenarios.mjs.
  cataloguePageScenario(catalogPageSize),
  connectedAppsPageScenario,
];

/** Every entry by name, the baseline included (the worker looks its entry up here). */
export function scenarioByName(name) {
  if (name === baseline.name) return baseline;
  if (name.startsWith('yardstick:')) return yardstickScenarios.find((scenario) => scenario.name === name);
  return scenarios.find((scenario) => scenario.name === name);
}
