#!/usr/bin/env node
// Process entry of the catalog API: configuration from the environment, listen, graceful stop.
import { ConfigError, loadConfig } from './core/config.js';
import { closeOnSignals, startServer } from './server.js';

try {
  const config = loadConfig();
  const server = await startServer(config);
  closeOnSignals(server, (message) => server.app.log.info(message));
  server.app.log.info(`catalog API (${config.mode}) listening on ${server.url}`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Configuration error: ${error.message}`);
  process.exit(78); // EX_CONFIG
}
