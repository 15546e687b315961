// SMART EHR launch from the patient's space: "Ouvrir l'application" on "Mes applications
// connectées" (or on the app's catalogue page) sends the browser to the app's launch URL with
// `iss` and an opaque `launch`, single-use, short-lived, bound to the app and to the patient (or
// the child a guardian acts for); the app's authorization with the `launch` scope and that value
// then has its patient context, and opens without asking again when the person already authorized
// it for that patient. Every misuse is refused and issues no code.
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus } from '../src/modules/catalog/index.js';
import { launchUrlAllowed } from '../src/modules/oauth/index.js';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';
import { seedGuardianship, seedRecord } from './fhir-helpers.js';
import { form, newKeys, pkce, postForm } from './oauth-helpers.js';
import { pageBrowser } from './page-browser.js';

const server = useServer();
const redirectUri = 'https://suivi.example.fr/oauth/callback';
const launchUrl = 'https://suivi.example.fr/launch?from=mes';
const scopes = [
  { scope: 'launch', justification: 'Être ouverte depuis votre espace santé.' },
  { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
  { scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' },
  { scope: 'patient/Immunization.rs', justification: 'Lire vos vaccins.' },
];
let publisherKey: string;
let appId: string;
let clientId: string;
let otherClientId: string;

beforeAll(async () => {
  for (const [id, given, birthDate] of [['launch-anne', 'Anne', '1982-04-02'], ['launch-leo', 'Léo', '2015-06-01'], ['launch-other', 'Paul', '1970-01-01']] as const) {
    await seedRecord(server(), id, { family: 'Martin', given, birthDate });
  }
  await seedGuardianship(server(), 'launch-anne', 'launch-leo', '2033-06-01');
  publisherKey = (await registerPublisher(server(), 'Suivi SAS')).key;
  const app = await call(server(), 'POST', '/apps', { key: publisherKey, body: appInput({ name: 'Suivi', redirectUris: [redirectUri], launchUrl, scopes }) });
  expect(app.status, JSON.stringify(app.body)).toBe(201);
  expect(app.body.launchUrl).toBe(launchUrl);
  appId = app.body.id;
  await setCertificationStatus(server().app.db, appId, 'certified');
  clientId = (await call(server(), 'GET', `/apps/${appId}/clients`, { key: publisherKey })).body.items[0].clientId;
  const other = await call(server(), 'POST', '/apps', { key: publisherKey, body: appInput({ name: 'Autre', redirectUris: [redirectUri], scopes }) });
  otherClientId = (await call(server(), 'GET', `/apps/${other.body.id}/clients`, { key: publisherKey })).body.items[0].clientId;
});

/** A person signed in on the sandbox's picker. */
async function signedIn(patient: string) {
  const me = pageBrowser(server);
  const answer = await me.post('/patient/sign-in', { patient_id: patient, return_to: '/patient/apps' });
  expect(answer.status).toBe(303);
  return me;
}

/** A grant of the app for `loginHint` (the sandbox pre-approves it), as an earlier authorization would have left. */
async function authorizedBefore(loginHint: string, scope = 'launch/patient patient/Observation.rs patient/Immunization.rs') {
  const { verifier, challenge } = pkce();
  const answer = await fetch(
    `${server().url}/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope, code_challenge: challenge, code_challenge_method: 'S256', login_hint: loginHint })}`,
    { redirect: 'manual' },
  );
  const tokens = await exchange(new URL(answer.headers.get('location')!), verifier);
  return tokens.claims.grant_id as string;
}

/** "Ouvrir l'application" on a page: the form's post, and where it leads. */
async function open(me: ReturnType<typeof pageBrowser>, html: string, patient?: string) {
  const answer = await me.post('/patient/launch', { app_id: appId, csrf_token: me.csrfOf(html), ...(patient ? { for: patient } : {}) });
  expect(answer.status, answer.html).toBe(303);
  const location = new URL(answer.location!);
  expect(`${location.origin}${location.pathname}`).toBe('https://suivi.example.fr/launch');
  expect(location.searchParams.get('from')).toBe('mes');
  expect(location.searchParams.get('iss')).toBe(`${server().url}/fhir`);
  return location.searchParams.get('launch')!;
}

/** What the app does with a launch: it authorizes with the launch scope, the launch value and aud. */
async function appAuthorizes(me: ReturnType<typeof pageBrowser>, launch: string, options: { client?: string; scope?: string; follow?: boolean } = {}) {
  const { verifier, challenge } = pkce();
  const answer = await me.get(
    `/oauth/authorize?${form({
      client_id: options.client ?? clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: options.scope ?? 'launch patient/Observation.rs',
      state: 'st-launch',
      aud: `${server().url}/fhir`,
      launch,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`,
  );
  expect(answer.status, answer.html).toBe(303);
  const location = new URL(answer.location!, server().url);
  if (location.pathname !== '/patient/authorize' || options.follow === false) return { location, verifier };
  // A launched request always passes through the patient's pages: back to the app at once when
  // the person who launched it already authorized what it asks, else the consent screen.
  const step = await me.get(`${location.pathname}${location.search}`);
  return { location: step.status === 303 ? new URL(step.location!, server().url) : location, verifier };
}

async function exchange(location: URL, verifier: string) {
  const code = location.searchParams.get('code');
  expect(code, location.toString()).toEqual(expect.any(String));
  const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code: code!, code_verifier: verifier, redirect_uri: redirectUri }), await newKeys());
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return { body: tokens.body, claims: decodeJwt(tokens.body.access_token) };
}

