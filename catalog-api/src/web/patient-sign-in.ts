// Signing patients in and out of the platform's pages. In the sandbox: a picker of synthetic
// patients. Elsewhere: not configured yet (503).
import type { FastifyRequest } from 'fastify';
import type { HandlerMap } from '../core/operations.js';
import { isAccountClosed, SANDBOX_DEFAULT_PATIENT } from '../modules/consent/index.js';
import { escapeHtml } from './html.js';
import { messages } from './i18n.js';
import { pageReply, safeReturnPath, seeOther } from './layout.js';
import { pageContext, type PageContext, type PageDeps } from './page-context.js';
import { fromOwnOrigin, sameToken } from './patient-session.js';

type SignInOperations = 'showPatientSignIn' | 'patientSignIn' | 'patientSignOut';

const CONNECTED_APPS = '/patient/apps';
const fhirId = /^[A-Za-z0-9.-]{1,64}$/;

const text = messages({
  fr: {
    unavailableTitle: 'Connexion indisponible',
    unavailable: 'La connexion des patients n’est pas encore disponible',
    unavailableBody: 'Ce serveur n’est pas encore relié à la fédération d’identité qui permet aux patients de se connecter. Réessayez plus tard.',
    pickerTitle: 'Connexion au bac à sable',
    pickerIntro: 'Dans le bac à sable, choisissez le patient de test au nom duquel vous naviguez. Aucune donnée réelle n’est utilisée.',
    patientId: 'Identifiant du patient de test',
    signIn: 'Se connecter',
    badId: 'L’identifiant d’un patient de test n’a que des lettres, chiffres, points et tirets.',
    closed: 'Le compte de ce patient est fermé.',
    refusedTitle: 'Action refusée',
    refused: 'Ce formulaire a expiré ou ne vient pas de cette plateforme. Rien n’a été modifié.',
    signedOutTitle: 'Déconnecté',
    signedOut: 'Vous êtes déconnecté',
    signInAgain: 'Se connecter à nouveau',
  },
  en: {
    unavailableTitle: 'Sign-in unavailable',
    unavailable: 'Patient sign-in is not available yet',
    unavailableBody: 'This server is not yet connected to the identity federation patients sign in with. Please try again later.',
    pickerTitle: 'Sandbox sign-in',
    pickerIntro: 'In the sandbox, choose the test patient you browse as. No real data is used.',
    patientId: 'Test patient id',
    signIn: 'Sign in',
    badId: 'A test patient id has only letters, digits, dots and hyphens.',
    closed: 'This patient’s account is closed.',
    refusedTitle: 'Action refused',
    refused: 'This form has expired or does not come from this platform. Nothing was changed.',
    signedOutTitle: 'Signed out',
    signedOut: 'You are signed out',
    signInAgain: 'Sign in again',
  },
});

export function patientSignInHandlers(deps: PageDeps & { issuerOf: (request: FastifyRequest) => string }): HandlerMap<SignInOperations> {
  const { db, config, sessions } = deps;
  const sandbox = config.mode === 'sandbox';
  const unavailable = (ctx: PageContext) => {
    const t = text(ctx.lang);
    return pageReply(503, { ...ctx, title: t.unavailableTitle, body: `<h1>${escapeHtml(t.unavailable)}</h1><p>${escapeHtml(t.unavailableBody)}</p>` });
  };
  const picker = <S extends 200 | 400>(status: S, ctx: PageContext, options: { returnTo: string; patientId?: string; error?: string }) => {
    const t = text(ctx.lang);
    return pageReply(status, {
      ...ctx,
      title: t.pickerTitle,
      body: `<h1>${escapeHtml(t.pickerTitle)}</h1>
<p>${escapeHtml(t.pickerIntro)}</p>
${options.error ? `<p class="notice error" role="alert">${escapeHtml(options.error)}</p>` : ''}
<form method="post" action="/patient/sign-in">
<input type="hidden" name="return_to" value="${escapeHtml(options.returnTo)}">
<div class="field"><label for="patient_id">${escapeHtml(t.patientId)}</label>
<input type="text" id="patient_id" name="patient_id" required maxlength="64" autocomplete="off" value="${escapeHtml(options.patientId ?? SANDBOX_DEFAULT_PATIENT)}"></div>
<p><button>${escapeHtml(t.signIn)}</button></p>
</form>`,
    });
  };
  const forbidden = (ctx: PageContext) => {
    const t = text(ctx.lang);
    return pageReply(403, { ...ctx, title: t.refusedTitle, body: `<h1>${escapeHtml(t.refusedTitle)}</h1><p>${escapeHtml(t.refused)}</p>` });
  };

  return {
    async showPatientSignIn({ request, query }) {
      const ctx = await pageContext(deps, request);
      if (!sandbox) return unavailable(ctx);
      return picker(200, ctx, { returnTo: safeReturnPath(query.return_to, CONNECTED_APPS) });
    },

    async patientSignIn({ request, body }) {
      const ctx = await pageContext(deps, request);
      if (!sandbox) return unavailable(ctx);
      if (!fromOwnOrigin(request, deps.issuerOf(request))) return forbidden(ctx);
      const t = text(ctx.lang);
      const returnTo = safeReturnPath(body.return_to, CONNECTED_APPS);
      const patientId = body.patient_id.trim();
      if (!fhirId.test(patientId)) return picker(400, ctx, { returnTo, patientId, error: t.badId });
      if (await isAccountClosed(db, patientId)) return picker(400, ctx, { returnTo, patientId, error: t.closed });
      const { setCookie } = await sessions.open(patientId);
      return seeOther(returnTo, { 'set-cookie': setCookie });
    },

    async patientSignOut({ request, body }) {
      const ctx = await pageContext(deps, request);
      if (!fromOwnOrigin(request, deps.issuerOf(request)) || !ctx.session || !sameToken(body.csrf_token, ctx.session.csrfToken)) return forbidden(ctx);
      const clear = await sessions.end(request);
      const t = text(ctx.lang);
      return pageReply(
        200,
        { ...ctx, signedIn: null, title: t.signedOutTitle, body: `<h1>${escapeHtml(t.signedOut)}</h1><p><a href="/patient/sign-in">${escapeHtml(t.signInAgain)}</a></p>` },
        { 'set-cookie': clear },
      );
    },
  };
}
