// The shell of every page the server renders (device sign-in, authorization errors, the
// patient's pages): escaping, the document around a body, and the headers that keep pages out
// of frames, caches and other origins' scripts.
import { STYLESHEET_HREF } from './styles.js';

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The Content-Security-Policy of a page: nothing but the platform's own stylesheet, fonts and
 * images (and the design system's small images written in its stylesheet as `data:`), no script at all, no framing, forms only to the platform, and to `formTargets` (origins a form
 * of the page is redirected to after its post, such as the app's redirect URI on the consent
 * screen: browsers apply `form-action` to those redirects too).
 */
export function contentSecurityPolicy(formTargets: readonly string[] = []): string {
  const targets = [...new Set(formTargets)].map((origin) => ` ${origin}`).join('');
  return `default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'${targets}; frame-ancestors 'none'; base-uri 'none'`;
}

/**
 * The CSP source a form's redirect leads to: the origin of an http(s) URI, or the scheme of a
 * native app's private-use one; nothing for anything else.
 */
export function formTargetOf(uri: string): string[] {
  try {
    const url = new URL(uri);
    if (url.protocol === 'https:' || url.protocol === 'http:') return [url.origin];
    return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? [url.protocol] : [];
  } catch {
    return [];
  }
}

/** Headers of every page: no framing, no scripts, no caching, no referrer. */
export const pageHeaders = {
  'content-security-policy': contentSecurityPolicy(),
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/** A whole page, in French, around `body` (already HTML). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${STYLESHEET_HREF}">
</head>
<body>
<header role="banner" class="fr-header"><div class="fr-header__body"><div class="fr-container"><div class="fr-header__body-row">
<div class="fr-header__brand"><div class="fr-header__brand-top"><div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div></div>
<div class="fr-header__service"><p class="fr-header__service-title">Mon espace santé</p></div></div>
</div></div></div></header>
<main id="content" class="fr-container mes-main">
${body}
</main>
</body>
</html>
`;
}

/**
 * The page of a request a browser sent that the server refuses before any handler could answer
 * (a malformed request, an unexpected failure): in French and in English, with the request id to
 * quote, never a stack trace.
 */
export function errorPage(status: number, detail: string, requestId: string): string {
  const failure = status >= 500;
  return page(
    failure ? 'Erreur du service' : 'Demande refusée',
    `<h1>${failure ? 'Le service n’a pas pu répondre' : 'Cette demande ne peut pas aboutir'}</h1>
<p>${failure ? 'Une erreur inattendue s’est produite. Réessayez dans un moment.' : 'La demande reçue n’est pas valide. Aucune donnée n’a été partagée.'}</p>
<p lang="en">${failure ? 'An unexpected error occurred. Try again in a moment.' : 'The request received is not valid. No data was shared.'}</p>
<p><code>${escapeHtml(detail)}</code></p>
<p class="muted">Référence / reference: <code>${escapeHtml(requestId)}</code></p>`,
  );
}
