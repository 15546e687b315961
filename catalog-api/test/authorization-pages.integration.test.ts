// The sandbox's patient step of an authorization, in a browser's shoes: the authorization
// endpoint hands over to the picker, a person searches and picks a synthetic patient (a guardian
// may act for a child), approves or refuses, and the app gets its code or access_denied back;
// login_hint pre-approves for automated tests. Every way the step can be misused is refused.
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { seedGuardianship, seedRecord } from './fhir-helpers.js';
import { form, newKeys, pkce, postForm } from './oauth-helpers.js';

const server = useServer();
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
let clientId: string;

beforeAll(async () => {
  await seedRecord(server(), 'picker-helene', { family: 'Dupré', given: 'Hélène', birthDate: '1975-03-02' });
  await seedRecord(server(), 'picker-marc', { family: 'Dupré', given: 'Marc', birthDate: '1974-07-19' });
  await seedRecord(server(), 'picker-lina', { family: 'Dupré', given: 'Lina', birthDate: '2016-09-30' });
  await seedRecord(server(), 'picker-other', { family: 'Ndiaye', given: 'Awa', birthDate: '1990-01-01' });
  await seedGuardianship(server(), 'picker-helene', 'picker-lina', '2034-09-30');
  const publisher = await registerPublisher(server());
  const app = await call(server(), 'POST', '/apps', {
    key: publisher.key,
    body: appInput({ name: 'Carnet familial', redirectUris: [redirectUri], scopes: [{ scope: 'patient/Immunization.rs', justification: 'Vos vaccins.' }] }),
  });
  clientId = (await call(server(), 'GET', `/apps/${app.body.id}/clients`, { key: publisher.key })).body.items[0].clientId;
});

