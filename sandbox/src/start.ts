#!/usr/bin/env node
// `npm start`: the platform in sandbox mode on the embedded store, seeded with demo data.
import { buildApp, closeOnSignals, ConfigError, listen, loadConfig, type AppConfig } from '@mes/catalog-api';
import { seedSandbox } from './seed.js';

if (process.env.MES_MODE && process.env.MES_MODE !== 'sandbox') {
  console.error('The sandbox runs in sandbox mode only; unset MES_MODE or set it to "sandbox".');
  process.exit(1);
}
// On a developer's own machine (listening on loopback), the apps under test run there too: their
// jwks_uri may point at localhost. A sandbox that others can reach keeps outbound fetches public.
const loopback = ['127.0.0.1', '::1', 'localhost'].includes(process.env.HOST || '127.0.0.1');
let config: AppConfig;
try {
  config = loadConfig(process.env, { mode: 'sandbox', outboundAllowPrivateNetworks: loopback });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Configuration error: ${error.message}`);
  process.exit(78);
}
const app = await buildApp(config);
const seed = await seedSandbox(app.db, config.dataDir);
const server = await listen(app, config);
closeOnSignals(server, (message) => app.log.info(message));

const url = config.publicUrl ?? server.url;
const store = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
console.log(`
Mon espace santé developer platform: sandbox ready

  API                ${url}
  API reference      ${url}/docs
  OpenAPI document   ${url}/openapi.json
  OAuth discovery    ${url}/.well-known/oauth-authorization-server
  Patient pages      ${url}/patient/apps (sign in as a synthetic patient, withdraw grants)
  Store              ${store}${seed.createdApps.length ? ` (seeded ${seed.createdApps.length} demo apps)` : ' (existing data reused)'}

  Demo publisher API key (sandbox only):
    ${seed.apiKey}

  Try it:
    export MES_API_URL=${url} MES_API_KEY=${seed.apiKey}
    npx mes catalog list
    npx mes apps list
`);
