// The layout of the patient's pages, the public catalogue and the home page: a header with the
// platform's name (a link to the home page), the three places a patient goes (catalogue,
// connected apps, access history), who is signed in with a sign-out button, and the language
// switch; a skip link; the page's content in <main>; and the headers every page carries.
// Everything works without JavaScript.
import { contentSecurityPolicy, escapeHtml, pageHeaders } from './html.js';
import { messages, type Lang } from './i18n.js';
import { STYLESHEET_HREF } from './styles.js';

export type Section = 'catalogue' | 'apps' | 'history';

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
    history: 'Historique des accès',
    signedInAs: 'Connecté :',
    signIn: 'Se connecter',
    signOut: 'Se déconnecter',
    otherLanguage: 'English',
    otherLanguageLabel: 'Read this page in English',
    sandbox: 'Bac à sable : patients de test uniquement, aucune donnée réelle.',
    footer: 'Seules les applications certifiées par l’État peuvent demander l’accès à vos données. Vous choisissez ce qu’elles voient, et pouvez retirer leur accès à tout moment.',
  },
  en: {
    platform: 'Mon espace santé · Apps',
    skip: 'Skip to content',
    nav: 'Main menu',
    catalogue: 'App catalogue',
    apps: 'My connected apps',
    history: 'Access history',
    signedInAs: 'Signed in:',
    signIn: 'Sign in',
    signOut: 'Sign out',
    otherLanguage: 'Français',
    otherLanguageLabel: 'Lire cette page en français',
    sandbox: 'Sandbox: test patients only, no real data.',
    footer: 'Only state-certified apps can ask for access to your data. You choose what they see, and can withdraw their access at any time.',
  },
});

/** The texts of the layout, for pages that name the sections (e.g. a link to "my connected apps"). */
export const layoutText = text;

const sectionLinks: Array<{ section: Section; href: string }> = [
  { section: 'catalogue', href: '/catalogue' },
  { section: 'apps', href: '/patient/apps' },
  { section: 'history', href: '/patient/history' },
];

/** Paths the language switch (and sign-in) may come back to: the platform's own pages only, the home page and the legal pages included (no dot segments). */
export const RETURN_PATH = /^\/((patient|catalogue)(\/[A-Za-z0-9_-]+(\.[a-z]+)?)*\/?|accessibilite|mentions-legales|donnees-personnelles)?(\?[A-Za-z0-9_.~%=&+-]*)?$/;

/** The path to come back to, or the fallback when it is not one of the platform's pages. */
export const safeReturnPath = (path: string | undefined, fallback: string): string => (path && path.length <= 500 && RETURN_PATH.test(path) ? path : fallback);

export function renderPage(view: PageView): string {
  const t = text(view.lang);
  const other: Lang = view.lang === 'fr' ? 'en' : 'fr';
  const switchHref = `/language?lang=${other}&return_to=${encodeURIComponent(safeReturnPath(view.path, '/catalogue'))}`;
  const nav = sectionLinks
    .map(({ section, href }) => `<li><a href="${href}"${view.section === section ? ' aria-current="page"' : ''}>${escapeHtml(t[section])}</a></li>`)
    .join('');
  const account = view.signedIn
    ? `<span>${escapeHtml(t.signedInAs)} <strong>${escapeHtml(view.signedIn.name)}</strong></span>
<form method="post" action="/patient/sign-out"><input type="hidden" name="csrf_token" value="${escapeHtml(view.signedIn.csrfToken)}"><button class="link">${escapeHtml(t.signOut)}</button></form>`
    : `<a href="/patient/sign-in?return_to=${encodeURIComponent(safeReturnPath(view.path, '/patient/apps'))}">${escapeHtml(t.signIn)}</a>`;
  return `<!doctype html>
<html lang="${view.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(view.title)} · ${escapeHtml(t.platform)}</title>
<link rel="stylesheet" href="${STYLESHEET_HREF}">
</head>
<body>
<a class="skip" href="#content">${escapeHtml(t.skip)}</a>
<header class="site">
<div class="bar">
<a class="brand" href="/">${escapeHtml(t.platform)}</a>
<div class="account">${account}
<a href="${escapeHtml(switchHref)}" lang="${other}" hreflang="${other}" aria-label="${escapeHtml(t.otherLanguageLabel)}">${escapeHtml(t.otherLanguage)}</a></div>
</div>
<nav class="main bar" aria-label="${escapeHtml(t.nav)}"><ul>${nav}</ul></nav>
</header>
${view.sandbox ? `<p class="sandbox">${escapeHtml(t.sandbox)}</p>\n` : ''}<main id="content" tabindex="-1">
${view.body}
</main>
<footer class="site"><p>${escapeHtml(t.footer)}</p></footer>
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
