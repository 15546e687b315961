// The server's validator and serializer compilers: compiled at start (servers that serve people) or
// at first use (test servers, BuildOptions.compileSchemasOnFirstUse), they must answer the same.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPONENTS_ID, componentsSchema, loadSpec } from '../src/core/spec.js';
import { createSerializerCompiler } from '../src/core/serialization.js';
import { createValidatorCompiler } from '../src/core/validation.js';
import { sampleAppInput } from '../src/testing.js';

const components = componentsSchema(loadSpec());
const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

/** A server with one route that takes the spec's AppInput and a coerced query, and answers a narrower object than it gets. */
async function appCompiling(onFirstUse: boolean): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  app.addSchema(components);
  app.setValidatorCompiler(createValidatorCompiler(components, { onFirstUse }));
  app.setSerializerCompiler(createSerializerCompiler(components, { onFirstUse }));
  app.post(
    '/apps',
    {
      schema: {
        body: { $ref: `${COMPONENTS_ID}#/$defs/AppInput` },
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, default: 20 }, tag: { type: 'array', items: { type: 'string' } } },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { name: { type: 'string' }, query: { type: 'object', additionalProperties: true } } } },
      },
    },
    async (request) => ({ ...(request.body as object), query: request.query, secret: 'never sent' }),
  );
  await app.ready();
  return app;
}

describe('schemas compiled at first use', () => {
  it('validate, coerce, fill defaults and serialize as the ones compiled at start', async () => {
    const [atStart, onFirstUse] = [await appCompiling(false), await appCompiling(true)];
    const app = sampleAppInput();
    const requests = [
      { url: '/apps?tag=a', payload: app },
      { url: '/apps?limit=3&tag=a&tag=b', payload: app },
      { url: '/apps?limit=0', payload: app },
      { url: '/apps?limit=two', payload: app },
      { url: '/apps?other=1', payload: app },
      { url: '/apps', payload: { ...app, name: 42 } },
      { url: '/apps', payload: { ...app, unknown: true } },
      { url: '/apps', payload: {} },
    ];
    for (const request of requests) {
      const [expected, actual] = await Promise.all([atStart, onFirstUse].map((server) => server.inject({ method: 'POST', ...request })));
      expect({ status: actual!.statusCode, body: actual!.json() }, request.url).toEqual({ status: expected!.statusCode, body: expected!.json() });
    }
    const answered = await onFirstUse.inject({ method: 'POST', url: '/apps?tag=a', payload: app });
    expect(answered.statusCode, answered.body).toBe(200);
    expect(answered.json()).toEqual({ name: 'TensioSuivi', query: { tag: ['a'], limit: 20 } });
  });

  it('compile nothing until called: a schema Ajv refuses fails at the first call, not before', () => {
    const broken = { type: 'object', notAKeyword: true };
    const route = { schema: broken, httpPart: 'body', method: 'POST', url: '/x' } as never;
    expect(() => createValidatorCompiler(components)(route)).toThrow(/notAKeyword/);
    const validate = createValidatorCompiler(components, { onFirstUse: true })(route) as (value: unknown) => boolean;
    expect(() => validate({})).toThrow(/notAKeyword/);
  });
});
