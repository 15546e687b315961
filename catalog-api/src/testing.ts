// Helpers for tests of this and other packages: a real server on port 0 over a throw-away store,
// PGlite in memory by default, or a fresh schema of TEST_DATABASE_URL when that is set.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { defaultConfig, type AppConfig } from './core/config.js';
import type { BuildOptions } from './app.js';
import { startServer, type RunningServer } from './server.js';
import { COMPONENTS_ID, componentsSchema, loadSpec } from './core/spec.js';
import { createValidatorCompiler } from './core/validation.js';

/** Configuration for a test app: isolated store, silent logs, sandbox mode unless overridden. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  return {
    ...defaultConfig,
    mode: 'sandbox',
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    port: 0,
    dataDir: 'memory://',
    keyEncryptionKey: randomBytes(32),
    // Idle connections are closed by the tests' own client (undici: after 4 s), never first by the
    // server: a test busy for seconds (a FHIR validator, a page check) would otherwise send its next
    // request on a connection the server is closing, and get ECONNRESET.
    keepAliveTimeoutMs: 60_000,
    ...(databaseUrl ? { databaseUrl, databaseSchema: `test_${randomBytes(6).toString('hex')}` } : {}),
    ...overrides,
  };
}

/** Drops the schema a test configuration created on PostgreSQL (nothing to do on PGlite). */
export async function dropTestSchema(config: AppConfig): Promise<void> {
  if (!config.databaseUrl || !config.databaseSchema?.startsWith('test_')) return;
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${config.databaseSchema} CASCADE`);
  } finally {
    await client.end();
  }
}

export interface TestServer extends RunningServer {
  config: AppConfig;
}

/**
 * Starts a real server on a free port; `close()` stops it and drops its PostgreSQL schema. Its
 * routes' schemas are compiled as the tests first use them (BuildOptions.compileSchemasOnFirstUse).
 */
export async function startTestServer(overrides: Partial<AppConfig> = {}, options: BuildOptions = {}): Promise<TestServer> {
  const config = testConfig(overrides);
  const server = await startServer(config, { compileSchemasOnFirstUse: true, ...options });
  return {
    ...server,
    config,
    async close() {
      await server.close();
      await dropTestSchema(config);
    },
  };
}

type AppInput = import('@mes/openapi').components['schemas']['AppInput'];

/** A valid app (the spec's AppInput example), with any field overridden. */
export function sampleAppInput(overrides: Partial<AppInput> = {}): AppInput {
  return {
    name: 'TensioSuivi',
    shortDescription: { fr: 'Suivez votre tension artérielle au quotidien.', en: 'Track your blood pressure every day.' },
    longDescription: { fr: 'TensioSuivi relève vos mesures de tension et les partage avec votre espace santé.' },
    category: 'suivi-maladie-chronique',
    websiteUrl: 'https://tensiosuivi.example.fr',
    redirectUris: ['https://tensiosuivi.example.fr/oauth/callback'],
    scopes: [{ scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension artérielle.' }],
    privacyPolicyUrl: 'https://tensiosuivi.example.fr/confidentialite',
    termsUrl: 'https://tensiosuivi.example.fr/cgu',
    supportContact: { email: 'support@tensiosuivi.example.fr' },
    ...overrides,
  };
}

let registrations = 0;

/** A 14-digit registration number that no other test of any process running now uses. */
export function uniqueRegistrationNumber(): string {
  registrations += 1;
  const pid = String(process.pid % 100_000).padStart(5, '0');
  const clock = String(Date.now() % 100_000).padStart(5, '0');
  return `${pid}${clock}${String(registrations % 10_000).padStart(4, '0')}`;
}

/**
 * Checks a FHIR resource against its schema in the spec, with the server's own validator
 * settings: the errors, or an empty list when it is valid. For tests of data the server stores
 * without a request (the sandbox's synthetic records).
 */
export function fhirResourceValidator(): (resource: { resourceType: string }) => string[] {
  const components = componentsSchema(loadSpec());
  const compile = createValidatorCompiler(components);
  const validators = new Map<string, (value: unknown) => boolean>();
  return (resource) => {
    let validate = validators.get(resource.resourceType);
    if (!validate) {
      validate = compile({ schema: { $ref: `${COMPONENTS_ID}#/$defs/${resource.resourceType}` }, httpPart: 'body' } as never) as unknown as (value: unknown) => boolean;
      validators.set(resource.resourceType, validate);
    }
    if (validate(resource)) return [];
    const errors = (validate as unknown as { errors?: { instancePath: string; message?: string }[] }).errors ?? [];
    return errors.map((error) => `${resource.resourceType}${error.instancePath}: ${error.message ?? 'is not valid'}`);
  };
}
