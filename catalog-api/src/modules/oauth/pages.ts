// The page shown when an authorization request cannot be sent back to the app: an unknown client,
// an unregistered redirect URI, an expired pushed request. Sending the error to an unverified
// redirect URI would make the platform an open redirector.

import { alert, button, inputField } from '../../web/components.js';
import { escapeHtml, page } from '../../web/html.js';

export { pageHeaders } from '../../web/html.js';

export function authorizationErrorPage(error: string, description: string): string {
  return page(
    'Autorisation impossible',
    `<h1>Cette demande d’accès ne peut pas aboutir</h1>
<p>L’application qui vous a envoyé ici a fait une demande que la plateforme refuse. Aucune donnée n’a été partagée. Vous pouvez fermer cette page et revenir à l’application.</p>
<p lang="en">The app that sent you here made a request the platform refuses. No data was shared.</p>
<p><code>${escapeHtml(error)}</code>: ${escapeHtml(description)}</p>`,
  );
}

/** The device sign-in form: the code shown by `mes login`, the publisher's API key, approve or refuse. */
export function deviceSignInPage(options: { userCode?: string | undefined; scope?: string | undefined; error?: string | undefined }): string {
  return page(
    'Connexion de la ligne de commande',
    `<h1>Connecter la ligne de commande <code>mes</code></h1>
${options.error ? alert('error', `<p>${escapeHtml(options.error)}</p>`, { role: 'alert' }) : ''}
<p>Saisissez le code affiché par <code>mes login</code>, puis votre clé\u00a0: la clé d’API de votre éditeur (<code>mes_pk_…</code>) ou votre clé de relecteur de certification (<code>mes_rk_…</code>). N’approuvez que si vous venez de lancer cette commande vous-même.</p>
${options.scope ? `<p>Accès demandés\u00a0: <code>${escapeHtml(options.scope)}</code></p>` : ''}
<form method="post" action="/device">
${inputField({ id: 'user_code', label: 'Code', input: `<input class="fr-input" id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" required value="${escapeHtml(options.userCode ?? '')}">` })}
${inputField({ id: 'api_key', label: 'Clé d’éditeur ou de relecteur', input: '<input class="fr-input" id="api_key" name="api_key" type="password" autocomplete="off" required>' })}
<div class="actions">${button('Approuver', { name: 'decision', value: 'approve' })} ${button('Refuser', { kind: 'secondary', name: 'decision', value: 'deny' })}</div>
</form>`,
  );
}

export function deviceDecisionPage(approved: boolean): string {
  return page(
    approved ? 'Connexion approuvée' : 'Connexion refusée',
    approved
      ? '<h1>Connexion approuvée</h1><p>Vous pouvez revenir à votre terminal\u00a0: la commande <code>mes</code> est connectée.</p>'
      : '<h1>Connexion refusée</h1><p>La commande <code>mes</code> n’a reçu aucun accès. Vous pouvez fermer cette page.</p>',
  );
}
