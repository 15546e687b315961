// What the HTTP surface promises beyond each operation: answers that carry a secret are never
// cached (every operation whose answer holds a value the spec marks `x-secret`, found by walking
// the spec), the API reference has the pages' protections, and every operation that takes a body
// documents 413 and 415.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadSpec, operations, type JsonObject } from '../src/core/spec.js';
import { call, registerPublisher, registrationNumber, useServer, type CallResult } from './helpers.js';

const operatorToken = randomBytes(24).toString('base64url');
const server = useServer({ operatorToken });

/**
 * How to make each operation whose answer carries a secret answer successfully. An operation the
 * spec marks without an entry here fails the test: it would otherwise go unchecked.
 */
const secretAnswers: Record<string, () => Promise<CallResult>> = {
  registerPublisher: () =>
    call(server(), 'POST', '/publishers', { body: { name: 'Éditeur secret', registrationNumber: registrationNumber(), contactEmail: 'a@secret.example.fr' } }),
  createApiKey: async () => call(server(), 'POST', '/publishers/me/api-keys', { key: (await registerPublisher(server())).key, body: { label: 'ci' } }),
  createReviewer: () =>
    call(server(), 'POST', '/operator/reviewers', { key: operatorToken, body: { login: `r-${randomBytes(4).toString('hex')}`, name: 'Relectrice', email: 'r@relecture.example.fr' } }),
};

describe('answers that carry a secret', () => {
  it('are never cached: every operation the spec marks, each checked', async () => {
    const marked = operations()
      .filter((operation) => operation.carriesSecrets)
      .map((operation) => operation.operationId)
      .sort();
    expect(marked).toEqual(Object.keys(secretAnswers).sort());
    for (const operationId of marked) {
      const answer = await secretAnswers[operationId]!();
      expect(answer.status, operationId).toBeLessThan(300);
      expect(answer.headers.get('cache-control'), operationId).toBe('no-store');
    }
  });

  it('include the OAuth endpoints’ tokens (no-store on every answer of theirs)', async () => {
    const token = await fetch(`${server().url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=x' });
    expect(token.headers.get('cache-control')).toBe('no-store');
  });
});

describe('the API reference (/docs)', () => {
  it('has a CSP that keeps it out of frames and other origins, and nosniff', async () => {
    for (const path of ['/docs/static/index.html', '/docs/static/swagger-initializer.js']) {
      const answer = await fetch(`${server().url}${path}`);
      expect(answer.status, path).toBe(200);
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });
});

describe('the spec', () => {
  it('documents 413 and 415 on every operation that takes a body', () => {
    const spec = loadSpec();
    const missing: string[] = [];
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(item as JsonObject)) {
        const op = operation as JsonObject;
        if (!op || typeof op !== 'object' || !op.requestBody) continue;
        const responses = Object.keys((op.responses ?? {}) as JsonObject);
        for (const status of ['413', '415']) if (!responses.includes(status)) missing.push(`${method.toUpperCase()} ${path}: ${status}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
