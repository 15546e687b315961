// Idempotency keys on the write operations: a retried create with the same key creates once and
// answers the first answer again; the same key with another request, or while the first runs, is
// refused; a failed request keeps nothing; keys of one caller are not another's. A handler that
// records its answer in its own transaction commits it with what it wrote, and one taken as lost
// writes nothing when it finishes.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProblemError } from '../src/core/errors.js';
import { idempotency, idempotencySweep, type StoredAnswer } from '../src/core/idempotency.js';
import { fhirRequest, heartRate, patientToken, seedRecord } from './fhir-helpers.js';
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
    const observation = heartRate(61, '2026-11-29T07:00:00Z');
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

describe('Idempotency-Key with the answer recorded in the handler\'s transaction', () => {
  // What a handler writes, so that the tests can count it.
  beforeAll(async () => {
    await server().app.db.exec('CREATE TABLE IF NOT EXISTS idempotency_test_writes (key text NOT NULL)');
  });
  const writes = async (key: string) =>
    (await server().app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_test_writes WHERE key = $1', [key]))[0]!.n;
  /** A request with an Idempotency-Key, as the operations layer hands it over. */
  const request = (key: string) =>
    ({ method: 'POST', url: '/things', body: { thing: 1 }, headers: { 'idempotency-key': key }, principal: { kind: 'operator' } }) as unknown as FastifyRequest;
  const created: StoredAnswer = { status: 201, body: { id: 'chose-1' } };

  it('commits the answer with what the handler wrote: a failure after the commit keeps both, and the retry runs nothing', async () => {
    const keys = idempotency(server().app.db);
    const key = randomUUID();
    await expect(
      keys.run(request(key), 'createThing', async (settle) => {
        await server().app.db.transaction(async (tx) => {
          await tx.query('INSERT INTO idempotency_test_writes (key) VALUES ($1)', [key]);
          await settle!(tx, created);
        });
        throw new Error('the instance failed after its commit');
      }),
    ).rejects.toThrow('after its commit');
    let ranAgain = false;
    const retry = await keys.run(request(key), 'createThing', async () => {
      ranAgain = true;
      return created;
    });
    expect(ranAgain).toBe(false);
    expect(retry).toMatchObject({ status: 201, body: { id: 'chose-1' }, headers: { 'idempotent-replayed': 'true' } });
    expect(await writes(key)).toBe(1);
  });

  it('keeps nothing when the transaction rolls back after settling, so the retry runs', async () => {
    const keys = idempotency(server().app.db);
    const key = randomUUID();
    await expect(
      keys.run(request(key), 'createThing', async (settle) =>
        server().app.db.transaction(async (tx) => {
          await tx.query('INSERT INTO idempotency_test_writes (key) VALUES ($1)', [key]);
          await settle!(tx, created);
          throw new Error('failed before the commit');
        }),
      ),
    ).rejects.toThrow('before the commit');
    expect(await writes(key)).toBe(0);
    const retry = await keys.run(request(key), 'createThing', async (settle) =>
      server().app.db.transaction(async (tx) => {
        await tx.query('INSERT INTO idempotency_test_writes (key) VALUES ($1)', [key]);
        await settle!(tx, created);
        return created;
      }),
    );
    expect(retry.headers?.['idempotent-replayed']).toBeUndefined();
    expect(await writes(key)).toBe(1);
  });

  it('writes nothing for a request taken as lost and run again by a retry: it is told to retry, and gets the retry\'s answer', async () => {
    const keys = idempotency(server().app.db);
    const key = randomUUID();
    const retried: StoredAnswer = { status: 201, body: { id: 'chose-2' } };
    const first = keys.run(request(key), 'createThing', async (settle) => {
      // Meanwhile (after IDEMPOTENCY_IN_FLIGHT_SECONDS), a retry takes the key over and finishes.
      await server().app.db.query(`UPDATE idempotency_keys SET created_at = now() - interval '2 minutes' WHERE key = $1`, [key]);
      await keys.run(request(key), 'createThing', async (retrySettle) =>
        server().app.db.transaction(async (tx) => {
          await tx.query('INSERT INTO idempotency_test_writes (key) VALUES ($1)', [key]);
          await retrySettle!(tx, retried);
          return retried;
        }),
      );
      return server().app.db.transaction(async (tx) => {
        await tx.query('INSERT INTO idempotency_test_writes (key) VALUES ($1)', [key]);
        await settle!(tx, created);
        return created;
      });
    });
    const refused = await first.then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ProblemError);
    expect((refused as ProblemError).code).toBe('idempotency_request_in_progress');
    expect(await writes(key)).toBe(1);
    const again = await keys.run(request(key), 'createThing', async () => created);
    expect(again).toMatchObject({ status: 201, body: { id: 'chose-2' }, headers: { 'idempotent-replayed': 'true' } });
  });

  it('records a FHIR create\'s answer under its key, with one access history entry', async () => {
    const patient = 'idempotency-together';
    await seedRecord(server(), patient);
    const session = await patientToken(server(), patient, 'patient/Observation.crs');
    const observation = heartRate(62, '2026-11-30T07:00:00Z');
    const historyOf = async () =>
      (await server().app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_history WHERE patient_id = $1 AND interaction = 'create'`, [patient]))[0]!.n;
    const idempotencyKey = randomUUID();
    const first = await fhirRequest(server(), session, 'POST', '/fhir/Observation', { body: observation, headers: withKey(idempotencyKey) });
    expect(first.status).toBe(201);
    const [stored] = await server().app.db.query<{ status: number; body: { id: string } }>('SELECT status, body FROM idempotency_keys WHERE key = $1', [idempotencyKey]);
    expect(stored).toMatchObject({ status: 201, body: { id: first.body.id } });
    expect(await historyOf()).toBe(1);
  });
});
