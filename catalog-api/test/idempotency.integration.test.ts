// Idempotency keys on the write operations: a retried create with the same key creates once and
// answers the first answer again; the same key with another request, or while the first runs, is
// refused; a failed request keeps nothing; keys of one caller are not another's.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { idempotencySweep } from '../src/core/idempotency.js';
import { systems } from '../src/modules/records/vocabulary.js';
import { fhirRequest, patientToken, seedRecord } from './fhir-helpers.js';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';

const server = useServer();
const withKey = (key: string) => ({ 'idempotency-key': key });
const appCount = async (apiKey: string) => (await call(server(), 'GET', '/apps?limit=100', { key: apiKey })).body.items.length;

describe('Idempotency-Key on creates', () => {
  it('creates once: a retry with the same key and request gets the first answer again', async () => {
    const { key } = await registerPublisher(server());
    const idempotencyKey = randomUUID();
    const body = appInput({ name: 'Appli rejouée' });
    const first = await call(server(), 'POST', '/apps', { key, body, headers: withKey(idempotencyKey) });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await call(server(), 'POST', '/apps', { key, body, headers: withKey(idempotencyKey) });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(await appCount(key)).toBe(1);

    // Without a key, each request is its own.
    await call(server(), 'POST', '/apps', { key, body: appInput({ name: 'Sans clé 1' }) });
    await call(server(), 'POST', '/apps', { key, body: appInput({ name: 'Sans clé 1' }) });
    expect(await appCount(key)).toBe(3);
  });

  it('refuses the same key with another request, and creates nothing', async () => {
    const { key } = await registerPublisher(server());
    const idempotencyKey = randomUUID();
    expect((await call(server(), 'POST', '/apps', { key, body: appInput({ name: 'Première' }), headers: withKey(idempotencyKey) })).status).toBe(201);
    const other = await call(server(), 'POST', '/apps', { key, body: appInput({ name: 'Deuxième' }), headers: withKey(idempotencyKey) });
    expectProblem(other, 422, 'idempotency_key_reused');
    expect(await appCount(key)).toBe(1);
  });

  it('keeps keys apart between callers', async () => {
    const alice = await registerPublisher(server(), 'Éditeur A');
    const bob = await registerPublisher(server(), 'Éditeur B');
    const idempotencyKey = randomUUID();
    const body = appInput({ name: 'Même clé' });
    const a = await call(server(), 'POST', '/apps', { key: alice.key, body, headers: withKey(idempotencyKey) });
    const b = await call(server(), 'POST', '/apps', { key: bob.key, body, headers: withKey(idempotencyKey) });
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.publisherId).toBe(bob.id);
  });

  it('keeps nothing when the request fails, so its retry runs', async () => {
    const { key } = await registerPublisher(server());
    const idempotencyKey = randomUUID();
    const refused = await call(server(), 'POST', '/apps', { key, body: appInput({ redirectUris: ['http://evil.example.com/cb'] }), headers: withKey(idempotencyKey) });
    expectProblem(refused, 400, 'invalid_redirect_uri');
    const fixed = await call(server(), 'POST', '/apps', { key, body: appInput(), headers: withKey(idempotencyKey) });
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });

  it('answers 409 while the first request runs, and runs again once it is taken as lost', async () => {
    const publisher = await registerPublisher(server());
    const idempotencyKey = randomUUID();
    const body = appInput({ name: 'En cours' });
    // The first request's reservation, as an instance that is still running it leaves it.
    const fingerprint = createHash('sha256').update(`POST /apps\n${JSON.stringify(body)}`).digest('base64url');
    await server().app.db.query(
      `INSERT INTO idempotency_keys (scope, key, operation_id, fingerprint, expires_at) VALUES ($1, $2, 'createApp', $3, now() + interval '1 day')`,
      [`publisher:${publisher.id}`, idempotencyKey, fingerprint],
    );
    const busy = await call(server(), 'POST', '/apps', { key: publisher.key, body, headers: withKey(idempotencyKey) });
    expectProblem(busy, 409, 'idempotency_request_in_progress');
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(await appCount(publisher.key)).toBe(0);

    await server().app.db.query(`UPDATE idempotency_keys SET created_at = now() - interval '2 minutes' WHERE key = $1`, [idempotencyKey]);
    const taken = await call(server(), 'POST', '/apps', { key: publisher.key, body, headers: withKey(idempotencyKey) });
    expect(taken.status).toBe(201);
    expect(await appCount(publisher.key)).toBe(1);
  });

  it('refuses a malformed key', async () => {
    const { key } = await registerPublisher(server());
    for (const bad of ['with space', 'x'.repeat(256), 'é']) {
      expectProblem(await call(server(), 'POST', '/apps', { key, body: appInput(), headers: withKey(bad) }), 400, 'validation_failed');
    }
    expect(await appCount(key)).toBe(0);
  });

  it('creates an Observation once when an app retries with the same key', async () => {
    const patient = 'idempotency-patient';
    await seedRecord(server(), patient);
    const session = await patientToken(server(), patient, 'patient/Observation.crs');
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: systems.observationCategory, code: 'vital-signs' }] }],
      code: { coding: [{ system: systems.loinc, code: '8867-4', display: 'Fréquence cardiaque' }] },
      effectiveDateTime: '2026-11-29T07:00:00Z',
      valueQuantity: { value: 61, unit: 'battements/min', system: systems.ucum, code: '/min' },
    };
    const idempotencyKey = randomUUID();
    const first = await fhirRequest(server(), session, 'POST', '/fhir/Observation', { body: observation, headers: withKey(idempotencyKey) });
    expect(first.status).toBe(201);
    const retry = await fhirRequest(server(), session, 'POST', '/fhir/Observation', { body: observation, headers: withKey(idempotencyKey) });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    const count = await server().app.db.query(
      `SELECT count(*)::int AS n FROM fhir_resources WHERE patient_id = $1 AND resource_type = 'Observation' AND content -> 'valueQuantity' ->> 'value' = '61'`,
      [patient],
    );
    expect(count[0]!.n).toBe(1);
  });

  it('forgets keys a day after their first use', async () => {
    const { key } = await registerPublisher(server());
    const idempotencyKey = randomUUID();
    await call(server(), 'POST', '/apps', { key, body: appInput(), headers: withKey(idempotencyKey) });
    await server().app.db.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1`, [idempotencyKey]);
    expect(await idempotencySweep.sweep(server().app.db, 1000)).toBeGreaterThanOrEqual(1);
    expect((await server().app.db.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [idempotencyKey])).length).toBe(0);
  });
});
