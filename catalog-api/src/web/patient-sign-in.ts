// Signing patients in and out of the platform's pages. In the sandbox: a picker of synthetic
// patients (search, then one button per patient). With an identity provider configured: OpenID
// Connect sign-in there (web/oidc/), the identity mapped to a patient of the records, and
// RP-initiated logout at sign-out. Outside the sandbox without one: unavailable (503).
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import * as oauth from 'oauth4webapi';
import type { HandlerMap } from '../core/operations.js';
import type { SecretBox } from '../core/secret-box.js';
import type { Db } from '../core/store/db.js';
import { isAccountClosed, SANDBOX_DEFAULT_PATIENT } from '../modules/consent/index.js';
import { pendingAuthorization } from '../modules/oauth/index.js';
import { childrenOf, findPatients, patientSummaries, type PatientSummary } from '../modules/records/index.js';
import { escapeHtml } from './html.js';
import { alert, button, buttonLink, card, inputField } from './components.js';
import { formatCalendarDate, messages, type Lang } from './i18n.js';
import { pageReply, refusedPage, safeReturnPath, seeOther, type PageView } from './layout.js';
import { identityClaims, patientOfIdentity, type IdentityOutcome } from './oidc/patient-identity.js';
import { IdentityProviderError, type IdentityProviderClient } from './oidc/relying-party.js';
import { signInAttempts } from './oidc/sign-in-attempts.js';
import { ownForm, pageContext, type PageContext, type PageDeps } from './page-context.js';
import { fromOwnOrigin } from './patient-session.js';

type SignInOperations = 'showPatientSignIn' | 'patientSignIn' | 'startPatientSignIn' | 'finishPatientSignIn' | 'patientSignOut' | 'showPatientSignedOut';

const CONNECTED_APPS = '/patient/apps';
const PICKER_SIZE = 20;
const fhirId = /^[A-Za-z0-9.-]{1,64}$/;
const interactionId = /^[A-Za-z0-9_-]{43}$/;

/** Where the identity provider sends the browser back, and where it sends it after signing out. */
export const callbackPath = '/patient/sign-in/callback';
export const signedOutPath = '/patient/signed-out';

