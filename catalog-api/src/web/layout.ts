// The layout of the patient's pages, the public catalogue and the home page, in the State's
// design system (design-system.ts): skip links; the header with the République Française block,
// the platform's name (a link to the home page), who is signed in with a sign-out button, the
// language switch and the five places a patient goes (catalogue, connected apps, agenda, messages, access
// history); the page's content in <main>; the footer with the legal pages; and the headers every
// page carries. Everything works without JavaScript.
import { contentSecurityPolicy, escapeHtml, pageHeaders } from './html.js';
import { messages, type Lang } from './i18n.js';
import { STYLESHEET_HREF } from './styles.js';

export type Section = 'catalogue' | 'apps' | 'agenda' | 'messages' | 'history';

export interface PageView {
  lang: Lang;
  /** The page's title (without the platform's name, which is added). */
  title: string;
  /** The content of <main>, already HTML. */
  body: string;
  /** The page's own path and query: where the language switch comes back to. */
  path: string;
  section?: Section;
  /** The signed-in person, when there is one: their name and the session's CSRF token (for sign-out). */
  signedIn?: { name: string; csrfToken: string } | null;
  /** The sandbox shows a banner: test patients only. */
  sandbox?: boolean;
  /** Origins a form of the page leads to after its post (see contentSecurityPolicy). */
  formTargets?: readonly string[];
}

const text = messages({
  fr: {
    platform: 'Mon espace santé · Applications',
    skip: 'Aller au contenu',
    nav: 'Menu principal',
    catalogue: 'Catalogue des applications',
    apps: 'Mes applications connectées',
    agenda: 'Mon agenda',
    messages: 'Ma messagerie',
    history: 'Historique des accès',
    signedInAs: 'Connecté :',
    signIn: 'Se connecter',
    signOut: 'Se déconnecter',
    otherLanguage: 'English',
    otherLanguageLabel: 'Read this page in English',
    sandbox: 'Bac à sable : patients de test uniquement, aucune donnée réelle.',
    footer: 'Seules les applications certifiées par l’État peuvent demander l’accès à vos données. Vous choisissez ce qu’elles voient, et pouvez retirer leur accès à tout moment.',
    home: 'Accueil — Mon espace santé · Applications',
    tagline: 'Les applications certifiées pour votre dossier de santé',
    quickAccess: 'Accès rapide',
    skipFooter: 'Aller au pied de page',
    accessibility: 'Accessibilité\u00a0: non conforme',
    legalNotice: 'Mentions légales',
    privacy: 'Données personnelles',
    externalSite: (site: string) => `${site} — site externe`,
    licence: 'Sauf mention contraire, les contenus de ce site sont proposés sous licence Etalab 2.0.',
  },
  en: {
    platform: 'Mon espace santé · Apps',
    skip: 'Skip to content',
    nav: 'Main menu',
    catalogue: 'App catalogue',
    apps: 'My connected apps',
    agenda: 'My agenda',
    messages: 'My messages',
    history: 'Access history',
    signedInAs: 'Signed in:',
    signIn: 'Sign in',
    signOut: 'Sign out',
    otherLanguage: 'Français',
    otherLanguageLabel: 'Lire cette page en français',
    sandbox: 'Sandbox: test patients only, no real data.',
    footer: 'Only state-certified apps can ask for access to your data. You choose what they see, and can withdraw their access at any time.',
    home: 'Home — Mon espace santé · Apps',
    tagline: 'Certified apps for your health record',
    quickAccess: 'Quick access',
    skipFooter: 'Skip to footer',
    accessibility: 'Accessibility: not compliant',
    legalNotice: 'Legal notice',
    privacy: 'Personal data',
    externalSite: (site: string) => `${site} — external site`,
    licence: 'Unless stated otherwise, the content of this site is available under the Etalab 2.0 licence.',
  },
});

/** The texts of the layout, for pages that name the sections (e.g. a link to "my connected apps"). */
export const layoutText = text;

const sectionLinks: Array<{ section: Section; href: string }> = [
  { section: 'catalogue', href: '/catalogue' },
  { section: 'apps', href: '/patient/apps' },
  { section: 'agenda', href: '/patient/agenda' },
  { section: 'messages', href: '/patient/messages' },
  { section: 'history', href: '/patient/history' },
];

