// The access history survives the process being killed: the entry of an access is committed
// before its answer leaves, so every answer an app received has its entry after a restart, and
// the chain still verifies. Runs the real process entry with SIGKILL in the middle of a load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/core/config.js';
import { dropTestSchema } from '../src/testing.js';
import { appInput, registrationNumber } from './helpers.js';
import { READY_TIMEOUT_MS, spawnServer } from './spawn-server.js';
import { form, newKeys, pkce, postForm, resourceProof } from './oauth-helpers.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mes-history-'));
const OPERATOR_TOKEN = 'operator-token-for-the-durability-test-0123456789';
const databaseUrl = process.env.TEST_DATABASE_URL;
const schema = `test_durable_${process.pid}`;
// The servers stop with the test (spawn-server.ts), passed or failed.
afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  if (databaseUrl) await dropTestSchema({ ...defaultConfig, databaseUrl, databaseSchema: schema });
});

function start() {
  return spawnServer({
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'info',
    MES_MODE: 'sandbox',
    OPERATOR_TOKEN,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema } : {}),
  });
}

const json = async (url: string, init: RequestInit = {}) => {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
};

describe('the access history when the process is killed', () => {
  // Two starts, each within READY_TIMEOUT_MS, and the load in between (a few seconds).
  it('keeps an entry for every answer the app received, and a chain that verifies', { timeout: 3 * READY_TIMEOUT_MS }, async () => {
    const first = await start();
    const registered = await json(`${first.url}/publishers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Éditeur durable', registrationNumber: registrationNumber(), contactEmail: 'a@durable.example.fr', domains: ['durable.example.fr'] }),
    });
    const key = registered.body.apiKey.key;
    const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
    const app = await json(`${first.url}/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(appInput({ scopes: [{ scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' }] })),
    });
    const clients = await json(`${first.url}/apps/${app.body.id}/clients`, { headers: { authorization: `Bearer ${key}` } });
    const clientId = clients.body.items[0].clientId;
    const { verifier, challenge } = pkce();
    const authorized = await fetch(
      `${first.url}/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'patient/Observation.rs', code_challenge: challenge, code_challenge_method: 'S256', login_hint: 'durable-patient' })}`,
      { redirect: 'manual' },
    );
    const code = new URL(authorized.headers.get('location')!).searchParams.get('code')!;
    const keys = await newKeys();
    const tokens = await postForm(first.url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }), keys);
    const token = tokens.body.access_token as string;

    // Four apps' worth of requests in a loop, until the process is killed under them.
    let answered = 0;
    let killed = false;
    const worker = async () => {
      while (!killed) {
        try {
          const url = `${first.url}/fhir/Observation`;
          const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await resourceProof(keys, { method: 'GET', url, accessToken: token }) } });
          await response.text();
          if (response.status === 200) answered += 1;
        } catch {
          // The connection died with the process.
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    // Until 60 answers came, however long a loaded machine takes (within a limit: the workers must end).
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (answered < 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL');
    killed = true;
    await Promise.all(workers);
    expect(answered).toBeGreaterThanOrEqual(60);

    const second = await start();
    const verification = await json(`${second.url}/operator/access-history/verification?patient=durable-patient`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    expect(verification.body.ok).toBe(true);
    expect(verification.body.entries).toBeGreaterThanOrEqual(answered);
    expect(await second.stop()).toBe(0);
  });
});
