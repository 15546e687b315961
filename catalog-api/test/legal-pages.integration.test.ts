// The legal pages the footer links (accessibility statement, legal notice, personal data): in
// French by default and in English, with the pages' headers, their key facts — the facts about
// cookies checked against the cookies the server really sets —, unknown query parameters ignored,
// HEAD and POST answered like the home page, and the language switch coming back to them only.
import { describe, expect, it } from 'vitest';
import { RETURN_PATH } from '../src/web/layout.js';
import { CNIL_COMPLAINTS, DEFENSEUR_DES_DROITS_FORM, LEGAL_CONTACTS, LEGAL_LINKS } from '../src/web/legal-pages.js';
import { seedRecord } from './fhir-helpers.js';
import { expectErrorPage, useServer } from './helpers.js';
import { pageBrowser } from './page-browser.js';

const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const NBSP = '\u00a0';

const PAGES = [
  { path: LEGAL_LINKS.accessibility, fr: 'Déclaration d’accessibilité', en: 'Accessibility statement' },
  { path: LEGAL_LINKS.legalNotice, fr: 'Mentions légales', en: 'Legal notice' },
  { path: LEGAL_LINKS.privacy, fr: 'Données personnelles', en: 'Personal data' },
] as const;

const main = (html: string) => /<main id="content" tabindex="-1" class="fr-container mes-main">([\s\S]*)<\/main>/.exec(html)?.[1] ?? '';
/** The text of <main>, tags dropped and the entities it uses decoded. */
const textOf = (html: string) =>
  main(html)
    .replace(/<[^>]+>/g, '')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

