// The public catalogue pages: only certified apps, search, categories, keyset pages; each app's
// page with what it may ask for and why, its certification and its links; apps out of the
// catalogue answered 404; everything the publisher wrote escaped; French and English.
import { beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus } from '../src/modules/catalog/repository.js';
import { insertGrant } from '../src/modules/oauth/grant-repository.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { pageBrowser } from './page-browser.js';

const server = useServer();
const ids: Record<string, string> = {};
let certificateOf: Record<string, string> = {};

const scopes = [
  { scope: 'launch/patient', justification: 'Savoir pour qui vous utilisez l’application.', required: true },
  { scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension artérielle.', required: true },
  { scope: 'patient/Immunization.rs', justification: 'Vous rappeler les vaccins à faire.' },
];

async function createApp(key: string, name: string, overrides: Parameters<typeof appInput>[0] = {}, status: 'certified' | 'draft' | 'suspended' | 'revoked' = 'certified') {
  const created = await call(server(), 'POST', '/apps', { key, body: appInput({ name, longDescription: { fr: `${name}, une application de test.` }, ...overrides }) });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  ids[name] = created.body.id;
  if (status !== 'draft') {
    const certified = await setCertificationStatus(server().app.db, created.body.id, 'certified');
    certificateOf[name] = certified!.certificateReference!;
    if (status !== 'certified') await setCertificationStatus(server().app.db, created.body.id, status);
  }
  return created.body.id as string;
}

beforeAll(async () => {
  const { key } = await registerPublisher(server(), 'Santé Numérique SAS');
  certificateOf = {};
  await createApp(key, 'TensioSuivi', {
    category: 'suivi-maladie-chronique',
    shortDescription: { fr: 'Suivez votre tension artérielle au quotidien.', en: 'Track your blood pressure every day.' },
    longDescription: {
      fr: 'TensioSuivi relève vos mesures de tension.\nElle les partage avec votre espace santé.\n\nVotre médecin voit l’évolution.',
      en: 'TensioSuivi records your blood pressure.\n\nYour doctor sees how it changes.',
    },
    scopes,
    supportContact: { email: 'support@tensiosuivi.example.fr', url: 'https://aide.tensiosuivi.example.fr/contact', phone: '+33 1 23 45 67 89' },
  });
  await createApp(key, 'Équilibre', { category: 'bien-etre', shortDescription: { fr: 'Méditation guidée pour mieux dormir.' } });
  await createApp(key, 'Vaccins Famille', { category: 'prevention', shortDescription: { fr: 'Le carnet de vaccination de toute la famille.' } });
  await createApp(key, 'Brouillon Santé', { category: 'prevention', shortDescription: { fr: 'Pas encore certifiée.' } }, 'draft');
  await createApp(key, 'Suspendue Santé', { category: 'prevention', shortDescription: { fr: 'Certification suspendue.' } }, 'suspended');
  await createApp(key, 'Retirée Santé', { category: 'prevention', shortDescription: { fr: 'Certification retirée.' } }, 'revoked');
  await createApp(key, '<script>alert("x")</script> & "Cie" l\'app', {
    category: 'teleconsultation',
    shortDescription: { fr: '<img src=x onerror=alert(1)> court' },
    longDescription: { fr: '<b>gras</b> et "guillemets" & \'apostrophes\'' },
    scopes: [{ scope: 'patient/Observation.rs', justification: '<script>alert(2)</script> pour voir' }],
  });
  // 23 apps of one category, for the pages (20 a page).
  for (let i = 0; i < 23; i += 1) await createApp(key, `Parents ${String(i).padStart(2, '0')}`, { category: 'parentalite', shortDescription: { fr: 'Accompagner les jeunes parents.' } });
});

const namesIn = (html: string): string[] => [...html.matchAll(/<h3><a href="\/catalogue\/[0-9a-f-]+">([^<]+)<\/a><\/h3>/g)].map((m) => m[1]!);
const decode = (text: string) => text.replace(/&amp;/g, '&');

describe('the catalogue page', () => {
  it('lists only certified apps, each with its logo, name linking to its page, publisher, description, category and certification', async () => {
    const page = await pageBrowser(server).get('/catalogue');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('<html lang="fr">');
    expect(page.html).toContain('<a class="fr-nav__link" href="/catalogue" aria-current="page">Catalogue des applications</a>');
    const names = namesIn(page.html);
    expect(names.slice(0, 3)).toEqual(['&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Cie&quot; l&#39;app', 'Équilibre', 'Parents 00']);
    expect(names).toHaveLength(20);
    for (const hidden of ['Brouillon Santé', 'Suspendue Santé', 'Retirée Santé']) expect(page.html).not.toContain(hidden);

    const card = page.html.slice(page.html.indexOf('<li class="fr-card fr-card--no-arrow mes-card"><div class="fr-card__body"><div class="fr-card__content">', page.html.indexOf('Équilibre') - 400), page.html.indexOf('</li>', page.html.indexOf('Équilibre')));
    expect(card).toContain(`<a href="/catalogue/${ids['Équilibre']}">Équilibre</a>`);
    // The app has no logoUrl: its initial, not an image.
    expect(card).toContain('<span class="logo-placeholder" aria-hidden="true">É</span>');
    expect(card).toContain('Éditée par <strong>Santé Numérique SAS</strong>');
    expect(card).toContain('Méditation guidée pour mieux dormir.');
    expect(card).toContain('Catégorie\u00a0: <a class="fr-tag fr-tag--sm" href="/catalogue?category=bien-etre">Bien-être</a>');
    expect(card).toContain('<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--success">Certifiée</span>');
    expect(card).toContain(`Certificat n° <strong>${certificateOf['Équilibre']}</strong>`);
    // One h1, then h2, then the apps' h3.
    expect(page.html.match(/<h1>/g)).toHaveLength(1);
    expect(page.html.indexOf('<h2>Applications</h2>')).toBeLessThan(page.html.indexOf('<h3>'));
  });

  it('has a search form with labels, that keeps what was searched', async () => {
    const page = await pageBrowser(server).get('/catalogue?q=tension&category=suivi-maladie-chronique');
    expect(page.html).toContain('<form method="get" action="/catalogue" role="search" class="filters">');
    expect(page.html).toContain('<label class="fr-label" for="q">Rechercher une application<span class="fr-hint-text" id="q-hint">');
    expect(page.html).toContain('value="tension"');
    expect(page.html).toContain('<label class="fr-label" for="category">Catégorie</label>');
    expect(page.html).toContain('<option value="suivi-maladie-chronique" selected>Suivi de maladie chronique</option>');
    expect(page.html).toContain('Résultats pour «\u00a0tension\u00a0» dans la catégorie Suivi de maladie chronique.');
  });

  it('searches names and descriptions, ignoring accents and case', async () => {
    const search = async (q: string) => namesIn((await pageBrowser(server).get(`/catalogue?q=${encodeURIComponent(q)}`)).html);
    expect(await search('TENSION')).toEqual(['TensioSuivi']);
    expect(await search('equilibre')).toEqual(['Équilibre']);
    expect(await search('méditation')).toEqual(['Équilibre']);
    expect(await search('brouillon')).toEqual([]);
    expect(await search('suspendue')).toEqual([]);
  });

  it('says so when nothing matches, with a way back to every app', async () => {
    const page = await pageBrowser(server).get('/catalogue?q=introuvable');
    expect(page.status).toBe(200);
    expect(namesIn(page.html)).toEqual([]);
    expect(page.html).toContain('Aucune application ne correspond à votre recherche.');
    expect(page.html).toContain('<a href="/catalogue">Voir toutes les applications</a>');
  });

  it('filters by category, and a form sent with empty fields filters nothing', async () => {
    expect(namesIn((await pageBrowser(server).get('/catalogue?category=prevention')).html)).toEqual(['Vaccins Famille']);
    expect(namesIn((await pageBrowser(server).get('/catalogue?category=teleconsultation')).html)).toHaveLength(1);
    const all = await pageBrowser(server).get('/catalogue?q=&category=');
    expect(all.status).toBe(200);
    expect(namesIn(all.html)).toHaveLength(20);
    expect(all.html).toContain('<option value="" selected>Toutes les catégories</option>');
  });

  it('refuses an unknown category and unknown parameters', async () => {
    expect((await pageBrowser(server).get('/catalogue?category=casino')).status).toBe(400);
    expect((await pageBrowser(server).get('/catalogue?page=2')).status).toBe(400);
  });

  it('pages through the results with a "next" link that keeps the filters, the same cursors as the JSON API', async () => {
    const browser = pageBrowser(server);
    const first = await browser.get('/catalogue?category=parentalite');
    expect(namesIn(first.html)).toEqual(Array.from({ length: 20 }, (_, i) => `Parents ${String(i).padStart(2, '0')}`));
    const next = /<a href="([^"]+)" rel="next">Applications suivantes<\/a>/.exec(first.html)?.[1];
    expect(next).toBeDefined();
    const nextUrl = new URL(decode(next!), server().url);
    expect(nextUrl.searchParams.get('category')).toBe('parentalite');
    const api = await call(server(), 'GET', '/catalog/apps?category=parentalite&limit=20');
    expect(nextUrl.searchParams.get('cursor')).toBe(api.body.nextCursor);

    const second = await browser.get(`${nextUrl.pathname}${nextUrl.search}`);
    expect(namesIn(second.html)).toEqual(['Parents 20', 'Parents 21', 'Parents 22']);
    expect(second.html).not.toContain('rel="next"');
    expect(second.html).toContain('<a href="/catalogue?category=parentalite">Revenir au début de la liste</a>');
  });

  it('answers a cursor it did not issue with a page that says so', async () => {
    const forged = Buffer.from(JSON.stringify(['a', 'not-a-uuid'])).toString('base64url');
    for (const cursor of [forged, 'bm90IGpzb24']) {
      const page = await pageBrowser(server).get(`/catalogue?q=parents&cursor=${cursor}`);
      expect(page.status).toBe(400);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.html).toContain('<h1>Lien de page périmé</h1>');
      expect(page.html).toContain('<a href="/catalogue?q=parents">Revenir au début de la liste</a>');
    }
  });

  it('is in English when the browser prefers it, with the publisher’s French marked as French when there is no English', async () => {
    const browser = pageBrowser(server, { acceptLanguage: 'en-GB,en;q=0.9' });
    const page = await browser.get('/catalogue?category=suivi-maladie-chronique');
    expect(page.html).toContain('<html lang="en">');
    expect(page.headers.get('content-language')).toBe('en');
    expect(page.html).toContain('<h1>App catalogue</h1>');
    expect(page.html).toContain('<label class="fr-label" for="q">Search for an app<span class="fr-hint-text" id="q-hint">');
    expect(page.html).toContain('<p>Track your blood pressure every day.</p>');
    expect(page.html).toContain('<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--success">Certified</span>');
    expect(page.html).toContain('Results in the category Chronic condition follow-up.');
    const fallback = await browser.get('/catalogue?category=bien-etre');
    expect(fallback.html).toContain('<p lang="fr">Méditation guidée pour mieux dormir.</p>');
    expect(fallback.html).toContain('Category: <a class="fr-tag fr-tag--sm" href="/catalogue?category=bien-etre">Well-being</a>');
  });

  it('shows who is signed in', async () => {
    const browser = pageBrowser(server);
    const signedIn = await browser.post('/patient/sign-in', { patient_id: 'catalogue-patient-1', return_to: '/catalogue' });
    expect(signedIn.status).toBe(303);
    const page = await browser.get('/catalogue');
    expect(page.html).toContain('action="/patient/sign-out"');
    expect(page.html).not.toContain('>Se connecter</a>');
    const visitor = await pageBrowser(server).get('/catalogue');
    expect(visitor.html).toContain('<a class="fr-btn fr-icon-account-circle-line" href="/patient/sign-in?return_to=%2Fcatalogue">Se connecter</a>');
  });
});