/** A browser: cookies kept, its pages' Origin sent with its posts, redirects not followed. */
function browser() {
  let cookie = '';
  async function go(method: 'GET' | 'POST', url: string, values?: Record<string, string>, headers: Record<string, string> = {}) {
    const response = await fetch(url.startsWith('http') ? url : `${server().url}${url}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(values ? { 'content-type': 'application/x-www-form-urlencoded', origin: server().url } : {}),
        ...headers,
      },
      ...(values ? { body: form(values) } : {}),
    });
    const set = response.headers.getSetCookie()[0];
    if (set) cookie = set.split(';')[0]!;
    return { status: response.status, location: response.headers.get('location'), html: await response.text(), cookie: () => cookie };
  }
  return { get: (url: string) => go('GET', url), post: (url: string, values: Record<string, string>, headers?: Record<string, string>) => go('POST', url, values, headers) };
}

async function startAuthorization(extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const me = browser();
  const answer = await me.get(
    `/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'patient/Immunization.rs', state: 'st-42', code_challenge: challenge, code_challenge_method: 'S256', ...extra })}`,
  );
  return { me, answer, verifier };
}

async function exchange(location: string, verifier: string) {
  const code = new URL(location).searchParams.get('code')!;
  const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }), await newKeys());
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return decodeJwt(tokens.body.access_token);
}

const interactionOf = (location: string) => new URL(location, server().url).searchParams.get('interaction')!;

describe('the sandbox patient picker', () => {
  it('hands the browser over without login_hint, lets a person search and pick a patient, and sends the code back', async () => {
    const { me, answer, verifier } = await startAuthorization();
    expect(answer.status).toBe(303);
    expect(answer.location).toMatch(new RegExp(`^${server().url}/patient/authorize\\?interaction=[A-Za-z0-9_-]{43}$`));
    const interaction = interactionOf(answer.location!);

    const picker = await me.get(answer.location!);
    expect(picker.status).toBe(200);
    expect(picker.html).toContain('<strong>Carnet familial</strong> demande à :');
    expect(picker.html).toContain('<li>Lire vos vaccinations</li>');
    const found = await me.get(`/patient/authorize?interaction=${interaction}&q=${encodeURIComponent('HELENE dupre')}`);
    expect(found.html).toContain('Hélène Dupré, né(e) le 2 mars 1975');
    expect(found.html).not.toContain('Awa Ndiaye');

    const chosen = await me.post('/patient/authorize', { interaction, patient_id: 'picker-marc' });
    expect(chosen.status).toBe(303);
    const decision = await me.get(chosen.location!);
    expect(decision.html).toContain('Connecté en tant que <strong>Marc Dupré</strong>');
    expect(decision.html).not.toContain('Pour qui');

    const approved = await me.post('/patient/authorize', { interaction, patient_id: 'picker-marc', decision: 'approve' });
    expect(approved.status).toBe(303);
    const back = new URL(approved.location!);
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ state: 'st-42', iss: server().url, code: expect.any(String) });
    expect(await exchange(approved.location!, verifier)).toMatchObject({ patient: 'picker-marc', sub: 'picker-marc', scope: 'patient/Immunization.rs' });
    // The person is signed in on the platform's pages now: their connected apps show the new grant.
    expect((await me.get('/patient/apps')).html).toContain('<h3>Carnet familial</h3>');
  });

  it('lets a guardian give access to a child’s record', async () => {
    const { me, answer, verifier } = await startAuthorization();
    const interaction = interactionOf(answer.location!);
    const page = await me.get(`/patient/authorize?interaction=${interaction}&patient=picker-helene`);
    expect(page.html).toContain('Pour qui donnez-vous cet accès ?');
    expect(page.html).toContain('Pour Lina Dupré, né(e) le 30 septembre 2016, dont je suis le représentant légal');
    // Not a child of hers: refused, and the request still waits.
    const stranger = await me.post('/patient/authorize', { interaction, patient_id: 'picker-helene', for: 'picker-other', decision: 'approve' });
    expect(stranger.status).toBe(400);
    expect(stranger.html).toContain('Vous ne pouvez pas agir pour ce patient.');
    const approved = await me.post('/patient/authorize', { interaction, patient_id: 'picker-helene', for: 'picker-lina', decision: 'approve' });
    expect(await exchange(approved.location!, verifier)).toMatchObject({ patient: 'picker-lina', sub: 'picker-helene' });
  });

  it('sends access_denied back to the app when the person refuses, from either page', async () => {
    for (const extra of [{}, { patient_id: 'picker-marc' }] as Record<string, string>[]) {
      const { me, answer } = await startAuthorization();
      const refused = await me.post('/patient/authorize', { interaction: interactionOf(answer.location!), ...extra, decision: 'refuse' });
      const back = new URL(refused.location!);
      expect(Object.fromEntries(back.searchParams)).toEqual({ error: 'access_denied', error_description: 'the patient refused', state: 'st-42', iss: server().url });
    }
  });

  it('finishes a request once, and never after it expired', async () => {
    const { me, answer } = await startAuthorization();
    const interaction = interactionOf(answer.location!);
    expect((await me.post('/patient/authorize', { interaction, patient_id: 'picker-marc', decision: 'approve' })).status).toBe(303);
    const again = await me.post('/patient/authorize', { interaction, patient_id: 'picker-marc', decision: 'approve' });
    expect(again.status).toBe(400);
    expect(again.html).toContain('Cette demande d’accès a expiré');
    expect((await me.get(`/patient/authorize?interaction=${interaction}`)).status).toBe(400);

    const late = await startAuthorization();
    await server().app.db.query(`UPDATE authorization_interactions SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    const tooLate = await late.me.post('/patient/authorize', { interaction: interactionOf(late.answer.location!), patient_id: 'picker-marc', decision: 'approve' });
    expect(tooLate.status).toBe(400);
    expect((await me.get(`/patient/authorize?interaction=${'A'.repeat(43)}`)).status).toBe(400);
  });

  it('refuses a decision posted from another site, and a patient that does not exist', async () => {
    const { me, answer } = await startAuthorization();
    const interaction = interactionOf(answer.location!);
    const forged = await me.post('/patient/authorize', { interaction, patient_id: 'picker-marc', decision: 'approve' }, { origin: 'https://evil.example.com' });
    expect(forged.status).toBe(403);
    const ghost = await me.post('/patient/authorize', { interaction, patient_id: 'nobody-here', decision: 'approve' });
    expect(ghost.status).toBe(400);
    // Neither used the request up: it can still be approved.
    expect((await me.post('/patient/authorize', { interaction, patient_id: 'picker-marc', decision: 'approve' })).status).toBe(303);
  });

  it('pre-approves with login_hint, for a patient or for a guardian and their child', async () => {
    const self = await startAuthorization({ login_hint: 'picker-marc' });
    expect(await exchange(self.answer.location!, self.verifier)).toMatchObject({ patient: 'picker-marc' });
    const child = await startAuthorization({ login_hint: 'picker-helene:picker-lina' });
    expect(await exchange(child.answer.location!, child.verifier)).toMatchObject({ patient: 'picker-lina', sub: 'picker-helene' });
    const notHers = await startAuthorization({ login_hint: 'picker-helene:picker-other' });
    expect(new URL(notHers.answer.location!).searchParams.get('error')).toBe('access_denied');
    const malformed = await startAuthorization({ login_hint: 'a:b:c' });
    expect(new URL(malformed.answer.location!).searchParams.get('error')).toBe('access_denied');
  });
});

describe('outside the sandbox', () => {
  const production = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });
  it('says patient sign-in is not available', async () => {
    const response = await fetch(`${production().url}/patient/authorize?interaction=${'A'.repeat(43)}`);
    expect(response.status).toBe(503);
  });
});
