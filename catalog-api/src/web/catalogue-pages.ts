// The public catalogue as pages: the certified apps with a search and a category filter, 20 a
// page, and each app's page (what it does, who publishes it, what it can ask for and why, its
// certification, its privacy policy, terms and support). Public, no sign-in needed; the header
// shows who is signed in. Everything the publisher wrote is text, escaped, never HTML. The
// logos come from app-logos.ts, on the platform's own origin.
import type { AppConfig } from '../core/config.js';
import { ProblemError } from '../core/errors.js';
import type { HandlerMap } from '../core/operations.js';
import type { OutboundPolicy } from '../core/outbound/safe-fetch.js';
import type { Queryable } from '../core/store/db.js';
import {
  catalogCursor,
  findAppForPatients,
  listCatalog,
  type AppCategory,
  type AppForPatients,
  type CatalogApp,
} from '../modules/catalog/index.js';
import { connectedApps } from '../modules/consent/index.js';
import { appIdentity, catalogueAppPath, launchable, launchForm } from './app-summary.js';
import { appLogoHandlers } from './app-logos.js';
import { alert, badge, button, card, inputField, selectField } from './components.js';
import { escapeHtml, formTargetOf } from './html.js';
import { messages, type Lang } from './i18n.js';
import { layoutText, pageReply } from './layout.js';
import { pageContext, type PageContext } from './page-context.js';
import type { PatientSessions } from './patient-session.js';
import { describeScopeString, permissionChoice } from './scope-labels.js';

type CatalogueOperations = 'showCatalogue' | 'showCatalogueApp' | 'getCatalogueAppLogo';

const CATALOGUE = '/catalogue';
const CONNECTED_APPS = '/patient/apps';
/** Apps on one page of the catalogue. */
export const CATALOGUE_PAGE_SIZE = 20;

export const CATEGORIES = ['prevention', 'suivi-maladie-chronique', 'teleconsultation', 'bien-etre', 'parentalite'] as const satisfies readonly AppCategory[];

const categoryNames: Record<Lang, Record<AppCategory, string>> = {
  fr: {
    prevention: 'Prévention',
    'suivi-maladie-chronique': 'Suivi de maladie chronique',
    teleconsultation: 'Téléconsultation',
    'bien-etre': 'Bien-être',
    parentalite: 'Parentalité',
  },
  en: {
    prevention: 'Prevention',
    'suivi-maladie-chronique': 'Chronic condition follow-up',
    teleconsultation: 'Teleconsultation',
    'bien-etre': 'Well-being',
    parentalite: 'Parenting',
  },
};

/** A category's name in words. */
export const categoryName = (category: AppCategory, lang: Lang): string => categoryNames[lang][category] ?? category;