describe('launch from "Mes applications connectées"', () => {
  it('opens the app with iss and a launch, and the app gets a token for that patient under the existing grant, without asking again', async () => {
    const grantId = await authorizedBefore('launch-anne');
    const me = await signedIn('launch-anne');
    const page = await me.get('/patient/apps');
    expect(page.html).toContain('Ouvrir Suivi');
    // The form's redirect leads to the app: the page's CSP allows that origin as a form target.
    expect(page.headers.get('content-security-policy')).toMatch(/form-action 'self'[^;]* https:\/\/suivi\.example\.fr/);

    const launch = await open(me, page.html, 'launch-anne');
    const { location, verifier } = await appAuthorizes(me, launch);
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('st-launch');
    const tokens = await exchange(location, verifier);
    expect(tokens.body).toMatchObject({ patient: 'launch-anne', scope: 'launch patient/Observation.rs' });
    expect(tokens.claims).toMatchObject({ grant_id: grantId, sub: 'launch-anne', patient: 'launch-anne' });
    const [count] = await server().app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM grants WHERE patient_id = $1 AND app_id = $2', ['launch-anne', appId]);
    expect(count!.n).toBe(1);
  });

  it('opens it for a child the guardian authorized it for, with the child as the patient', async () => {
    await authorizedBefore('launch-anne:launch-leo');
    const me = await signedIn('launch-anne');
    const page = await me.get('/patient/apps');
    expect(page.html).toContain('Ouvrir Suivi pour Léo Martin');
    const launch = await open(me, page.html, 'launch-leo');
    const tokens = await exchange(...Object.values(await appAuthorizes(me, launch)) as [URL, string]);
    expect(tokens.body.patient).toBe('launch-leo');
    expect(tokens.claims.sub).toBe('launch-anne');
  });

  it('asks for consent, for the launched patient only, when the app asks more than was authorized', async () => {
    const me = await signedIn('launch-other');
    const catalogue = await me.get(`/catalogue/${appId}`);
    expect(catalogue.html).toContain('Ouvrir l’application');
    expect(catalogue.headers.get('content-security-policy')).toContain('https://suivi.example.fr');
    const launch = await open(me, catalogue.html);
    const { location, verifier } = await appAuthorizes(me, launch, { scope: 'launch patient/Immunization.rs' });
    expect(location.pathname).toBe('/patient/authorize');
    const screen = await me.get(`${location.pathname}${location.search}`);
    expect(screen.status).toBe(200);
    expect(screen.html).toContain('Autoriser Suivi');
    expect(screen.html).not.toContain('Pour qui donnez-vous cet accès');

    // Nobody else may decide it: the request belongs to the person who launched the app.
    const stranger = await signedIn('launch-anne');
    expect((await stranger.get(`${location.pathname}${location.search}`)).status).toBe(403);
    const interaction = location.searchParams.get('interaction')!;
    const hijack = await stranger.post('/patient/authorize', { interaction, csrf_token: stranger.csrfOf((await stranger.get('/patient/apps')).html), decision: 'approve' });
    expect(hijack.status).toBe(403);

    const approved = await me.post('/patient/authorize', { interaction, csrf_token: me.csrfOf(screen.html), decision: 'approve', grant_0: 'patient/Immunization.rs' });
    expect(approved.status).toBe(303);
    const tokens = await exchange(new URL(approved.location!), verifier);
    expect(tokens.body).toMatchObject({ patient: 'launch-other', scope: 'launch patient/Immunization.rs' });
  });

  it('offers a link to sign in on the catalogue page of a visitor, and no launch form', async () => {
    const page = await pageBrowser(server).get(`/catalogue/${appId}`);
    expect(page.html).toContain('Se connecter pour ouvrir l’application');
    expect(page.html).not.toContain('action="/patient/launch"');
  });
});

