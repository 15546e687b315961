// The platform's home page (`/`): what the platform is, for whom, and where each audience goes
// next; in the sandbox, how many synthetic patients are loaded and, on a developer's own machine,
// where the demo publisher's API key is (never the key itself).
import type { FastifyBaseLogger } from 'fastify';
import type { AppConfig } from '../core/config.js';
import type { HandlerMap } from '../core/operations.js';
import type { Queryable } from '../core/store/db.js';
import { card } from './components.js';
import { escapeHtml } from './html.js';
import { messages, type Lang } from './i18n.js';
import { pageReply } from './layout.js';
import { pageContext, type PageDeps } from './page-context.js';

type HomeOperations = 'showHome';

/** Where each audience goes next (the developer documentation site is served under /developers/). */
export const HOME_LINKS = {
  catalogue: '/catalogue',
  patientApps: '/patient/apps',
  patientHistory: '/patient/history',
  developers: '/developers/',
  apiReference: '/docs',
  openapi: '/openapi.json',
} as const;

/** The synthetic population the sandbox recorded in its own table; null when there is none (yet). */
export interface SyntheticPopulation {
  seed: string;
  patients: number;
  /** False while the load is under way (patients appear as their batches commit). */
  completed: boolean;
}

/**
 * Reads the sandbox's record of its synthetic population (table `sandbox_synthetic_state`, which
 * the sandbox creates when it starts loading, not the platform's migrations). The table may not
 * exist (a server started without the sandbox, before the load started, or in production): null
 * then, and after any failure to read it, which is logged and never fails the page.
 */
export async function syntheticPopulation(db: Queryable, log?: FastifyBaseLogger): Promise<SyntheticPopulation | null> {
  try {
    const [table] = await db.query<{ present: boolean }>(`SELECT to_regclass('sandbox_synthetic_state') IS NOT NULL AS present`);
    if (!table?.present) return null;
    const [row] = await db.query<{ seed: string; patients: number; completed: boolean }>(
      'SELECT seed, patients, completed_at IS NOT NULL AS completed FROM sandbox_synthetic_state WHERE id',
    );
    return row ? { seed: row.seed, patients: Number(row.patients), completed: row.completed } : null;
  } catch (error) {
    log?.warn({ err: error }, 'home page: the sandbox population could not be read');
    return null;
  }
}

const loopbackHost = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/;

/**
 * A sandbox on the developer's own machine: listening on loopback with no public URL. Only there
 * does the page say where the demo publisher's key is; a shared sandbox's users have their own keys.
 */
export const localSandbox = (config: Pick<AppConfig, 'mode' | 'host' | 'publicUrl'>): boolean =>
  config.mode === 'sandbox' && !config.publicUrl && loopbackHost.test(config.host);

const count = (lang: Lang, n: number) => new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB').format(n);

const text = messages({
  fr: {
    title: 'Accueil',
    heading: 'La plateforme des applications de Mon espace santé',
    intro:
      'Mon espace santé, l’espace numérique de santé de chaque personne, s’ouvre à des applications certifiées par l’État. Cette plateforme les accueille : le catalogue des applications certifiées, leur certification, l’accord que chaque patient leur donne, l’accès à ses données et l’historique de ces accès.',
    patients: 'Vous êtes patient',
    patientsIntro: 'Aucune application ne voit vos données sans votre accord, et vous pouvez retirer son accès à tout moment.',
    catalogue: 'Découvrir les applications certifiées',
    patientApps: 'Voir les applications que vous avez connectées',
    patientHistory: 'Savoir qui a consulté vos données',
    developers: 'Vous développez une application',
    developersIntro: 'Inscrivez votre organisation, déclarez votre application, essayez-la dans le bac à sable puis demandez sa certification.',
    developerDocs: 'Documentation des développeurs',
    developerDocsHint: 'guides, SDK, ligne de commande, bac à sable',
    apiReference: 'Référence de l’API',
    apiReferenceHint: 'chaque opération, à essayer dans le navigateur',
    openapi: 'Document OpenAPI',
    openapiHint: 'le contrat de l’API, d’où tout le reste est tiré',
    reviewers: 'Vous évaluez des applications',
    reviewersIntro:
      'Les évaluateurs de la certification examinent les demandes avec la ligne de commande de la plateforme : vérifications automatiques, critères publiés, décisions signées.',
    reviewerDocs: 'La procédure de certification, dans la documentation',
    sandbox: 'Bac à sable',
    sandboxIntro: 'Ce serveur est un bac à sable : ses patients sont fictifs et aucune donnée n’est réelle.',
    loaded: (n: string, seed: string) => `${n} patients de synthèse sont chargés (graine « ${seed} »).`,
    loading: (n: string, seed: string) =>
      `Chargement de ${n} patients de synthèse en cours (graine « ${seed} ») : ceux déjà chargés sont utilisables. Rechargez la page pour suivre l’avancement.`,
    none: 'Aucun patient de synthèse n’est encore chargé.',
    key: 'La clé d’API de l’éditeur de démonstration s’affiche dans le terminal où vous avez lancé',
    keyFile: 'Elle est aussi gardée dans le fichier',
    keyDir: 'du répertoire de données (variable',
    keyDirDefault: 'par défaut).',
    keyNever: 'Cette page ne l’affiche jamais.',
  },
  en: {
    title: 'Home',
    heading: 'The app platform of Mon espace santé',
    intro:
      'Mon espace santé, everyone’s digital health space, is open to apps certified by the State. This platform hosts them: the catalogue of certified apps, their certification, the consent each patient gives them, the access to the patient’s data and the history of those accesses.',
    patients: 'For patients',
    patientsIntro: 'No app sees your data without your consent, and you can withdraw its access at any time.',
    catalogue: 'Discover the certified apps',
    patientApps: 'See the apps you have connected',
    patientHistory: 'Find out who read your data',
    developers: 'For app developers',
    developersIntro: 'Register your organisation, declare your app, try it in the sandbox, then ask for its certification.',
    developerDocs: 'Developer documentation',
    developerDocsHint: 'guides, SDK, command line, sandbox',
    apiReference: 'API reference',
    apiReferenceHint: 'every operation, to try in the browser',
    openapi: 'OpenAPI document',
    openapiHint: 'the API’s contract, which everything else is made from',
    reviewers: 'For certification reviewers',
    reviewersIntro: 'Certification reviewers examine requests with the platform’s command line: automated checks, published criteria, signed decisions.',
    reviewerDocs: 'The certification process, in the documentation',
    sandbox: 'Sandbox',
    sandboxIntro: 'This server is a sandbox: its patients are fictitious and no data is real.',
    loaded: (n: string, seed: string) => `${n} synthetic patients are loaded (seed “${seed}”).`,
    loading: (n: string, seed: string) =>
      `Loading ${n} synthetic patients (seed “${seed}”): those already loaded can be used. Reload the page to follow the progress.`,
    none: 'No synthetic patients are loaded yet.',
    key: 'The demo publisher’s API key is printed in the terminal where you ran',
    keyFile: 'It is also kept in the file',
    keyDir: 'of the data directory (variable',
    keyDirDefault: 'by default).',
    keyNever: 'This page never shows it.',
  },
});

