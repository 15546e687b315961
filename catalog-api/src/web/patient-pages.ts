// The patient's pages, so far: sign-in (the sandbox's patient picker) and "my connected apps",
// the SMART `management_endpoint`, where a patient sees every app they authorized and withdraws
// any of them at once. Server-rendered, in French, without scripts; every form carries the
// session's CSRF token and must come from the platform's own origin.
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../core/config.js';
import type { HandlerMap } from '../core/operations.js';
import type { Queryable } from '../core/store/db.js';
import { connectedApps, isAccountClosed, SANDBOX_DEFAULT_PATIENT, withdrawOwnGrant } from '../modules/consent/index.js';
import type { GrantSummary } from '../modules/oauth/index.js';
import { escapeHtml, page, pageHeaders } from './html.js';
import { fromOwnOrigin, sameToken, type PatientSession, type PatientSessions } from './patient-session.js';
import { describeScopeString } from './scope-labels.js';

type PatientPageOperations = 'showPatientSignIn' | 'patientSignIn' | 'patientSignOut' | 'showConnectedApps' | 'withdrawConnectedApp';

/**
 * Headers of the patient's pages: those of every page, but `Referrer-Policy: same-origin`, so
 * that browsers send the page's Origin with its own form posts (checked by fromOwnOrigin).
 */
export const patientPageHeaders = { ...pageHeaders, 'referrer-policy': 'same-origin' };

const CONNECTED_APPS = '/patient/apps';
const fhirId = /^[A-Za-z0-9.-]{1,64}$/;

const dateFormat = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' });
const formatDate = (date: Date) => dateFormat.format(date);

const stoppedForSafety = 'Arrêté par sécurité : une utilisation suspecte a été détectée';
const endReasons: Record<string, string> = {
  'withdrawn by the patient': 'Vous avez retiré cet accès',
  'patient account closed': 'Le compte a été fermé',
  'authorization code replayed': stoppedForSafety,
  'rotated refresh token reused': stoppedForSafety,
  'refresh token revoked by the client': 'L’application a mis fin à cet accès',
};

export interface PatientPageDeps {
  db: Queryable;
  config: AppConfig;
  sessions: PatientSessions;
  issuerOf: (request: FastifyRequest) => string;
}

