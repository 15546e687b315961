// The access history: every read, search and write of an app is recorded with what it returned;
// each patient's entries form a hash chain that verifies, and any change behind the server's
// back (an entry altered, removed, forged) is detected; the table refuses updates and deletes;
// the patient sees their history (and their children's) through their session.
import { beforeAll, describe, expect, it } from 'vitest';
import { call, useServer } from './helpers.js';
import { fhirRequest, patientToken, seedGuardianship, seedRecord, type PatientSession } from './fhir-helpers.js';
import { accessHistoryWriter, recordAccess, verifyAccessChain, type AccessEntry } from '../src/modules/audit/index.js';
import type { Queryable } from '../src/core/store/db.js';
import { form } from './oauth-helpers.js';

const OPERATOR_TOKEN = 'operator-token-for-access-history-tests-0123456789';
const server = useServer({ operatorToken: OPERATOR_TOKEN });
const PATIENT = 'history-patient';

let session: PatientSession;
beforeAll(async () => {
  await seedRecord(server(), PATIENT);
  session = await patientToken(server(), PATIENT, 'patient/Observation.crs patient/Immunization.rs');
});

const entriesOf = (patientId: string) =>
  server().app.db.query<{ seq: string; interaction: string; resource_type: string; resource_count: number; app_id: string; actor_id: string; grant_id: string; client_id: string }>(
    'SELECT * FROM access_history WHERE patient_id = $1 ORDER BY seq',
    [patientId],
  );
const verify = async (patient: string) =>
  (await call(server(), 'GET', `/operator/access-history/verification?patient=${patient}`, { key: OPERATOR_TOKEN })).body;

describe('recording', () => {
  it('records each read, search and write with what it returned, who acted and through which app', async () => {
    const before = (await entriesOf(PATIENT)).length;
    await fhirRequest(server(), session, 'GET', '/fhir/Observation?_count=4');
    await fhirRequest(server(), session, 'GET', '/fhir/Immunization');
    await fhirRequest(server(), session, 'GET', `/fhir/Observation/${PATIENT}-bp-1`);
    await fhirRequest(server(), session, 'GET', '/fhir/Observation/nothing-here');
    await fhirRequest(server(), session, 'POST', '/fhir/Observation', {
      body: {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] },
        effectiveDateTime: '2026-11-30T06:00:00Z',
        valueQuantity: { value: 37.2, system: 'http://unitsofmeasure.org', code: 'Cel' },
      },
    });
    // Refused before any data is touched: not an access, not recorded.
    await fhirRequest(server(), session, 'GET', '/fhir/Condition');
    const entries = (await entriesOf(PATIENT)).slice(before);
    expect(entries.map((e) => [e.resource_type, e.interaction, e.resource_count])).toEqual([
      ['Observation', 'search', 4],
      ['Immunization', 'search', 2],
      ['Observation', 'read', 1],
      ['Observation', 'read', 0],
      ['Observation', 'create', 1],
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ app_id: session.appId, client_id: session.clientId, grant_id: session.grantId, actor_id: PATIENT });
    }
  });

  it('keeps one unbroken chain per patient under concurrent requests', async () => {
    await Promise.all(Array.from({ length: 25 }, () => fhirRequest(server(), session, 'GET', '/fhir/Observation?_count=1')));
    const entries = await entriesOf(PATIENT);
    expect(entries.map((e) => Number(e.seq))).toEqual(entries.map((_, i) => i + 1));
    expect(await verify(PATIENT)).toEqual({ patientId: PATIENT, entries: entries.length, ok: true });
  });
});

