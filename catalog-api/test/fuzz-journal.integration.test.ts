// The fuzzer's store journal (test/fuzz/store-journal.ts), which says whether a refused request
// wrote anything: it must see every write, net out what a request undid, name partitions by
// their table, and leave out only what it says it leaves out.
import { expect, it } from 'vitest';
import { storeJournal } from './fuzz/store-journal.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';

const server = useServer();

it('journals every write by table, nets out what was undone, and leaves out the documented exceptions', async () => {
  const db = server().app.db;
  const journal = await storeJournal(db);
  const publisher = await registerPublisher(server());

  await journal.reset();
  expect(await journal.changes()).toEqual([]);
  const created = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput() });
  expect(created.status).toBe(201);
  expect(await journal.changes()).toEqual(expect.arrayContaining([expect.stringMatching(/^apps \(\+1 −0 rows\)$/), expect.stringMatching(/^oauth_clients \(\+1 −0 rows\)$/)]));

  await journal.reset();
  await call(server(), 'PATCH', `/apps/${created.body.id}`, { key: publisher.key, body: { name: 'Autre nom' } });
  expect(await journal.changes()).toEqual([expect.stringMatching(/^apps \(\+1 −1 rows\)$/)]);

  // Written then removed within the same stretch: no change (a failed idempotent request).
  await journal.reset();
  await db.query(`INSERT INTO idempotency_keys (scope, key, operation_id, fingerprint, expires_at) VALUES ('s', 'k', 'createApp', 'f', now() + interval '1 hour')`);
  await db.query(`DELETE FROM idempotency_keys WHERE scope = 's' AND key = 'k'`);
  expect(await journal.changes()).toEqual([]);

  // Left out: when a key was last used, and the DPoP replay cache.
  await journal.reset();
  await db.query(`UPDATE publisher_api_keys SET last_used_at = now() - interval '1 day'`);
  await db.query(`INSERT INTO oauth_replay (namespace, jti, expires_at) VALUES ('dpop', 'j', now() + interval '1 minute')`);
  expect(await journal.changes()).toEqual([]);

  // A partition's rows count as its table's; a table the caller allows is not reported.
  await journal.reset();
  await db.query(
    `INSERT INTO access_history (patient_id, seq, occurred_at, app_id, client_id, grant_id, actor_id, resource_type, interaction, resource_count, prev_hash, hash)
     VALUES ('p', 1, now(), gen_random_uuid(), 'c', gen_random_uuid(), 'p', 'Observation', 'read', 0, 'a', 'b')`,
  );
  expect(await journal.changes()).toEqual(['access_history (+1 −0 rows)']);
  expect(await journal.changes(['access_history'])).toEqual([]);
});
