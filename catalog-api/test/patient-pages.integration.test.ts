// The patient's "my connected apps" page (the SMART management_endpoint) and the sandbox sign-in
// in front of it: what the patient sees, withdrawal taking effect at once, and every way a form
// is refused (no session, no or wrong CSRF token, another origin, another person's grant).
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertGrant } from '../src/modules/oauth/grant-repository.js';
import { setCertificationStatus } from '../src/modules/catalog/index.js';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';
import { fhirRequest, patientToken, seedRecord } from './fhir-helpers.js';
import { form, newKeys, pkce, postForm } from './oauth-helpers.js';

const server = useServer();
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
let publisherKey: string;
let app: { id: string; name: string; clientId: string };

beforeAll(async () => {
  publisherKey = (await registerPublisher(server())).key;
  const created = await call(server(), 'POST', '/apps', {
    key: publisherKey,
    body: appInput({
      name: 'TensioSuivi',
      scopes: [
        { scope: 'offline_access', justification: 'Synchroniser vos mesures sans vous redemander.' },
        { scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension.' },
        { scope: 'patient/Immunization.rs', justification: 'Rappeler vos vaccins.' },
      ],
    }),
  });
  const [client] = (await call(server(), 'GET', `/apps/${created.body.id}/clients`, { key: publisherKey })).body.items;
  app = { id: created.body.id, name: created.body.name, clientId: client.clientId };
});

/** A patient's authorization of the app in the sandbox, with a refresh token to try afterwards. */
async function authorizeApp(patient: string) {
  const { verifier, challenge } = pkce();
  const response = await fetch(
    `${server().url}/oauth/authorize?${form({
      client_id: app.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'offline_access patient/Observation.rs?category=vital-signs patient/Immunization.rs',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      login_hint: patient,
    })}`,
    { redirect: 'manual' },
  );
  const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
  const keys = await newKeys();
  const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: app.clientId, code, code_verifier: verifier, redirect_uri: redirectUri }), keys);
  expect(tokens.status).toBe(200);
  return { grantId: decodeJwt(tokens.body.access_token).grant_id as string, refreshToken: tokens.body.refresh_token as string, keys };
}

/** A browser: keeps its cookies, sends its pages' Origin on form posts, does not follow redirects. */
function browser(origin = server().url) {
  const jar = new Map<string, string>();
  async function request(method: string, path: string, options: { form?: Record<string, string>; headers?: Record<string, string> } = {}) {
    // An empty value means "do not send this header at all" (origin: '' sends no Origin).
    const given = Object.entries(options.headers ?? {});
    const headers = new Headers(given.filter(([, value]) => value !== ''));
    if (jar.size) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    if (options.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      if (!given.some(([name]) => name === 'origin')) headers.set('origin', origin);
    }
    const response = await fetch(`${server().url}${path}`, { method, headers, redirect: 'manual', ...(options.form ? { body: form(options.form) } : {}) });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (/Max-Age=0/.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return { status: response.status, headers: response.headers, html: await response.text(), location: response.headers.get('location') };
  }
  return {
    jar,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, headers ? { headers } : {}),
    post: (path: string, values: Record<string, string>, headers?: Record<string, string>) => request('POST', path, { form: values, ...(headers ? { headers } : {}) }),
    async signIn(patient: string) {
      const signedIn = await request('POST', '/patient/sign-in', { form: { patient_id: patient, return_to: '/patient/apps' } });
      expect(signedIn.status, signedIn.html).toBe(303);
      expect(signedIn.location).toBe('/patient/apps');
      return signedIn;
    },
  };
}