const text = messages({
  fr: {
    unavailableTitle: 'Connexion indisponible',
    unavailable: 'La connexion des patients n’est pas encore disponible',
    unavailableBody: 'Ce serveur n’est pas encore relié à la fédération d’identité qui permet aux patients de se connecter. Réessayez plus tard.',
    pickerTitle: 'Connexion au bac à sable',
    pickerIntro: 'Dans le bac à sable, choisissez le patient de test au nom duquel vous naviguez. Aucune donnée réelle n’est utilisée.',
    orPicker: 'Ou choisissez un patient de test',
    search: 'Rechercher un patient (nom, prénom ou identifiant)',
    searchButton: 'Rechercher',
    patientsFound: (n: number, q: string) => (q ? `${n === 0 ? 'Aucun patient' : n === 1 ? '1 patient' : `${n} patients`} pour « ${q} »` : 'Patients de test'),
    noPatient: 'Aucun patient de test ne correspond à cette recherche.',
    born: (date: string) => `Né(e) le ${date}`,
    id: 'identifiant',
    guardianOf: (names: string) => `représentant légal de ${names}`,
    typedTitle: 'Ou saisissez un identifiant',
    patientId: 'Identifiant du patient de test',
    signIn: 'Se connecter',
    badId: 'L’identifiant d’un patient de test n’a que des lettres, chiffres, points et tirets.',
    closed: 'Le compte de ce patient est fermé.',
    asking: (app: string) => `${app} demande l’accès à vos données. Connectez-vous pour continuer.`,
    providerTitle: 'Se connecter',
    providerIntro: (name: string) =>
      `Pour voir vos applications connectées et l’historique des accès à vos données, connectez-vous avec ${name}, comme pour Mon espace santé.`,
    providerHow: (name: string) => `Vous serez dirigé vers ${name}, puis ramené ici. Cette plateforme ne voit jamais votre mot de passe.`,
    providerButton: (name: string) => `Se connecter avec ${name}`,
    pickerOnlyTitle: 'Connexion refusée',
    pickerOnly: (name: string) => `Hors du bac à sable, les patients se connectent avec ${name}.`,
    retry: 'Réessayer de se connecter',
    expiredTitle: 'Connexion expirée',
    expired: 'Cette connexion a expiré ou a déjà été utilisée',
    expiredBody: 'Une connexion doit être terminée dans les dix minutes, dans le navigateur où elle a commencé. Recommencez.',
    deniedTitle: 'Connexion annulée',
    denied: (name: string) => `La connexion avec ${name} a été annulée`,
    deniedBody: 'Vous n’êtes pas connecté. Vous pouvez réessayer quand vous voulez.',
    failedTitle: 'Connexion impossible',
    failed: (name: string) => `La réponse de ${name} n’a pas pu être vérifiée`,
    failedBody: 'Pour votre sécurité, vous n’avez pas été connecté. Recommencez depuis cette plateforme.',
    downTitle: 'Service d’identité injoignable',
    down: (name: string) => `${name} ne répond pas pour le moment`,
    downBody: 'Vous n’avez pas été connecté. Réessayez dans quelques minutes.',
    noRecordTitle: 'Aucun dossier',
    noRecord: 'Aucun dossier ne correspond à votre identité',
    noRecordBody: (name: string) =>
      `${name} vous a bien identifié, mais aucun dossier Mon espace santé n’est associé à cette identité sur cette plateforme. Vous n’avez pas été connecté.`,
    noClaim: (name: string) => `${name} n’a pas transmis l’identifiant qui permet de retrouver votre dossier. Vous n’avez pas été connecté.`,
    closedTitle: 'Compte fermé',
    closedHeading: 'Votre compte est fermé',
    closedBody: 'Votre profil Mon espace santé a été fermé : vous ne pouvez plus vous connecter ici.',
    providerSignOutTitle: 'Déconnexion',
    providerSignOut: (name: string) => `Vous êtes déconnecté de cette plateforme. Déconnectez-vous aussi de ${name}, surtout sur un ordinateur partagé.`,
    providerSignOutButton: (name: string) => `Se déconnecter de ${name}`,
    signedOutTitle: 'Déconnecté',
    signedOut: 'Vous êtes déconnecté',
    signedOutBody: 'Votre session sur cette plateforme est terminée.',
    signInAgain: 'Se connecter à nouveau',
  },
  en: {
    unavailableTitle: 'Sign-in unavailable',
    unavailable: 'Patient sign-in is not available yet',
    unavailableBody: 'This server is not yet connected to the identity federation patients sign in with. Please try again later.',
    pickerTitle: 'Sandbox sign-in',
    pickerIntro: 'In the sandbox, choose the test patient you browse as. No real data is used.',
    orPicker: 'Or choose a test patient',
    search: 'Search for a patient (name or id)',
    searchButton: 'Search',
    patientsFound: (n: number, q: string) => (q ? `${n === 0 ? 'No patient' : n === 1 ? '1 patient' : `${n} patients`} for “${q}”` : 'Test patients'),
    noPatient: 'No test patient matches this search.',
    born: (date: string) => `Born ${date}`,
    id: 'id',
    guardianOf: (names: string) => `legal guardian of ${names}`,
    typedTitle: 'Or type an id',
    patientId: 'Test patient id',
    signIn: 'Sign in',
    badId: 'A test patient id has only letters, digits, dots and hyphens.',
    closed: 'This patient’s account is closed.',
    asking: (app: string) => `${app} asks for access to your data. Sign in to continue.`,
    providerTitle: 'Sign in',
    providerIntro: (name: string) => `To see your connected apps and who accessed your data, sign in with ${name}, as you do for Mon espace santé.`,
    providerHow: (name: string) => `You will be taken to ${name}, then brought back here. This platform never sees your password.`,
    providerButton: (name: string) => `Sign in with ${name}`,
    pickerOnlyTitle: 'Sign-in refused',
    pickerOnly: (name: string) => `Outside the sandbox, patients sign in with ${name}.`,
    retry: 'Try signing in again',
    expiredTitle: 'Sign-in expired',
    expired: 'This sign-in has expired or was already used',
    expiredBody: 'A sign-in must be finished within ten minutes, in the browser where it started. Please start again.',
    deniedTitle: 'Sign-in cancelled',
    denied: (name: string) => `Signing in with ${name} was cancelled`,
    deniedBody: 'You are not signed in. You can try again whenever you like.',
    failedTitle: 'Sign-in failed',
    failed: (name: string) => `The answer from ${name} could not be verified`,
    failedBody: 'For your safety, you were not signed in. Please start again from this platform.',
    downTitle: 'Identity service unreachable',
    down: (name: string) => `${name} is not answering at the moment`,
    downBody: 'You were not signed in. Please try again in a few minutes.',
    noRecordTitle: 'No record',
    noRecord: 'No record matches your identity',
    noRecordBody: (name: string) => `${name} identified you, but no Mon espace santé record is linked to this identity on this platform. You were not signed in.`,
    noClaim: (name: string) => `${name} did not send the identifier your record is found by. You were not signed in.`,
    closedTitle: 'Account closed',
    closedHeading: 'Your account is closed',
    closedBody: 'Your Mon espace santé profile was closed: you can no longer sign in here.',
    providerSignOutTitle: 'Signing out',
    providerSignOut: (name: string) => `You are signed out of this platform. Sign out of ${name} too, especially on a shared computer.`,
    providerSignOutButton: (name: string) => `Sign out of ${name}`,
    signedOutTitle: 'Signed out',
    signedOut: 'You are signed out',
    signedOutBody: 'Your session on this platform has ended.',
    signInAgain: 'Sign in again',
  },
});

