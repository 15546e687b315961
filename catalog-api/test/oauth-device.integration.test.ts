// The device authorization grant (RFC 8628) of the command line: codes, polling, the approval
// page authenticated by a publisher's API key, and the DPoP-bound platform token.
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../src/core/spec.js';
import { normalizeUserCode } from '../src/modules/oauth/device.js';
import { expectErrorPage, registerPublisher, useServer } from './helpers.js';
import { form, newKeys, postForm, type Keys } from './oauth-helpers.js';

const server = useServer();
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
let publisher: { id: string; key: string };
beforeAll(async () => {
  publisher = await registerPublisher(server());
});

const start = (values: Record<string, string | undefined> = { client_id: 'mes-cli' }) => postForm(server().url, '/oauth/device_authorization', form(values));
const poll = (deviceCode: string, keys?: Keys) => postForm(server().url, '/oauth/token', form({ grant_type: DEVICE_GRANT, client_id: 'mes-cli', device_code: deviceCode }), keys);
async function decide(values: Record<string, string>) {
  const response = await fetch(`${server().url}/device`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(values) });
  return { status: response.status, headers: response.headers, html: await response.text() };
}
/** Lets the next poll through without waiting the polling interval. */
const forgetLastPoll = (userCode: string) => server().app.db.query(`UPDATE device_authorizations SET last_polled_at = NULL WHERE user_code = $1`, [userCode]);

describe('device sign-in of the command line', () => {
  it('starts with a device code, a user code to type, and where to type it', async () => {
    const started = await start();
    expect(started.status).toBe(200);
    expect(started.headers.get('cache-control')).toBe('no-store');
    expect(started.body).toMatchObject({
      device_code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: `${server().url}/device`,
      expires_in: 600,
      interval: 5,
    });
    expect(started.body.verification_uri_complete).toBe(`${server().url}/device?user_code=${started.body.user_code}`);
    const metadata = await (await fetch(`${server().url}/.well-known/oauth-authorization-server`)).json();
    expect(metadata.device_authorization_endpoint).toBe(`${server().url}/oauth/device_authorization`);
    expect(metadata.grant_types_supported).toContain(DEVICE_GRANT);
  });

  it('is only for the command line, with platform scopes', async () => {
    expect(await start({ client_id: 'some-app' })).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    expect(await start({ client_id: 'mes-cli', scope: 'patient/Observation.rs' })).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });

  it('goes from pending to a DPoP-bound platform token once approved with the publisher key', async () => {
    const keys = await newKeys();
    const { body: started } = await start({ client_id: 'mes-cli', scope: 'platform/apps.read' });
    expect(await poll(started.device_code, keys)).toMatchObject({ status: 400, body: { error: 'authorization_pending' } });
    expect(await poll(started.device_code, keys)).toMatchObject({ status: 400, body: { error: 'slow_down' } });

    const page = await fetch(`${server().url}/device?user_code=${started.user_code.toLowerCase().replace('-', '')}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(html).toContain(`value="${started.user_code}"`);
    expect(html).toContain('platform/apps.read');

    const wrongKey = await decide({ user_code: started.user_code, api_key: 'mes_pk_wrong', decision: 'approve' });
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.html).toContain('inconnue ou révoquée');
    await forgetLastPoll(started.user_code);
    expect(await poll(started.device_code, keys)).toMatchObject({ status: 400, body: { error: 'authorization_pending' } });

    const approved = await decide({ user_code: started.user_code, api_key: publisher.key, decision: 'approve' });
    expect(approved.status).toBe(200);
    expect(approved.html).toContain('Connexion approuvée');
    await forgetLastPoll(started.user_code);
    const tokens = await poll(started.device_code, keys);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'DPoP', scope: 'platform/apps.read', expires_in: 300 });
    expect(decodeJwt(tokens.body.access_token)).toMatchObject({
      iss: server().url,
      aud: `${server().url}/platform`,
      sub: `publisher:${publisher.id}`,
      client_id: 'mes-cli',
      scope: 'platform/apps.read',
      cnf: { jkt: await calculateJwkThumbprint(keys.publicJwk) },
    });

    await forgetLastPoll(started.user_code);
    expect(await poll(started.device_code, keys)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const again = await decide({ user_code: started.user_code, api_key: publisher.key, decision: 'approve' });
    expect(again.status).toBe(400);
  });

  it('answers access_denied when the person refuses, and expired_token after ten minutes', async () => {
    const keys = await newKeys();
    const refused = (await start()).body;
    expect((await decide({ user_code: refused.user_code, decision: 'deny' })).html).toContain('Connexion refusée');
    expect(await poll(refused.device_code, keys)).toMatchObject({ status: 400, body: { error: 'access_denied' } });

    const late = (await start()).body;
    await server().app.db.query(`UPDATE device_authorizations SET expires_at = now() - interval '1 second' WHERE user_code = $1`, [late.user_code]);
    expect(await poll(late.device_code, keys)).toMatchObject({ status: 400, body: { error: 'expired_token' } });
    expect((await decide({ user_code: late.user_code, api_key: publisher.key, decision: 'approve' })).status).toBe(400);
  });

  it('refuses polls without DPoP, from another client, or with an unknown code', async () => {
    const started = (await start()).body;
    expect(await poll(started.device_code)).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } });
    expect(
      await postForm(server().url, '/oauth/token', form({ grant_type: DEVICE_GRANT, client_id: 'other', device_code: started.device_code }), await newKeys()),
    ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await poll('not-a-device-code', await newKeys())).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('answers a request that does not match its schema with a page, as the spec documents', async () => {
    // The approval page is a page: a request its schemas refuse (no form at all, an unknown query
    // parameter) is answered as a page too, which the spec lists.
    const post = loadSpec().paths['/device']!.post as { responses: Record<string, { content: Record<string, unknown> }> };
    expect(Object.keys(post.responses['400']!.content)).toEqual(['text/html']);
    const noForm = await fetch(`${server().url}/device`, { method: 'POST' });
    const unknownParameter = await fetch(`${server().url}/device?mesfuzz=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ user_code: 'BCDF-GHJK', api_key: publisher.key, decision: 'approve' }),
    });
    for (const refused of [noForm, unknownParameter]) await expectErrorPage(refused, 400);
  });

  it('reads user codes as people type them', () => {
    expect(normalizeUserCode('bcdf ghjk')).toBe('BCDF-GHJK');
    expect(normalizeUserCode('BCDF-GHJK')).toBe('BCDF-GHJK');
    expect(normalizeUserCode('ABCD-EFGH')).toBeNull();
    expect(normalizeUserCode('BCDF-GHJ')).toBeNull();
  });
});
