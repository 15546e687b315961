import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  createPublisherClient,
  MesError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from '@mes/sdk/publisher';
import { describe, expect, it } from 'vitest';
import { baseUrl, fakeFetch, json, networkError, problem } from './helpers/fake-fetch.js';

describe('ApiError.generate', () => {
  const cases: [number, typeof ApiError][] = [
    [400, BadRequestError],
    [422, BadRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [409, ConflictError],
    [413, PayloadTooLargeError],
    [429, RateLimitError],
    [500, ServerError],
    [503, ServerError],
    [599, ServerError],
    [415, ApiError],
    [418, ApiError],
  ];
  it.each(cases)('maps %i to %o', (status, expected) => {
    const error = ApiError.generate({ status, headers: new Headers() });
    expect(error).toBeInstanceOf(expected);
    expect(error.constructor).toBe(expected);
    expect(error).toBeInstanceOf(MesError);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(status);
  });
});

describe('error responses', () => {
  it('builds the error from the problem document and the x-request-id header', async () => {
    const { fetch } = fakeFetch(
      problem(400, 'validation_failed', 'body/name: must NOT have fewer than 2 characters', { 'x-request-id': 'req-abcdef12' }, {
        errors: [{ pointer: '/body/name', detail: 'must NOT have fewer than 2 characters' }],
      }),
    );
    const client = createPublisherClient({ baseUrl, apiKey: 'mes_pk_test', fetch });
    const error = await client.publishers.update({ name: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    const apiError = error as BadRequestError;
    expect(apiError.name).toBe('BadRequestError');
    expect(apiError.status).toBe(400);
    expect(apiError.code).toBe('validation_failed');
    expect(apiError.requestId).toBe('req-abcdef12');
    expect(apiError.problem?.detail).toBe('body/name: must NOT have fewer than 2 characters');
    expect(apiError.errors).toEqual([{ pointer: '/body/name', detail: 'must NOT have fewer than 2 characters' }]);
    expect(apiError.headers.get('content-type')).toBe('application/problem+json');
    expect(apiError.message).toBe(
      'validation_failed: body/name: must NOT have fewer than 2 characters (request id req-abcdef12)',
    );
  });

  it('falls back to the problem requestId when the header is missing', async () => {
    const body = { type: 'urn:mes:problem:not_found', title: 'Not found', status: 404, code: 'not_found', requestId: 'req-in-body' };
    const { fetch } = fakeFetch(new Response(JSON.stringify(body), { status: 404, headers: { 'content-type': 'application/problem+json' } }));
    const error = await createPublisherClient({ baseUrl, fetch }).catalog.get('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).requestId).toBe('req-in-body');
    expect((error as NotFoundError).message).toBe('not_found: Not found (request id req-in-body)');
  });

  it('maps a response that is not a problem document by its status', async () => {
    const { fetch } = fakeFetch(new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    const error = await createPublisherClient({ baseUrl, fetch, maxRetries: 0 }).health.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).code).toBeUndefined();
    expect((error as ServerError).problem).toBeUndefined();
    expect((error as ServerError).message).toBe('HTTP 502 Bad Gateway');
  });

  it('keeps codes the SDK does not know yet', async () => {
    const { fetch } = fakeFetch(problem(409, 'brand_new_code', 'Something new.'));
    const error = await createPublisherClient({ baseUrl, fetch }).apps.delete('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('brand_new_code');
  });
});

describe('transport failures', () => {
  it('turns a network failure into a ConnectionError with its cause', async () => {
    const { fetch } = fakeFetch(networkError());
    const error = await createPublisherClient({ baseUrl, fetch, maxRetries: 0 }).apps.get('a1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect((error as ConnectionError).message).toBe(`Could not reach ${baseUrl}/ for GET /apps/a1 (ECONNREFUSED).`);
    expect((error as ConnectionError).cause).toBeInstanceOf(TypeError);
  });

  it('turns a slow response into a TimeoutError, which is also a ConnectionError', async () => {
    const { fetch } = fakeFetch(() => new Promise<Response>(() => {}));
    const error = await createPublisherClient({ baseUrl, fetch, timeout: 50 }).apps.get('a1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as TimeoutError).message).toBe('No response to GET /apps/a1 in time.');
  });

  it("rejects with the caller's abort reason, without retrying", async () => {
    const controller = new AbortController();
    const { fetch, requests } = fakeFetch(
      (request) =>
        new Promise<Response>((_, reject) => {
          controller.abort(new Error('user gave up'));
          reject(controller.signal.reason);
          void request;
        }),
    );
    const error = await createPublisherClient({ baseUrl, fetch })
      .apps.get('a1', { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toEqual(new Error('user gave up'));
    expect(requests).toHaveLength(1);
  });

  it('refuses bad client options before any request', () => {
    expect(() => createPublisherClient({ baseUrl: 'localhost:4010' })).toThrow(MesError);
    expect(() => createPublisherClient({ baseUrl: 'ftp://example.org' })).toThrow(/http or https/);
    expect(() => createPublisherClient({ baseUrl, timeout: 0 })).toThrow(/timeout/);
    expect(() => createPublisherClient({ baseUrl, maxRetries: -1 })).toThrow(/maxRetries/);
  });

  it('sends the API key as a bearer token, and JSON bodies', async () => {
    const { fetch, requests } = fakeFetch(json(201, { id: 'k1', key: 'mes_pk_new' }));
    await createPublisherClient({ baseUrl: `${baseUrl}/v1`, apiKey: 'mes_pk_secret', fetch }).apiKeys.create({ label: 'ci' });
    const [request] = requests;
    expect(request?.method).toBe('POST');
    expect(request?.url.href).toBe(`${baseUrl}/v1/publishers/me/api-keys`);
    expect(request?.headers.get('authorization')).toBe('Bearer mes_pk_secret');
    expect(request?.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual({ label: 'ci' });
  });

  it('resolves 204 No Content to undefined', async () => {
    const { fetch } = fakeFetch(new Response(null, { status: 204 }));
    await expect(createPublisherClient({ baseUrl, fetch }).apps.delete('a1')).resolves.toBeUndefined();
  });
});
