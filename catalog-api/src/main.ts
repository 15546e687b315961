#!/usr/bin/env node
// Process entry of the catalog API: configuration from the environment, listen, graceful stop.
import { loadConfig } from './core/config.js';
import { closeOnSignals, startServer } from './server.js';

const config = loadConfig();
const server = await startServer(config);
closeOnSignals(server, (message) => server.app.log.info(message));
server.app.log.info(`catalog API (${config.mode}) listening on ${server.url}`);
