// Shared helpers of the catalog-api tests: a real server per test file and small HTTP helpers.
import { afterAll, beforeAll, expect } from 'vitest';
import { sampleAppInput, startTestServer, uniqueRegistrationNumber, type TestServer } from '../src/testing.js';
import type { AppConfig } from '../src/core/config.js';
import type { BuildOptions } from '../src/app.js';

/** Starts one real server (port 0) for the test file and closes it afterwards. */
export function useServer(overrides: Partial<AppConfig> = {}, options: BuildOptions | (() => BuildOptions) = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(overrides, typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('server not started');
    return server;
  };
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = any>(
  server: { url: string },
  method: string,
  path: string,
  options: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function registerPublisher(server: { url: string }, name = 'Éditeur de test'): Promise<{ id: string; key: string }> {
  const result = await call(server, 'POST', '/publishers', {
    body: { name, registrationNumber: registrationNumber(), contactEmail: 'dev@editeur.example.fr', domains: ['editeur.example.fr'] },
  });
  if (result.status !== 201) throw new Error(`registration failed: ${JSON.stringify(result.body)}`);
  return { id: result.body.publisher.id, key: result.body.apiKey.key };
}

export const appInput = sampleAppInput;
export const registrationNumber = uniqueRegistrationNumber;

/** Asserts the shape every error of the API shares (RFC 9457 with a stable code). */
export function expectProblem(result: CallResult, status: number, code: string): void {
  expect({ status: result.status, code: result.body?.code }).toEqual({ status, code });
  expect(result.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(result.body).toMatchObject({ type: `urn:mes:problem:${code}`, status, title: expect.any(String) });
  expect(result.body.requestId).toBe(result.headers.get('x-request-id'));
  expect(JSON.stringify(result.body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

/** Asserts an error answered as a page: HTML in French with English, never cached, with the request id to quote. */
export async function expectErrorPage(response: Response, status: number): Promise<string> {
  const html = await response.text();
  expect(response.status, html.slice(0, 300)).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  expect(html).toContain('<html lang="fr">');
  expect(html).toContain('lang="en"');
  expect(html).toContain(response.headers.get('x-request-id')!);
  expect(html).not.toMatch(/\bat .+\.(ts|js):\d+/);
  return html;
}
