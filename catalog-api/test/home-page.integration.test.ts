// The home page (`/`): in French by default and in English, the links of each audience, and the
// sandbox's part: the synthetic population as the sandbox recorded it (no table yet, loading,
// loaded), where the demo key is on a developer's own machine only, never a key on the page, and
// nothing of the sandbox in production.
import { describe, expect, it } from 'vitest';
import { HOME_LINKS } from '../src/web/home-page.js';
import { registerPublisher, useServer } from './helpers.js';
import { pageBrowser } from './page-browser.js';

const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const KEY_FILE = 'sandbox-demo-api-key';
const fr = (n: number) => new Intl.NumberFormat('fr-FR').format(n);
const en = (n: number) => new Intl.NumberFormat('en-GB').format(n);

/** The sandbox's own record of its population, as sandbox/src/seed-records.ts creates it. */
async function recordPopulation(server: () => { app: { db: import('../src/core/store/db.js').Db } }, patients: number, completed: boolean) {
  const { db } = server().app;
  await db.query(`CREATE TABLE IF NOT EXISTS sandbox_synthetic_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id), seed text NOT NULL, patients integer NOT NULL, reference_date text NOT NULL,
    generator_version integer NOT NULL, resources integer, started_at timestamptz NOT NULL DEFAULT now(), completed_at timestamptz)`);
  await db.query('DELETE FROM sandbox_synthetic_state');
  await db.query(`INSERT INTO sandbox_synthetic_state (id, seed, patients, reference_date, generator_version, completed_at) VALUES (true, 'démo', $1, '2026-01-01', 1, ${completed ? 'now()' : 'NULL'})`, [patients]);
}

const population = (html: string) => /<p id="sandbox-population">([^<]*)<\/p>/.exec(html)?.[1];

