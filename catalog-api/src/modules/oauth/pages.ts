// The page shown when an authorization request cannot be sent back to the app: an unknown client,
// an unregistered redirect URI, an expired pushed request. Sending the error to an unverified
// redirect URI would make the platform an open redirector.

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
${options.error ? `<p role="alert"><strong>${escapeHtml(options.error)}</strong></p>` : ''}
<p>Saisissez le code affiché par <code>mes login</code>, puis votre clé : la clé d’API de votre éditeur (<code>mes_pk_…</code>) ou votre clé de relecteur de certification (<code>mes_rk_…</code>). N’approuvez que si vous venez de lancer cette commande vous-même.</p>
${options.scope ? `<p>Accès demandés : <code>${escapeHtml(options.scope)}</code></p>` : ''}
<form method="post" action="/device">
<p><label for="user_code">Code</label><br><input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" required value="${escapeHtml(options.userCode ?? '')}"></p>
<p><label for="api_key">Clé d’éditeur ou de relecteur</label><br><input id="api_key" name="api_key" type="password" autocomplete="off" required></p>
<p><button name="decision" value="approve">Approuver</button> <button name="decision" value="deny">Refuser</button></p>
</form>`,
  );
}

export function deviceDecisionPage(approved: boolean): string {
  return page(
    approved ? 'Connexion approuvée' : 'Connexion refusée',
    approved
      ? '<h1>Connexion approuvée</h1><p>Vous pouvez revenir à votre terminal : la commande <code>mes</code> est connectée.</p>'
      : '<h1>Connexion refusée</h1><p>La commande <code>mes</code> n’a reçu aucun accès. Vous pouvez fermer cette page.</p>',
  );
}
