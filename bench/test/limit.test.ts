// The yardstick is only fair if it does the same work: the limit (bench/limit/) must answer what
// the platform answers, and refuse what the platform refuses. On PostgreSQL (TEST_DATABASE_URL,
// or else the local server, which must answer): both lines, production and sandbox mode.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEqual, startYardstick, tokenAnswer, type Yardstick } from '../lib/yardstick.mjs';
import { fhirAccessToken, fhirHeaders, searchPath, yardstickNames } from '../lib/yardstick-scenarios.mjs';
import { verifyAccessChain } from '../../catalog-api/src/modules/audit/history.js';

const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('the limit against the platform, on PostgreSQL', () => {
  let yardstick: Yardstick;
  beforeAll(async () => {
    // The yardstick is PostgreSQL's by definition (the limit speaks to it through `pg`): without
    // one, this fails rather than pass unseen.
    if (!(await reachable(databaseUrl))) {
      throw new Error('no PostgreSQL answers for the yardstick test: start one, or name it in TEST_DATABASE_URL');
    }
    yardstick = await startYardstick({ api: await import('@mes/catalog-api'), sandbox: await import('@mes/sandbox'), databaseUrl, grants: 2 });
  });
  afterAll(async () => {
    await yardstick?.close();
  });
  const line = (mode: string) => yardstick.lines.find((l) => l.mode === mode)!;

  for (const mode of ['production', 'sandbox']) {
    for (const name of yardstickNames) {
      it(`answers ${name} as the platform does (${mode} mode)`, async () => {
        const compared = await checkEqual(line(mode), name);
        expect(compared.status).toBe(200);
      });
    }
  }

  it('refuses a replayed DPoP proof, as the platform does', async () => {
    const { params, urls } = line('production');
    const token = await fhirAccessToken(params);
    for (const url of [urls.limit, urls.platform]) {
      const headers = fhirHeaders(params, token, searchPath);
      expect((await fetch(`${url}${searchPath}`, { headers })).status).toBe(200);
      const replayed = await fetch(`${url}${searchPath}`, { headers });
      expect(replayed.status).toBe(401);
      expect(replayed.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    }
  });

  it('keeps the access history chain verifiable over the entries it writes', async () => {
    const { params, urls } = line('production');
    const token = await fhirAccessToken(params);
    const before = await yardstick.platformDb.query('SELECT count(*)::int AS n FROM access_history WHERE patient_id = $1', [params.patient]);
    for (let i = 0; i < 3; i += 1) {
      const path = i === 1 ? `/fhir/Observation/${params.readId}` : searchPath;
      expect((await fetch(`${urls.limit}${path}`, { headers: fhirHeaders(params, token, path) })).status).toBe(200);
    }
    const after = await yardstick.platformDb.query('SELECT count(*)::int AS n FROM access_history WHERE patient_id = $1', [params.patient]);
    expect(Number(after[0]!.n) - Number(before[0]!.n)).toBe(3);
    const chain = await verifyAccessChain(yardstick.platformDb as never, params.patient as string);
    expect(chain).toMatchObject({ ok: true });
  });

  it('refuses the tokens of a revoked grant, as the platform does', async () => {
    const { params, urls } = line('production');
    const token = await fhirAccessToken(params);
    const grantId = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).grant_id;
    await yardstick.platformDb.query('UPDATE grants SET revoked_at = now(), revoked_reason = $2 WHERE id = $1', [grantId, 'withdrawn by the patient']);
    for (const url of [urls.limit, urls.platform]) {
      const refused = await fetch(`${url}${searchPath}`, { headers: fhirHeaders(params, token, searchPath) });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('grant_ended="consent_withdrawn"');
      const refresh = await tokenAnswer({ ...params, fetchUrl: url }, params.fhirRefreshToken);
      expect(refresh.status).toBe(400);
      expect(refresh.json).toMatchObject({ error: 'invalid_grant', grant_ended: 'consent_withdrawn' });
    }
  });
});
