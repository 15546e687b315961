// Public surface of the sandbox module: the developer controls and the hooks around apps' requests.
export { sandboxHandlers } from './routes.js';
export { registerSandboxHooks } from './hooks.js';
export { trafficReport, buildReport, type TrafficReport } from './traffic.js';
