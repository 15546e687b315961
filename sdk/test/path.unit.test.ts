import { createPublisherClient, MesError } from '@mes/sdk/publisher';
import { describe, expect, it } from 'vitest';
import { encodePathSegment, path } from '../src/internal/path.js';
import { baseUrl, fakeFetch, json } from './helpers/fake-fetch.js';

describe('path', () => {
  it('percent-encodes every parameter', () => {
    expect(path`apps/${'a b/c?d#e'}`).toBe('apps/a%20b%2Fc%3Fd%23e');
    expect(path`publishers/me/api-keys/${'../x'}`).toBe('publishers/me/api-keys/..%2Fx');
    expect(path`a/${'%2e%2e'}/b`).toBe('a/%252e%252e/b');
    expect(encodePathSegment(42)).toBe('42');
  });

  it.each(['', '.', '..'])('refuses %j', (value) => {
    expect(() => path`apps/${value}`).toThrow(MesError);
  });

  it('refuses values that are not strings', () => {
    expect(() => encodePathSegment(undefined)).toThrow(/must be a string, got undefined/);
    expect(() => encodePathSegment(null)).toThrow(/got null/);
    expect(() => encodePathSegment({ id: 'x' })).toThrow(/got object/);
  });

  it('keeps a dot-segment id from reaching another resource, without sending anything', async () => {
    const { fetch, requests } = fakeFetch(json(200, {}));
    const client = createPublisherClient({ baseUrl, fetch });
    await expect(client.apps.get('..')).rejects.toThrow('The path parameter ".." is not allowed.');
    await expect(client.apps.delete('.')).rejects.toBeInstanceOf(MesError);
    await expect(client.apiKeys.revoke('')).rejects.toBeInstanceOf(MesError);
    await expect(client.catalog.get('..')).rejects.toBeInstanceOf(MesError);
    expect(requests).toHaveLength(0);
  });

  it('sends encoded ids on the wire', async () => {
    const { fetch, requests } = fakeFetch(json(200, {}));
    await createPublisherClient({ baseUrl, fetch }).apps.get('../publishers/me');
    expect(requests[0]?.url.pathname).toBe('/apps/..%2Fpublishers%2Fme');
  });
});