const csrfOf = (html: string) => /name="csrf_token" value="([^"]+)"/.exec(html)![1]!;
const withdrawalAction = (grantId: string) => `/patient/apps/${grantId}/withdrawal`;
const grantActive = async (grantId: string) =>
  (await server().app.db.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM grants WHERE id = $1', [grantId]))[0]!.revoked_at === null;
/** Whether the app can still refresh; its refresh token rotates (public client), so the grant keeps the new one. */
async function refreshWorks(grant: { refreshToken: string; keys: Awaited<ReturnType<typeof newKeys>> }): Promise<boolean> {
  const result = await postForm(server().url, '/oauth/token', form({ grant_type: 'refresh_token', client_id: app.clientId, refresh_token: grant.refreshToken }), grant.keys);
  if (result.status === 200) grant.refreshToken = result.body.refresh_token;
  return result.status === 200;
}

describe('my connected apps', () => {
  it('is the SMART management_endpoint, and sends a visitor without a session to sign in', async () => {
    const smart = await call(server(), 'GET', '/.well-known/smart-configuration');
    expect(smart.body.management_endpoint).toBe(`${server().url}/patient/apps`);
    const visitor = await browser().get('/patient/apps');
    expect(visitor.status).toBe(303);
    expect(visitor.location).toBe('/patient/sign-in?return_to=%2Fpatient%2Fapps');
    const signIn = await browser().get(visitor.location!);
    expect(signIn.status).toBe(200);
    expect(signIn.html).toContain('Identifiant du patient de test');
    expect(signIn.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('shows each authorized app with what it may do, in plain words, and withdraws it at once', async () => {
    const patient = 'patient-pages-1';
    const grant = await authorizeApp(patient);
    const me = browser();
    const signedIn = await me.signIn(patient);
    const cookie = signedIn.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^mes_patient=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=1800$/);

    const listed = await me.get('/patient/apps');
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toBe('no-store');
    expect(listed.headers.get('referrer-policy')).toBe('same-origin');
    expect(listed.html).toContain(`<h3><a href="/catalogue/${app.id}">TensioSuivi</a></h3>`);
    expect(listed.html).toContain('jusqu’à ce que vous la retiriez');
    expect(listed.html).toContain('<strong>Pour vous</strong>');
    expect(listed.html).toContain('L’application n’a encore accédé à aucune donnée.');
    expect(listed.html).toContain('<li><span class="fr-tag fr-tag--sm">Lire vos mesures et résultats (signes vitaux)</span></li>');
    expect(listed.html).toContain('<li><span class="fr-tag fr-tag--sm">Lire vos vaccinations</span></li>');
    // The access's end is said once, in its period: the duration is not repeated as a permission.
    expect(listed.html).not.toContain('Garder l’accès sans vous le redemander');
    expect(listed.html).toContain(`action="${withdrawalAction(grant.grantId)}"`);

    // The button leads to a confirmation step; looking at it withdraws nothing.
    const confirmation = await me.get(withdrawalAction(grant.grantId));
    expect(confirmation.status).toBe(200);
    expect(confirmation.html).toContain('<h1>Retirer l’accès de TensioSuivi\u00a0?</h1>');
    expect(confirmation.html).toContain('TensioSuivi ne pourra plus lire ni modifier vos données, dès maintenant.');
    expect(confirmation.html).toMatch(new RegExp(`<form method="post" action="${withdrawalAction(grant.grantId)}"><input type="hidden" name="csrf_token" value="[^"]+"><div class="actions"><button class="fr-btn">Oui, retirer l’accès</button>\\n<a href="/patient/apps">Annuler</a>`));
    expect(await grantActive(grant.grantId)).toBe(true);

    const withdrawn = await me.post(withdrawalAction(grant.grantId), { csrf_token: csrfOf(confirmation.html) });
    expect(withdrawn.status).toBe(303);
    expect(withdrawn.location).toBe('/patient/apps?notice=withdrawn');
    // Effective at once: the app's refresh fails, introspection says inactive.
    expect(await grantActive(grant.grantId)).toBe(false);
    expect(await refreshWorks(grant)).toBe(false);
    const after = await me.get(withdrawn.location!);
    expect(after.html).toContain('L’accès a été retiré.');
    expect(after.html).toContain('Aucune application n’a accès à vos données.');
    expect(after.html).toMatch(/<h2>Accès terminés<\/h2>\s*<ul class="cards"><li class="fr-card fr-card--no-arrow mes-card"><div class="fr-card__body"><div class="fr-card__content">[\s\S]*TensioSuivi<\/a><\/h3>[\s\S]*Vous avez retiré cet accès/);
    expect(after.html).not.toContain(`action="${withdrawalAction(grant.grantId)}"`);

    // Withdrawing again changes nothing and says so; so does its confirmation step.
    const again = await me.post(withdrawalAction(grant.grantId), { csrf_token: csrfOf(after.html) });
    expect(again.location).toBe('/patient/apps?notice=already-ended');
    expect((await me.get(withdrawalAction(grant.grantId))).location).toBe('/patient/apps?notice=already-ended');
  });

  it('shows what the app is notified of, and withdrawing the app ends those notifications', async () => {
    const patient = 'patient-pages-subscriptions';
    const grant = await authorizeApp(patient);
    // A subscription the app made under this grant (through POST /fhir/Subscription in its own tests).
    const [subscription] = await server().app.db.query<{ id: string }>(
      `INSERT INTO subscriptions (id, app_id, client_id, grant_id, patient_id, scope, topic, endpoint, fhir_base, status, reason)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, 'patient/Observation.rs', 'new-measurement', 'https://tensiosuivi.example.fr/hooks', $5, 'active', 'tests') RETURNING id`,
      [app.id, app.clientId, grant.grantId, patient, `${server().url}/fhir`],
    );
    const me = browser();
    await me.signIn(patient);
    const listed = await me.get('/patient/apps');
    // French typography: a no-break space before the colon.
    expect(listed.html).toContain('<p>L’application est prévenue, sans attendre, quand il y a\u00a0:</p>');
    expect(listed.html).toMatch(/<ul><li>une nouvelle mesure \(depuis le [^)]+\)<\/li><\/ul>/);
    const english = await me.get('/patient/apps', { 'accept-language': 'en-GB,en;q=0.9' });
    expect(english.html).toContain('<p>The app is told at once when there is:</p>');
    expect(english.html).toMatch(/<ul><li>a new measurement \(since [^)]+\)<\/li><\/ul>/);
    const confirmation = await me.get(withdrawalAction(grant.grantId));
    const withdrawn = await me.post(withdrawalAction(grant.grantId), { csrf_token: csrfOf(confirmation.html) });
    expect(withdrawn.location).toBe('/patient/apps?notice=withdrawn');
    const [row] = await server().app.db.query<{ status: string }>('SELECT status FROM subscriptions WHERE id = $1', [subscription!.id]);
    expect(row!.status).toBe('off');
    expect((await me.get('/patient/apps')).html).not.toContain('une nouvelle mesure');
  });

  it('asks who is there before the confirmation step, and shows nobody else’s grant there', async () => {
    const grant = await authorizeApp('patient-pages-confirm');
    const anonymous = await browser().get(withdrawalAction(grant.grantId));
    expect(anonymous.status).toBe(303);
    expect(anonymous.location).toBe(`/patient/sign-in?return_to=${encodeURIComponent(withdrawalAction(grant.grantId))}`);
    const other = browser();
    await other.signIn('patient-pages-someone-else');
    const refused = await other.get(withdrawalAction(grant.grantId));
    expect(refused.location).toBe('/patient/apps?notice=already-ended');
    expect(await grantActive(grant.grantId)).toBe(true);
  });

  it('shows a guardian the grants they gave for a child, and lets them withdraw those', async () => {
    const guardian = 'guardian-1';
    const child = 'child-of-guardian-1';
    const grantId = await insertGrant(server().app.db, { appId: app.id, clientId: app.clientId, patientId: child, actorId: guardian, scope: 'patient/Immunization.rs', expiresAt: new Date(Date.now() + 90 * 86400_000) });
    const me = browser();
    await me.signIn(guardian);
    const listed = await me.get('/patient/apps');
    expect(listed.html).toContain(`<strong>Pour ${child}, dont vous êtes le représentant légal</strong>`);
    expect(listed.html).toMatch(/jusqu’au \d{1,2} \S+ \d{4}/);
    // What the app may do is said of the child's record, not "yours".
    expect(listed.html).toContain(`<li><span class="fr-tag fr-tag--sm">Lire les vaccinations de ${child}</span></li>`);
    expect(listed.html).not.toContain('<li><span class="fr-tag fr-tag--sm">Lire vos vaccinations</span></li>');
    expect((await me.post(withdrawalAction(grantId), { csrf_token: csrfOf(listed.html) })).location).toBe('/patient/apps?notice=withdrawn');
    expect(await grantActive(grantId)).toBe(false);
  });

  it('says a one-time access is one, and an ended access when it ended rather than its old end date', async () => {
    const patient = 'patient-pages-periods';
    const now = Date.now();
    await insertGrant(server().app.db, { appId: app.id, clientId: app.clientId, patientId: patient, actorId: patient, scope: 'patient/Immunization.rs', expiresAt: new Date(now + 15 * 60_000) });
    const yearLong = await insertGrant(server().app.db, { appId: app.id, clientId: app.clientId, patientId: patient, actorId: patient, scope: 'offline_access patient/Immunization.rs', expiresAt: new Date(now + 365 * 86400_000) });
    const me = browser();
    await me.signIn(patient);
    const listed = await me.get('/patient/apps');
    const today = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(new Date(now));
    const nextYear = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(new Date(now + 365 * 86400_000));
    expect(listed.html).toContain(`Accès unique, le ${today}`);
    expect(listed.html).not.toContain(`jusqu’au ${today}`);
    // A year-long access: its end date, and nothing saying "until you withdraw it".
    expect(listed.html).toContain(`jusqu’au ${nextYear}`);
    expect(listed.html).not.toContain('jusqu’à ce que vous le retiriez');

    await me.post(withdrawalAction(yearLong), { csrf_token: csrfOf(listed.html) });
    const after = await me.get('/patient/apps');
    const ended = after.html.slice(after.html.indexOf('<h2>Accès terminés</h2>'));
    expect(ended).toContain(`Vous avez retiré cet accès (le ${today}).`);
    expect(ended).not.toContain(`jusqu’au ${nextYear}`);
  });

  it('tells the patient at their next visit when an app they authorized is suspended, until they dismiss it', async () => {
    const patient = 'patient-pages-suspended';
    const publisher = await registerPublisher(server(), 'Éditeur suspendu');
    const other = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput({ name: 'Appli suspendue' }) });
    const [client] = (await call(server(), 'GET', `/apps/${other.body.id}/clients`, { key: publisher.key })).body.items;
    await setCertificationStatus(server().app.db, other.body.id, 'certified');
    await insertGrant(server().app.db, { appId: other.body.id, clientId: client.clientId, patientId: patient, actorId: patient, scope: 'patient/Observation.rs', expiresAt: null });
    const me = browser();
    await me.signIn(patient);
    expect((await me.get('/patient/apps')).html).not.toContain('a été suspendue');

    await setCertificationStatus(server().app.db, other.body.id, 'suspended');
    const visit = await me.get('/patient/apps');
    expect(visit.html).toContain('<h2 class="fr-alert__title">Appli suspendue a été suspendue</h2>');
    expect(visit.html).toContain('cette application ne peut plus accéder à vos données');
    expect(visit.html).toContain('<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--warning">Certification suspendue</span>');
    // Someone who never authorized it is not told.
    const stranger = browser();
    await stranger.signIn('patient-pages-never-authorized');
    expect((await stranger.get('/patient/apps')).html).not.toContain('Appli suspendue');

    // A forged dismissal changes nothing; the patient's own dismisses this change only.
    const action = `/patient/apps/notices/${other.body.id}/dismissal`;
    expect((await me.post(action, { csrf_token: csrfOf(visit.html) }, { origin: 'https://evil.example.com' })).status).toBe(403);
    expect((await me.get('/patient/apps')).html).toContain('a été suspendue');
    const dismissed = await me.post(action, { csrf_token: csrfOf(visit.html) });
    expect(dismissed.location).toBe('/patient/apps');
    const after = await me.get('/patient/apps');
    expect(after.html).not.toContain('a été suspendue');
    expect(after.html).toContain('tant que sa certification n’est pas rétablie');

    // A later change (revoked) is a new notice.
    await server().app.db.query(`UPDATE apps SET certification_changed_at = now() - interval '1 second' WHERE id = $1`, [other.body.id]);
    await setCertificationStatus(server().app.db, other.body.id, 'revoked');
    expect((await me.get('/patient/apps')).html).toContain('<h2 class="fr-alert__title">Appli suspendue n’est plus certifiée</h2>');
  });

  it('shows when the app last accessed the record', async () => {
    const patient = 'patient-pages-last-access';
    await seedRecord(server(), patient);
    const session = await patientToken(server(), patient, 'patient/Immunization.rs');
    expect((await fhirRequest(server(), session, 'GET', `/fhir/Immunization?patient=${patient}`)).status).toBe(200);
    const me = browser();
    await me.signIn(patient);
    const listed = await me.get('/patient/apps');
    expect(listed.html).toMatch(/Dernier accès à vos données\u00a0: \d{1,2} \S+ \d{4} à \d{2}:\d{2}/);
    expect(listed.html).toContain(`href="/patient/history?app=${session.appId}"`);
  });

  it('offers the same data as JSON, and a withdrawal through it', async () => {
    const patient = 'patient-pages-json';
    const grant = await authorizeApp(patient);
    const me = browser();
    await me.signIn(patient);
    const cookie = [...me.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const listed = await call(server(), 'GET', '/patient/grants', { headers: { cookie } });
    expect(listed.status).toBe(200);
    expect(listed.body.active).toEqual([
      expect.objectContaining({
        grantId: grant.grantId,
        app: { id: app.id, name: 'TensioSuivi', publisher: 'Éditeur de test', certificationStatus: expect.any(String), certificateReference: null },
        patientId: patient,
        actorId: patient,
        scope: expect.stringContaining('patient/Immunization.rs'),
        expiresAt: null,
        lastAccessAt: null,
        active: true,
        endedAt: null,
        endReason: null,
      }),
    ]);
    expectProblem(await call(server(), 'GET', '/patient/grants'), 401, 'authentication_required');
    // Another site's page cannot withdraw through the API; another person cannot either.
    expectProblem(await call(server(), 'DELETE', `/patient/grants/${grant.grantId}`, { headers: { cookie, origin: 'https://evil.example.com' } }), 403, 'cross_origin_request');
    const stranger = browser();
    await stranger.signIn('patient-pages-json-stranger');
    const strangerCookie = [...stranger.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    expectProblem(await call(server(), 'DELETE', `/patient/grants/${grant.grantId}`, { headers: { cookie: strangerCookie } }), 404, 'not_found');
    expect(await grantActive(grant.grantId)).toBe(true);

    const withdrawn = await fetch(`${server().url}/patient/grants/${grant.grantId}`, { method: 'DELETE', headers: { cookie, origin: server().url } });
    expect(withdrawn.status).toBe(204);
    expect(await refreshWorks(grant)).toBe(false);
    const after = await call(server(), 'GET', '/patient/grants', { headers: { cookie } });
    expect(after.body.active).toEqual([]);
    expect(after.body.ended).toEqual([expect.objectContaining({ grantId: grant.grantId, active: false, endReason: 'withdrawn', endedAt: expect.any(String) })]);
  });

  it('escapes what apps and patients name themselves', async () => {
    const publisher = await registerPublisher(server(), 'Éditeur taquin');
    const sneaky = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput({ name: 'Appli <img src=x onerror=alert(1)>' }) });
    expect(sneaky.status).toBe(201);
    const [client] = (await call(server(), 'GET', `/apps/${sneaky.body.id}/clients`, { key: publisher.key })).body.items;
    await insertGrant(server().app.db, { appId: sneaky.body.id, clientId: client.clientId, patientId: 'patient-escape', actorId: 'patient-escape', scope: 'patient/Observation.rs', expiresAt: null });
    const me = browser();
    await me.signIn('patient-escape');
    const listed = await me.get('/patient/apps');
    expect(listed.html).toContain('Appli &lt;img src=x onerror=alert(1)&gt;');
    expect(listed.html).not.toContain('<img');
  });
});

