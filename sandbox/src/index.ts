// Public surface of @mes/sandbox.
export { seedSandbox, type SeedResult } from './seed.js';
export { demoApps, demoPublisher } from './demo-data.js';
export { seedSyntheticRecords, type SyntheticSeedOptions, type SyntheticSeedResult } from './seed-records.js';
export { generatePopulation, populationDigest, DEFAULT_REFERENCE_DATE, GENERATOR_VERSION, type PopulationOptions, type Household } from './synthetic/generator.js';
