// Patient sign-in at a real OpenID provider (oidc-provider over HTTPS, started here): the whole
// flow driven by hand (platform → provider's login page → platform callback → session), and
// every way it is refused without opening a session: a replayed or foreign answer, a tampered
// state or issuer, an error from the provider, an identity without a record or with a closed
// account. Then sign-out, here and at the provider; PAR with private_key_jwt; the INS mapping
// with claims from userinfo; a provider that cannot be reached.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../src/core/config.js';
import type { BuildOptions } from '../src/app.js';
import { closePatientAccount } from '../src/modules/consent/index.js';
import { insertResources } from '../src/modules/records/index.js';
import { systems } from '../src/modules/records/vocabulary.js';
import { startTestServer, type TestServer } from '../src/testing.js';
import { seedRecord } from './fhir-helpers.js';
import { startIdentityProvider, type ProviderBrowser, type TestIdentityProvider } from './identity-provider.js';
import { form } from './oauth-helpers.js';
import { pageBrowser, type PageAnswer } from './page-browser.js';

const PUBLIC = 'https://api.mes.example.fr';
const CALLBACK = `${PUBLIC}/patient/sign-in/callback`;
const SIGNED_OUT = `${PUBLIC}/patient/signed-out`;

/** A platform server started after the providers it is configured with (hooks run in order). */
function usePlatform(overrides: () => Partial<AppConfig>, options: () => BuildOptions = () => ({})): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer({ mode: 'production', publicUrl: PUBLIC, ...overrides() }, options());
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => server!;
}

function useProvider(options: Parameters<typeof startIdentityProvider>[0]): () => TestIdentityProvider {
  let idp: TestIdentityProvider | undefined;
  beforeAll(async () => {
    idp = await startIdentityProvider(options);
  });
  afterAll(async () => {
    await idp?.close();
  });
  return () => idp!;
}

/** A browser of the platform: keeps its cookies, sends the platform's Origin on form posts, does not follow redirects. */
function platformBrowser(server: () => TestServer) {
  const browser = pageBrowser(server, { origin: PUBLIC });
  const answer = async (pending: Promise<PageAnswer>) => {
    const page = await pending;
    return { ...page, cookies: page.setCookies };
  };
  return {
    jar: browser.cookies,
    get: (path: string) => answer(browser.get(path)),
    post: (path: string, values: Record<string, string>) => answer(browser.post(path, values)),
    /** Follows a URL the provider sent the browser back to, on the platform. */
    back: (url: URL) => {
      expect(url.origin).toBe(PUBLIC);
      return answer(browser.get(`${url.pathname}${url.search}`));
    },
  };
}

const csrfOf = (html: string) => /name="csrf_token" value="([^"]+)"/.exec(html)![1]!;
const sessionCookie = /^__Host-mes_patient=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=1800$/;
const openSessions = async (server: TestServer, patientId: string) =>
  (await server.app.db.query(`SELECT 1 FROM patient_sessions WHERE patient_id = $1 AND ended_at IS NULL`, [patientId])).length;

