// Reviewers and publishers sign the command line in with the device flow: the approving key's
// role narrows the scope asked for (reviewers review, publishers manage apps), the platform token
// names the reviewer, and in the sandbox the seeded accounts approve a sign-in without a key.
import { beforeAll, describe, expect, it } from 'vitest';
import { seedSandboxReviewers } from '../src/modules/certification/sandbox-accounts.js';
import { call, expectProblem, registerPublisher, useServer, type CallResult } from './helpers.js';
import { createReviewer, OPERATOR_TOKEN } from './certification-helpers.js';
import { commandLineSignIn, form, newKeys, postForm, resourceProof, type CommandLineSession } from './oauth-helpers.js';

const ALL_SCOPES = 'platform/apps.read platform/apps.write platform/certification.review offline_access';
const server = useServer({ operatorToken: OPERATOR_TOKEN });
const production = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });

async function withToken(session: CommandLineSession, method: string, path: string): Promise<CallResult> {
  const url = `${server().url}${path}`;
  const response = await fetch(url, {
    method,
    headers: { authorization: `DPoP ${session.accessToken}`, dpop: await resourceProof(session.keys, { method, url, accessToken: session.accessToken }) },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

describe('signing the command line in', () => {
  let reviewer: { id: string; key: string };
  let publisher: { id: string; key: string };
  beforeAll(async () => {
    reviewer = await createReviewer(server(), 'cli-reviewer');
    publisher = await registerPublisher(server());
  });

  it("a reviewer's key gives reviewer access only, whatever the command line asked", async () => {
    const session = await commandLineSignIn(server().url, reviewer.key, ALL_SCOPES);
    expect(session.scope.split(' ').sort()).toEqual(['offline_access', 'platform/certification.review']);
    expect((await withToken(session, 'GET', '/whoami')).body).toMatchObject({ kind: 'reviewer', id: reviewer.id, via: 'platform_token' });
    expect((await withToken(session, 'GET', '/review/submissions')).status).toBe(200);
    expectProblem(await withToken(session, 'GET', '/apps'), 403, 'insufficient_scope');
  });

  it("a publisher's key gives app access only", async () => {
    const session = await commandLineSignIn(server().url, publisher.key, ALL_SCOPES);
    expect(session.scope.split(' ').sort()).toEqual(['offline_access', 'platform/apps.read', 'platform/apps.write']);
    expect((await withToken(session, 'GET', '/whoami')).body).toMatchObject({ kind: 'publisher', id: publisher.id });
    expectProblem(await withToken(session, 'GET', '/review/submissions'), 403, 'insufficient_scope');
  });

  it('a sign-in asking only for what the role cannot have is refused', async () => {
    await expect(commandLineSignIn(server().url, reviewer.key, 'platform/apps.read')).rejects.toThrow(/device approval failed: 400.*aucun des droits/s);
  });
});

describe('sandbox accounts', () => {
  beforeAll(async () => {
    await seedSandboxReviewers(server().app.db);
    await seedSandboxReviewers(server().app.db); // idempotent
  });

  async function start(target = server()) {
    const started = await postForm(target.url, '/oauth/device_authorization', form({ client_id: 'mes-cli', scope: ALL_SCOPES }));
    expect(started.status).toBe(200);
    return started.body as { user_code: string; device_code: string };
  }

  it('approve a pending sign-in as a seeded reviewer, whose token then reviews', async () => {
    const started = await start();
    const approved = await call(server(), 'POST', '/sandbox/sign-ins', { body: { userCode: started.user_code.toLowerCase(), user: 'reviewer-a' } });
    expect(approved.body).toEqual({ user: 'reviewer-a', kind: 'reviewer', scope: 'offline_access platform/certification.review' });
    const keys = await newKeys();
    const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'mes-cli', device_code: started.device_code }), keys);
    expect(tokens.status).toBe(200);
    const caller = await withToken({ accessToken: tokens.body.access_token, keys, scope: tokens.body.scope }, 'GET', '/whoami');
    expect(caller.body).toMatchObject({ kind: 'reviewer', name: expect.stringContaining('Relectrice A') });
    // A decided code is not decided twice.
    expectProblem(await call(server(), 'POST', '/sandbox/sign-ins', { body: { userCode: started.user_code, user: 'reviewer-b' } }), 404, 'not_found');
  });

  it('refuse unknown accounts and unknown codes, and exist only in the sandbox', async () => {
    const started = await start();
    expectProblem(await call(server(), 'POST', '/sandbox/sign-ins', { body: { userCode: started.user_code, user: 'cli-reviewer' } }), 400, 'unknown_sandbox_user');
    expectProblem(await call(server(), 'POST', '/sandbox/sign-ins', { body: { userCode: 'BCDF-GHJK', user: 'reviewer-a' } }), 404, 'not_found');
    expectProblem(await call(server(), 'POST', '/sandbox/sign-ins', { body: { userCode: started.user_code } }), 400, 'validation_failed');
    const elsewhere = await start(production());
    expectProblem(await call(production(), 'POST', '/sandbox/sign-ins', { body: { userCode: elsewhere.user_code, user: 'reviewer-a' } }), 404, 'sandbox_only');
  });
});
