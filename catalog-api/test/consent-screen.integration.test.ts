// The consent screen, in a browser's shoes: the authorization endpoint hands over, the patient
// signs in and comes back, sees who asks and why, unticks what they do not want to share,
// chooses for how long and for whom, and the app gets exactly that (or access_denied). Every way
// the form can be misused is refused and grants nothing.
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus } from '../src/modules/catalog/index.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { fhirRequest, seedGuardianship, seedRecord } from './fhir-helpers.js';
import { form, newKeys, pkce, postForm } from './oauth-helpers.js';
import { pageBrowser } from './page-browser.js';

const server = useServer();
const redirectUri = 'https://carnet.example.fr/oauth/callback';
let clientId: string;
let appId: string;
let certificate: string;

const scopes = [
  { scope: 'launch/patient', justification: 'Savoir pour quel patient le carnet est ouvert.' },
  { scope: 'offline_access', justification: 'Mettre le carnet à jour sans vous redemander.' },
  { scope: 'patient/Immunization.rs', justification: 'Afficher vos vaccins et les rappels à venir.', required: true },
  { scope: 'patient/Observation.rs', justification: 'Suivre la courbe de croissance des enfants.' },
  { scope: 'patient/AllergyIntolerance.rs', justification: 'Signaler une allergie avant un vaccin.' },
];

beforeAll(async () => {
  await seedRecord(server(), 'consent-helene', { family: 'Dupré', given: 'Hélène', birthDate: '1975-03-02' });
  await seedRecord(server(), 'consent-lina', { family: 'Dupré', given: 'Lina', birthDate: '2016-09-30' });
  await seedRecord(server(), 'consent-other', { family: 'Ndiaye', given: 'Awa', birthDate: '1990-01-01' });
  await seedGuardianship(server(), 'consent-helene', 'consent-lina', '2034-09-30');
  const publisher = await registerPublisher(server(), 'Santé Famille SAS');
  const app = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput({ name: 'Carnet familial', redirectUris: [redirectUri], scopes }) });
  appId = app.body.id;
  certificate = (await setCertificationStatus(server().app.db, appId, 'certified'))!.certificateReference!;
  clientId = (await call(server(), 'GET', `/apps/${appId}/clients`, { key: publisher.key })).body.items[0].clientId;
});

const fullScope = 'launch/patient offline_access patient/Immunization.rs patient/Observation.rs patient/AllergyIntolerance.rs';

/** The app starts an authorization; the browser is handed over to the consent screen. */
async function startAuthorization(options: { scope?: string; lang?: string } = {}) {
  const { verifier, challenge } = pkce();
  const me = pageBrowser(server, options.lang ? { acceptLanguage: options.lang } : {});
  const answer = await me.get(
    `/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: options.scope ?? fullScope, state: 'st-42', code_challenge: challenge, code_challenge_method: 'S256' })}`,
  );
  expect(answer.status).toBe(303);
  const screen = answer.location!.slice(server().url.length);
  const interaction = new URL(answer.location!).searchParams.get('interaction')!;
  return { me, screen, interaction, verifier };
}

/** Signs in on the sign-in page the screen sends to, and comes back to the screen. */
async function signIn(me: ReturnType<typeof pageBrowser>, screen: string, patient: string) {
  const toSignIn = await me.get(screen);
  expect(toSignIn.status).toBe(303);
  expect(toSignIn.location).toBe(`/patient/sign-in?return_to=${encodeURIComponent(screen)}`);
  const signedIn = await me.post('/patient/sign-in', { patient_id: patient, return_to: screen });
  expect(signedIn.status).toBe(303);
  expect(signedIn.location).toBe(screen);
  const page = await me.get(screen);
  expect(page.status).toBe(200);
  return page;
}

async function exchange(location: string, verifier: string) {
  const code = new URL(location).searchParams.get('code')!;
  const keys = await newKeys();
  const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }), keys);
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return { body: tokens.body, claims: decodeJwt(tokens.body.access_token), session: { token: tokens.body.access_token as string, keys } };
}

