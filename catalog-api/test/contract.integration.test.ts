// The spec is the contract: every operation has a route and a handler, every route is in the
// spec, error codes agree between code, spec and docs, and request bodies are closed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { documentationRoutes } from '../src/app.js';
import { problemCodes } from '../src/core/errors.js';
import { ContractError, registerOperations, type SecurityScheme } from '../src/core/operations.js';
import { componentsSchema, loadSpec, operations, type JsonObject } from '../src/core/spec.js';
import { createValidatorCompiler } from '../src/core/validation.js';
import { call, useServer } from './helpers.js';

const server = useServer();
const spec = loadSpec();

describe('spec and server agree', () => {
  it('serves a route for every operation of the spec, and no undocumented route', async () => {
    const registered = server().app.registeredRoutes.map((route) => `${route.method} ${route.url}`);
    const specRoutes = operations(spec).map((op) => `${op.method} ${op.url}`);
    for (const route of specRoutes) expect(registered).toContain(route);
    const undocumented = registered.filter(
      (route) =>
        !specRoutes.includes(route) &&
        !route.startsWith('HEAD ') &&
        !documentationRoutes.some((prefix) => route.split(' ')[1]!.startsWith(prefix)),
    );
    expect(undocumented).toEqual([]);
  });

  /** Security schemes that let everyone through: these tests are about routing and serialization. */
  const stubSchemes = (): Record<string, SecurityScheme> =>
    Object.fromEntries(
      [['publisherApiKey', 'bearer'], ['reviewerApiKey', 'bearer'], ['platformToken', 'dpop'], ['operatorToken', 'bearer'], ['patientDataToken', 'dpop'], ['patientSession', 'cookie']].map(([name, authScheme]) => [
        name,
        // Schemes sent the same way tell their credentials apart (API keys by their prefix).
        { authScheme: authScheme!, challenge: authScheme!, hint: name!, claims: (credential: string) => credential.startsWith(name!), authenticate: async () => ({ kind: 'operator' as const }) },
      ]),
    );

  it('refuses to start when an operation has no handler or a handler has no operation', () => {
    const ops = operations(spec);
    const noop = async () => ({ status: 200 });
    const handlers = Object.fromEntries(ops.map((op) => [op.operationId, noop]));
    const auth = stubSchemes();
    const { getApp: _missing, ...withoutOne } = handlers;
    expect(() => registerOperations(Fastify(), ops, withoutOne, auth)).toThrow(new ContractError('operation getApp has no handler'));
    expect(() => registerOperations(Fastify(), ops, { ...handlers, stealData: noop }, auth)).toThrow(/stealData/);
    expect(() => registerOperations(Fastify(), ops, handlers, {})).toThrow(/no authenticator/);
  });

  it('serializes responses from their schemas, so a field outside the contract never leaks', async () => {
    const app = Fastify();
    const components = componentsSchema(spec);
    app.addSchema(components);
    app.setValidatorCompiler(createValidatorCompiler(components));
    const ops = operations(spec);
    const leaky = async () => ({ status: 200, body: { status: 'ok', passwordHash: 'secret', internal: { id: 1 } } });
    const auth = stubSchemes();
    registerOperations(app, ops, Object.fromEntries(ops.map((op) => [op.operationId, leaky])), auth);
    try {
      const response = await app.inject({ method: 'GET', url: '/healthz' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok' });
      expect(response.body).not.toContain('secret');
    } finally {
      await app.close();
    }
  });

  it('serves the bundled spec at /openapi.json, as an OpenAPI 3.1 document', async () => {
    const served = await call(server(), 'GET', '/openapi.json');
    expect(served.status).toBe(200);
    expect(served.body.openapi).toBe('3.1.0');
    expect(served.body).toEqual(JSON.parse(readFileSync(new URL('../../openapi/dist/openapi.json', import.meta.url), 'utf8')));
  });

  it('serves an interactive API reference at /docs, with every asset from this server', async () => {
    const page = await fetch(`${server().url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1]!, `${server().url}/docs`));
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset.origin).toBe(server().url);
      const response = await fetch(asset);
      await response.arrayBuffer();
      expect(response.status, asset.pathname).toBe(200);
    }
    const json = await fetch(`${server().url}/docs/json`);
    expect((await json.json()).openapi).toBe('3.1.0');
  });

  it('lists the same error codes in code, spec and docs', () => {
    const specCodes = ((spec.components.schemas as JsonObject).ProblemCode as { enum: string[] }).enum;
    expect([...specCodes].sort()).toEqual(Object.keys(problemCodes).sort());
    const table = readFileSync(new URL('../../docs/reference/errors.md', import.meta.url), 'utf8');
    const documented = [...table.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(documented.map(([code]) => code).sort()).toEqual(Object.keys(problemCodes).sort());
    for (const [code, status] of documented) expect(status, String(code)).toBe(problemCodes[code as keyof typeof problemCodes].status);
  });

  it('closes every request body schema against unknown properties', () => {
    const schemas = spec.components.schemas as Record<string, JsonObject>;
    const resolve = (schema: JsonObject): JsonObject =>
      typeof schema.$ref === 'string' ? resolve(schemas[schema.$ref.split('/').pop()!]!) : schema;
    const check = (schema: JsonObject, where: string): void => {
      const resolved = resolve(schema);
      for (const variant of (resolved.oneOf ?? resolved.anyOf ?? []) as JsonObject[]) check(variant, where);
      if (resolved.type === 'object') {
        expect(resolved.additionalProperties, where).toBe(false);
        for (const [name, property] of Object.entries((resolved.properties ?? {}) as Record<string, JsonObject>)) check(property, `${where}.${name}`);
      }
      if (resolved.type === 'array' && resolved.items) check(resolved.items as JsonObject, `${where}[]`);
    };
    // OAuth endpoints take forms whose unknown parameters must be ignored (RFC 6749 §3.1).
    for (const op of operations(spec)) if (op.schema.body && op.bodyMediaType === 'application/json') check(op.schema.body, op.operationId);
  });

  it('declares a client error response on every operation: problem documents, OAuth errors on the OAuth endpoints', () => {
    const byId = new Map(operations(spec).map((op) => [op.operationId, op]));
    for (const item of Object.values(spec.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const { operationId, responses } = operation as { operationId: string; responses: Record<string, JsonObject> };
        const clientErrors = Object.entries(responses).filter(([status]) => status.startsWith('4'));
        expect(clientErrors.length, operationId).toBeGreaterThan(0);
        // Pages (text/html) answer their errors as pages.
        const format = byId.get(operationId)!.errorFormat;
        const expected =
          format === 'oauth'
            ? ['OAuthError', 'text/html']
            : format === 'fhir'
              ? ['FhirError', 'OperationOutcome']
            : ['Problem', 'ClientError', 'BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'PayloadTooLarge', 'UnsupportedMediaType', 'PageOrProblem', 'text/html', 'responses/Page'];
        for (const [status, response] of clientErrors) {
          expect(expected.some((name) => JSON.stringify(response).includes(name)), `${operationId} ${status}`).toBe(true);
        }
      }
    }
  });
});
