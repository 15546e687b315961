#!/usr/bin/env node
// `npm start`: the platform in sandbox mode on the embedded store, seeded with demo data.
import { buildApp, closeOnSignals, ConfigError, listen, loadConfig, type AppConfig } from '@mes/catalog-api';
import { seedSandbox } from './seed.js';
import { seedSyntheticRecords } from './seed-records.js';
import { DEFAULT_REFERENCE_DATE, GENERATOR_VERSION } from './synthetic/generator.js';

if (process.env.MES_MODE && process.env.MES_MODE !== 'sandbox') {
  console.error('The sandbox runs in sandbox mode only; unset MES_MODE or set it to "sandbox".');
  process.exit(1);
}
// On a developer's own machine (listening on loopback), the apps under test run there too: their
// jwks_uri may point at localhost. A sandbox that others can reach keeps outbound fetches public.
const loopback = ['127.0.0.1', '::1', 'localhost'].includes(process.env.HOST || '127.0.0.1');
let config: AppConfig;
let synthetic: { seed: string; patients: number; referenceDate: string };
try {
  config = loadConfig(process.env, { mode: 'sandbox', outboundAllowPrivateNetworks: loopback });
  synthetic = syntheticOptions(process.env);
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
  Developer guides   ${url}/developers/
  OAuth discovery    ${url}/.well-known/oauth-authorization-server
  Patient pages      ${url}/patient/apps (sign in as a synthetic patient, withdraw grants)
  FHIR API           ${url}/fhir/metadata
  Synthetic patients ${synthetic.patients} (seed "${synthetic.seed}"), e.g. sandbox-patient-1: npx mes sandbox patients
  Store              ${store}${seed.createdApps.length ? ` (seeded ${seed.createdApps.length} demo apps)` : ' (existing data reused)'}

  Demo publisher API key (sandbox only):
    ${seed.apiKey}

  Try it:
    export MES_API_URL=${url} MES_API_KEY=${seed.apiKey}
    npx mes catalog list
    npx mes apps list
`);

// The synthetic patients load after the server is up (about 17 seconds for 10 000 on the
// embedded store, the first time; a warm start finds them at once). The API answers meanwhile; patients
// appear as their batches commit. A load stopped half-way resumes at the next start.
const started = Date.now();
let reported = 0;
seedSyntheticRecords(app.db, {
  ...synthetic,
  onProgress: (done) => {
    if (done - reported >= synthetic.patients / 10 || done === synthetic.patients) {
      reported = done;
      console.log(`  synthetic patients: ${done}/${synthetic.patients}`);
    }
  },
}).then(
  (result) => {
    if (result.created) {
      console.log(`Synthetic patients ready: ${result.patients} (seed "${result.seed}", ${result.resources} resources) in ${Math.round((Date.now() - started) / 100) / 10} s.`);
    } else if (result.generatorVersion !== GENERATOR_VERSION) {
      console.log(
        `Synthetic patients: this store holds patients of an earlier generator (version ${result.generatorVersion}, now ${GENERATOR_VERSION}); ` +
          `it is not regenerated. Use a fresh DATA_DIR for the current records.`,
      );
    } else if (result.seed !== synthetic.seed || result.patients !== synthetic.patients || result.referenceDate !== synthetic.referenceDate) {
      console.log(
        `Synthetic patients: this store holds ${result.patients} patients of seed "${result.seed}" (reference date ${result.referenceDate}); ` +
          `it is not regenerated. Use a fresh DATA_DIR for other SANDBOX_* settings.`,
      );
    } else {
      console.log(`Synthetic patients ready: ${result.patients} (seed "${result.seed}"), reused.`);
    }
  },
  (error: unknown) => {
    // Stopping the server during the load ends it here; the next start resumes it.
    app.log.warn({ err: error }, 'the synthetic patients did not finish loading; the next start resumes');
  },
);

function syntheticOptions(env: NodeJS.ProcessEnv): { seed: string; patients: number; referenceDate: string } {
  const patients = env.SANDBOX_PATIENTS === undefined || env.SANDBOX_PATIENTS === '' ? 10_000 : Number(env.SANDBOX_PATIENTS);
  if (!Number.isInteger(patients) || patients < 1 || patients > 200_000) {
    throw new ConfigError(`SANDBOX_PATIENTS must be an integer between 1 and 200000, got "${env.SANDBOX_PATIENTS}"`);
  }
  const referenceDate = env.SANDBOX_REFERENCE_DATE || DEFAULT_REFERENCE_DATE;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(referenceDate) || Number.isNaN(Date.parse(`${referenceDate}T00:00:00Z`))) {
    throw new ConfigError(`SANDBOX_REFERENCE_DATE must be a date (YYYY-MM-DD), got "${referenceDate}"`);
  }
  const seed = env.SANDBOX_SEED || 'sandbox';
  if (seed.length > 100) throw new ConfigError('SANDBOX_SEED must be at most 100 characters');
  return { seed, patients, referenceDate };
}
