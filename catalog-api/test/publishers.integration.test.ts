import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { call, expectProblem, registerPublisher, registrationNumber, useServer } from './helpers.js';

describe('publishers in the sandbox', () => {
  const server = useServer();

  it('registers a publisher, verified at once, and returns its API key once', async () => {
    const number = registrationNumber();
    const result = await call(server(), 'POST', '/publishers', {
      body: { name: 'Santé Connectée', registrationNumber: number, contactEmail: 'dev@sante.example.fr', domains: ['sante.example.fr'] },
    });
    expect(result.status).toBe(201);
    expect(result.body.publisher).toMatchObject({ name: 'Santé Connectée', registrationNumber: number, status: 'verified', domains: ['sante.example.fr'] });
    expect(result.body.apiKey.key).toMatch(/^mes_pk_[A-Za-z0-9_-]{43}$/);
    expect(result.body.apiKey.key.startsWith(result.body.apiKey.prefix)).toBe(true);

    const me = await call(server(), 'GET', '/publishers/me', { key: result.body.apiKey.key });
    expect(me.body).toEqual(result.body.publisher);
    const keys = await call(server(), 'GET', '/publishers/me/api-keys', { key: result.body.apiKey.key });
    expect(keys.body.items).toHaveLength(1);
    expect(keys.body.items[0]).not.toHaveProperty('key');
    expect(keys.body.items[0].lastUsedAt).not.toBeNull();
  });

  it('refuses a second registration with the same number and writes nothing', async () => {
    const number = registrationNumber();
    const body = { name: 'Premier', registrationNumber: number, contactEmail: 'a@premier.example.fr' };
    expect((await call(server(), 'POST', '/publishers', { body })).status).toBe(201);
    expectProblem(await call(server(), 'POST', '/publishers', { body: { ...body, name: 'Second' } }), 409, 'publisher_exists');
  });

  it.each([
    ['a registration number that is not 14 digits', { registrationNumber: '1234' }],
    ['an invalid email', { contactEmail: 'not-an-email' }],
    ['an invalid domain', { domains: ['https://sante.example.fr'] }],
    ['an unknown field', { role: 'admin' }],
  ])('refuses %s', async (_case, change) => {
    const body = { name: 'Éditeur', registrationNumber: registrationNumber(), contactEmail: 'dev@editeur.example.fr', ...change };
    expectProblem(await call(server(), 'POST', '/publishers', { body }), 400, 'validation_failed');
  });

  it('updates its details', async () => {
    const { key } = await registerPublisher(server());
    const result = await call(server(), 'PATCH', '/publishers/me', { key, body: { name: 'Nouveau nom', domains: ['nouveau.example.fr'] } });
    expect(result.body).toMatchObject({ name: 'Nouveau nom', domains: ['nouveau.example.fr'], status: 'verified' });
    expectProblem(await call(server(), 'PATCH', '/publishers/me', { key, body: { registrationNumber: '11111111111111' } }), 400, 'validation_failed');
  });

  it('creates and revokes API keys; a revoked key stops working at once', async () => {
    const { key } = await registerPublisher(server());
    const second = await call(server(), 'POST', '/publishers/me/api-keys', { key, body: { label: 'CI' } });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ label: 'CI', key: expect.stringMatching(/^mes_pk_/) });
    expect((await call(server(), 'GET', '/publishers/me', { key: second.body.key })).status).toBe(200);
    const unnamed = await call(server(), 'POST', '/publishers/me/api-keys', { key });
    expect(unnamed.body.label).toBe('unnamed');

    expect((await call(server(), 'DELETE', `/publishers/me/api-keys/${second.body.id}`, { key })).status).toBe(204);
    expectProblem(await call(server(), 'GET', '/publishers/me', { key: second.body.key }), 401, 'invalid_api_key');
    expectProblem(await call(server(), 'DELETE', `/publishers/me/api-keys/${second.body.id}`, { key }), 404, 'not_found');
    expect((await call(server(), 'GET', '/publishers/me/api-keys', { key })).body.items).toHaveLength(2);
  });

  it("cannot revoke another publisher's key", async () => {
    const a = await registerPublisher(server());
    const b = await registerPublisher(server());
    const bKeys = await call(server(), 'GET', '/publishers/me/api-keys', { key: b.key });
    expectProblem(await call(server(), 'DELETE', `/publishers/me/api-keys/${bKeys.body.items[0].id}`, { key: a.key }), 404, 'not_found');
    expect((await call(server(), 'GET', '/publishers/me', { key: b.key })).status).toBe(200);
  });

  it('stores API keys only as hashes', async () => {
    const { key } = await registerPublisher(server());
    const rows = await server().app.db.query<{ key_hash: string }>('SELECT * FROM publisher_api_keys');
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(key.slice(20));
  });
});

describe('publishers outside the sandbox', () => {
  const operatorToken = randomBytes(24).toString('base64url');
  const server = useServer({ mode: 'production', publicUrl: 'https://platform.test', operatorToken });
  const unconfigured = useServer({ mode: 'production', publicUrl: 'https://platform.test' });

  it('start pending verification until an operator verifies them', async () => {
    const { id, key } = await registerPublisher(server());
    expect((await call(server(), 'GET', '/publishers/me', { key })).body).toMatchObject({ status: 'pending_verification', verifiedAt: null });

    expectProblem(await call(server(), 'PUT', `/operator/publishers/${id}/verification`), 401, 'authentication_required');
    expectProblem(await call(server(), 'PUT', `/operator/publishers/${id}/verification`, { key }), 401, 'invalid_operator_token');
    expectProblem(
      await call(server(), 'PUT', `/operator/publishers/${id}/verification`, { key: `${operatorToken}x` }),
      401,
      'invalid_operator_token',
    );

    const verified = await call(server(), 'PUT', `/operator/publishers/${id}/verification`, { key: operatorToken });
    expect(verified.body).toMatchObject({ id, status: 'verified', verifiedAt: expect.any(String) });
    const again = await call(server(), 'PUT', `/operator/publishers/${id}/verification`, { key: operatorToken });
    expect(again.body.verifiedAt).toBe(verified.body.verifiedAt);
    expectProblem(
      await call(server(), 'PUT', '/operator/publishers/00000000-0000-4000-8000-000000000000/verification', { key: operatorToken }),
      404,
      'not_found',
    );

    // Changing domains sends the publisher back to verification.
    const changed = await call(server(), 'PATCH', '/publishers/me', { key, body: { domains: ['autre.example.fr'] } });
    expect(changed.body).toMatchObject({ status: 'pending_verification', verifiedAt: null });
  });

  it('refuses operator operations when no operator token is configured', async () => {
    const { id } = await registerPublisher(unconfigured());
    expectProblem(
      await call(unconfigured(), 'PUT', `/operator/publishers/${id}/verification`, { key: 'anything-at-all-anything-at-all-x' }),
      401,
      'invalid_operator_token',
    );
  });
});
