import { describe, expect, it } from 'vitest';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';

const server = useServer();

describe('apps of a publisher', () => {
  it('creates, reads, updates, lists and deletes an app', async () => {
    const { key, id: publisherId } = await registerPublisher(server());
    const created = await call(server(), 'POST', '/apps', { key, body: appInput() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ publisherId, name: 'TensioSuivi', certificationStatus: 'draft', certifiedAt: null, logoUrl: null });
    expect(created.headers.get('location')).toBe(`/apps/${created.body.id}`);

    const shown = await call(server(), 'GET', `/apps/${created.body.id}`, { key });
    expect(shown.body).toEqual(created.body);

    const updated = await call(server(), 'PATCH', `/apps/${created.body.id}`, {
      key,
      body: { name: 'TensioSuivi Pro', logoUrl: 'https://tensiosuivi.example.fr/logo.png' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'TensioSuivi Pro', logoUrl: 'https://tensiosuivi.example.fr/logo.png', category: 'suivi-maladie-chronique' });
    const logoRemoved = await call(server(), 'PATCH', `/apps/${created.body.id}`, { key, body: { logoUrl: null } });
    expect(logoRemoved.body.logoUrl).toBeNull();

    const listed = await call(server(), 'GET', '/apps', { key });
    expect(listed.body.items.map((app: { id: string }) => app.id)).toEqual([created.body.id]);

    expect((await call(server(), 'DELETE', `/apps/${created.body.id}`, { key })).status).toBe(204);
    expectProblem(await call(server(), 'GET', `/apps/${created.body.id}`, { key }), 404, 'not_found');
  });

  it('stores scopes in their canonical SMART v2 form', async () => {
    const { key } = await registerPublisher(server());
    const created = await call(server(), 'POST', '/apps', {
      key,
      body: appInput({
        scopes: [
          { scope: 'patient/Immunization.read', justification: 'Afficher vos vaccinations.' },
          { scope: 'patient/Observation.*', justification: 'Lire et écrire vos mesures.' },
          { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
        ],
      }),
    });
    expect(created.body.scopes.map((s: { scope: string }) => s.scope)).toEqual(['patient/Immunization.rs', 'patient/Observation.cruds', 'launch/patient']);
  });

  it('pages through apps in creation order with an opaque cursor', async () => {
    const { key } = await registerPublisher(server());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await call(server(), 'POST', '/apps', { key, body: appInput({ name: `App ${i}` }) })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await call(server(), 'GET', `/apps?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((app: { id: string }) => app.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
  });

  it('refuses a cursor it did not issue', async () => {
    const { key } = await registerPublisher(server());
    expectProblem(await call(server(), 'GET', '/apps?cursor=bm90LWEtY3Vyc29y', { key }), 400, 'invalid_cursor');
    expectProblem(await call(server(), 'GET', '/apps?cursor=not*valid', { key }), 400, 'validation_failed');
  });

  it('keeps each publisher to its own apps: another key gets 404 and changes nothing', async () => {
    const owner = await registerPublisher(server(), 'Propriétaire');
    const other = await registerPublisher(server(), 'Concurrent');
    const created = await call(server(), 'POST', '/apps', { key: owner.key, body: appInput() });
    const path = `/apps/${created.body.id}`;

    expectProblem(await call(server(), 'GET', path, { key: other.key }), 404, 'not_found');
    expectProblem(await call(server(), 'PATCH', path, { key: other.key, body: { name: 'Volée' } }), 404, 'not_found');
    expectProblem(await call(server(), 'DELETE', path, { key: other.key }), 404, 'not_found');
    expect((await call(server(), 'GET', '/apps', { key: other.key })).body.items).toEqual([]);

    const after = await call(server(), 'GET', path, { key: owner.key });
    expect(after.body).toEqual(created.body);
  });

  it('refuses requests without a valid API key', async () => {
    const missing = await call(server(), 'GET', '/apps');
    expectProblem(missing, 401, 'authentication_required');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm="mes"/);
    expectProblem(await call(server(), 'GET', '/apps', { key: 'mes_pk_notakey' }), 401, 'invalid_api_key');
    expectProblem(await call(server(), 'GET', '/apps', { headers: { authorization: 'Bearer' } }), 401, 'invalid_api_key');
    // A scheme neither credential uses: the answer names both ways to authenticate.
    const basic = await call(server(), 'GET', '/apps', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expectProblem(basic, 401, 'authentication_required');
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="mes", DPoP algs="ES256 PS256 EdDSA"');
    // Authentication comes before validation: an anonymous caller learns nothing about the body rules.
    expectProblem(await call(server(), 'POST', '/apps', { body: { name: 1 } }), 401, 'authentication_required');
  });
});

describe('bad input is refused with a problem document and writes nothing', () => {
  async function expectNothingWritten(key: string) {
    expect((await call(server(), 'GET', '/apps', { key })).body.items).toEqual([]);
  }

  it('refuses an unknown field instead of dropping it', async () => {
    const { key } = await registerPublisher(server());
    const result = await call(server(), 'POST', '/apps', { key, body: { ...appInput(), isAdmin: true } });
    expectProblem(result, 400, 'validation_failed');
    expect(result.body.errors).toEqual([{ pointer: '/body/isAdmin', detail: 'unknown property "isAdmin"' }]);
    expectProblem(await call(server(), 'POST', '/apps', { key, body: { ...appInput(), supportContact: { email: 'a@b.fr', fax: '1' } } }), 400, 'validation_failed');
    await expectNothingWritten(key);
  });

  it('refuses a wrong type without coercing it', async () => {
    const { key } = await registerPublisher(server());
    const result = await call(server(), 'POST', '/apps', { key, body: { ...appInput(), name: 42 } });
    expectProblem(result, 400, 'validation_failed');
    expect(result.body.errors[0].pointer).toBe('/body/name');
    expectProblem(await call(server(), 'POST', '/apps', { key, body: { ...appInput(), category: 'casino' } }), 400, 'validation_failed');
    const { name: _name, ...withoutName } = appInput();
    const missing = await call(server(), 'POST', '/apps', { key, body: withoutName });
    expect(missing.body.errors[0].pointer).toBe('/body/name');
    await expectNothingWritten(key);
  });

  it.each([
    ['an extra path segment in a fragment', 'https://app.example.fr/cb#frag', 'fragment'],
    ['a wildcard', 'https://*.example.fr/cb', 'wildcard'],
    ['http on a public host', 'http://app.example.fr/cb', 'https'],
    ['javascript:', 'javascript:alert(1)', 'https'],
    ['a custom scheme', 'com.example.app:/callback', 'https'],
    ['user information', 'https://user:pass@app.example.fr/cb', 'user information'],
    ['a relative reference', '/oauth/callback', 'absolute'],
  ])('refuses a redirect URI with %s', async (_case, uri, reason) => {
    const { key } = await registerPublisher(server());
    const result = await call(server(), 'POST', '/apps', { key, body: appInput({ redirectUris: ['https://ok.example.fr/cb', uri] }) });
    expect(result.status).toBe(400);
    expect(['invalid_redirect_uri', 'validation_failed']).toContain(result.body.code);
    expect(result.body.errors[0].pointer).toBe('/body/redirectUris/1');
    if (result.body.code === 'invalid_redirect_uri') expect(result.body.errors[0].detail).toContain(reason);
    await expectNothingWritten(key);
  });

  it('accepts loopback http redirect URIs for native apps', async () => {
    const { key } = await registerPublisher(server());
    const uris = ['http://127.0.0.1/callback', 'http://[::1]:8080/callback', 'http://localhost:3000/cb'];
    const result = await call(server(), 'POST', '/apps', { key, body: appInput({ redirectUris: uris }) });
    expect(result.status).toBe(201);
    expect(result.body.redirectUris).toEqual(uris);
  });

  it('refuses a bad redirect URI on update and keeps the app unchanged', async () => {
    const { key } = await registerPublisher(server());
    const created = await call(server(), 'POST', '/apps', { key, body: appInput() });
    const result = await call(server(), 'PATCH', `/apps/${created.body.id}`, { key, body: { redirectUris: ['http://evil.example.com/cb'] } });
    expectProblem(result, 400, 'invalid_redirect_uri');
    expect((await call(server(), 'GET', `/apps/${created.body.id}`, { key })).body).toEqual(created.body);
  });

  it.each([
    ['patient/Observation.sr', 'order'],
    ['patient/Unicorn.rs', 'unsupported resource type'],
    ['system/Observation.rs', 'patient/'],
    ['admin', 'not a SMART scope'],
  ])('refuses the scope %s', async (scope, reason) => {
    const { key } = await registerPublisher(server());
    const result = await call(server(), 'POST', '/apps', {
      key,
      body: appInput({ scopes: [{ scope, justification: 'Une justification suffisante.' }] }),
    });
    expectProblem(result, 400, 'invalid_scope');
    expect(result.body.errors[0]).toMatchObject({ pointer: '/body/scopes/0/scope' });
    expect(result.body.errors[0].detail).toContain(reason);
    await expectNothingWritten(key);
  });

  it('refuses the same scope twice, even in two spellings', async () => {
    const { key } = await registerPublisher(server());
    const result = await call(server(), 'POST', '/apps', {
      key,
      body: appInput({
        scopes: [
          { scope: 'patient/Observation.read', justification: 'Lire vos mesures.' },
          { scope: 'patient/Observation.rs', justification: 'Lire vos mesures encore.' },
        ],
      }),
    });
    expectProblem(result, 400, 'invalid_scope');
  });

  it('refuses an oversized body with 413', async () => {
    const { key } = await registerPublisher(server());
    const huge = appInput({ longDescription: { fr: 'x'.repeat(2 * 1024 * 1024) } });
    expectProblem(await call(server(), 'POST', '/apps', { key, body: huge }), 413, 'payload_too_large');
    await expectNothingWritten(key);
  });

  it('refuses malformed, deeply nested, poisoned and non-JSON bodies', async () => {
    const { key } = await registerPublisher(server());
    expectProblem(await call(server(), 'POST', '/apps', { key, raw: '{"name": "TensioSuivi",' }), 400, 'malformed_json');
    expectProblem(await call(server(), 'POST', '/apps', { key, raw: `${'['.repeat(40)}${']'.repeat(40)}` }), 400, 'json_too_deep');
    expectProblem(await call(server(), 'POST', '/apps', { key, raw: '{"__proto__": {"admin": true}}' }), 400, 'malformed_json');
    expectProblem(await call(server(), 'POST', '/apps', { key, raw: '' }), 400, 'malformed_json');
    expectProblem(
      await call(server(), 'POST', '/apps', { key, raw: 'name=TensioSuivi', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'unsupported_media_type',
    );
    await expectNothingWritten(key);
  });

  it('refuses an empty update and a bad id', async () => {
    const { key } = await registerPublisher(server());
    const created = await call(server(), 'POST', '/apps', { key, body: appInput() });
    expectProblem(await call(server(), 'PATCH', `/apps/${created.body.id}`, { key, body: {} }), 400, 'validation_failed');
    const badId = await call(server(), 'GET', '/apps/not-a-uuid', { key });
    expectProblem(badId, 400, 'validation_failed');
    expect(badId.body.errors[0].pointer).toBe('/params/appId');
  });

  it('refuses unknown and out-of-range query parameters', async () => {
    const { key } = await registerPublisher(server());
    expectProblem(await call(server(), 'GET', '/apps?limt=5', { key }), 400, 'validation_failed');
    expectProblem(await call(server(), 'GET', '/apps?limit=0', { key }), 400, 'validation_failed');
    expectProblem(await call(server(), 'GET', '/apps?limit=101', { key }), 400, 'validation_failed');
  });
});
