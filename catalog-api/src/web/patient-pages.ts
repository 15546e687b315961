// The patient's pages, so far: sign-in (the sandbox's patient picker) and "my connected apps",
// the SMART `management_endpoint`, where a patient sees every app they authorized and withdraws
// any of them at once. Server-rendered, in French, without scripts; every form carries the
// session's CSRF token and must come from the platform's own origin.
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../core/config.js';
import type { HandlerMap } from '../core/operations.js';
import type { Queryable } from '../core/store/db.js';
import { connectedApps, withdrawOwnGrant } from '../modules/consent/index.js';
import type { GrantSummary } from '../modules/oauth/index.js';
import { escapeHtml, page } from './html.js';
import { patientPageHeaders } from './layout.js';
import { fromOwnOrigin, sameToken, type PatientSession, type PatientSessions } from './patient-session.js';
import { describeScopeString } from './scope-labels.js';

type PatientPageOperations = 'showConnectedApps' | 'withdrawConnectedApp';


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
    headers: { ...patientPageHeaders(), ...headers },
    body,
  });
  const seeOther = (location: string, headers: Record<string, string> = {}) => ({
    status: 303 as const,
    headers: { ...patientPageHeaders(), location, ...headers },
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