describe('group commit', () => {
  /** The server's store, counting the statements sent through it. */
  const counting = () => {
    const db = server().app.db;
    const counted = { statements: 0, query: (sql: string, params?: readonly unknown[]) => ((counted.statements += 1), db.query(sql, params)), exec: (sql: string) => db.exec(sql) };
    return counted as Queryable & { statements: number };
  };
  const entry = (patientId: string, i: number): AccessEntry => ({
    patientId,
    appId: session.appId,
    clientId: session.clientId,
    grantId: session.grantId,
    actorId: patientId,
    resourceType: 'Observation',
    interaction: 'search',
    resourceCount: i,
  });

  it('appends the entries of concurrent requests together, each chain in order and verifiable', async () => {
    const db = counting();
    const writer = accessHistoryWriter(db, { maxInFlight: 1 });
    const patients = ['batch-patient-b', 'batch-patient-a', 'batch-patient-c'];
    const recorded = await Promise.all(Array.from({ length: 60 }, (_, i) => writer.append(entry(patients[i % 3]!, i))));
    // The first went alone; the others waited for it and went in one or two more statements.
    expect(db.statements).toBeLessThanOrEqual(3);
    for (const patient of patients) {
      const mine = recorded.filter((r) => r.patientId === patient);
      // Each caller got its own entry back, in the order the entries were given.
      expect(mine.map((r) => r.resourceCount)).toEqual([...mine.map((r) => r.resourceCount)].sort((a, b) => a - b));
      expect(mine.map((r) => r.seq)).toEqual(mine.map((_, i) => i + 1));
      expect(await verifyAccessChain(server().app.db, patient)).toEqual({ patientId: patient, entries: 20, ok: true });
    }
  });

  it('resolves a caller only once its entry is in the store', async () => {
    const writer = accessHistoryWriter(server().app.db);
    const recorded = await Promise.all(Array.from({ length: 10 }, (_, i) => writer.append(entry('batch-patient-d', i))));
    const stored = await server().app.db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM access_history WHERE patient_id = $1 ORDER BY seq', ['batch-patient-d']);
    // Two statements may be under way at once: concurrent requests have no order of their own.
    expect(stored.map((row) => [Number(row.seq), row.hash])).toEqual(recorded.map((r) => [r.seq, r.hash]).sort((a, b) => Number(a[0]) - Number(b[0])));
  });

  it('fails only the entry at fault when a batch is refused', async () => {
    const writer = accessHistoryWriter(server().app.db, { maxInFlight: 1 });
    const results = await Promise.allSettled([
      writer.append(entry('batch-patient-e', 0)),
      writer.append(entry('batch-patient-e', 1)),
      writer.append({ ...entry('batch-patient-e', 2), appId: 'not-a-uuid' }),
      writer.append(entry('batch-patient-e', 3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await verifyAccessChain(server().app.db, 'batch-patient-e')).toEqual({ patientId: 'batch-patient-e', entries: 3, ok: true });
  });
});

describe('tamper evidence', () => {
  /** Changes rows the way only someone with direct access to the database could (triggers off). */
  async function behindTheServersBack(sql: string, params: unknown[] = []) {
    await server().app.db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      await tx.query(sql, params);
    });
  }

  async function freshPatientWithHistory(id: string, entries = 5) {
    for (let i = 0; i < entries; i++) {
      await recordAccess(server().app.db, { patientId: id, appId: session.appId, clientId: session.clientId, grantId: session.grantId, actorId: id, resourceType: 'Observation', interaction: 'search', resourceCount: i });
    }
    expect((await verify(id)).ok).toBe(true);
  }

  it('refuses updates, deletes and truncation through the server’s connection', async () => {
    await freshPatientWithHistory('tamper-0', 1);
    for (const sql of [
      `UPDATE access_history SET resource_count = 0 WHERE patient_id = 'tamper-0'`,
      `DELETE FROM access_history WHERE patient_id = 'tamper-0'`,
      'TRUNCATE access_history',
    ]) {
      await expect(server().app.db.query(sql)).rejects.toThrow(/append-only/);
    }
    expect((await verify('tamper-0')).entries).toBe(1);
  });

  it('detects an altered entry', async () => {
    await freshPatientWithHistory('tamper-1');
    await behindTheServersBack(`UPDATE access_history SET resource_count = 999 WHERE patient_id = 'tamper-1' AND seq = 3`);
    expect(await verify('tamper-1')).toMatchObject({ ok: false, entries: 2, broken: { seq: 3, reason: expect.stringMatching(/content does not match/) } });
  });

  it('detects a removed entry, in the middle or at the end', async () => {
    await freshPatientWithHistory('tamper-2');
    await behindTheServersBack(`DELETE FROM access_history WHERE patient_id = 'tamper-2' AND seq = 2`);
    expect(await verify('tamper-2')).toMatchObject({ ok: false, broken: { seq: 2, reason: expect.stringMatching(/missing/) } });
    await freshPatientWithHistory('tamper-3');
    await behindTheServersBack(`DELETE FROM access_history WHERE patient_id = 'tamper-3' AND seq = 5`);
    expect(await verify('tamper-3')).toMatchObject({ ok: false, broken: { reason: expect.stringMatching(/head says 5/) } });
  });

  it('detects an entry rewritten with a recomputed hash (the next link breaks)', async () => {
    await freshPatientWithHistory('tamper-4');
    // Someone who knows the hash function rewrites entry 2 consistently with itself...
    const [row] = await server().app.db.query<{ prev_hash: string; occurred_at: Date }>(`SELECT prev_hash, occurred_at FROM access_history WHERE patient_id = 'tamper-4' AND seq = 2`);
    const { entryHash } = await import('../src/modules/audit/index.js');
    const forged = entryHash(row!.prev_hash, {
      patientId: 'tamper-4', seq: 2, occurredAt: new Date(row!.occurred_at), appId: session.appId, clientId: session.clientId, grantId: session.grantId,
      actorId: 'tamper-4', resourceType: 'Observation', interaction: 'search', resourceCount: 0,
    });
    await behindTheServersBack(`UPDATE access_history SET resource_count = 0, hash = $1 WHERE patient_id = 'tamper-4' AND seq = 2`, [forged]);
    // ...but entry 3 still points at the old hash.
    expect(await verify('tamper-4')).toMatchObject({ ok: false, broken: { seq: 3, reason: expect.stringMatching(/link to the previous entry/) } });
  });

  it('is for operators only', async () => {
    expect((await call(server(), 'GET', `/operator/access-history/verification?patient=${PATIENT}`)).status).toBe(401);
    expect((await call(server(), 'GET', `/operator/access-history/verification?patient=${PATIENT}`, { key: 'wrong' })).status).toBe(401);
  });
});

describe('the patient’s history', () => {
  async function signIn(patientId: string): Promise<string> {
    const response = await fetch(`${server().url}/patient/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server().url },
      body: form({ patient_id: patientId }),
      redirect: 'manual',
    });
    return response.headers.getSetCookie()[0]!.split(';')[0]!;
  }
  const history = async (cookie: string, query = '') => {
    const response = await fetch(`${server().url}/patient/access-history${query}`, { headers: { cookie } });
    return { status: response.status, headers: response.headers, body: await response.json() };
  };

  it('shows the patient what each app accessed, newest first, with filters and pages', async () => {
    const cookie = await signIn(PATIENT);
    const all = await history(cookie, '?limit=100');
    expect(all.status).toBe(200);
    expect(all.headers.get('cache-control')).toBe('no-store');
    expect(all.body.items[0]).toEqual({
      occurredAt: expect.any(String),
      app: { id: session.appId, name: 'TensioSuivi' },
      patientId: PATIENT,
      actorId: PATIENT,
      resourceType: 'Observation',
      interaction: 'search',
      resourceCount: 1,
    });
    const times = all.body.items.map((item: { occurredAt: string }) => item.occurredAt);
    expect(times).toEqual([...times].sort().reverse());
    // Pages of 7, followed to the end, give the same list.
    const paged: unknown[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await history(cookie, `?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.body.items);
      cursor = page.body.nextCursor;
    }
    expect(paged).toEqual(all.body.items);
    expect((await history(cookie, `?app=${session.appId}&limit=100`)).body.items.length).toBe(all.body.items.length);
    expect((await history(cookie, '?app=00000000-0000-4000-8000-000000000000')).body.items).toEqual([]);
    expect((await history(cookie, '?until=2000-01-01T00:00:00Z')).body.items).toEqual([]);
    expect((await history(cookie, `?since=${encodeURIComponent(times[0])}`)).body.items.length).toBeGreaterThanOrEqual(1);
  });

  it('shows a guardian their children’s history, and no one else’s', async () => {
    const guardian = 'history-guardian';
    const child = 'history-child';
    await seedRecord(server(), child);
    await seedGuardianship(server(), guardian, child, '2035-01-01');
    const childSession = await patientToken(server(), child, 'patient/Observation.rs');
    await fhirRequest(server(), childSession, 'GET', '/fhir/Observation');
    const seen = (await history(await signIn(guardian))).body.items;
    expect(seen.map((item: { patientId: string }) => item.patientId)).toEqual([child]);
    const stranger = (await history(await signIn('history-stranger'))).body.items;
    expect(stranger).toEqual([]);
  });

  it('needs the patient’s session', async () => {
    const result = await history('mes_patient=nonsense');
    expect(result.status).toBe(401);
    expect(result.body.code).toBe('authentication_required');
  });
});
