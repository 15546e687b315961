// CORS for browser apps: the endpoints a single-page app calls from its own origin (discovery,
// keys, PAR, token, revocation, the FHIR API) answer preflights and expose their headers to any
// origin, without credentials, errors included; every other surface (the patient's pages and API,
// the publisher API, the sandbox controls, the authorization endpoint) sends no CORS header.
import { beforeAll, describe, expect, it } from 'vitest';
import { call, registerPublisher, useServer } from './helpers.js';
import { fhirRequest, patientToken, type PatientSession } from './fhir-helpers.js';

const server = useServer();
const origin = 'https://app.example';

const preflight = (path: string, method: string, headers = 'authorization, dpop, content-type') =>
  fetch(`${server().url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

const headerList = (value: string | null) => (value ?? '').split(',').map((item) => item.trim().toLowerCase());

/** Every answer of these tests, so that the last test can check none allows credentials. */
const seen: Response[] = [];
const remember = <T extends { headers: Headers }>(response: T): T => {
  seen.push(response as unknown as Response);
  return response;
};

let publisherKey: string;
let session: PatientSession;

beforeAll(async () => {
  publisherKey = (await registerPublisher(server())).key;
  session = await patientToken(server(), 'sandbox-patient-1', 'patient/Observation.rs');
});

describe('the endpoints browser apps call', () => {
  it.each([
    ['/oauth/token', 'POST', 'POST'],
    ['/oauth/par', 'POST', 'POST'],
    ['/oauth/revoke', 'POST', 'POST'],
    ['/fhir/Observation', 'GET', 'GET, POST'],
    ['/fhir/Observation/some-id', 'GET', 'GET'],
    ['/fhir/metadata', 'GET', 'GET'],
    ['/.well-known/oauth-authorization-server', 'GET', 'GET'],
    ['/.well-known/smart-configuration', 'GET', 'GET'],
    ['/jwks.json', 'GET', 'GET'],
  ])('answer a preflight to %s with 204 and what the browser needs', async (path, method, methods) => {
    const response = remember(await preflight(path, method));
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe(methods);
    expect(headerList(response.headers.get('access-control-allow-headers'))).toEqual(
      ['authorization', 'dpop', 'content-type', 'accept', 'idempotency-key', 'if-none-match', 'if-modified-since', 'if-match', 'prefer', 'x-request-id'],
    );
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('expose the headers a browser app reads on GET /fhir/metadata', async () => {
    const response = remember(await fetch(`${server().url}/fhir/metadata`, { headers: { origin } }));
    expect(response.status).toBe(200);
    expect((await response.json()).resourceType).toBe('CapabilityStatement');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const exposed = headerList(response.headers.get('access-control-expose-headers'));
    for (const name of ['www-authenticate', 'dpop-nonce', 'retry-after', 'x-request-id', 'location', 'etag', 'last-modified', 'idempotent-replayed', 'content-location']) {
      expect(exposed).toContain(name);
    }
    // The request id the server sends is the one the list exposes.
    expect(response.headers.get('x-request-id')).toEqual(expect.any(String));
  });

  it('keep the CORS headers on a 401, so that the browser app can read WWW-Authenticate', async () => {
    const response = remember(await fetch(`${server().url}/fhir/Observation`, { headers: { origin } }));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^DPoP /);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(headerList(response.headers.get('access-control-expose-headers'))).toContain('www-authenticate');
    expect((await response.json()).resourceType).toBe('OperationOutcome');
  });

  it('keep them on real answers: a FHIR search with a token, and the token endpoint asking for a DPoP nonce', async () => {
    const search = remember(await fhirRequest(server(), session, 'GET', '/fhir/Observation', { headers: { origin } }));
    expect(search.status).toBe(200);
    expect(search.headers.get('access-control-allow-origin')).toBe('*');

    const token = remember(
      await fetch(`${server().url}/oauth/token`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: session.clientId, refresh_token: 'unknown' }),
      }),
    );
    expect(token.status).toBe(400);
    expect((await token.json()).error).toBe('invalid_dpop_proof');
    expect(token.headers.get('access-control-allow-origin')).toBe('*');
    expect(token.headers.get('cache-control')).toBe('no-store');

    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/smart-configuration', '/jwks.json']) {
      const response = remember(await fetch(`${server().url}${path}`, { headers: { origin } }));
      expect(response.status, path).toBe(200);
      expect(response.headers.get('access-control-allow-origin'), path).toBe('*');
    }
  });
});

describe('every other surface', () => {
  it.each([
    ['/patient/apps', 'GET', {}],
    ['/patient/grants', 'GET', {}],
    ['/publishers/me', 'GET', {}],
    ['/apps', 'GET', {}],
    ['/oauth/authorize?client_id=unknown', 'GET', {}],
    ['/oauth/introspect', 'POST', {}],
    ['/sandbox/patients', 'GET', {}],
    ['/catalog/apps', 'GET', {}],
  ])('sends no CORS header from %s, on %s nor on a preflight', async (path, method) => {
    const headers: Record<string, string> = { origin };
    if (path.startsWith('/publishers') || path.startsWith('/apps') || path.startsWith('/sandbox')) headers.authorization = `Bearer ${publisherKey}`;
    const actual = remember(await fetch(`${server().url}${path}`, { method, headers, redirect: 'manual' }));
    expect(actual.status, path).toBeLessThan(500);
    expect(actual.headers.get('access-control-allow-origin'), path).toBeNull();
    expect(actual.headers.get('access-control-expose-headers'), path).toBeNull();

    // OPTIONS stays what it was: no such route, and nothing that lets another origin in.
    const response = remember(await preflight(path, method));
    expect(response.status, path).toBe(404);
    expect((await response.json()).code).toBe('route_not_found');
    expect(response.headers.get('access-control-allow-origin'), path).toBeNull();
    expect(response.headers.get('access-control-allow-methods'), path).toBeNull();
  });

  it('answers a plain OPTIONS (no Access-Control-Request-Method) as before, even at a browser path', async () => {
    const response = remember(await fetch(`${server().url}/oauth/token`, { method: 'OPTIONS', headers: { origin } }));
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });
});

it('never allows credentials, on any answer of these tests', () => {
  expect(seen.length).toBeGreaterThan(20);
  for (const response of seen) expect(response.headers.get('access-control-allow-credentials')).toBeNull();
});