const grantEnd = async (grantId: string) =>
  (await server().app.db.query<{ expires_at: Date | null }>('SELECT expires_at FROM grants WHERE id = $1', [grantId]))[0]!.expires_at;
const days = (date: Date | null) => (date ? Math.round((date.getTime() - Date.now()) / 86_400_000) : null);

describe('the consent screen', () => {
  it('shows who asks, each permission with its justification, and what it cannot untick', async () => {
    const { me, screen } = await startAuthorization();
    const page = await signIn(me, screen, 'consent-helene');
    expect(page.html).toContain('<h1>Autoriser Carnet familial\u00a0?</h1>');
    expect(page.html).toContain('Éditée par <strong>Santé Famille SAS</strong>');
    expect(page.html).toContain('<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--success">Certifiée</span>');
    expect(certificate).toMatch(/^MES-\d{4}-\d{6}$/);
    expect(page.html).toContain(`Certificat n° <strong>${certificate}</strong>`);
    // A guardian chooses below for whom: the permissions speak of the chosen record, not "vos".
    expect(page.html).toContain('Carnet familial demande à accéder à un dossier Mon espace santé\u00a0: le vôtre, ou celui d’un enfant dont vous êtes le représentant légal.');
    expect(page.html).toContain('Lire les vaccinations');
    expect(page.html).not.toMatch(/<label[^>]*>Lire vos/);
    expect(page.html).toContain('Pourquoi\u00a0: Afficher vos vaccins et les rappels à venir.');
    expect(page.html).toContain('Pourquoi\u00a0: Suivre la courbe de croissance des enfants.');
    expect(page.html).toContain('Lire les allergies');
    // The required permission cannot be unticked; the others can.
    expect(page.html).toMatch(/<input type="checkbox" id="grant-\d" checked disabled[^>]*><label[^>]*>Lire les vaccinations/);
    expect(page.html).toMatch(/name="grant_\d" value="patient\/Observation\.rs" checked/);
    expect(page.html).toContain('Nécessaire au fonctionnement de l’application');
    expect(page.html).toContain('Savoir pour quel patient l’application est utilisée');
    for (const duration of ['once', '3-months', '1-year', 'until-withdrawn']) expect(page.html).toContain(`name="duration" value="${duration}"`);
    expect(page.html).toMatch(/value="3-months" checked/);
    expect(page.html).toContain('Pour qui donnez-vous cet accès\u00a0?');
    expect(page.html).toContain('Pour Lina Dupré, né(e) le 30 septembre 2016, dont je suis le représentant légal');
    expect(page.html).toContain('Connecté\u00a0: <strong>Hélène Dupré</strong>');
    // Strict CSP; the form may lead to the app's redirect URI and nowhere else.
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self' https://carnet.example.fr; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('grants only what stays ticked, for the chosen duration: the unticked scope is absent from the token and its data unreachable', async () => {
    const { me, screen, interaction, verifier } = await startAuthorization();
    const page = await signIn(me, screen, 'consent-helene');
    const allergy = /name="(grant_\d)" value="patient\/AllergyIntolerance\.rs"/.exec(page.html)![1]!;
    // Observation unticked (absent from the form), allergies kept, the required immunizations implied.
    const approved = await me.post('/patient/authorize', { interaction, csrf_token: me.csrfOf(page.html), decision: 'approve', [allergy]: 'patient/AllergyIntolerance.rs', duration: '1-year' });
    expect(approved.status).toBe(303);
    const back = new URL(approved.location!);
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('st-42');
    const { body, claims, session } = await exchange(approved.location!, verifier);
    expect(body.scope).toBe('launch/patient offline_access patient/AllergyIntolerance.rs patient/Immunization.rs');
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(claims).toMatchObject({ patient: 'consent-helene', sub: 'consent-helene' });
    expect(days(await grantEnd(claims.grant_id as string))).toBeGreaterThanOrEqual(364);
    expect(days(await grantEnd(claims.grant_id as string))).toBeLessThanOrEqual(366);

    expect((await fhirRequest(server(), session, 'GET', '/fhir/Immunization?patient=consent-helene')).status).toBe(200);
    expect((await fhirRequest(server(), session, 'GET', '/fhir/AllergyIntolerance?patient=consent-helene')).status).toBe(200);
    const unticked = await fhirRequest(server(), session, 'GET', '/fhir/Observation?patient=consent-helene');
    expect(unticked.status).toBe(403);
  });

  it('gives a one-time access without a refresh token, and "until withdrawn" without an end', async () => {
    const once = await startAuthorization();
    const page = await signIn(once.me, once.screen, 'consent-helene');
    const onceApproved = await once.me.post('/patient/authorize', { interaction: once.interaction, csrf_token: once.me.csrfOf(page.html), decision: 'approve', duration: 'once' });
    const oneTime = await exchange(onceApproved.location!, once.verifier);
    expect(oneTime.body.refresh_token).toBeUndefined();
    expect(oneTime.body.scope).not.toContain('offline_access');
    const end = await grantEnd(oneTime.claims.grant_id as string);
    expect(end!.getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    expect(end!.getTime() - Date.now()).toBeGreaterThan(10 * 60_000);

    const forever = await startAuthorization();
    const again = await signIn(forever.me, forever.screen, 'consent-helene');
    const approved = await forever.me.post('/patient/authorize', { interaction: forever.interaction, csrf_token: forever.me.csrfOf(again.html), decision: 'approve', duration: 'until-withdrawn' });
    const untilWithdrawn = await exchange(approved.location!, forever.verifier);
    expect(await grantEnd(untilWithdrawn.claims.grant_id as string)).toBeNull();
    expect(untilWithdrawn.body.scope).toContain('offline_access');
  });

  it('offers no duration when the app does not ask for offline access: the access is one time', async () => {
    const { me, screen, interaction, verifier } = await startAuthorization({ scope: 'patient/Immunization.rs' });
    const page = await signIn(me, screen, 'consent-helene');
    expect(page.html).not.toContain('name="duration"');
    expect(page.html).toContain('Cet accès est ponctuel');
    const approved = await me.post('/patient/authorize', { interaction, csrf_token: me.csrfOf(page.html), decision: 'approve', duration: 'until-withdrawn' });
    const { body, claims } = await exchange(approved.location!, verifier);
    expect(body.refresh_token).toBeUndefined();
    expect(days(await grantEnd(claims.grant_id as string))).toBe(0);
  });

  it('lets a guardian give access to a child’s record, and nobody else’s', async () => {
    const { me, screen, interaction, verifier } = await startAuthorization();
    const page = await signIn(me, screen, 'consent-helene');
    const csrf = me.csrfOf(page.html);
    const stranger = await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve', for: 'consent-other' });
    expect(stranger.status).toBe(400);
    expect(stranger.html).toContain('Vous ne pouvez pas donner cet accès pour cette personne.');
    const approved = await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve', for: 'consent-lina' });
    expect(approved.status).toBe(303);
    const { claims } = await exchange(approved.location!, verifier);
    expect(claims).toMatchObject({ patient: 'consent-lina', sub: 'consent-helene' });
  });

  it('sends access_denied back to the app when the patient refuses', async () => {
    const { me, screen, interaction } = await startAuthorization();
    const page = await signIn(me, screen, 'consent-other');
    expect(page.html).not.toContain('Pour qui');
    const refused = await me.post('/patient/authorize', { interaction, csrf_token: me.csrfOf(page.html), decision: 'refuse' });
    expect(refused.status).toBe(303);
    expect(Object.fromEntries(new URL(refused.location!).searchParams)).toEqual({ error: 'access_denied', error_description: 'the patient refused', state: 'st-42', iss: server().url });
  });

  it('refuses a tampered, forged or session-less form, and grants nothing', async () => {
    const { me, screen, interaction } = await startAuthorization();
    const page = await signIn(me, screen, 'consent-helene');
    const csrf = me.csrfOf(page.html);
    const observation = /name="(grant_\d)" value="patient\/Observation\.rs"/.exec(page.html)![1]!;

    const broader = await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve', [observation]: 'patient/*.rs' });
    expect(broader.status).toBe(400);
    expect(broader.html).toContain('Une permission envoyée ne fait pas partie de la demande.');
    const other = await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve', grant_9: 'patient/Condition.rs' });
    expect(other.status).toBe(400);
    const forged = await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve' }, { origin: 'https://evil.example.com' });
    expect(forged.status).toBe(403);
    const wrongToken = await me.post('/patient/authorize', { interaction, csrf_token: 'x'.repeat(32), decision: 'approve' });
    expect(wrongToken.status).toBe(403);
    const anonymous = pageBrowser(server);
    expect((await anonymous.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve' })).status).toBe(403);
    const unknownField = await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve', scope: 'patient/*.rs' });
    expect(unknownField.status).toBe(400);

    // None of these used the request up: it can still be decided.
    expect((await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve' })).status).toBe(303);
  });

  it('asks for at least one permission when none is required', async () => {
    const { me, screen, interaction } = await startAuthorization({ scope: 'patient/Observation.rs patient/AllergyIntolerance.rs' });
    const page = await signIn(me, screen, 'consent-helene');
    const empty = await me.post('/patient/authorize', { interaction, csrf_token: me.csrfOf(page.html), decision: 'approve' });
    expect(empty.status).toBe(400);
    expect(empty.html).toContain('Choisissez au moins une permission, ou refusez la demande.');
    // What the patient had chosen is kept: nothing ticked comes back ticked.
    expect(empty.html).not.toMatch(/value="patient\/Observation\.rs" checked/);
  });

  it('finishes a request once, and never after it expired', async () => {
    const { me, screen, interaction } = await startAuthorization();
    const page = await signIn(me, screen, 'consent-helene');
    const csrf = me.csrfOf(page.html);
    expect((await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve' })).status).toBe(303);
    const again = await me.post('/patient/authorize', { interaction, csrf_token: csrf, decision: 'approve' });
    expect(again.status).toBe(400);
    expect(again.html).toContain('Cette demande d’accès a expiré');
    expect((await me.get(screen)).status).toBe(400);
    expect((await pageBrowser(server).get(`/patient/authorize?interaction=${'A'.repeat(43)}`)).status).toBe(400);
  });

  it('speaks English to a browser that prefers it', async () => {
    const { me, screen } = await startAuthorization({ lang: 'en-GB,en;q=0.9,fr;q=0.5' });
    const page = await signIn(me, screen, 'consent-helene');
    expect(page.html).toContain('<html lang="en">');
    expect(page.html).toContain('<h1>Authorize Carnet familial?</h1>');
    expect(page.html).toContain('Read the vaccinations'); // of the record chosen on the page (Hélène is a guardian)
    expect(page.html).toContain('Why: Afficher vos vaccins'); // the publisher's justification is shown as written
    expect(page.html).toContain('Published by <strong>Santé Famille SAS</strong>');
  });

  it('still pre-approves with login_hint, and refuses a malformed or foreign one', async () => {
    const hinted = async (loginHint: string) => {
      const { verifier, challenge } = pkce();
      const answer = await fetch(
        `${server().url}/oauth/authorize?${form({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'patient/Immunization.rs', code_challenge: challenge, code_challenge_method: 'S256', login_hint: loginHint })}`,
        { redirect: 'manual' },
      );
      return { location: answer.headers.get('location')!, verifier };
    };
    const forChild = await hinted('consent-helene:consent-lina');
    expect((await exchange(forChild.location, forChild.verifier)).claims).toMatchObject({ patient: 'consent-lina', sub: 'consent-helene' });
    for (const hint of ['a:b:c', 'consent-helene:consent-other', '../x']) {
      expect(new URL((await hinted(hint)).location).searchParams.get('error'), hint).toBe('access_denied');
    }
  });
});