describe('forms of the patient pages that are refused, changing nothing', () => {
  let grant: Awaited<ReturnType<typeof authorizeApp>>;
  let me: ReturnType<typeof browser>;
  let csrf: string;
  beforeAll(async () => {
    grant = await authorizeApp('patient-pages-2');
    me = browser();
    await me.signIn('patient-pages-2');
    csrf = csrfOf((await me.get('/patient/apps')).html);
  });

  it.each([
    ['without the CSRF token', () => ({}), () => ({})],
    ['with another CSRF token', () => ({ csrf_token: 'A'.repeat(32) }), () => ({})],
    ['from another site (Origin)', () => ({ csrf_token: csrf }), () => ({ origin: 'https://evil.example.com' })],
    // Even with a Referer of the platform: a null origin is not the platform's own page posting.
    ['from an opaque origin (Origin: null)', () => ({ csrf_token: csrf }), () => ({ origin: 'null', referer: `${server().url}/patient/apps` })],
    ['with neither Origin nor Referer', () => ({ csrf_token: csrf }), () => ({ origin: '' })],
  ])('refuses a withdrawal %s', async (_case, values, headers) => {
    const result = await me.post(withdrawalAction(grant.grantId), values() as Record<string, string>, headers() as Record<string, string>);
    if (_case === 'without the CSRF token') {
      // The form schema itself requires the token.
      expect(result.status).toBe(400);
    } else {
      expect(result.status).toBe(403);
      expect(result.html).toContain('Rien n’a été modifié');
    }
    expect(await grantActive(grant.grantId)).toBe(true);
    expect(await refreshWorks(grant)).toBe(true);
  });

  it('accepts a Referer from its own pages when a browser sends no Origin', async () => {
    const other = await authorizeApp('patient-pages-2');
    const result = await me.post(withdrawalAction(other.grantId), { csrf_token: csrf }, { origin: '', referer: `${server().url}/patient/apps` });
    expect(result.location).toBe('/patient/apps?notice=withdrawn');
  });

  it('refuses to withdraw another person’s grant', async () => {
    const stranger = browser();
    await stranger.signIn('patient-pages-stranger');
    const strangerCsrf = csrfOf((await stranger.get('/patient/apps')).html);
    const result = await stranger.post(withdrawalAction(grant.grantId), { csrf_token: strangerCsrf });
    expect(result.location).toBe('/patient/apps?notice=already-ended');
    expect(await grantActive(grant.grantId)).toBe(true);
  });

  it('refuses a withdrawal without a session, and a CSRF token of another session', async () => {
    const anonymous = browser();
    expect((await anonymous.post(withdrawalAction(grant.grantId), { csrf_token: csrf })).status).toBe(403);
    const other = browser();
    await other.signIn('patient-pages-2');
    expect((await other.post(withdrawalAction(grant.grantId), { csrf_token: csrf })).status).toBe(403);
    expect(await grantActive(grant.grantId)).toBe(true);
  });

  it('refuses a sign-in posted from another site, and bad patient ids', async () => {
    const attacked = browser();
    const result = await attacked.post('/patient/sign-in', { patient_id: 'patient-pages-2' }, { origin: 'https://evil.example.com' });
    expect(result.status).toBe(403);
    expect(attacked.jar.size).toBe(0);
    const bad = await browser().post('/patient/sign-in', { patient_id: '../etc' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('role="alert"');
    const open = await browser().post('/patient/sign-in', { patient_id: 'x', return_to: 'https://evil.example.com/' });
    expect(open.status).toBe(400); // return_to is a path of the patient pages, never another site
  });

  it('ends the session on sign-out and at its end', async () => {
    const someone = browser();
    await someone.signIn('patient-pages-3');
    const page = await someone.get('/patient/apps');
    const cookie = [...someone.jar][0]!;
    const out = await someone.post('/patient/sign-out', { csrf_token: csrfOf(page.html) });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/patient/signed-out');
    expect(out.headers.getSetCookie()[0]).toMatch(/^mes_patient=; .*Max-Age=0$/);
    // The old cookie no longer opens the page, even if a browser kept it.
    const replayed = await fetch(`${server().url}/patient/apps`, { headers: { cookie: cookie.join('=') }, redirect: 'manual' });
    expect(replayed.status).toBe(303);

    const later = browser();
    await later.signIn('patient-pages-3');
    await server().app.db.query(`UPDATE patient_sessions SET expires_at = now() - interval '1 second' WHERE patient_id = 'patient-pages-3' AND ended_at IS NULL`);
    expect((await later.get('/patient/apps')).status).toBe(303);
  });
});

describe('patient pages outside the sandbox, and over HTTPS', () => {
  const production = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });
  const secureSandbox = useServer({ publicUrl: 'https://sandbox.mes.example.fr' });

  it('says patient sign-in is not available yet, and opens no session', async () => {
    const page = await fetch(`${production().url}/patient/sign-in`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('pas encore disponible');
    const post = await fetch(`${production().url}/patient/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://api.mes.example.fr' },
      body: form({ patient_id: 'someone' }),
      redirect: 'manual',
    });
    expect(post.status).toBe(503);
    expect(post.headers.getSetCookie()).toEqual([]);
    const apps = await fetch(`${production().url}/patient/apps`, { redirect: 'manual' });
    expect(apps.status).toBe(303);
  });

  it('sets a __Host- Secure cookie when the platform is served over HTTPS', async () => {
    const signedIn = await fetch(`${secureSandbox().url}/patient/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://sandbox.mes.example.fr' },
      body: form({ patient_id: 'secure-patient' }),
      redirect: 'manual',
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.getSetCookie()[0]).toMatch(/^__Host-mes_patient=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=1800$/);
  });
});
