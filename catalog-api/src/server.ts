// Starting and stopping a listening server: used by the process entries (catalog-api and
// sandbox) and by tests. Shutdown lets in-flight requests finish, then closes the store.
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildOptions } from './app.js';
import type { AppConfig } from './core/config.js';

export interface RunningServer {
  app: FastifyInstance;
  /** Base URL the server listens on, e.g. `http://127.0.0.1:4010`. */
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: AppConfig, options: BuildOptions = {}): Promise<RunningServer> {
  return listen(await buildApp(config, options), config);
}

/** Starts listening with a built app, on the configured host and port (0 picks a free port). */
export async function listen(app: FastifyInstance, config: Pick<AppConfig, 'host' | 'port'>): Promise<RunningServer> {
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}

/** Closes the server on SIGTERM or SIGINT; a second signal exits at once. */
export function closeOnSignals(server: RunningServer, log: (message: string) => void = () => {}): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    log(`${signal} received: finishing in-flight requests, then closing the store`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
