// Cross-origin access for browser apps (single-page apps: public OAuth clients with DPoP-bound
// tokens and no cookies): which paths answer other origins, and how. Everything else stays
// same-origin.
//
// The paths that do take no cookie and no ambient credential, only what the app itself puts in
// each request (a DPoP proof, an access token, its client_id), so they answer any origin with
// `Access-Control-Allow-Origin: *` and never with credentials: another site's page gains nothing a
// script outside any browser could not do already. The patient's pages and JSON API (a session
// cookie), the publisher API (API keys), the sandbox controls and the authorization endpoint (a
// top-level navigation, never fetched) send no CORS header, so a browser keeps them from other
// sites; their OPTIONS requests are answered as before (no such route).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pathPattern, type OperationSpec } from './spec.js';

/** The spec paths browser apps call cross-origin: discovery, keys, PAR, token, revocation. */
const BROWSER_PATHS: ReadonlySet<string> = new Set([
  '/.well-known/oauth-authorization-server',
  '/.well-known/smart-configuration',
  '/.well-known/openid-configuration',
  '/jwks.json',
  '/oauth/par',
  '/oauth/token',
  '/oauth/revoke',
]);
/** And the whole FHIR API, `/fhir/metadata` included. */
const BROWSER_PREFIX = '/fhir/';

/** Whether a path (without its query) is one browser apps call cross-origin: the one place that says so. */
export function isBrowserPath(path: string): boolean {
  return BROWSER_PATHS.has(path) || path.startsWith(BROWSER_PREFIX);
}

/** What a browser app may read of an answer besides the CORS-safelisted headers: what this server sends it. */
export const EXPOSED_HEADERS = [
  'WWW-Authenticate',
  'DPoP-Nonce',
  'Retry-After',
  'X-Request-Id',
  'Location',
  'ETag',
  'Last-Modified',
  'Idempotent-Replayed',
  'Content-Location',
] as const;

/** The request headers a browser app may send. */
export const ALLOWED_HEADERS = ['Authorization', 'DPoP', 'Content-Type', 'Accept', 'Idempotency-Key', 'If-None-Match', 'If-Modified-Since', 'If-Match', 'Prefer', 'X-Request-Id'] as const;

/** How long a browser may keep a preflight's answer, in seconds. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

interface BrowserRoute {
  pattern: RegExp;
  /** The methods the spec has at this path. */
  methods: string[];
}

/** The spec's operations at browser paths, grouped by path, with a pattern that matches request paths. */
export function browserRoutes(operations: readonly OperationSpec[]): BrowserRoute[] {
  const byPath = new Map<string, string[]>();
  for (const operation of operations) {
    if (!isBrowserPath(operation.path)) continue;
    byPath.set(operation.path, [...(byPath.get(operation.path) ?? []), operation.method]);
  }
  return [...byPath].map(([path, methods]) => ({ pattern: pathPattern(path), methods }));
}

const pathOf = (request: FastifyRequest) => request.url.split('?')[0] ?? request.url;

/**
 * Answers preflights of browser paths before routing (so no OPTIONS route exists, and the spec
 * lists none), and adds the CORS headers to every answer of those paths, errors included: a
 * browser app must be able to read a 401's `WWW-Authenticate`.
 */
export function registerCors(app: FastifyInstance, operations: readonly OperationSpec[]): void {
  const routes = browserRoutes(operations);
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined) return;
    const path = pathOf(request);
    const route = routes.find(({ pattern }) => pattern.test(path));
    if (!route) return;
    return reply
      .code(204)
      .headers({
        'access-control-allow-methods': route.methods.join(', '),
        'access-control-allow-headers': ALLOWED_HEADERS.join(', '),
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
      })
      .send();
  });
  app.addHook('onSend', async (request, reply) => {
    if (!isBrowserPath(pathOf(request))) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', EXPOSED_HEADERS.join(', '));
  });
}