const link = (href: string, label: string, hint?: string) =>
  `<li><a href="${escapeHtml(href)}">${escapeHtml(label)}</a>${hint ? ` <span class="muted">— ${escapeHtml(hint)}</span>` : ''}</li>`;

/** One audience's column: who it is for, and where they go. */
const audience = (heading: string, intro: string, links: string[]) =>
  `<div class="fr-col-12 fr-col-md-4">${card(`<h2 class="fr-h4">${escapeHtml(heading)}</h2>
<p>${escapeHtml(intro)}</p>
<ul>
${links.join('\n')}
</ul>`, { tag: 'div' })}</div>`;

/** The sandbox's part of the page: its population and, on a developer's machine, where the demo key is. */
function sandboxSection(lang: Lang, population: SyntheticPopulation | null, local: boolean): string {
  const t = text(lang);
  const state = !population
    ? t.none
    : population.completed
      ? t.loaded(count(lang, population.patients), population.seed)
      : t.loading(count(lang, population.patients), population.seed);
  const key = local
    ? `<p>${escapeHtml(t.key)} <code>npm start</code>. ${escapeHtml(t.keyFile)} <code>sandbox-demo-api-key</code> ${escapeHtml(t.keyDir)} <code>DATA_DIR</code>, <code>./.data</code> ${escapeHtml(t.keyDirDefault)} ${escapeHtml(t.keyNever)}</p>\n`
    : '';
  return `<section class="fr-callout" aria-labelledby="home-sandbox">
<h2 class="fr-callout__title" id="home-sandbox">${escapeHtml(t.sandbox)}</h2>
<p>${escapeHtml(t.sandboxIntro)}</p>
<p id="sandbox-population">${escapeHtml(state)}</p>
${key}</section>`;
}

export function homeHandlers(deps: PageDeps): HandlerMap<HomeOperations> {
  return {
    async showHome({ request }) {
      const ctx = await pageContext(deps, request);
      const t = text(ctx.lang);
      const sandbox = ctx.sandbox ? sandboxSection(ctx.lang, await syntheticPopulation(deps.db, request.log), localSandbox(deps.config)) : '';
      return pageReply(200, {
        ...ctx,
        title: t.title,
        body: `<h1>${escapeHtml(t.heading)}</h1>
<p class="fr-text--lead">${escapeHtml(t.intro)}</p>
${sandbox}
<div class="fr-grid-row fr-grid-row--gutters">
${audience(t.patients, t.patientsIntro, [link(HOME_LINKS.catalogue, t.catalogue), link(HOME_LINKS.patientApps, t.patientApps), link(HOME_LINKS.patientHistory, t.patientHistory)])}
${audience(t.developers, t.developersIntro, [
  link(HOME_LINKS.developers, t.developerDocs, t.developerDocsHint),
  link(HOME_LINKS.apiReference, t.apiReference, t.apiReferenceHint),
  link(HOME_LINKS.openapi, t.openapi, t.openapiHint),
])}
${audience(t.reviewers, t.reviewersIntro, [link(HOME_LINKS.developers, t.reviewerDocs)])}
</div>`,
      });
    },
  };
}