const text = messages({
  fr: {
    intro:
      'Ces applications sont certifiées par l’État : leur éditeur, leur sécurité et l’usage qu’elles font de vos données ont été vérifiés. Aucune ne voit vos données sans votre accord, et vous pouvez retirer son accès à tout moment.',
    search: 'Rechercher une application',
    searchHint: 'Un nom, ou un mot de sa description.',
    category: 'Catégorie',
    allCategories: 'Toutes les catégories',
    submit: 'Rechercher',
    results: 'Applications',
    resultsFor: (q: string | undefined, category: string | undefined) =>
      `Résultats${q ? ` pour « ${q} »` : ''}${category ? ` dans la catégorie ${category}` : ''}.`,
    none: 'Aucune application ne correspond à votre recherche.',
    noneYet: 'Aucune application n’est encore certifiée.',
    showAll: 'Voir toutes les applications',
    pages: 'Pages de résultats',
    next: 'Applications suivantes',
    first: 'Revenir au début de la liste',
    categoryOf: 'Catégorie :',
    badCursorTitle: 'Lien de page périmé',
    badCursor: 'Ce lien vers une page de la liste n’est pas valide. Reprenez la liste depuis le début.',
    back: 'Retour au catalogue',
    about: 'Présentation',
    facts: 'En bref',
    website: 'Site de l’application',
    permissions: 'Ce qu’elle peut vous demander, et pourquoi',
    permissionsIntro:
      'Quand vous connecterez l’application, elle vous demandera votre accord pour ce qui suit : vous pourrez refuser ce qui n’est pas indispensable, et retirer son accès à tout moment.',
    why: 'Pourquoi, selon l’éditeur :',
    required: 'Indispensable',
    requiredHint: '\u00a0: sans cela, l’application ne peut pas fonctionner.',
    optional: 'Facultatif : vous pourrez le refuser.',
    duration: 'Vous choisirez pour combien de temps : une seule fois, 3 mois, 1 an, ou jusqu’à ce que vous retiriez l’accès.',
    always: 'Fait partie de tout accès à l’application : il ne se refuse pas séparément.',
    yourData: 'Vos données et vos droits',
    privacy: 'Politique de confidentialité',
    terms: 'Conditions d’utilisation',
    contact: 'Contacter l’éditeur',
    email: 'Courriel',
    supportSite: 'Site d’assistance',
    phone: 'Téléphone',
    open: 'Ouvrir l’application',
    signInToOpen: 'Se connecter pour ouvrir l’application',
    connected: 'Vous avez connecté cette application.',
    manage: 'Gérer son accès',
    notFoundTitle: 'Application introuvable',
    notFound: 'Cette application n’est pas dans le catalogue. Seules les applications certifiées par l’État y figurent.',
    goneTitle: (name: string) => `${name} n’est plus dans le catalogue`,
    gone: {
      suspended: 'Cette application n’est plus dans le catalogue : sa certification est suspendue. Elle ne peut plus accéder aux données des patients tant que la suspension dure.',
      revoked: 'Cette application n’est plus dans le catalogue : sa certification lui a été retirée. Elle ne peut plus accéder aux données des patients.',
      expired: 'Cette application n’est plus dans le catalogue : sa certification a expiré. Elle ne peut plus accéder aux données des patients.',
    },
    goneConnected: 'Si vous l’aviez connectée, vous pouvez retirer son accès :',
  },
  en: {
    intro:
      'These apps are certified by the State: their publisher, their security and the way they use your data have been checked. None sees your data without your consent, and you can withdraw its access at any time.',
    search: 'Search for an app',
    searchHint: 'A name, or a word of its description.',
    category: 'Category',
    allCategories: 'All categories',
    submit: 'Search',
    results: 'Apps',
    resultsFor: (q: string | undefined, category: string | undefined) =>
      `Results${q ? ` for “${q}”` : ''}${category ? ` in the category ${category}` : ''}.`,
    none: 'No app matches your search.',
    noneYet: 'No app is certified yet.',
    showAll: 'See every app',
    pages: 'Result pages',
    next: 'Next apps',
    first: 'Back to the start of the list',
    categoryOf: 'Category:',
    badCursorTitle: 'Out-of-date page link',
    badCursor: 'This link to a page of the list is not valid. Start the list again from the beginning.',
    back: 'Back to the catalogue',
    about: 'About',
    facts: 'At a glance',
    website: 'App website',
    permissions: 'What it can ask you for, and why',
    permissionsIntro:
      'When you connect the app, it will ask for your consent to the following: you can refuse what is not required, and withdraw its access at any time.',
    why: 'Why, according to the publisher:',
    required: 'Required',
    requiredHint: ': the app cannot work without it.',
    optional: 'Optional: you can refuse it.',
    duration: 'You will choose for how long: once, 3 months, 1 year, or until you withdraw the access.',
    always: 'Part of any access to the app: it cannot be refused on its own.',
    yourData: 'Your data and your rights',
    privacy: 'Privacy policy',
    terms: 'Terms of use',
    contact: 'Contact the publisher',
    email: 'Email',
    supportSite: 'Support website',
    phone: 'Phone',
    open: 'Open the app',
    signInToOpen: 'Sign in to open the app',
    connected: 'You have connected this app.',
    manage: 'Manage its access',
    notFoundTitle: 'App not found',
    notFound: 'This app is not in the catalogue. Only apps certified by the State are listed.',
    goneTitle: (name: string) => `${name} is no longer in the catalogue`,
    gone: {
      suspended: 'This app is no longer in the catalogue: its certification is suspended. It cannot access patients’ data while the suspension lasts.',
      revoked: 'This app is no longer in the catalogue: its certification was withdrawn. It cannot access patients’ data any more.',
      expired: 'This app is no longer in the catalogue: its certification has expired. It cannot access patients’ data any more.',
    },
    goneConnected: 'If you had connected it, you can withdraw its access:',
  },
});

