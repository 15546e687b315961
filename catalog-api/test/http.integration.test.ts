import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { dropTestSchema, testConfig } from '../src/testing.js';
import { call, expectProblem, useServer } from './helpers.js';

const server = useServer();

describe('HTTP behaviour shared by every route', () => {
  it('answers liveness and readiness', async () => {
    expect(await call(server(), 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call(server(), 'GET', '/readyz')).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { store: 'ok', migrations: 'ok' } },
    });
  });

  it('returns a request id on every response, and keeps a well-formed incoming one', async () => {
    const fresh = await call(server(), 'GET', '/healthz');
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await call(server(), 'GET', '/healthz', { headers: { 'x-request-id': 'trace-1234abcd' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-1234abcd');
    const replaced = await call(server(), 'GET', '/healthz', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a problem document', async () => {
    const result = await call(server(), 'GET', '/admin/secrets');
    expectProblem(result, 404, 'route_not_found');
    expect(result.body.instance).toBe('/admin/secrets');
  });

  it('refuses unknown query parameters even where none are expected', async () => {
    expectProblem(await call(server(), 'GET', '/healthz?debug=1'), 400, 'validation_failed');
  });

  it('logs the request id with each request, and never the credentials', async () => {
    const lines: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const config = testConfig({ logLevel: 'info' });
    const app = await buildApp(config, { logStream });
    try {
      await app.inject({ method: 'GET', url: '/apps', headers: { 'x-request-id': 'logged-request-1', authorization: 'Bearer mes_pk_secret' } });
      await app.inject({ method: 'GET', url: '/catalog/apps?q=tension&access_token=query-secret' });
    } finally {
      await app.close();
      await dropTestSchema(config);
    }
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.some((entry) => entry.requestId === 'logged-request-1' && entry.req?.url === '/apps')).toBe(true);
    expect(entries.some((entry) => entry.requestId === 'logged-request-1' && entry.res?.statusCode === 401)).toBe(true);
    expect(lines.join('\n')).not.toContain('mes_pk_secret');
    expect(lines.join('\n')).not.toContain('query-secret');
    expect(entries.some((entry) => entry.req?.url === '/catalog/apps?q=tension&access_token=[redacted]')).toBe(true);
  });
});

describe('tokens in URLs', () => {
  it('refuses an access token in the query string, on any route', async () => {
    for (const path of ['/healthz?access_token=eyJhbGciOi', '/apps?access_token=abc', '/catalog/apps?limit=5&access_token=abc']) {
      const result = await call(server(), 'GET', path);
      expectProblem(result, 400, 'validation_failed');
      expect(result.body.detail).toContain('never accepted in the query string');
      expect(result.body.instance).not.toContain('access_token');
    }
  });
});