/** Paths the language switch (and sign-in) may come back to: the platform's own pages only, the home page and the legal pages included (no dot segments). */
export const RETURN_PATH = /^\/((patient|catalogue)(\/[A-Za-z0-9_-]+(\.[a-z]+)?)*\/?|accessibilite|mentions-legales|donnees-personnelles)?(\?[A-Za-z0-9_.~%=&+-]*)?$/;

/** The path to come back to, or the fallback when it is not one of the platform's pages. */
export const safeReturnPath = (path: string | undefined, fallback: string): string => (path && path.length <= 500 && RETURN_PATH.test(path) ? path : fallback);

/** The pages the footer links on every page: what the law asks of a public service's site. */
export const FOOTER_LINKS = {
  accessibility: '/accessibilite',
  legalNotice: '/mentions-legales',
  privacy: '/donnees-personnelles',
} as const;

/** The State's own sites the design system's footer links on every State site. */
const STATE_SITES = ['info.gouv.fr', 'service-public.fr', 'legifrance.gouv.fr', 'data.gouv.fr'] as const;

/**
 * The design system's header: the République Française block, the service's name (a link to the
 * home page), who is signed in and the language switch, then the five places a patient goes. The
 * design system opens its menu with a script on small screens; these pages have none, so the
 * menu's links stay on the page at every width (styles.ts lays them out).
 */
function header(view: PageView, t: ReturnType<typeof text>): string {
  const other: Lang = view.lang === 'fr' ? 'en' : 'fr';
  const switchHref = `/language?lang=${other}&return_to=${encodeURIComponent(safeReturnPath(view.path, '/catalogue'))}`;
  const nav = sectionLinks
    .map(({ section, href }) => `<li class="fr-nav__item"><a class="fr-nav__link" href="${href}"${view.section === section ? ' aria-current="page"' : ''}>${escapeHtml(t[section])}</a></li>`)
    .join('');
  const account = view.signedIn
    ? `<li><span class="mes-account fr-icon-account-circle-line">${escapeHtml(t.signedInAs)} <strong>${escapeHtml(view.signedIn.name)}</strong></span></li>
<li><form method="post" action="/patient/sign-out"><input type="hidden" name="csrf_token" value="${escapeHtml(view.signedIn.csrfToken)}"><button class="fr-btn fr-icon-logout-box-r-line">${escapeHtml(t.signOut)}</button></form></li>`
    : `<li><a class="fr-btn fr-icon-account-circle-line" href="/patient/sign-in?return_to=${encodeURIComponent(safeReturnPath(view.path, '/patient/apps'))}">${escapeHtml(t.signIn)}</a></li>`;
  return `<header role="banner" class="fr-header">
<div class="fr-header__body"><div class="fr-container"><div class="fr-header__body-row">
<div class="fr-header__brand">
<div class="fr-header__brand-top"><div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div></div>
<div class="fr-header__service"><a href="/" title="${escapeHtml(t.home)}"><p class="fr-header__service-title">${escapeHtml(t.platform)}</p></a>
<p class="fr-header__service-tagline">${escapeHtml(t.tagline)}</p></div>
</div>
<div class="fr-header__tools"><div class="fr-header__tools-links"><ul class="fr-btns-group">
${account}
<li><a class="fr-btn" href="${escapeHtml(switchHref)}" lang="${other}" hreflang="${other}" aria-label="${escapeHtml(t.otherLanguageLabel)}">${escapeHtml(t.otherLanguage)}</a></li>
</ul></div></div>
</div></div></div>
<div class="fr-header__menu mes-menu"><div class="fr-container"><nav class="fr-nav" aria-label="${escapeHtml(t.nav)}"><ul class="fr-nav__list">${nav}</ul></nav></div></div>
</header>`;
}

