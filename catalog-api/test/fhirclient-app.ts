// An existing SMART app for the tests, built on the SMART JS client (`fhirclient`, its Node
// adapter) as its documentation shows, on a loopback port: `/launch` authorizes (standalone with
// `iss` in the URL, or an EHR launch with `iss` and `launch`), `/callback` completes it and answers
// what `render` makes of the connected client. fhirclient's storage (one user here) is a map.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import smart from 'fhirclient';
import { afterAll, beforeAll } from 'vitest';

/** A connected fhirclient client, as `ready()` gives it. */
type SmartClient = ReturnType<typeof smart.client>;

export interface FhirclientApp {
  /** `http://127.0.0.1:<port>`: the redirect URI is `<origin>/callback`, the launch URL `<origin>/launch`. */
  origin: string;
  /** The client id fhirclient authorizes with, once registered. */
  clientId: string;
}

export interface FhirclientAppOptions {
  scope: string;
  /** The app's page once authorized: its content type and body. */
  render: (fhir: SmartClient) => Promise<{ type: string; body: string }>;
}

/** Starts the app before the file's tests and stops it after; set `clientId` once registered. */
export function useFhirclientApp(options: FhirclientAppOptions): () => FhirclientApp {
  const sessions = new Map<string, unknown>();
  const storage = {
    get: async (key: string) => sessions.get(key),
    set: async (key: string, value: unknown) => void sessions.set(key, value),
    unset: async (key: string) => sessions.delete(key),
  };
  const app: FhirclientApp = { origin: '', clientId: '' };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', app.origin).pathname;
    const fail = (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    if (path === '/launch') {
      smart(request, response, storage).authorize({ clientId: app.clientId, scope: options.scope, redirectUri: '/callback' }).catch(fail);
    } else if (path === '/callback') {
      smart(request, response, storage)
        .ready()
        .then(async (fhir) => {
          const page = await options.render(fhir);
          response.writeHead(200, { 'content-type': page.type }).end(page.body);
        })
        .catch(fail);
    } else {
      response.writeHead(404).end();
    }
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    app.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));
  return () => app;
}