describe('a launch value alone', () => {
  it('gets nothing in a browser where the person who launched is not signed in', async () => {
    await authorizedBefore('launch-anne');
    const me = await signedIn('launch-anne');
    const launch = await open(me, (await me.get('/patient/apps')).html, 'launch-anne');
    // Someone else holds the launch value (a leaked URL): their browser is sent to sign in, and signed
    // in as themselves they are refused; no code ever reaches the app from their browser.
    const thief = pageBrowser(server);
    const { location } = await appAuthorizes(thief, launch, { follow: false });
    expect(location.pathname).toBe('/patient/authorize');
    const toSignIn = await thief.get(`${location.pathname}${location.search}`);
    expect(toSignIn.status).toBe(303);
    expect(toSignIn.location).toMatch(/^\/patient\/sign-in\?return_to=/);
    await thief.post('/patient/sign-in', { patient_id: 'launch-other', return_to: '/patient/apps' });
    const refused = await thief.get(`${location.pathname}${location.search}`);
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('ouverte depuis l’espace santé d’une autre personne');
    // The request is still the launcher's to see through, in their own browser.
    const back = await me.get(`${location.pathname}${location.search}`);
    expect(back.status).toBe(303);
    expect(new URL(back.location!).searchParams.get('code')).toEqual(expect.any(String));
  });

  it('cannot have the request decided for another patient than the launch names', async () => {
    const { finishAuthorization } = await import('../src/modules/oauth/index.js');
    const { scopeSet } = await import('../src/modules/oauth/scopes.js');
    const me = await signedIn('launch-other');
    const launch = await open(me, (await me.get(`/catalogue/${appId}`)).html);
    const { location } = await appAuthorizes(me, launch, { scope: 'launch patient/Observation.rs', follow: false });
    const interaction = location.searchParams.get('interaction')!;
    const decided = await finishAuthorization(server().app.db, server().config, interaction, {
      approved: true,
      patientId: 'launch-anne',
      actorId: 'launch-other',
      scopes: scopeSet([]),
      expiresAt: null,
    });
    expect(Object.fromEntries(new URL(decided!).searchParams)).toMatchObject({ error: 'access_denied', error_description: 'the launch was for another patient' });
  });
});

describe('a launch', () => {
  it('is used once', async () => {
    await authorizedBefore('launch-anne');
    const me = await signedIn('launch-anne');
    const launch = await open(me, (await me.get('/patient/apps')).html, 'launch-anne');
    expect((await appAuthorizes(me, launch)).location.searchParams.get('code')).toEqual(expect.any(String));
    const again = await appAuthorizes(me, launch);
    expect(Object.fromEntries(again.location.searchParams)).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('launch is unknown, expired or already used'), state: 'st-launch' });
  });

  it('is for its app only, expires, and needs the launch scope', async () => {
    const me = await signedIn('launch-anne');
    const html = (await me.get('/patient/apps')).html;
    const forOther = await appAuthorizes(me, await open(me, html, 'launch-anne'), { client: otherClientId });
    expect(forOther.location.searchParams.get('error')).toBe('invalid_request');
    expect(forOther.location.searchParams.get('code')).toBeNull();

    const expired = await open(me, html, 'launch-anne');
    await server().app.db.query(`UPDATE patient_launches SET expires_at = now() - interval '1 second'`);
    expect((await appAuthorizes(me, expired)).location.searchParams.get('error')).toBe('invalid_request');

    const withoutScope = await appAuthorizes(me, await open(me, html, 'launch-anne'), { scope: 'patient/Observation.rs' });
    expect(withoutScope.location.searchParams.get('error')).toBe('invalid_scope');
    expect((await appAuthorizes(me, 'not/a-launch')).location.searchParams.get('error')).toBe('invalid_request');
  });

  it('is refused in a pushed request once it cannot be used', async () => {
    const pushed = await postForm(
      server().url,
      '/oauth/par',
      form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'launch patient/Observation.rs', launch: 'unknown-launch', code_challenge: pkce().challenge, code_challenge_method: 'S256' }),
    );
    expect(pushed).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('launch is unknown') } });
  });

  it('without a launch, the launch scope is simply not granted (standalone launch)', async () => {
    const { verifier, challenge } = pkce();
    const answer = await fetch(
      `${server().url}/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'launch launch/patient patient/Observation.rs', code_challenge: challenge, code_challenge_method: 'S256', login_hint: 'launch-other' })}`,
      { redirect: 'manual' },
    );
    const tokens = await exchange(new URL(answer.headers.get('location')!), verifier);
    expect(tokens.body.scope).toBe('launch/patient patient/Observation.rs');
  });

  it('cannot be started for someone the person may not act for, by another site, or for an app without a launch URL', async () => {
    const launches = async () => (await server().app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM patient_launches'))[0]!.n;
    const before = await launches();
    const me = await signedIn('launch-anne');
    const html = (await me.get('/patient/apps')).html;
    expect((await me.post('/patient/launch', { app_id: appId, csrf_token: me.csrfOf(html), for: 'launch-other' })).status).toBe(403);
    expect((await me.post('/patient/launch', { app_id: appId, csrf_token: 'x'.repeat(32) })).status).toBe(403);
    expect((await me.post('/patient/launch', { app_id: appId, csrf_token: me.csrfOf(html) }, { origin: 'https://evil.example.com' })).status).toBe(403);
    expect((await pageBrowser(server).post('/patient/launch', { app_id: appId, csrf_token: me.csrfOf(html) })).status).toBe(403);
    const other = (await call(server(), 'GET', `/apps`, { key: publisherKey })).body.items.find((app: { name: string }) => app.name === 'Autre');
    const none = await me.post('/patient/launch', { app_id: other.id, csrf_token: me.csrfOf(html) });
    expect(none.status).toBe(404);
    expect(none.html).toContain('ne peut pas être ouverte');
    expect(await launches()).toBe(before);
  });
});