describe('the home page of a sandbox on a developer’s machine', () => {
  const server = useServer();

  it('is a page in French by default, with the pages’ headers and a link for each audience', async () => {
    const page = await pageBrowser(server).get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-language')).toBe('fr');
    expect(page.headers.get('vary')).toContain('Accept-Language');
    expect(page.html).toContain('<html lang="fr">');
    expect(page.html).toContain('<h1>La plateforme des applications de Mon espace santé</h1>');
    for (const heading of ['Vous êtes patient', 'Vous développez une application', 'Vous évaluez des applications']) expect(page.html).toContain(`<h2 class="fr-h4">${heading}</h2>`);
    expect(page.html).toContain('<a href="/catalogue">Découvrir les applications certifiées</a>');
    expect(page.html).toContain('<a href="/patient/apps">Voir les applications que vous avez connectées</a>');
    expect(page.html).toContain('<a href="/developers/">Documentation des développeurs</a>');
    expect(page.html).toContain('<a href="/docs">Référence de l’API</a>');
    expect(page.html).toContain('<a href="/openapi.json">Document OpenAPI</a>');
    // The header's service name leads home, under the République Française block; no script, no inline style.
    expect(page.html).toContain('<p class="fr-logo">République<br>Française</p>');
    expect(page.html).toContain('<div class="fr-header__service"><a href="/" title="Accueil — Mon espace santé · Applications"><p class="fr-header__service-title">Mon espace santé · Applications</p></a>');
    expect(page.html).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    expect(page.html.match(/<h1>/g)).toHaveLength(1);
  });

  it('links to pages that exist (the developer documentation aside, served by its own site)', async () => {
    for (const href of Object.values(HOME_LINKS).filter((href) => href !== HOME_LINKS.developers)) {
      const answer = await fetch(`${server().url}${href}`, { redirect: 'manual' });
      // The patient's own pages send a visitor who is not signed in to sign in.
      expect([200, 303], href).toContain(answer.status);
    }
  });

  it('is in English when the browser prefers it or the visitor chose it, and the switch comes back home', async () => {
    const english = await pageBrowser(server, { acceptLanguage: 'en-GB,en;q=0.9' }).get('/');
    expect(english.headers.get('content-language')).toBe('en');
    expect(english.html).toContain('<html lang="en">');
    expect(english.html).toContain('<h1>The app platform of Mon espace santé</h1>');
    for (const heading of ['For patients', 'For app developers', 'For certification reviewers']) expect(english.html).toContain(`<h2 class="fr-h4">${heading}</h2>`);
    expect(english.html).toContain('<a href="/developers/">Developer documentation</a>');
    expect(english.html).toContain('<a href="/docs">API reference</a>');
    expect(english.html).toContain('<a href="/openapi.json">OpenAPI document</a>');
    expect(english.html).toContain('href="/language?lang=fr&amp;return_to=%2F"');

    const browser = pageBrowser(server);
    const switched = await browser.get('/language?lang=en&return_to=%2F');
    expect(switched.status).toBe(303);
    expect(switched.location).toBe('/');
    expect((await browser.get('/')).html).toContain('<html lang="en">');
  });

  it('ignores unknown query parameters, such as a campaign tag', async () => {
    const page = await pageBrowser(server).get('/?utm_source=newsletter&x=%3Cb%3E');
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<b>');
  });

  it('says where the demo publisher’s key is, and never shows a key', async () => {
    const { key } = await registerPublisher(server());
    const page = await pageBrowser(server).get('/');
    expect(page.html).toContain('<h2 class="fr-callout__title" id="home-sandbox">Bac à sable</h2>');
    expect(page.html).toContain('<code>npm start</code>');
    expect(page.html).toContain(`<code>${KEY_FILE}</code>`);
    expect(page.html).not.toContain(key);
    expect(page.html).not.toMatch(/mes_[a-z]{2}_/);
    const english = await pageBrowser(server, { acceptLanguage: 'en' }).get('/');
    expect(english.html).toContain('The demo publisher’s API key is printed in the terminal where you ran <code>npm start</code>');
    expect(english.html).not.toContain(key);
  });

  it('says how many synthetic patients the sandbox recorded: none yet, loading, loaded', async () => {
    // No table: the sandbox has not started loading (or this server runs without it).
    expect(population((await pageBrowser(server).get('/')).html)).toBe('Aucun patient de synthèse n’est encore chargé.');
    expect(population((await pageBrowser(server, { acceptLanguage: 'en' }).get('/')).html)).toBe('No synthetic patients are loaded yet.');

    await recordPopulation(server, 10_000, false);
    expect(population((await pageBrowser(server).get('/')).html)).toBe(
      `Chargement de ${fr(10_000)} patients de synthèse en cours (graine «\u00a0démo\u00a0»)\u00a0: ceux déjà chargés sont utilisables. Rechargez la page pour suivre l’avancement.`,
    );
    expect(population((await pageBrowser(server, { acceptLanguage: 'en' }).get('/')).html)).toContain(`Loading ${en(10_000)} synthetic patients (seed “démo”)`);

    await recordPopulation(server, 10_000, true);
    expect(population((await pageBrowser(server).get('/')).html)).toBe(`${fr(10_000)} patients de synthèse sont chargés (graine «\u00a0démo\u00a0»).`);
    expect(population((await pageBrowser(server, { acceptLanguage: 'en' }).get('/')).html)).toBe('10,000 synthetic patients are loaded (seed “démo”).');
  });
});

describe('the home page of a sandbox others can reach', () => {
  const behindPublicUrl = useServer({ publicUrl: 'https://bac-a-sable.mes.example.fr' });
  const onEveryInterface = useServer({ host: '0.0.0.0' });

  it('shows the sandbox’s population but not where the demo key is', async () => {
    for (const server of [behindPublicUrl, onEveryInterface]) {
      const page = await pageBrowser(server).get('/');
      expect(page.status).toBe(200);
      expect(page.html).toContain('<h2 class="fr-callout__title" id="home-sandbox">Bac à sable</h2>');
      expect(population(page.html)).toBe('Aucun patient de synthèse n’est encore chargé.');
      expect(page.html).not.toContain(KEY_FILE);
      expect(page.html).not.toContain('npm start');
    }
  });
});

describe('the home page in production', () => {
  const server = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });

  it('says nothing of a sandbox, even with a sandbox table in the store', async () => {
    await recordPopulation(server, 31_415, true);
    for (const acceptLanguage of ['fr', 'en']) {
      const page = await pageBrowser(server, { acceptLanguage }).get('/');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(CSP);
      expect(page.html).toContain('<a href="/catalogue">');
      expect(page.html).toContain('<a href="/developers/">');
      for (const hint of ['home-sandbox', 'sandbox-population', KEY_FILE, 'npm start', 'Bac à sable', 'Sandbox', 'class="sandbox"', fr(31_415), en(31_415), '31415']) {
        expect(page.html, hint).not.toContain(hint);
      }
    }
  });
});
