// The page shown when an authorization request cannot be sent back to the app: an unknown client,
// an unregistered redirect URI, an expired pushed request. Sending the error to an unverified
// redirect URI would make the platform an open redirector.

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function authorizationErrorPage(error: string, description: string): string {
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Autorisation impossible</title>
</head>
<body>
<main>
<h1>Cette demande d’accès ne peut pas aboutir</h1>
<p>L’application qui vous a envoyé ici a fait une demande que la plateforme refuse. Aucune donnée n’a été partagée. Vous pouvez fermer cette page et revenir à l’application.</p>
<p lang="en">The app that sent you here made a request the platform refuses. No data was shared.</p>
<p><code>${escapeHtml(error)}</code>: ${escapeHtml(description)}</p>
</main>
</body>
</html>
`;
}