describe('patient sign-in at the identity provider', () => {
  const idp = useProvider({
    accounts: {
      'oidc-patient-1': { password: 'correct horse' },
      'oidc-patient-2': {},
      'oidc-unknown': {},
      'oidc-closed': {},
    },
    redirectUris: [CALLBACK],
    postLogoutRedirectUris: [SIGNED_OUT],
  });
  const server = usePlatform(
    () => ({ patientIdentityProvider: idp().settings() }),
    () => ({ outbound: { ca: idp().ca, resolve: idp().resolve } }),
  );
  beforeAll(async () => {
    await seedRecord(server(), 'oidc-patient-1', { given: 'Marie', family: 'Curie' });
    await seedRecord(server(), 'oidc-patient-2', { given: 'Irène', family: 'Joliot' });
    await seedRecord(server(), 'oidc-closed', { given: 'Paul', family: 'Fermé' });
    await closePatientAccount(server().app.db, 'oidc-closed');
  });

  /** Starts a sign-in on the platform: the provider's authorization URL. */
  async function start(me: ReturnType<typeof platformBrowser>, returnTo = '/patient/apps') {
    const started = await me.get(`/patient/sign-in/start?return_to=${encodeURIComponent(returnTo)}`);
    expect(started.status, started.html).toBe(303);
    return new URL(started.location!);
  }

  it('explains the sign-in and links to the provider (a GET link: no form leaves the platform)', async () => {
    const page = await platformBrowser(server).get('/patient/sign-in?return_to=%2Fpatient%2Fhistory');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>Se connecter</h1>');
    expect(page.html).toContain('connectez-vous avec FranceConnect');
    expect(page.html).toContain('<a class="fr-btn" href="/patient/sign-in/start?return_to=%2Fpatient%2Fhistory">Se connecter avec FranceConnect</a>');
    expect(page.html).not.toContain('patient_id');
    // Signed out, no form of the page leads to the provider: form-action is the platform alone.
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self';");
  });

  it('signs the patient in: code flow with PKCE, state and nonce, back to return_to with a session', async () => {
    const me = platformBrowser(server);
    const started = await me.get('/patient/sign-in/start?return_to=%2Fcatalogue');
    expect(started.status).toBe(303);
    const attemptCookie = started.cookies[0]!;
    expect(attemptCookie).toMatch(/^__Host-mes_sign_in=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=600$/);
    const authorization = new URL(started.location!);
    expect(`${authorization.origin}${authorization.pathname}`).toBe(`${idp().issuer}/auth`);
    const sent = Object.fromEntries(authorization.searchParams);
    expect(sent).toMatchObject({ client_id: idp().clientId, response_type: 'code', scope: 'openid', redirect_uri: CALLBACK, code_challenge_method: 'S256' });
    expect(sent.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Nothing secret is in the store in clear: the verifier is sealed.
    const [row] = await server().app.db.query<{ state: string; code_verifier_sealed: string }>(`SELECT state, code_verifier_sealed FROM patient_sign_in_attempts WHERE state = $1`, [sent.state]);
    expect(row!.code_verifier_sealed).toMatch(/^aes256gcm:/);

    const back = await idp().browser().signIn(authorization, { login: 'oidc-patient-1', password: 'correct horse' });
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get('iss')).toBe(idp().issuer); // RFC 9207
    const done = await me.back(back);
    expect(done.status, done.html).toBe(303);
    expect(done.location).toBe('/catalogue');
    expect(done.cookies[0]).toMatch(sessionCookie);

    const apps = await me.get('/patient/apps');
    expect(apps.status).toBe(200);
    expect(apps.html).toContain('Marie Curie');
    // The platform authenticated with client_secret_basic at the token endpoint.
    const token = idp().requests.filter((request) => request.path === '/token').at(-1)!;
    expect(token.headers.authorization).toMatch(/^Basic /);
    // The ID token is kept for signing out, sealed.
    const [session] = await server().app.db.query<{ id_token_sealed: string }>(`SELECT id_token_sealed FROM patient_sessions WHERE patient_id = 'oidc-patient-1' AND ended_at IS NULL`);
    expect(session!.id_token_sealed).toMatch(/^aes256gcm:/);
  });

  it('refuses a replayed answer: an attempt is taken once', async () => {
    const me = platformBrowser(server);
    const back = await idp().browser().signIn(await start(me), { login: 'oidc-patient-2' });
    expect((await me.back(back)).status).toBe(303);
    const other = platformBrowser(server);
    const replayed = await me.back(back);
    expect(replayed.status).toBe(400);
    expect(replayed.html).toContain('Cette connexion a expiré ou a déjà été utilisée');
    expect(replayed.html).toContain('href="/patient/sign-in?return_to=%2Fpatient%2Fapps"');
    expect(replayed.cookies).toEqual([]);
    // Nor in a browser that did not start it.
    const stolen = await other.back(back);
    expect(stolen.status).toBe(400);
    expect(stolen.cookies).toEqual([]);
  });

  it('refuses an answer meant for another browser (state bound to the attempt cookie)', async () => {
    const victim = platformBrowser(server);
    const attacker = platformBrowser(server);
    await start(victim);
    // The attacker signs in as themselves and hands their answer to the victim's browser.
    const attackersAnswer = await idp().browser().signIn(await start(attacker), { login: 'oidc-patient-2' });
    const result = await victim.back(attackersAnswer);
    expect(result.status).toBe(400);
    expect(result.html).toContain('n’a pas pu être vérifiée');
    expect(result.cookies).toEqual([]);
    expect(victim.jar.has('__Host-mes_patient')).toBe(false);
  });

  it.each([
    ['a changed state', (url: URL) => url.searchParams.set('state', 'A'.repeat(43))],
    ['no state', (url: URL) => url.searchParams.delete('state')],
    ['the issuer of another provider (mix-up)', (url: URL) => url.searchParams.set('iss', 'https://other-idp.example.fr')],
    ['no issuer, from a provider that always sends it (RFC 9207)', (url: URL) => url.searchParams.delete('iss')],
    ['a changed code', (url: URL) => url.searchParams.set('code', 'forged-code')],
  ])('refuses an answer with %s, and the attempt is spent', async (_case, tamper) => {
    const me = platformBrowser(server);
    const back = await idp().browser().signIn(await start(me), { login: 'oidc-patient-1', password: 'correct horse' });
    const tampered = new URL(back);
    tamper(tampered);
    const result = await me.back(tampered);
    expect(result.status).toBe(400);
    expect(result.html).toContain('La réponse de FranceConnect n’a pas pu être vérifiée');
    expect(result.cookies).toEqual([]);
    // The genuine answer, afterwards, finds no attempt left.
    const genuine = await me.back(back);
    expect(genuine.status).toBe(400);
    expect(genuine.html).toContain('déjà été utilisée');
  });

  it('says so when the patient refuses at the provider, with a link to try again', async () => {
    const me = platformBrowser(server);
    const back = await idp().browser().signIn(await start(me, '/patient/history'), { login: 'oidc-patient-1', refuse: true });
    expect(back.searchParams.get('error')).toBe('access_denied');
    const result = await me.back(back);
    expect(result.status).toBe(403);
    expect(result.html).toContain('La connexion avec FranceConnect a été annulée');
    expect(result.html).toContain('<a class="fr-btn" href="/patient/sign-in?return_to=%2Fpatient%2Fhistory">Réessayer de se connecter</a>');
    expect(result.cookies).toEqual([]);
  });

  it('opens no session for an identity without a record', async () => {
    const me = platformBrowser(server);
    const result = await me.back(await idp().browser().signIn(await start(me), { login: 'oidc-unknown' }));
    expect(result.status).toBe(403);
    expect(result.html).toContain('Aucun dossier ne correspond à votre identité');
    expect(result.cookies).toEqual([]);
    expect(await openSessions(server(), 'oidc-unknown')).toBe(0);
  });

  it('opens no session for a closed account', async () => {
    const me = platformBrowser(server);
    const result = await me.back(await idp().browser().signIn(await start(me), { login: 'oidc-closed' }));
    expect(result.status).toBe(403);
    expect(result.html).toContain('Votre compte est fermé');
    expect(result.cookies).toEqual([]);
    expect(await openSessions(server(), 'oidc-closed')).toBe(0);
  });

  it('refuses the sandbox picker: no session from a posted patient id', async () => {
    const result = await platformBrowser(server).post('/patient/sign-in', { patient_id: 'oidc-patient-1' });
    expect(result.status).toBe(403);
    expect(result.html).toContain('les patients se connectent avec FranceConnect');
    expect(result.cookies).toEqual([]);
  });

  it('signs out here and at the provider (RP-initiated logout with id_token_hint)', async () => {
    const me = platformBrowser(server);
    const atProvider: ProviderBrowser = idp().browser();
    expect((await me.back(await atProvider.signIn(await start(me), { login: 'oidc-patient-2' }))).status).toBe(303);
    const page = await me.get('/patient/apps');
    const [name, value] = [...me.jar].find(([cookie]) => cookie === '__Host-mes_patient')!;

    const out = await me.post('/patient/sign-out', { csrf_token: csrfOf(page.html) });
    expect(out.cookies[0]).toMatch(/^__Host-mes_patient=; .*Max-Age=0$/);
    // Every page of a signed-in patient lists the provider in its form-action: the sign-out goes there.
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${new URL(idp().issuer).origin};`);
    expect(out.status).toBe(303);
    const logout = new URL(out.location!);
    expect(`${logout.origin}${logout.pathname}`).toBe(`${idp().issuer}/session/end`);
    expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(SIGNED_OUT);
    expect(decodeJwt(logout.searchParams.get('id_token_hint')!)).toMatchObject({ iss: idp().issuer, sub: 'oidc-patient-2', aud: idp().clientId });

    // The old cookie opens nothing any more.
    const replayed = await fetch(`${server().url}/patient/apps`, { headers: { cookie: `${name}=${value}` }, redirect: 'manual' });
    expect(replayed.status).toBe(303);

    const back = await atProvider.signOut(logout);
    expect(`${back.origin}${back.pathname}`).toBe(SIGNED_OUT);
    const signedOut = await me.back(back);
    expect(signedOut.status).toBe(200);
    expect(signedOut.html).toContain('<h1>Vous êtes déconnecté</h1>');
    // Signed out at the provider too: the next sign-in asks for the login again.
    expect(await atProvider.asksToSignIn(await start(me))).toBe(true);
  });

  it('refuses a sign-out without the session’s CSRF token, or from another site', async () => {
    const me = platformBrowser(server);
    await me.back(await idp().browser().signIn(await start(me), { login: 'oidc-patient-2' }));
    expect((await me.post('/patient/sign-out', { csrf_token: 'A'.repeat(32) })).status).toBe(403);
    const csrf = csrfOf((await me.get('/patient/apps')).html);
    const foreign = await fetch(`${server().url}/patient/sign-out`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example.com', cookie: [...me.jar].map(([n, v]) => `${n}=${v}`).join('; ') },
      body: form({ csrf_token: csrf }),
      redirect: 'manual',
    });
    expect(foreign.status).toBe(403);
    expect((await me.get('/patient/apps')).status).toBe(200);
  });
});

describe('patient sign-in with PAR and private_key_jwt', () => {
  const idp = useProvider({ accounts: { 'par-patient': {} }, redirectUris: [CALLBACK], clientAuth: 'private_key_jwt', requirePar: true, hostname: 'par-idp.test' });
  const server = usePlatform(
    () => ({ patientIdentityProvider: idp().settings({ name: 'Mon espace santé' }) }),
    () => ({ outbound: { ca: idp().ca, resolve: idp().resolve } }),
  );
  beforeAll(async () => {
    await seedRecord(server(), 'par-patient', { given: 'Ada', family: 'Lovelace' });
  });

  it('pushes the request first when the provider requires it, and signs its client assertion', async () => {
    const me = platformBrowser(server);
    const started = await me.get('/patient/sign-in/start');
    const authorization = new URL(started.location!);
    expect([...authorization.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const pushed = idp().requests.find((request) => request.path === '/request' && request.method === 'POST');
    expect(pushed).toBeDefined();
    const done = await me.back(await idp().browser().signIn(authorization, { login: 'par-patient' }));
    expect(done.status, done.html).toBe(303);
    expect((await me.get('/patient/apps')).html).toContain('Ada Lovelace');
    // No secret travelled: the token request carried no Basic credentials.
    const token = idp().requests.filter((request) => request.path === '/token').at(-1)!;
    expect(token.headers.authorization).toBeUndefined();
  });
});

describe('patient sign-in by INS, with the claim from userinfo', () => {
  const ins = '280017512345678';
  const idp = useProvider({
    accounts: { 'fc-sub-42': { claims: { ins } }, 'fc-sub-43': { claims: {} } },
    redirectUris: [CALLBACK],
    claims: { mes: ['ins'] },
    hostname: 'ins-idp.test',
  });
  const server = usePlatform(
    () => ({ patientIdentityProvider: idp().settings({ scopes: ['mes'], insClaim: 'ins' }) }),
    () => ({ outbound: { ca: idp().ca, resolve: idp().resolve } }),
  );
  beforeAll(async () => {
    await insertResources(server().app.db, [
      {
        patientId: 'ins-patient',
        id: 'ins-patient',
        resource: { resourceType: 'Patient', identifier: [{ system: systems.ins, value: ins }], name: [{ family: 'Meitner', given: ['Lise'] }], birthDate: '1978-11-07' },
      },
    ]);
  });

  it('finds the patient whose identifiers hold the INS the provider released', async () => {
    const me = platformBrowser(server);
    const started = await me.get('/patient/sign-in/start');
    expect(new URL(started.location!).searchParams.get('scope')).toBe('openid mes');
    const done = await me.back(await idp().browser().signIn(new URL(started.location!), { login: 'fc-sub-42' }));
    expect(done.status, done.html).toBe(303);
    expect((await me.get('/patient/apps')).html).toContain('Lise Meitner');
    // The ID token carried no INS (code flow): userinfo was asked.
    expect(idp().requests.some((request) => request.path === '/me')).toBe(true);
  });

  it('opens no session when the provider releases no INS', async () => {
    const me = platformBrowser(server);
    const started = await me.get('/patient/sign-in/start');
    const result = await me.back(await idp().browser().signIn(new URL(started.location!), { login: 'fc-sub-43' }));
    expect(result.status).toBe(403);
    expect(result.html).toContain('n’a pas transmis l’identifiant');
    expect(result.cookies).toEqual([]);
  });
});

describe('patient sign-in when the provider cannot be reached', () => {
  const server = usePlatform(
    () => ({
      patientIdentityProvider: { issuer: 'https://down-idp.test:1', clientId: 'mes-platform', clientSecret: 'a-secret-of-sixteen+', scopes: [], patientClaim: 'sub', name: 'FranceConnect' },
      outboundTimeoutMs: 1000,
    }),
    () => ({ outbound: { resolve: async () => [{ address: '127.0.0.1', family: 4 as const }] } }),
  );

  it('answers a page that says so, and remembers no attempt', async () => {
    const result = await platformBrowser(server).get('/patient/sign-in/start?return_to=%2Fpatient%2Fapps');
    expect(result.status).toBe(502);
    expect(result.html).toContain('FranceConnect ne répond pas pour le moment');
    expect(result.html).toContain('href="/patient/sign-in?return_to=%2Fpatient%2Fapps"');
    expect(result.cookies).toEqual([]);
    expect((await server().app.db.query('SELECT 1 FROM patient_sign_in_attempts')).length).toBe(0);
  });
});
