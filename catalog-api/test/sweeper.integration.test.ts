// The periodic sweep of expired rows: what it deletes and what it must keep (grants are the
// patient's history; a code is kept a day past its expiry so a late replay still revokes its
// grant), one instance at a time, in bounded batches, and on a schedule.
import { describe, expect, it, vi } from 'vitest';
import { sweepOnce } from '../src/core/store/sweeper.js';
import { insertCode, insertGrant, insertPushedRequest, insertRefreshToken } from '../src/modules/oauth/grant-repository.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';

const server = useServer();
const often = useServer({ sweepIntervalSeconds: 1 });

async function newGrant(target: () => { url: string; app: { db: import('../src/core/store/db.js').Db } }) {
  const publisher = await registerPublisher(target());
  const app = await call(target(), 'POST', '/apps', { key: publisher.key, body: appInput() });
  const [client] = (await call(target(), 'GET', `/apps/${app.body.id}/clients`, { key: publisher.key })).body.items;
  const grantId = await insertGrant(target().app.db, { appId: app.body.id, clientId: client.clientId, patientId: 'sweep-patient', actorId: 'sweep-patient', scope: 'patient/Observation.rs', expiresAt: null });
  return { grantId, clientId: client.clientId as string };
}

const count = async (sql: string, params: unknown[] = []) => Number((await server().app.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params))[0]!.n);

describe('the sweep of expired rows', () => {
  it('deletes what no rule needs any more, and keeps the rest', async () => {
    const db = server().app.db;
    const { grantId, clientId } = await newGrant(server);
    const code = () => insertCode(db, { grantId, clientId, redirectUri: 'https://a.example.fr/cb', codeChallenge: 'x'.repeat(43), scope: 'patient/Observation.rs' }, 60);
    // Codes: one expired two days ago (gone), one expired an hour ago (kept: a late replay still revokes), one fresh.
    await code();
    await code();
    await code();
    await db.query(`UPDATE oauth_codes SET expires_at = now() - interval '2 days' WHERE code_hash IN (SELECT code_hash FROM oauth_codes WHERE grant_id = $1 LIMIT 1)`, [grantId]);
    await db.query(
      `UPDATE oauth_codes SET expires_at = now() - interval '1 hour' WHERE code_hash IN (SELECT code_hash FROM oauth_codes WHERE grant_id = $1 AND expires_at > now() LIMIT 1)`,
      [grantId],
    );
    // Pushed requests: one long expired, one live.
    await insertPushedRequest(db, clientId, { client_id: clientId, redirect_uri: 'https://a.example.fr/cb', scope: 's', code_challenge: 'c' }, 60);
    await insertPushedRequest(db, clientId, { client_id: clientId, redirect_uri: 'https://a.example.fr/cb', scope: 's', code_challenge: 'c' }, 60);
    await db.query(`UPDATE oauth_pushed_requests SET expires_at = now() - interval '2 hours' WHERE request_uri IN (SELECT request_uri FROM oauth_pushed_requests WHERE client_id = $1 LIMIT 1)`, [clientId]);
    // Refresh tokens: rotated 31 days ago (gone), rotated yesterday (kept, for reuse detection), live.
    for (let i = 0; i < 3; i++) await insertRefreshToken(db, { grantId, clientId, jkt: 'j', scope: 's' });
    const tokens = await db.query<{ token_hash: string }>('SELECT token_hash FROM oauth_refresh_tokens WHERE grant_id = $1 ORDER BY token_hash', [grantId]);
    await db.query(`UPDATE oauth_refresh_tokens SET rotated_at = now() - interval '31 days' WHERE token_hash = $1`, [tokens[0]!.token_hash]);
    await db.query(`UPDATE oauth_refresh_tokens SET rotated_at = now() - interval '1 day' WHERE token_hash = $1`, [tokens[1]!.token_hash]);
    // One-time records and revoked access tokens: past ones gone.
    await db.query(`INSERT INTO oauth_replay (namespace, jti, expires_at) VALUES ('dpop', 'old', now() - interval '1 second'), ('dpop', 'live', now() + interval '1 minute')`);
    // A patient session ended two days ago, and one open.
    await db.query(`INSERT INTO patient_sessions (id_hash, patient_id, csrf_token, expires_at) VALUES ('old', 'p', 'c', now() - interval '2 days'), ('live', 'p', 'c', now() + interval '10 minutes')`);
    // The grant is withdrawn long ago: it stays, as the patient's history.
    await db.query(`UPDATE grants SET revoked_at = now() - interval '400 days' WHERE id = $1`, [grantId]);

    const deleted = await sweepOnce(db, server().app.sweepTasks);
    expect(deleted).toMatchObject({ oauth_codes: 1, oauth_pushed_requests: 1, oauth_refresh_tokens: 1, patient_sessions: 1 });
    expect(deleted!.oauth_replay).toBeGreaterThanOrEqual(1);
    expect(await count('oauth_codes WHERE grant_id = $1', [grantId])).toBe(2);
    expect(await count('oauth_pushed_requests WHERE client_id = $1', [clientId])).toBe(1);
    expect(await count('oauth_refresh_tokens WHERE grant_id = $1', [grantId])).toBe(2);
    expect(await count(`oauth_replay WHERE jti IN ('old', 'live')`)).toBe(1);
    expect(await count(`patient_sessions WHERE id_hash IN ('old', 'live')`)).toBe(1);
    expect(await count('grants WHERE id = $1', [grantId])).toBe(1);
  });

  it('works a backlog off in bounded batches', async () => {
    const db = server().app.db;
    await db.query(`INSERT INTO oauth_replay (namespace, jti, expires_at) SELECT 'batch', 'j' || n, now() - interval '1 minute' FROM generate_series(1, 25) n`);
    const first = await sweepOnce(db, server().app.sweepTasks, 10);
    expect(first!.oauth_replay).toBe(10);
    expect(await count(`oauth_replay WHERE namespace = 'batch'`)).toBe(15);
    await sweepOnce(db, server().app.sweepTasks, 10);
    await sweepOnce(db, server().app.sweepTasks, 10);
    expect(await count(`oauth_replay WHERE namespace = 'batch'`)).toBe(0);
  });

  it('lets one instance sweep at a time', async () => {
    if (server().app.db.kind === 'pglite') {
      // PGlite has one connection: two sweeps cannot overlap, and the advisory lock is uncontended.
      expect(await sweepOnce(server().app.db, server().app.sweepTasks)).not.toBeNull();
      return;
    }
    let release!: () => void;
    const held = server().app.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(7340021)');
      await new Promise<void>((resolve) => (release = resolve));
    });
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    expect(await sweepOnce(server().app.db, server().app.sweepTasks)).toBeNull();
    release();
    await held;
    expect(await sweepOnce(server().app.db, server().app.sweepTasks)).not.toBeNull();
  });

  it('runs on its schedule', async () => {
    const db = often().app.db;
    await db.query(`INSERT INTO oauth_replay (namespace, jti, expires_at) VALUES ('scheduled', 'x', now() - interval '1 minute')`);
    await vi.waitFor(
      async () => expect((await db.query(`SELECT 1 FROM oauth_replay WHERE namespace = 'scheduled'`)).length).toBe(0),
      { timeout: 10_000, interval: 200 },
    );
  });
});