export interface CataloguePageDeps {
  db: Queryable;
  config: AppConfig;
  sessions: PatientSessions;
  /** Certificates and name resolution of the logo fetches (tests); the system's by default. */
  outbound?: Pick<OutboundPolicy, 'ca' | 'resolve'> | undefined;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A text of the publisher's in the page's language, else in French (marked as such for screen readers). */
function localized(value: { fr: string; en?: string | undefined }, lang: Lang): { text: string; langAttr: string } {
  if (lang === 'en' && value.en) return { text: value.en, langAttr: '' };
  return { text: value.fr, langAttr: lang === 'fr' ? '' : ' lang="fr"' };
}

/** Plain text as paragraphs: blank lines separate paragraphs, single line breaks are kept. */
function paragraphs(value: string, langAttr: string): string {
  return value
    .split(/\r?\n\s*\r?\n/)
    .map((paragraph) => paragraph.trim())
    .filter(Boolean)
    .map((paragraph) => `<p${langAttr}>${paragraph.split(/\r?\n/).map(escapeHtml).join('<br>')}</p>`)
    .join('\n');
}

/** A link to a publisher's page, only for http(s) URLs (anything else is shown as text). */
function externalLink(url: string | undefined, label: string, protocols: readonly string[] = ['https:']): string {
  let parsed: URL | null = null;
  try {
    parsed = url ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (!parsed || !protocols.includes(parsed.protocol)) return escapeHtml(label);
  return `<a href="${escapeHtml(parsed.href)}" rel="noreferrer">${escapeHtml(label)}</a>`;
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

function catalogueHref(filter: { q?: string | undefined; category?: AppCategory | undefined; cursor?: string | undefined }): string {
  const query = new URLSearchParams();
  if (filter.q) query.set('q', filter.q);
  if (filter.category) query.set('category', filter.category);
  if (filter.cursor) query.set('cursor', filter.cursor);
  const search = query.toString();
  return search ? `${CATALOGUE}?${search}` : CATALOGUE;
}

function appCard(app: CatalogApp, lang: Lang): string {
  const t = text(lang);
  const short = localized(app.shortDescription, lang);
  const name = `<a href="${escapeHtml(catalogueAppPath(app.id))}">${escapeHtml(app.name)}</a>`;
  return card(`${appIdentity(app, lang, { level: 3, nameHtml: name })}
<p${short.langAttr}>${escapeHtml(short.text)}</p>
<p>${escapeHtml(t.categoryOf)} <a class="fr-tag fr-tag--sm" href="${escapeHtml(catalogueHref({ category: app.category }))}">${escapeHtml(categoryName(app.category, lang))}</a></p>`);
}

function searchForm(lang: Lang, q: string | undefined, category: AppCategory | undefined): string {
  const t = text(lang);
  const options = [
    `<option value=""${category ? '' : ' selected'}>${escapeHtml(t.allCategories)}</option>`,
    ...CATEGORIES.map((value) => `<option value="${value}"${value === category ? ' selected' : ''}>${escapeHtml(categoryName(value, lang))}</option>`),
  ].join('');
  return `<form method="get" action="${CATALOGUE}" role="search" class="filters">
${inputField({ id: 'q', label: t.search, hint: t.searchHint, input: `<input class="fr-input" type="search" id="q" name="q" maxlength="100" value="${escapeHtml(q ?? '')}" aria-describedby="q-hint">` })}
${selectField({ id: 'category', name: 'category', label: t.category, options })}
<div>${button(t.submit)}</div>
</form>`;
}

function cataloguePage(ctx: PageContext, filter: { q?: string | undefined; category?: AppCategory | undefined; cursor?: string | undefined }, page: { items: CatalogApp[]; next: string | null }) {
  const t = text(ctx.lang);
  const title = layoutText(ctx.lang).catalogue;
  const filtered = Boolean(filter.q || filter.category);
  const summary = filtered ? `<p>${escapeHtml(t.resultsFor(filter.q, filter.category ? categoryName(filter.category, ctx.lang) : undefined))}</p>` : '';
  let list: string;
  if (page.items.length) list = `<ul class="cards">\n${page.items.map((app) => appCard(app, ctx.lang)).join('\n')}\n</ul>`;
  else if (filtered || filter.cursor) list = `<p>${escapeHtml(t.none)}</p>\n<p><a href="${CATALOGUE}">${escapeHtml(t.showAll)}</a></p>`;
  else list = `<p>${escapeHtml(t.noneYet)}</p>`;
  const links = [
    page.next ? `<a href="${escapeHtml(catalogueHref({ ...filter, cursor: page.next }))}" rel="next">${escapeHtml(t.next)}</a>` : '',
    filter.cursor ? `<a href="${escapeHtml(catalogueHref({ ...filter, cursor: undefined }))}">${escapeHtml(t.first)}</a>` : '',
  ].filter(Boolean);
  const pager = links.length ? `<nav aria-label="${escapeHtml(t.pages)}" class="actions">${links.join('\n')}</nav>` : '';
  return pageReply(200, {
    ...ctx,
    title: filter.q ? `${filter.q} · ${title}` : title,
    section: 'catalogue',
    body: `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(t.intro)}</p>
${searchForm(ctx.lang, filter.q, filter.category)}
<h2>${escapeHtml(t.results)}</h2>
${summary}
${list}
${pager}`,
  });
}

function permissionsList(app: AppForPatients, lang: Lang): string {
  const t = text(lang);
  const items = app.scopes.map((request) => {
    const lines = describeScopeString(request.scope, lang);
    const what = `<p><strong>${lines.map(escapeHtml).join('<br>')}</strong></p>`;
    const choice = permissionChoice(request.scope, request.required === true);
    const need =
      choice === 'required'
        ? `<p>${badge('warn', t.required)}${escapeHtml(t.requiredHint)}</p>`
        : `<p class="muted">${escapeHtml(t[choice])}</p>`;
    // Justifications are written in French (the spec asks publishers for French).
    return card(`${what}
<p>${escapeHtml(t.why)} <span${lang === 'fr' ? '' : ' lang="fr"'}>${escapeHtml(request.justification)}</span></p>
${need}`);
  });
  return `<ul class="cards">\n${items.join('\n')}\n</ul>`;
}

function contactList(app: AppForPatients, lang: Lang): string {
  const t = text(lang);
  const { email, url, phone } = app.supportContact;
  const rows = [
    `<dt>${escapeHtml(t.email)}</dt><dd><a href="mailto:${escapeHtml(encodeURI(email))}">${escapeHtml(email)}</a></dd>`,
    url ? `<dt>${escapeHtml(t.supportSite)}</dt><dd>${externalLink(url, hostOf(url), ['https:', 'http:'])}</dd>` : '',
    phone ? `<dt>${escapeHtml(t.phone)}</dt><dd><a href="tel:${escapeHtml(phone.replace(/[ .-]/g, ''))}">${escapeHtml(phone)}</a></dd>` : '',
  ];
  return `<dl class="facts">${rows.join('')}</dl>`;
}

function appPage(ctx: PageContext, app: AppForPatients, connected: boolean) {
  const t = text(ctx.lang);
  const short = localized(app.shortDescription, ctx.lang);
  const long = localized(app.longDescription, ctx.lang);
  const apps = layoutText(ctx.lang).apps;
  const connectedNotice = connected
    ? alert('info', `<p>${escapeHtml(t.connected)} <a href="${CONNECTED_APPS}">${escapeHtml(t.manage)} (${escapeHtml(apps)})</a></p>`)
    : '';
  // "Ouvrir l'application": a launch from the patient's space, through the platform (SMART EHR launch).
  const open = !launchable(app)
    ? ''
    : ctx.session
      ? `<div class="actions">${launchForm(app, ctx.session.csrfToken, t.open)}</div>\n`
      : `<p><a href="/patient/sign-in?return_to=${encodeURIComponent(catalogueAppPath(app.id))}">${escapeHtml(t.signInToOpen)}</a></p>\n`;
  return pageReply(200, {
    ...ctx,
    title: app.name,
    section: 'catalogue',
    formTargets: [...ctx.formTargets, ...(launchable(app) && ctx.session ? formTargetOf(app.launchUrl!) : [])],
    body: `<p><a href="${CATALOGUE}">${escapeHtml(t.back)}</a></p>
${appIdentity(app, ctx.lang, { level: 1 })}
${connectedNotice}${open}<p${short.langAttr}>${escapeHtml(short.text)}</p>
<dl class="facts">
<dt>${escapeHtml(t.category)}</dt><dd><a href="${escapeHtml(catalogueHref({ category: app.category }))}">${escapeHtml(categoryName(app.category, ctx.lang))}</a></dd>
<dt>${escapeHtml(t.website)}</dt><dd>${externalLink(app.websiteUrl, hostOf(app.websiteUrl))}</dd>
</dl>
<h2>${escapeHtml(t.about)}</h2>
${paragraphs(long.text, long.langAttr)}
<h2>${escapeHtml(t.permissions)}</h2>
<p>${escapeHtml(t.permissionsIntro)}</p>
${permissionsList(app, ctx.lang)}
<h2>${escapeHtml(t.yourData)}</h2>
<ul>
<li>${externalLink(app.privacyPolicyUrl, t.privacy)}</li>
<li>${externalLink(app.termsUrl, t.terms)}</li>
</ul>
<h2>${escapeHtml(t.contact)}</h2>
${contactList(app, ctx.lang)}`,
  });
}

/** The page of an app that is not in the catalogue: nothing about it, unless it was certified once. */
function notInCataloguePage(ctx: PageContext, app: AppForPatients | null) {
  const t = text(ctx.lang);
  const back = `<p><a href="${CATALOGUE}">${escapeHtml(t.back)}</a></p>`;
  if (app && (app.certificationStatus === 'suspended' || app.certificationStatus === 'revoked' || app.certificationStatus === 'expired')) {
    return pageReply(404, {
      ...ctx,
      title: t.goneTitle(app.name),
      section: 'catalogue',
      body: `${back}
${appIdentity(app, ctx.lang, { level: 1 })}
${alert('warning', `<p>${escapeHtml(t.gone[app.certificationStatus])}</p>`)}
<p>${escapeHtml(t.goneConnected)} <a href="${CONNECTED_APPS}">${escapeHtml(layoutText(ctx.lang).apps)}</a>.</p>`,
    });
  }
  return pageReply(404, {
    ...ctx,
    title: t.notFoundTitle,
    section: 'catalogue',
    body: `<h1>${escapeHtml(t.notFoundTitle)}</h1>
<p>${escapeHtml(t.notFound)}</p>
${back}`,
  });
}

export function catalogueHandlers(deps: CataloguePageDeps): HandlerMap<CatalogueOperations> {
  const { db } = deps;
  return {
    async showCatalogue({ request, query }) {
      const ctx = await pageContext(deps, request);
      const q = query.q?.trim() || undefined;
      const category = query.category || undefined;
      let after: [string, string] | null = null;
      if (query.cursor) {
        try {
          after = catalogCursor.decode(query.cursor);
        } catch (error) {
          if (!(error instanceof ProblemError)) throw error;
          const t = text(ctx.lang);
          return pageReply(400, {
            ...ctx,
            title: t.badCursorTitle,
            section: 'catalogue',
            body: `<h1>${escapeHtml(t.badCursorTitle)}</h1>\n<p>${escapeHtml(t.badCursor)}</p>\n<p><a href="${escapeHtml(catalogueHref({ q, category }))}">${escapeHtml(t.first)}</a></p>`,
          });
        }
      }
      const page = await listCatalog(db, { q, category, limit: CATALOGUE_PAGE_SIZE, after });
      const next = page.more && page.last ? catalogCursor.encode(page.last) : null;
      return cataloguePage(ctx, { q, category, cursor: query.cursor }, { items: page.items, next });
    },

    async showCatalogueApp({ request, params }) {
      const ctx = await pageContext(deps, request);
      const app = uuid.test(params.appId) ? await findAppForPatients(db, params.appId) : null;
      if (!app || app.certificationStatus !== 'certified') return notInCataloguePage(ctx, app);
      const connected = ctx.session ? (await connectedApps(db, ctx.session.patientId)).some((grant) => grant.appId === app.id && grant.active) : false;
      return appPage(ctx, app, connected);
    },

    ...appLogoHandlers(deps),
  };
}