export interface SignInDeps extends PageDeps {
  db: Db;
  issuerOf: (request: FastifyRequest) => string;
  /** Seals the verifier of sign-in attempts and the ID token kept for signing out. */
  box: SecretBox;
  /** The identity provider patients sign in at, when one is configured. */
  identityProvider: IdentityProviderClient | null;
  /** Cookies are `__Host-` and Secure (the platform is served over HTTPS). */
  secureCookies: boolean;
}

const signInHref = (returnTo: string) => `/patient/sign-in?return_to=${encodeURIComponent(returnTo)}`;
const startHref = (returnTo: string) => `/patient/sign-in/start?return_to=${encodeURIComponent(returnTo)}`;

export function patientSignInHandlers(deps: SignInDeps): HandlerMap<SignInOperations> {
  const { db, config, sessions, identityProvider: idp, box } = deps;
  const settings = config.patientIdentityProvider;
  const sandbox = config.mode === 'sandbox';
  const attempts = signInAttempts(db, box, { secure: deps.secureCookies });
  const page = <S extends number>(status: S, ctx: PageContext, view: Pick<PageView, 'title' | 'body'>, headers: Record<string, string> = {}) =>
    pageReply(status, { ...ctx, ...view }, headers);
  const message = <S extends number>(status: S, ctx: PageContext, title: string, heading: string, body: string, link?: { href: string; label: string }) =>
    page(status, ctx, {
      title,
      body: `<h1>${escapeHtml(heading)}</h1>
<p>${escapeHtml(body)}</p>${link ? `\n<p>${buttonLink(link.href, link.label)}</p>` : ''}`,
    });

  const unavailable = (ctx: PageContext) => {
    const t = text(ctx.lang);
    return message(503, ctx, t.unavailableTitle, t.unavailable, t.unavailableBody);
  };
  const forbidden = (ctx: PageContext) => refusedPage(ctx);

  /** "<app> asks for access": when the sign-in comes from a pending authorization. */
  const askingLine = async (lang: Lang, returnTo: string): Promise<string> => {
    if (!returnTo.startsWith('/patient/authorize?')) return '';
    const interaction = new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1)).get('interaction');
    if (!interaction || !interactionId.test(interaction)) return '';
    const pending = await pendingAuthorization(db, interaction);
    return pending ? `${alert('info', `<p>${escapeHtml(text(lang).asking(pending.appName))}</p>`)}\n` : '';
  };

  const providerLink = (lang: Lang, returnTo: string) =>
    `<p>${buttonLink(startHref(returnTo), text(lang).providerButton(idp!.name))}</p>`;

  const patientCard = (lang: Lang, returnTo: string, patient: PatientSummary, wards: PatientSummary[], index: number) => {
    const t = text(lang);
    const facts = [
      ...(patient.birthDate ? [t.born(formatCalendarDate(lang, patient.birthDate))] : []),
      `${t.id} ${patient.id}`,
      ...(wards.length ? [t.guardianOf(wards.map((ward) => ward.name).join(', '))] : []),
    ];
    return card(`<form method="post" action="/patient/sign-in">
<input type="hidden" name="return_to" value="${escapeHtml(returnTo)}"><input type="hidden" name="patient_id" value="${escapeHtml(patient.id)}">
${button(patient.name, { kind: 'secondary', describedBy: `patient-${index}` })}
<p class="muted fr-mt-1w" id="patient-${index}">${escapeHtml(facts.join(' · '))}</p>
</form>`);
  };

  const picker = async <S extends 200 | 400>(status: S, ctx: PageContext, options: { returnTo: string; q?: string; patientId?: string; error?: string }) => {
    const t = text(ctx.lang);
    const q = (options.q ?? '').trim();
    const patients = await findPatients(db, q, PICKER_SIZE);
    const wards = await Promise.all(patients.map(async (patient) => patientSummaries(db, await childrenOf(db, patient.id))));
    const hiddenReturn = `<input type="hidden" name="return_to" value="${escapeHtml(options.returnTo)}">`;
    return page(status, ctx, {
      title: t.pickerTitle,
      body: `<h1>${escapeHtml(t.pickerTitle)}</h1>
${await askingLine(ctx.lang, options.returnTo)}${idp ? `${providerLink(ctx.lang, options.returnTo)}\n<h2>${escapeHtml(t.orPicker)}</h2>\n` : ''}<p>${escapeHtml(t.pickerIntro)}</p>
${options.error ? `${alert('error', `<p>${escapeHtml(options.error)}</p>`, { role: 'alert' })}\n` : ''}<form method="get" action="/patient/sign-in" class="filters" role="search">
${hiddenReturn}
${inputField({ id: 'q', label: t.search, input: `<input class="fr-input" type="search" id="q" name="q" maxlength="100" value="${escapeHtml(q)}">` })}
<div>${button(t.searchButton, { kind: 'secondary' })}</div>
</form>
<h2>${escapeHtml(t.patientsFound(patients.length, q))}</h2>
${patients.length ? `<ul class="cards">\n${patients.map((patient, i) => patientCard(ctx.lang, options.returnTo, patient, wards[i]!, i)).join('\n')}\n</ul>` : `<p>${escapeHtml(t.noPatient)}</p>`}
<h2>${escapeHtml(t.typedTitle)}</h2>
<form method="post" action="/patient/sign-in">
${hiddenReturn}
${inputField({ id: 'patient_id', label: t.patientId, input: `<input class="fr-input" type="text" id="patient_id" name="patient_id" required maxlength="64" autocomplete="off" placeholder="${escapeHtml(SANDBOX_DEFAULT_PATIENT)}"${options.patientId ? ` value="${escapeHtml(options.patientId)}"` : ''}>` })}
<p>${button(t.signIn)}</p>
</form>`,
    });
  };

  const providerPage = async (ctx: PageContext, returnTo: string) => {
    const t = text(ctx.lang);
    const name = idp!.name;
    return page(200, ctx, {
      title: t.providerTitle,
      body: `<h1>${escapeHtml(t.providerTitle)}</h1>
${await askingLine(ctx.lang, returnTo)}<p>${escapeHtml(t.providerIntro(name))}</p>
<p>${escapeHtml(t.providerHow(name))}</p>
${providerLink(ctx.lang, returnTo)}`,
    });
  };

  /** The page for a sign-in at the provider that went wrong, with a way to start again. */
  const failure = (ctx: PageContext, request: FastifyRequest, error: IdentityProviderError, returnTo: string) => {
    const t = text(ctx.lang);
    const name = idp!.name;
    const retry = { href: signInHref(returnTo), label: t.retry };
    if (error.kind === 'unavailable') {
      request.log.error({ err: error }, 'patient sign-in: the identity provider failed');
      return message(502, ctx, t.downTitle, t.down(name), t.downBody, retry);
    }
    request.log.warn({ kind: error.kind, error: error.error, reason: error.message }, 'patient sign-in refused');
    if (error.kind === 'refused' && error.error === 'access_denied') return message(403, ctx, t.deniedTitle, t.denied(name), t.deniedBody, retry);
    if (error.kind === 'refused' && (error.error === 'temporarily_unavailable' || error.error === 'server_error')) {
      return message(502, ctx, t.downTitle, t.down(name), t.downBody, retry);
    }
    return message(400, ctx, t.failedTitle, t.failed(name), t.failedBody, retry);
  };

  const refusedIdentity = (ctx: PageContext, request: FastifyRequest, outcome: Exclude<IdentityOutcome, { patientId: string }>, returnTo: string) => {
    const t = text(ctx.lang);
    const name = idp!.name;
    request.log.warn({ refused: outcome.refused, claim: outcome.claim }, 'patient sign-in: the identity opens no session');
    if (outcome.refused === 'closed') return message(403, ctx, t.closedTitle, t.closedHeading, t.closedBody);
    const body = outcome.refused === 'missing_claim' ? t.noClaim(name) : t.noRecordBody(name);
    return message(403, ctx, t.noRecordTitle, t.noRecord, body, { href: signInHref(returnTo), label: t.retry });
  };

  const signedOutPage = (ctx: PageContext, headers: Record<string, string> = {}) => {
    const t = text(ctx.lang);
    return page(
      200,
      { ...ctx, session: null, signedIn: null },
      {
        title: t.signedOutTitle,
        body: `<h1>${escapeHtml(t.signedOut)}</h1>
<p>${escapeHtml(t.signedOutBody)}</p>
<p><a href="/patient/sign-in">${escapeHtml(t.signInAgain)}</a></p>`,
      },
      headers,
    );
  };

  return {
    async showPatientSignIn({ request, query }) {
      const ctx = await pageContext(deps, request);
      const returnTo = safeReturnPath(query.return_to, CONNECTED_APPS);
      if (sandbox) return picker(200, ctx, { returnTo, ...(query.q !== undefined ? { q: query.q } : {}) });
      if (idp) return providerPage(ctx, returnTo);
      return unavailable(ctx);
    },

    async patientSignIn({ request, body }) {
      const ctx = await pageContext(deps, request);
      if (!sandbox) {
        if (!idp) return unavailable(ctx);
        const t = text(ctx.lang);
        return message(403, ctx, t.pickerOnlyTitle, t.pickerOnlyTitle, t.pickerOnly(idp.name), { href: signInHref(CONNECTED_APPS), label: t.signIn });
      }
      if (!fromOwnOrigin(request, deps.issuerOf(request))) return forbidden(ctx);
      const t = text(ctx.lang);
      const returnTo = safeReturnPath(body.return_to, CONNECTED_APPS);
      const patientId = body.patient_id.trim();
      if (!fhirId.test(patientId)) return picker(400, ctx, { returnTo, patientId, error: t.badId });
      if (await isAccountClosed(db, patientId)) return picker(400, ctx, { returnTo, patientId, error: t.closed });
      const { setCookie } = await sessions.open(patientId);
      return seeOther(returnTo, { 'set-cookie': setCookie });
    },

    async startPatientSignIn({ request, query }) {
      const ctx = await pageContext(deps, request);
      if (!idp) return unavailable(ctx);
      const returnTo = safeReturnPath(query.return_to, CONNECTED_APPS);
      const attempt = { state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), codeVerifier: oauth.generateRandomCodeVerifier(), returnTo };
      let location: URL;
      try {
        location = await idp.authorizationUrl({ ...attempt, redirectUri: `${deps.issuerOf(request)}${callbackPath}` });
      } catch (error) {
        if (!(error instanceof IdentityProviderError)) throw error;
        request.log.error({ err: error }, 'patient sign-in: the identity provider failed');
        const t = text(ctx.lang);
        return message(502, ctx, t.downTitle, t.down(idp.name), t.downBody, { href: signInHref(returnTo), label: t.retry });
      }
      const setCookie = await attempts.create(attempt);
      return seeOther(location.href, { 'set-cookie': setCookie });
    },

    async finishPatientSignIn({ request }) {
      const ctx = await pageContext(deps, request);
      if (!idp || !settings) return unavailable(ctx);
      const t = text(ctx.lang);
      // Taken first, whatever the answer: an attempt is good for one answer only.
      const attempt = await attempts.take(request);
      if (!attempt) return message(400, ctx, t.expiredTitle, t.expired, t.expiredBody, { href: signInHref(CONNECTED_APPS), label: t.retry });
      const returnTo = safeReturnPath(attempt.returnTo, CONNECTED_APPS);
      const callback = new URL(request.url, 'http://callback.invalid').searchParams;
      let identity: Awaited<ReturnType<IdentityProviderClient['finish']>>;
      try {
        identity = await idp.finish({ ...attempt, callback, redirectUri: `${deps.issuerOf(request)}${callbackPath}`, wanted: identityClaims(settings) });
      } catch (error) {
        if (error instanceof IdentityProviderError) return failure(ctx, request, error, returnTo);
        throw error;
      }
      const outcome = await patientOfIdentity(db, settings, identity.claims);
      if (!('patientId' in outcome)) return refusedIdentity(ctx, request, outcome, returnTo);
      // Whoever was signed in in this browser before is signed out.
      if (ctx.session) await sessions.end(request);
      const { setCookie } = await sessions.open(outcome.patientId, { sealedIdToken: box.seal(identity.idToken) });
      return seeOther(returnTo, { 'set-cookie': setCookie });
    },

    async patientSignOut({ request, body }) {
      const ctx = await pageContext(deps, request);
      if (!ownForm(ctx, request, deps.issuerOf(request), body.csrf_token)) return forbidden(ctx);
      const { setCookie, sealedIdToken } = await sessions.close(request);
      const logout = idp && sealedIdToken ? await providerLogoutUrl(request, sealedIdToken) : null;
      // Post/redirect/get: a reload of the signed-out page does not post the form again.
      if (!logout) return seeOther(signedOutPath, { 'set-cookie': setCookie });
      // The pages' CSP form-action lists the provider's issuer origin (pageContext's formTargets);
      // a logout endpoint on another origin would be blocked after the post: a link instead.
      if (ctx.formTargets.includes(logout.origin)) return seeOther(logout.href, { 'set-cookie': setCookie });
      const t = text(ctx.lang);
      return page(
        200,
        { ...ctx, session: null, signedIn: null, formTargets: [] },
        {
          title: t.providerSignOutTitle,
          body: `<h1>${escapeHtml(t.signedOut)}</h1>
<p>${escapeHtml(t.providerSignOut(idp!.name))}</p>
<p>${buttonLink(logout.href, t.providerSignOutButton(idp!.name))}</p>`,
        },
        { 'set-cookie': setCookie },
      );
    },

    async showPatientSignedOut({ request }) {
      return signedOutPage(await pageContext(deps, request));
    },
  };

  /** The provider's logout URL for the session's ID token; null when it has none or cannot be reached (the session here is ended either way). */
  async function providerLogoutUrl(request: FastifyRequest, sealedIdToken: string): Promise<URL | null> {
    try {
      return await idp!.endSessionUrl({
        idToken: box.open(sealedIdToken),
        postLogoutRedirectUri: `${deps.issuerOf(request)}${signedOutPath}`,
        state: randomBytes(16).toString('base64url'),
      });
    } catch (error) {
      request.log.warn({ err: error }, 'patient sign-out: no logout at the identity provider');
      return null;
    }
  }
}
