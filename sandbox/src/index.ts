// Public surface of @mes/sandbox.
export { seedSandbox, type SeedResult } from './seed.js';
export { demoApps, demoPublisher } from './demo-data.js';