describe('registering a launch URL', () => {
  it('needs https (or loopback http) on the origin of a redirect URI, and the launch scope', async () => {
    const refused = async (overrides: Record<string, unknown>, detail: string) => {
      const result = await call(server(), 'POST', '/apps', { key: publisherKey, body: appInput({ redirectUris: [redirectUri], scopes, ...overrides }) });
      expectProblem(result, 400, 'validation_failed');
      expect(result.body.errors).toEqual([{ pointer: '/body/launchUrl', detail: expect.stringContaining(detail) }]);
    };
    await refused({ launchUrl: 'https://elsewhere.example.com/launch' }, 'must be on the origin of one of the app’s redirect URIs');
    await refused({ launchUrl: 'http://suivi.example.fr/launch' }, 'must use https');
    await refused({ launchUrl: 'https://suivi.example.fr/launch#x' }, 'must not contain a fragment');
    await refused({ launchUrl: launchUrl, scopes: scopes.filter((s) => s.scope !== 'launch') }, 'needs the launch scope');
    const loopback = await call(server(), 'POST', '/apps', {
      key: publisherKey,
      body: appInput({ redirectUris: ['http://127.0.0.1:8080/callback'], launchUrl: 'http://127.0.0.1:8080/launch', scopes }),
    });
    expect(loopback.status).toBe(201);
  });

  it('is checked against the app as an update leaves it, and can be removed', async () => {
    const update = (body: Record<string, unknown>) => call(server(), 'PATCH', `/apps/${appId}`, { key: publisherKey, body });
    expectProblem(await update({ redirectUris: ['https://autre.example.fr/callback'] }), 400, 'validation_failed');
    expectProblem(await update({ scopes: scopes.filter((s) => s.scope !== 'launch') }), 400, 'validation_failed');
    expect((await call(server(), 'GET', `/apps/${appId}`, { key: publisherKey })).body.launchUrl).toBe(launchUrl);
    const app = await call(server(), 'POST', '/apps', { key: publisherKey, body: appInput({ name: 'Éphémère', redirectUris: [redirectUri], launchUrl, scopes }) });
    const removed = await call(server(), 'PATCH', `/apps/${app.body.id}`, { key: publisherKey, body: { launchUrl: null } });
    expect(removed.status).toBe(200);
    expect(removed.body.launchUrl).toBeNull();
  });

  it('outside the sandbox, leads only to the origin of the certified redirect URIs', () => {
    expect(launchUrlAllowed('https://suivi.example.fr/launch', ['https://suivi.example.fr/cb'])).toBe(true);
    expect(launchUrlAllowed('https://suivi.example.fr:8443/launch', ['https://suivi.example.fr/cb'])).toBe(false);
    expect(launchUrlAllowed('https://evil.example.fr/launch', ['https://suivi.example.fr/cb'])).toBe(false);
    expect(launchUrlAllowed('not a url', ['https://suivi.example.fr/cb'])).toBe(false);
  });
});
