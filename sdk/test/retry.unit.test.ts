import { ConnectionError, createPublisherClient, RateLimitError, ServerError, BadRequestError } from '@mes/sdk/publisher';
import { describe, expect, it } from 'vitest';
import { backoffDelay, initialRetryDelay, maxRetryDelay } from '../src/internal/transport.js';
import { baseUrl, fakeFetch, json, networkError, problem } from './helpers/fake-fetch.js';

// Retry-After: 0 keeps these tests fast while going through the server-driven delay path.
const unavailable = () => problem(503, 'not_ready', 'Starting.', { 'retry-after': '0' });

describe('retries', () => {
  it('retries an idempotent call on 5xx, then succeeds', async () => {
    const { fetch, requests } = fakeFetch(unavailable(), unavailable(), json(200, { status: 'ok' }));
    await expect(createPublisherClient({ baseUrl, fetch }).health.get()).resolves.toEqual({ status: 'ok' });
    expect(requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
  });

  it('gives up after maxRetries (default 2) and throws the last error', async () => {
    const { fetch, requests } = fakeFetch(unavailable(), unavailable(), unavailable(), json(200, {}));
    const error = await createPublisherClient({ baseUrl, fetch }).health.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).code).toBe('not_ready');
    expect(requests).toHaveLength(3);
  });

  it('retries DELETE (idempotent) on 408 and 429', async () => {
    const { fetch, requests } = fakeFetch(
      problem(408, 'request_timeout', 'Too slow.', { 'retry-after': '0' }),
      problem(429, 'rate_limited', 'Slow down.', { 'retry-after': '0' }),
      new Response(null, { status: 204 }),
    );
    await createPublisherClient({ baseUrl, fetch }).apps.delete('a1');
    expect(requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE', 'DELETE']);
  });

  it('retries a create with the same Idempotency-Key each time, so the server creates once', async () => {
    const { fetch, requests } = fakeFetch(unavailable(), networkError(), json(201, { id: 'a1' }));
    await expect(createPublisherClient({ baseUrl, fetch }).apps.create({} as never)).resolves.toEqual({ id: 'a1' });
    expect(requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    const keys = requests.map((r) => r.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(keys).size).toBe(1);

    // Each call has its own key; a caller's own key is sent as given.
    const again = fakeFetch(json(201, { id: 'a2' }), json(201, { id: 'k1' }));
    const client = createPublisherClient({ baseUrl, fetch: again.fetch });
    await client.apps.create({} as never);
    await client.apiKeys.create({ name: 'ci' } as never, { idempotencyKey: 'order-42' });
    expect(again.requests[0]!.headers.get('idempotency-key')).not.toBe(keys[0]);
    expect(again.requests[1]!.headers.get('idempotency-key')).toBe('order-42');
    await expect(client.apps.create({} as never, { idempotencyKey: 'bad key' })).rejects.toThrow(/idempotencyKey/);
  });

  it('never retries other POSTs or PATCH, which are not idempotent', async () => {
    const post = fakeFetch(unavailable(), json(201, {}));
    const error = await createPublisherClient({ baseUrl, fetch: post.fetch })
      .publishers.register({} as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(post.requests).toHaveLength(1);
    expect(post.requests[0]!.headers.get('idempotency-key')).toBeNull();

    const patch = fakeFetch(networkError(), json(200, {}));
    await expect(createPublisherClient({ baseUrl, fetch: patch.fetch }).apps.update('a1', { name: 'New' })).rejects.toBeInstanceOf(
      ConnectionError,
    );
    expect(patch.requests).toHaveLength(1);
  });

  it('does not retry client errors other than 408 and 429', async () => {
    const { fetch, requests } = fakeFetch(problem(400, 'invalid_cursor', 'Bad cursor.'), json(200, {}));
    await expect(createPublisherClient({ baseUrl, fetch }).apps.list({ cursor: 'x' })).rejects.toBeInstanceOf(BadRequestError);
    expect(requests).toHaveLength(1);
  });

  it('retries network errors of idempotent calls with backoff', async () => {
    const { fetch, requests } = fakeFetch(networkError(), json(200, { status: 'ok' }));
    const started = Date.now();
    await expect(createPublisherClient({ baseUrl, fetch }).health.get()).resolves.toEqual({ status: 'ok' });
    expect(requests).toHaveLength(2);
    // First retry waits between half and all of the initial delay.
    expect(Date.now() - started).toBeGreaterThanOrEqual(initialRetryDelay / 2 - 20);
  });

  it('honours Retry-After (in seconds) before retrying', async () => {
    const { fetch, requests } = fakeFetch(problem(429, 'rate_limited', 'Slow down.', { 'retry-after': '1' }), json(200, { status: 'ok' }));
    const started = Date.now();
    await createPublisherClient({ baseUrl, fetch }).health.get();
    expect(requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(980);
  });

  it('can be turned off per client and per call', async () => {
    const perClient = fakeFetch(problem(429, 'rate_limited', 'Slow down.', { 'retry-after': '0' }), json(200, {}));
    await expect(createPublisherClient({ baseUrl, fetch: perClient.fetch, maxRetries: 0 }).health.get()).rejects.toBeInstanceOf(
      RateLimitError,
    );
    expect(perClient.requests).toHaveLength(1);

    const perCall = fakeFetch(unavailable(), json(200, { status: 'ok' }));
    await expect(createPublisherClient({ baseUrl, fetch: perCall.fetch }).health.get({ maxRetries: 0 })).rejects.toBeInstanceOf(
      ServerError,
    );
    expect(perCall.requests).toHaveLength(1);
  });
});

describe('backoffDelay', () => {
  it('doubles at each retry, up to the cap', () => {
    const upper = (retry: number) => backoffDelay(retry, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(upper)).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(upper(6)).toBe(maxRetryDelay);
  });

  it('keeps at least half of the delay and randomises the rest', () => {
    expect(backoffDelay(2, () => 0)).toBe(500);
    expect(backoffDelay(2, () => 0.5)).toBe(750);
    const samples = new Set(Array.from({ length: 20 }, () => backoffDelay(3)));
    expect(samples.size).toBeGreaterThan(1);
    for (const delay of samples) {
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });
});
