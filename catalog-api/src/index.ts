// Public surface of @mes/catalog-api.
export { buildApp, documentationRoutes, type BuildOptions } from './app.js';
export { loadConfig, defaultConfig, ConfigError, type AppConfig, type Mode } from './core/config.js';
export { problemCodes, ProblemError, type ProblemCode, type Problem } from './core/errors.js';
export { openStore, copyText, type Db, type Queryable, type CopyValue } from './core/store/db.js';
export { migrate, loadMigrations } from './core/store/migrate.js';
export { operations as specOperations, loadSpec } from './core/spec.js';
export * as catalog from './modules/catalog/index.js';
export * as records from './modules/records/index.js';
export * as certification from './modules/certification/index.js';
export { storeProvidedLogo } from './web/app-logos.js';
export { encodePng, checkLogo, type LogoCheck } from './web/logo-images.js';
export { startServer, listen, closeOnSignals, type RunningServer } from './server.js';
export { testConfig, startTestServer, dropTestSchema, sampleAppInput, uniqueRegistrationNumber, fhirResourceValidator, type TestServer } from './testing.js';