describe('an app’s page', () => {
  it('shows the app, its publisher, its certification, what it can ask for and why, and its links', async () => {
    const page = await pageBrowser(server).get(`/catalogue/${ids['TensioSuivi']}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("img-src 'self'");
    expect(page.html).toContain('<title>TensioSuivi · Mon espace santé · Applications</title>');
    expect(page.html).toContain('<h1>TensioSuivi</h1>');
    expect(page.html.match(/<h1>/g)).toHaveLength(1);
    expect(page.html).toContain('Éditée par <strong>Santé Numérique SAS</strong>');
    const certifiedOn = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(new Date());
    expect(page.html).toContain(`<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--success">Certifiée</span> depuis le ${certifiedOn} · Certificat n° <strong>${certificateOf['TensioSuivi']}</strong>`);
    expect(certificateOf['TensioSuivi']).toMatch(/^MES-\d{4}-\d{6}$/);
    expect(page.html).toContain('<p>Suivez votre tension artérielle au quotidien.</p>');
    // The long description as paragraphs, line breaks kept.
    expect(page.html).toContain('<p>TensioSuivi relève vos mesures de tension.<br>Elle les partage avec votre espace santé.</p>\n<p>Votre médecin voit l’évolution.</p>');
    expect(page.html).toContain('<dt>Catégorie</dt><dd><a href="/catalogue?category=suivi-maladie-chronique">Suivi de maladie chronique</a></dd>');
    expect(page.html).toContain('<a href="https://tensiosuivi.example.fr/" rel="noreferrer">tensiosuivi.example.fr</a>');

    // Every scope in plain words, with the publisher's justification, required ones marked.
    const permissions = page.html.slice(page.html.indexOf('<h2>Ce qu’elle peut vous demander, et pourquoi</h2>'), page.html.indexOf('<h2>Vos données et vos droits</h2>'));
    const items = permissions.split('<li class="fr-card fr-card--no-arrow mes-card"><div class="fr-card__body"><div class="fr-card__content">').slice(1);
    expect(items).toHaveLength(3);
    expect(items[0]).toContain('<p><strong>Savoir pour quel patient l’application est utilisée</strong></p>');
    expect(items[0]).toContain('Pourquoi, selon l’éditeur\u00a0: <span>Savoir pour qui vous utilisez l’application.</span>');
    expect(items[0]).toContain('<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--warning">Indispensable</span>\u00a0: sans cela, l’application ne peut pas fonctionner.');
    expect(items[1]).toContain('<p><strong>Lire vos mesures et résultats (signes vitaux)<br>Ajouter des mesures (signes vitaux)</strong></p>');
    expect(items[1]).toContain('Lire et ajouter vos mesures de tension artérielle.');
    expect(items[1]).toContain('Indispensable');
    expect(items[2]).toContain('<strong>Lire vos vaccinations</strong>');
    expect(items[2]).toContain('Vous rappeler les vaccins à faire.');
    expect(items[2]).not.toContain('Indispensable');
    expect(items[2]).toContain('Facultatif\u00a0: vous pourrez le refuser.');

    expect(page.html).toContain('<li><a href="https://tensiosuivi.example.fr/confidentialite" rel="noreferrer">Politique de confidentialité</a></li>');
    expect(page.html).toContain('<li><a href="https://tensiosuivi.example.fr/cgu" rel="noreferrer">Conditions d’utilisation</a></li>');
    expect(page.html).toContain('<a href="mailto:support@tensiosuivi.example.fr">support@tensiosuivi.example.fr</a>');
    expect(page.html).toContain('<a href="https://aide.tensiosuivi.example.fr/contact" rel="noreferrer">aide.tensiosuivi.example.fr</a>');
    expect(page.html).toContain('<a href="tel:+33123456789">+33 1 23 45 67 89</a>');
  });

  it('says of each permission what the consent screen lets the patient do with it', async () => {
    const { key } = await registerPublisher(server(), 'Éditeur des permissions');
    const id = await createApp(key, 'Premiers Pas', {
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel enfant.' },
        { scope: 'offline_access', justification: 'Synchroniser les mesures.' },
        { scope: 'patient/Observation.rs', justification: 'La courbe de croissance.' },
      ],
    });
    const page = await fetch(`${server().url}/catalogue/${id}`).then((response) => response.text());
    const items = page.slice(page.indexOf('<h2>Ce qu’elle peut vous demander, et pourquoi</h2>')).split('<li class="fr-card fr-card--no-arrow mes-card"><div class="fr-card__body"><div class="fr-card__content">').slice(1, 4);
    // launch/patient is never ticked or unticked on the consent screen: not "optional" here either.
    expect(items[0]).toContain('Savoir pour quel patient l’application est utilisée');
    expect(items[0]).not.toContain('Facultatif');
    expect(items[0]).toContain('Fait partie de tout accès à l’application\u00a0: il ne se refuse pas séparément.');
    // offline_access is the duration the patient chooses.
    expect(items[1]).toContain('Garder l’accès sans vous le redemander, pour la durée que vous choisissez');
    expect(items[1]).toContain('Vous choisirez pour combien de temps\u00a0: une seule fois, 3 mois, 1 an, ou jusqu’à ce que vous retiriez l’accès.');
    expect(items[2]).toContain('Facultatif\u00a0: vous pourrez le refuser.');
  });

  it('is in English, with the scopes in English and the French justifications marked as French', async () => {
    const page = await pageBrowser(server, { acceptLanguage: 'en' }).get(`/catalogue/${ids['TensioSuivi']}`);
    expect(page.html).toContain('<html lang="en">');
    expect(page.html).toContain('<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--success">Certified</span> since');
    expect(page.html).toContain('<p>TensioSuivi records your blood pressure.</p>\n<p>Your doctor sees how it changes.</p>');
    expect(page.html).toContain('<h2>What it can ask you for, and why</h2>');
    expect(page.html).toContain('<strong>Read your vaccinations</strong>');
    expect(page.html).toContain('Why, according to the publisher: <span lang="fr">Vous rappeler les vaccins à faire.</span>');
    expect(page.html).toContain('<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--warning">Required</span>: the app cannot work without it.');
    expect(page.html).toContain('>Privacy policy</a>');
  });

  it('escapes everything the publisher wrote', async () => {
    const page = await pageBrowser(server).get(`/catalogue/${ids['<script>alert("x")</script> & "Cie" l\'app']}`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<script');
    expect(page.html).not.toContain('<img src=x');
    expect(page.html).not.toContain('<b>');
    expect(page.html).toContain('<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Cie&quot; l&#39;app</h1>');
    expect(page.html).toContain('<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Cie&quot; l&#39;app · ');
    expect(page.html).toContain('&lt;img src=x onerror=alert(1)&gt; court');
    expect(page.html).toContain('<p>&lt;b&gt;gras&lt;/b&gt; et &quot;guillemets&quot; &amp; &#39;apostrophes&#39;</p>');
    expect(page.html).toContain('&lt;script&gt;alert(2)&lt;/script&gt; pour voir');
    // The search box echoes the query escaped too.
    const search = await pageBrowser(server).get(`/catalogue?q=${encodeURIComponent('"><script>alert(3)</script>')}`);
    expect(search.status).toBe(200);
    expect(search.html).not.toContain('<script');
    expect(search.html).toContain('value="&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"');
  });

  it('answers 404, in a page, for an unknown app, a draft, and anything that is not an app id', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', ids['Brouillon Santé']!, 'not-an-id', '..%2F..%2Fetc']) {
      const page = await pageBrowser(server).get(`/catalogue/${id}`);
      expect(page.status, id).toBe(404);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(page.html).toContain('<h1>Application introuvable</h1>');
      expect(page.html).toContain('<nav class="fr-nav"');
      expect(page.html).not.toContain('Brouillon Santé');
      expect(page.html).not.toContain('Pas encore certifiée');
    }
  });

  it('answers 404 for an app out of the catalogue, saying why, for the patients who connected it', async () => {
    const suspended = await pageBrowser(server).get(`/catalogue/${ids['Suspendue Santé']}`);
    expect(suspended.status).toBe(404);
    expect(suspended.html).toContain('<h1>Suspendue Santé</h1>');
    expect(suspended.html).toContain('<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--warning">Certification suspendue</span>');
    expect(suspended.html).toContain('sa certification est suspendue');
    expect(suspended.html).toContain('<a href="/patient/apps">Mes applications connectées</a>');
    // What it did in the catalogue is not shown any more.
    expect(suspended.html).not.toContain('Certification suspendue.</p>');
    const revoked = await pageBrowser(server, { acceptLanguage: 'en' }).get(`/catalogue/${ids['Retirée Santé']}`);
    expect(revoked.status).toBe(404);
    expect(revoked.html).toContain('its certification was withdrawn');
  });

  it('tells a signed-in patient who connected the app where to manage its access', async () => {
    const appId = ids['TensioSuivi']!;
    const [client] = await server().app.db.query<{ id: string }>('SELECT id FROM oauth_clients WHERE app_id = $1', [appId]);
    const browser = pageBrowser(server);
    await browser.post('/patient/sign-in', { patient_id: 'catalogue-patient-2', return_to: '/catalogue' });
    const before = await browser.get(`/catalogue/${appId}`);
    expect(before.html).not.toContain('Vous avez connecté cette application.');
    await insertGrant(server().app.db, { appId, clientId: client!.id, patientId: 'catalogue-patient-2', actorId: 'catalogue-patient-2', scope: 'patient/Immunization.rs', expiresAt: null });
    const after = await browser.get(`/catalogue/${appId}`);
    expect(after.html).toContain('Vous avez connecté cette application. <a href="/patient/apps">Gérer son accès (Mes applications connectées)</a>');
    // Another patient, or a visitor, is told nothing.
    expect((await pageBrowser(server).get(`/catalogue/${appId}`)).html).not.toContain('Vous avez connecté');
  });
});