describe('the legal pages of a sandbox', () => {
  const server = useServer();

  it.each(PAGES)('$path is a page in French by default, with the pages’ headers and one title', async ({ path, fr }) => {
    const page = await pageBrowser(server).get(path);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('content-language')).toBe('fr');
    expect(page.headers.get('vary')).toContain('Accept-Language');
    expect(page.html).toContain('<html lang="fr">');
    expect(page.html).toContain(`<title>${fr} · `);
    expect(page.html).toContain(`<h1>${fr}</h1>`);
    expect(page.html.match(/<h1>/g)).toHaveLength(1);
    expect(main(page.html)).toContain('<h2>');
    // The layout: the service's name leads home, the language switch comes back here.
    expect(page.html).toContain('<div class="fr-header__service"><a href="/" title="Accueil — Mon espace santé · Applications">');
    expect(page.html).toContain(`href="/language?lang=en&amp;return_to=${encodeURIComponent(path)}"`);
    expect(page.html).toContain(`href="/patient/sign-in?return_to=${encodeURIComponent(path)}"`);
    expect(page.html).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
  });

  it.each(PAGES)('$path follows French typography: a no-break space before : ; ! ? and inside « »', async ({ path }) => {
    const text = textOf((await pageBrowser(server).get(path)).html);
    expect(text).toContain(`${NBSP}:`);
    expect(text).not.toMatch(/ [:;!?»]/);
    expect(text).not.toMatch(/« /);
  });

  it.each(PAGES)('$path is in English when the browser prefers it, and when the visitor chose it', async ({ path, en }) => {
    const preferred = await pageBrowser(server, { acceptLanguage: 'en-GB,en;q=0.9' }).get(path);
    expect(preferred.status).toBe(200);
    expect(preferred.headers.get('content-language')).toBe('en');
    expect(preferred.headers.get('content-security-policy')).toBe(CSP);
    expect(preferred.html).toContain('<html lang="en">');
    expect(preferred.html).toContain(`<h1>${en}</h1>`);
    expect(preferred.html).toContain(`href="/language?lang=fr&amp;return_to=${encodeURIComponent(path)}"`);

    // The switch remembers the choice in the language cookie and comes back to the page.
    const browser = pageBrowser(server, { acceptLanguage: 'fr-FR' });
    const switched = await browser.get(`/language?lang=en&return_to=${encodeURIComponent(path)}`);
    expect(switched.status).toBe(303);
    expect(switched.location).toBe(path);
    expect(browser.cookies.get('mes_lang')).toBe('en');
    const chosen = await browser.get(path);
    expect(chosen.html).toContain('<html lang="en">');
    expect(chosen.html).toContain(`<h1>${en}</h1>`);
  });

  it('states the accessibility conformity honestly: non conforme for want of an audit, with what the tests check', async () => {
    const fr = await pageBrowser(server).get(LEGAL_LINKS.accessibility);
    const text = textOf(fr.html);
    expect(fr.html).toContain('<strong>non conforme</strong>');
    expect(text).toContain('RGAA), version 4.1');
    expect(text).toContain('aucun audit de conformité au RGAA n’a été réalisé');
    for (const checked of ['axe-core', 'WCAG 2.1', '1280 px', '360 px', 'clavier seul', 'sans JavaScript', 'défile horizontalement']) expect(text, checked).toContain(checked);
    expect(text).toContain('Cette déclaration a été établie le 7 décembre 2026.');
    expect(fr.html).toContain(`<a href="mailto:${LEGAL_CONTACTS.accessibility}">${LEGAL_CONTACTS.accessibility}</a>`);
    expect(LEGAL_CONTACTS.accessibility).toMatch(/\.example$/);
    expect(fr.html).toContain(`<a href="${DEFENSEUR_DES_DROITS_FORM}" rel="noreferrer">`);
    expect(DEFENSEUR_DES_DROITS_FORM).toBe('https://formulaire.defenseurdesdroits.fr/');
    expect(text).toContain('Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07');

    const en = await pageBrowser(server, { acceptLanguage: 'en' }).get(LEGAL_LINKS.accessibility);
    const english = textOf(en.html);
    expect(en.html).toContain('<strong>non-compliant</strong>');
    expect(english).toContain('no RGAA compliance audit has been carried out');
    expect(english).toContain('This statement was made on 7 December 2026.');
    expect(en.html).toContain(`<a href="${DEFENSEUR_DES_DROITS_FORM}" rel="noreferrer">`);
    expect(english).toContain('Libre réponse 71120, 75342 Paris CEDEX 07');
  });

  it('gives the legal notice: the service, its publisher, HDS hosting, the licence and the contact', async () => {
    const fr = textOf((await pageBrowser(server).get(LEGAL_LINKS.legalNotice)).html);
    expect(fr).toContain('l’organisme qui déploie et exploite cette plateforme (l’opérateur)');
    expect(fr).toContain(`«${NBSP}hébergeur de données de santé${NBSP}» (HDS)`);
    expect(fr).toContain('article L.1111-8 du code de la santé publique');
    expect(fr).toContain('licence Etalab 2.0');
    expect(fr).toContain('La police Marianne et le logo de l’État');
    expect(fr).toContain('réservés aux sites de l’État');
    expect(fr).toContain(LEGAL_CONTACTS.operator);
    // A sandbox says it holds no real data.
    expect(fr).toContain('Ce serveur est un bac à sable');

    const en = await pageBrowser(server, { acceptLanguage: 'en' }).get(LEGAL_LINKS.legalNotice);
    expect(textOf(en.html)).toContain('article L.1111-8 of the French public health code');
    expect(textOf(en.html)).toContain('Etalab 2.0 licence');
    expect(en.html).toContain(`<a href="mailto:${LEGAL_CONTACTS.operator}">`);
    expect(en.html).toContain(`<a href="${LEGAL_LINKS.privacy}">`);
  });

  it('names the cookies the server really sets, with their real lifetimes', async () => {
    const privacy = textOf((await pageBrowser(server).get(LEGAL_LINKS.privacy)).html);

    // The session cookie, as signing in sets it.
    const patient = 'legal-pages-patient';
    await seedRecord(server(), patient);
    const signIn = await fetch(`${server().url}/patient/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server().url },
      body: new URLSearchParams({ patient_id: patient, return_to: LEGAL_LINKS.privacy }),
    });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe(LEGAL_LINKS.privacy);
    const session = /^([^=]+)=[^;]*;.*Max-Age=(\d+)/.exec(signIn.headers.getSetCookie()[0]!)!;
    expect(session[1]).toBe('mes_patient');
    expect(privacy).toContain(`${session[1]}${NBSP}: votre session, quand vous vous connectez. Elle dure ${Number(session[2]) / 60} minutes`);

    // The language cookie, as the switch sets it.
    const switched = await fetch(`${server().url}/language?lang=fr&return_to=%2F`, { redirect: 'manual' });
    const language = /^([^=]+)=[^;]*;.*Max-Age=(\d+)/.exec(switched.headers.getSetCookie()[0]!)!;
    expect(language[1]).toBe('mes_lang');
    expect(privacy).toContain(`${language[1]}${NBSP}: la langue que vous avez choisie avec le bouton de langue, pour un an (${Number(language[2]) / 86_400} jours)`);

    // A sign-in in progress at the identity service (served over HTTP: no __Host- prefix).
    expect(privacy).toContain(`mes_sign_in${NBSP}: une connexion en cours auprès du service d’identité, le temps de revenir sur la plateforme (10 minutes au plus)`);

    const english = textOf((await pageBrowser(server, { acceptLanguage: 'en' }).get(LEGAL_LINKS.privacy)).html);
    expect(english).toContain('mes_patient: your session, when you sign in. It lasts 30 minutes');
    expect(english).toContain('mes_lang: the language you chose with the language switch, for a year (365 days)');
    expect(english).toContain('mes_sign_in: a sign-in in progress');
  });

  it('says there is no tracking, what the access history records and keeps, the rights under the GDPR and the CNIL', async () => {
    const page = await pageBrowser(server).get(LEGAL_LINKS.privacy);
    const text = textOf(page.html);
    expect(text).toContain('Ni traçage, ni mesure d’audience, ni contenu de tiers');
    expect(text).toContain('politique de sécurité des contenus (CSP)');
    // What an entry holds, and that the platform deletes none: no clean-up task touches the history.
    expect(text).toContain('quand, quelle application, au titre de quel accès, pour qui, qui a agi');
    expect(text).toContain('jamais le contenu des données');
    expect(text).toContain(`Durée de conservation de l’historique des accès${NBSP}: la plateforme ne l’efface jamais d’elle-même, sans limite de durée.`);
    expect(server().app.sweepTasks.map((task) => task.name).filter((name) => name.startsWith('access_history'))).toEqual(['access_history_partitions']);
    expect(text).toContain('responsable de traitement, distincte de la plateforme');
    for (const right of ['d’accéder à vos données', 'de les faire rectifier', 'de les faire effacer, lorsque ce droit s’applique', 'de vous opposer à un traitement']) expect(text, right).toContain(right);
    expect(page.html).toContain(`<a href="${CNIL_COMPLAINTS}" rel="noreferrer">réclamation à la CNIL</a>`);
    expect(CNIL_COMPLAINTS).toBe('https://www.cnil.fr/fr/plaintes');
    expect(page.html).toContain(`<a href="mailto:${LEGAL_CONTACTS.dataProtection}">`);
    expect(page.html).toContain('<a href="/patient/history">historique des accès</a>');

    const english = await pageBrowser(server, { acceptLanguage: 'en' }).get(LEGAL_LINKS.privacy);
    expect(textOf(english.html)).toContain('How long the access history is kept: the platform never deletes it by itself, with no time limit.');
    expect(textOf(english.html)).toContain('a controller of its own, separate from the platform');
    expect(english.html).toContain(`<a href="${CNIL_COMPLAINTS}" rel="noreferrer">complain to the CNIL</a>`);
  });

  it('shows who is signed in, like every page', async () => {
    const patient = 'legal-pages-signed-in';
    await seedRecord(server(), patient, { given: 'Maëlle', family: 'Rivière' });
    const browser = pageBrowser(server);
    expect((await browser.post('/patient/sign-in', { patient_id: patient, return_to: LEGAL_LINKS.accessibility })).location).toBe(LEGAL_LINKS.accessibility);
    for (const { path } of PAGES) {
      const page = await browser.get(path);
      expect(page.status).toBe(200);
      expect(page.html, path).toContain('Connecté\u00a0:');
      expect(page.html, path).toContain('<strong>Maëlle Rivière</strong>');
      expect(page.html, path).toContain('action="/patient/sign-out"');
    }
  });

  it.each(PAGES)('$path ignores unknown query parameters, such as a campaign tag', async ({ path, fr }) => {
    const page = await pageBrowser(server).get(`${path}?utm_source=newsletter&x=%3Cb%3E`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<h1>${fr}</h1>`);
    expect(page.html).not.toContain('<b>');
  });

  it.each(PAGES)('$path answers HEAD and POST like the home page', async ({ path }) => {
    const head = async (target: string) => fetch(`${server().url}${target}`, { method: 'HEAD' });
    const [home, legal] = [await head('/'), await head(path)];
    expect(legal.status).toBe(home.status);
    expect(legal.status).toBe(200);
    for (const header of ['content-type', 'content-security-policy', 'cache-control', 'referrer-policy', 'content-language']) expect(legal.headers.get(header), header).toBe(home.headers.get(header));
    expect(await legal.text()).toBe('');

    const post = (target: string, accept?: string) => fetch(`${server().url}${target}`, { method: 'POST', redirect: 'manual', headers: accept ? { accept } : {} });
    for (const accept of ['text/html', undefined]) {
      const [homePost, legalPost] = [await post('/', accept), await post(path, accept)];
      expect(legalPost.status, accept).toBe(homePost.status);
      expect(legalPost.headers.get('content-type'), accept).toBe(homePost.headers.get('content-type'));
      await legalPost.arrayBuffer();
      await homePost.arrayBuffer();
    }
    await expectErrorPage(await post(path, 'text/html'), 404);
  });

  it('lets the language switch and sign-in come back to the legal pages, and nowhere near them', () => {
    for (const { path } of PAGES) {
      expect(RETURN_PATH.test(path), path).toBe(true);
      expect(RETURN_PATH.test(`${path}?utm_source=newsletter`), path).toBe(true);
    }
    for (const target of [
      '/accessibilite/../x',
      '/accessibilite/',
      '/accessibilite/x',
      '/accessibilite.evil',
      '/mentions-legales//evil.example',
      '/donnees-personnelles/..',
      '/accessibilitex',
      '//evil.example',
      '//evil.example/accessibilite',
      '/\\evil.example',
      'accessibilite',
    ]) {
      expect(RETURN_PATH.test(target), target).toBe(false);
    }
  });

  it('refuses a switch back to a look-alike of a legal page, with a page and no redirect', async () => {
    for (const target of ['/accessibilite/../x', '//evil.example', '/mentions-legales/x', '/donnees-personnelles.evil.example']) {
      const refused = await fetch(`${server().url}/language?lang=en&return_to=${encodeURIComponent(target)}`, { redirect: 'manual' });
      expect(refused.headers.get('location'), target).toBeNull();
      expect(await expectErrorPage(refused, 400)).toContain('/query/return_to');
    }
  });
});

describe('the legal pages in production, served over HTTPS', () => {
  const server = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });

  it('names the __Host- cookies HTTPS gives, and says nothing of a sandbox', async () => {
    for (const acceptLanguage of ['fr', 'en']) {
      for (const { path } of PAGES) {
        const page = await pageBrowser(server, { acceptLanguage }).get(path);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-security-policy')).toBe(CSP);
        expect(page.html).not.toMatch(/bac à sable|sandbox|class="sandbox"/i);
      }
      const privacy = textOf((await pageBrowser(server, { acceptLanguage }).get(LEGAL_LINKS.privacy)).html);
      expect(privacy).toContain('__Host-mes_patient');
      expect(privacy).toContain('__Host-mes_sign_in');
      expect(privacy).toContain('mes_lang');
      expect(privacy).not.toMatch(/(?<!__Host-)mes_(patient|sign_in)/);
    }
  });
});