export function patientPageHandlers(deps: PatientPageDeps): HandlerMap<PatientPageOperations> {
  const { db, config, sessions } = deps;
  const sandbox = config.mode === 'sandbox';
  const html = <S extends 200 | 400 | 403 | 503>(status: S, body: string, headers: Record<string, string> = {}) => ({
    status,
    headers: { ...patientPageHeaders, ...headers },
    body,
  });
  const seeOther = (location: string, headers: Record<string, string> = {}) => ({
    status: 303 as const,
    headers: { ...patientPageHeaders, location, ...headers },
  });
  const forbidden = () =>
    html(403, page('Action refusée', `<h1>Action refusée</h1><p>Ce formulaire a expiré ou ne vient pas de cette plateforme. Rien n’a été modifié.</p><p><a href="${CONNECTED_APPS}">Revenir à mes applications connectées</a></p>`));

  /** The session, if the form comes from this origin with the session's CSRF token. */
  async function formSession(request: FastifyRequest, csrfToken: string | undefined): Promise<PatientSession | null> {
    if (!fromOwnOrigin(request, deps.issuerOf(request))) return null;
    const session = await sessions.current(request);
    return session && csrfToken && sameToken(csrfToken, session.csrfToken) ? session : null;
  }

  return {
    async showPatientSignIn({ query }) {
      if (!sandbox) return html(503, signInUnavailablePage());
      return html(200, pickerPage({ returnTo: query.return_to ?? CONNECTED_APPS }));
    },

    async patientSignIn({ request, body }) {
      if (!sandbox) return html(503, signInUnavailablePage());
      if (!fromOwnOrigin(request, deps.issuerOf(request))) return forbidden();
      const returnTo = body.return_to ?? CONNECTED_APPS;
      const patientId = body.patient_id.trim();
      if (!fhirId.test(patientId)) {
        return html(400, pickerPage({ returnTo, patientId, error: 'L’identifiant d’un patient de test n’a que des lettres, chiffres, points et tirets.' }));
      }
      if (await isAccountClosed(db, patientId)) return html(400, pickerPage({ returnTo, patientId, error: 'Le compte de ce patient est fermé.' }));
      const { setCookie } = await sessions.open(patientId);
      return seeOther(returnTo, { 'set-cookie': setCookie });
    },

    async patientSignOut({ request, body }) {
      if (!(await formSession(request, body.csrf_token))) return forbidden();
      const clear = await sessions.end(request);
      return html(
        200,
        page('Déconnecté', `<h1>Vous êtes déconnecté</h1><p><a href="/patient/sign-in">Se connecter à nouveau</a></p>`),
        { 'set-cookie': clear },
      );
    },

    async showConnectedApps({ request, query }) {
      const session = await sessions.current(request);
      if (!session) return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(CONNECTED_APPS)}`);
      const grants = await connectedApps(db, session.patientId);
      return html(200, connectedAppsPage(session, grants, query.notice));
    },

    async withdrawConnectedApp({ request, params, body }) {
      const session = await formSession(request, body.csrf_token);
      if (!session) return forbidden();
      const withdrawn = await withdrawOwnGrant(db, params.grantId, session.patientId);
      return seeOther(`${CONNECTED_APPS}?notice=${withdrawn ? 'withdrawn' : 'already-ended'}`);
    },
  };
}

function signInUnavailablePage(): string {
  return page(
    'Connexion indisponible',
    `<h1>La connexion des patients n’est pas encore disponible</h1>
<p>Ce serveur n’est pas encore relié à la fédération d’identité qui permet aux patients de se connecter. Réessayez plus tard.</p>`,
  );
}

function pickerPage(options: { returnTo: string; patientId?: string; error?: string }): string {
  return page(
    'Connexion au bac à sable',
    `<h1>Connexion au bac à sable</h1>
<p>Dans le bac à sable, choisissez le patient de test au nom duquel vous naviguez. Aucune donnée réelle n’est utilisée.</p>
${options.error ? `<p role="alert"><strong>${escapeHtml(options.error)}</strong></p>` : ''}
<form method="post" action="/patient/sign-in">
<input type="hidden" name="return_to" value="${escapeHtml(options.returnTo)}">
<p><label for="patient_id">Identifiant du patient de test</label><br>
<input id="patient_id" name="patient_id" required maxlength="64" autocomplete="off" value="${escapeHtml(options.patientId ?? SANDBOX_DEFAULT_PATIENT)}"></p>
<p><button>Se connecter</button></p>
</form>`,
  );
}

function period(grant: GrantSummary): string {
  const since = `Autorisée le ${formatDate(grant.createdAt)}`;
  return grant.expiresAt ? `${since}, jusqu’au ${formatDate(grant.expiresAt)}` : `${since}, jusqu’à ce que vous la retiriez`;
}

function ending(grant: GrantSummary): string {
  if (grant.revokedAt) return `${endReasons[grant.revokedReason ?? ''] ?? 'Accès arrêté'} (le ${formatDate(grant.revokedAt)}).`;
  return `Accès arrivé à échéance le ${formatDate(grant.expiresAt!)}.`;
}

function permissions(grant: GrantSummary): string {
  return `<ul>${describeScopeString(grant.scope).map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
}

function forWhom(grant: GrantSummary, session: PatientSession): string {
  return grant.patientId === session.patientId ? '' : `<p>Pour ${escapeHtml(grant.patientId)}, dont vous êtes le représentant légal.</p>`;
}

function connectedAppsPage(session: PatientSession, grants: GrantSummary[], notice: 'withdrawn' | 'already-ended' | undefined): string {
  const active = grants.filter((grant) => grant.active);
  const ended = grants.filter((grant) => !grant.active);
  const csrf = `<input type="hidden" name="csrf_token" value="${escapeHtml(session.csrfToken)}">`;
  const notices = {
    withdrawn: 'L’accès a été retiré. L’application ne peut plus lire ni modifier vos données.',
    'already-ended': 'Cet accès était déjà terminé.',
  };
  const activeItems = active.map((grant) => {
    const suspended = ['suspended', 'revoked', 'expired'].includes(grant.appCertificationStatus)
      ? `<p role="status"><strong>Cette application n’est plus certifiée (${escapeHtml(grant.appCertificationStatus === 'suspended' ? 'certification suspendue' : 'certification retirée')}) : elle ne peut plus accéder à vos données.</strong></p>`
      : '';
    return `<li>
<h3>${escapeHtml(grant.appName)}</h3>
${forWhom(grant, session)}<p>${escapeHtml(period(grant))}.</p>
${suspended}<p>Elle peut :</p>
${permissions(grant)}
<form method="post" action="/patient/apps/${escapeHtml(grant.id)}/withdrawal">${csrf}<button>Retirer l’accès de ${escapeHtml(grant.appName)}</button></form>
</li>`;
  });
  const endedItems = ended.map(
    (grant) => `<li>
<h3>${escapeHtml(grant.appName)}</h3>
${forWhom(grant, session)}<p>${escapeHtml(period(grant))}. ${escapeHtml(ending(grant))}</p>
${permissions(grant)}
</li>`,
  );
  return page(
    'Mes applications connectées',
    `<h1>Mes applications connectées</h1>
<p>Connecté en tant que <strong>${escapeHtml(session.patientId)}</strong>.</p>
<form method="post" action="/patient/sign-out">${csrf}<button>Se déconnecter</button></form>
${notice ? `<p role="status"><strong>${escapeHtml(notices[notice])}</strong></p>` : ''}
<h2>Accès en cours</h2>
${active.length ? `<ul>${activeItems.join('\n')}</ul>` : '<p>Aucune application n’a accès à vos données.</p>'}
<h2>Accès terminés</h2>
${ended.length ? `<ul>${endedItems.join('\n')}</ul>` : '<p>Aucun accès terminé.</p>'}`,
  );
}