/** The design system's footer: the block, what the platform promises, the State's sites, the legal pages. */
function footer(t: ReturnType<typeof text>): string {
  const bottom = (
    [
      [FOOTER_LINKS.accessibility, t.accessibility],
      [FOOTER_LINKS.legalNotice, t.legalNotice],
      [FOOTER_LINKS.privacy, t.privacy],
    ] as const
  )
    .map(([href, label]) => `<li class="fr-footer__bottom-item"><a class="fr-footer__bottom-link" href="${href}">${escapeHtml(label)}</a></li>`)
    .join('');
  const sites = STATE_SITES.map(
    (site) => `<li class="fr-footer__content-item"><a class="fr-footer__content-link" href="https://www.${site}" rel="noopener noreferrer" title="${escapeHtml(t.externalSite(site))}">${site}</a></li>`,
  ).join('');
  return `<footer class="fr-footer" role="contentinfo" id="footer">
<div class="fr-container">
<div class="fr-footer__body">
<div class="fr-footer__brand"><a href="/" title="${escapeHtml(t.home)}"><p class="fr-logo">République<br>Française</p></a></div>
<div class="fr-footer__content"><p class="fr-footer__content-desc">${escapeHtml(t.footer)}</p>
<ul class="fr-footer__content-list">${sites}</ul></div>
</div>
<div class="fr-footer__bottom"><ul class="fr-footer__bottom-list">${bottom}</ul>
<div class="fr-footer__bottom-copy"><p>${escapeHtml(t.licence)}</p></div></div>
</div>
</footer>`;
}

export function renderPage(view: PageView): string {
  const t = text(view.lang);
  return `<!doctype html>
<html lang="${view.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="format-detection" content="telephone=no">
<title>${escapeHtml(view.title)} · ${escapeHtml(t.platform)}</title>
<link rel="stylesheet" href="${STYLESHEET_HREF}">
</head>
<body>
<div class="fr-skiplinks"><nav class="fr-container" aria-label="${escapeHtml(t.quickAccess)}"><ul class="fr-skiplinks__list">
<li><a class="fr-link" href="#content">${escapeHtml(t.skip)}</a></li>
<li><a class="fr-link" href="#footer">${escapeHtml(t.skipFooter)}</a></li>
</ul></nav></div>
${header(view, t)}
${view.sandbox ? `<div class="fr-notice fr-notice--warning"><div class="fr-container"><div class="fr-notice__body"><p><span class="fr-notice__title">${escapeHtml(t.sandbox)}</span></p></div></div></div>\n` : ''}<main id="content" tabindex="-1" class="fr-container mes-main">
${view.body}
</main>
${footer(t)}
</body>
</html>
`;
}

/**
 * Headers of the patient's pages: those of every page, with `Referrer-Policy: same-origin` so
 * that browsers send the page's Origin with its own form posts (checked by fromOwnOrigin), and
 * the form targets of the page in its CSP.
 */
export function patientPageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  return {
    ...pageHeaders,
    'content-security-policy': contentSecurityPolicy(formTargets),
    'referrer-policy': 'same-origin',
    'content-language': 'fr',
  };
}

/** A page reply: the status, the page's headers (with its language) and the rendered page. */
export function pageReply<S extends number>(status: S, view: PageView, headers: Record<string, string> = {}) {
  return {
    status,
    headers: { ...patientPageHeaders(view.formTargets), 'content-language': view.lang, vary: 'Cookie, Accept-Language', ...headers },
    body: renderPage(view),
  };
}

const refusal = messages({
  fr: { title: 'Action refusée', body: 'Ce formulaire a expiré ou ne vient pas de cette plateforme. Rien n’a été modifié.' },
  en: { title: 'Action refused', body: 'This form has expired or does not come from this platform. Nothing was changed.' },
});

/** The 403 page of a refused form (another origin, no session, a wrong CSRF token), with a way back. */
export function refusedPage(view: Omit<PageView, 'title' | 'body'>, back?: { href: string; label: string }) {
  const t = refusal(view.lang);
  const link = back ? `<p><a href="${escapeHtml(back.href)}">${escapeHtml(back.label)}</a></p>` : '';
  return pageReply(403, { ...view, title: t.title, body: `<h1>${escapeHtml(t.title)}</h1><p>${escapeHtml(t.body)}</p>${link}` });
}

/** A 303 to another page, with the patient pages' headers. */
export function seeOther(location: string, headers: Record<string, string> = {}) {
  return { status: 303 as const, headers: { ...patientPageHeaders(), location, ...headers } };
}
