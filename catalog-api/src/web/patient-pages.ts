// "My connected apps", the SMART `management_endpoint`: every app the person authorized, for
// themselves or as a guardian for a child, with what it may do, since when and until when, when
// it last accessed the record, and a button that withdraws the access at once; the accesses that
// ended, kept as history; and a notice, at the next visit, when an authorized app was suspended
// or lost its certification. The same data as JSON for apps and tools (`/patient/grants`).
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../core/config.js';
import type { HandlerMap } from '../core/operations.js';
import type { Queryable } from '../core/store/db.js';
import { ProblemError } from '../core/errors.js';
import { appsForPatients, type AppForPatients } from '../modules/catalog/index.js';
import {
  certificationNotices,
  connectedApps,
  dismissCertificationNotice,
  lastAccesses,
  withdrawOwnGrant,
  type CertificationNotice,
} from '../modules/consent/index.js';
import { RevocationReason, startLaunch, type GrantSummary } from '../modules/oauth/index.js';
import { mayActFor, patientSummaries, type PatientSummary } from '../modules/records/index.js';
import { appIdentity, catalogueAppPath, CUT_OFF, launchable, launchForm } from './app-summary.js';
import { escapeHtml, formTargetOf } from './html.js';
import { alert, button, card, tag } from './components.js';
import { deName, formatDate, formatDateTime, messages, type Lang } from './i18n.js';
import { pageReply, refusedPage, seeOther } from './layout.js';
import { ownForm, pageContext, type PageContext } from './page-context.js';
import { fromOwnOrigin, type PatientSession, type PatientSessions } from './patient-session.js';
import { describeScopeString } from './scope-labels.js';
import { subscriptionsOfGrants, type SubscriptionSummary } from '../modules/notifications/index.js';

type PatientPageOperations = 'showConnectedApps' | 'confirmConnectedAppWithdrawal' | 'withdrawConnectedApp' | 'dismissCertificationNotice' | 'listConnectedApps' | 'withdrawConnectedAppApi' | 'launchApp';

const CONNECTED_APPS = '/patient/apps';

type EndReason = 'withdrawn' | 'account-closed' | 'stopped-for-safety' | 'ended-by-app' | 'expired' | 'stopped';

const endReasonOf = (grant: GrantSummary): EndReason => {
  if (!grant.revokedAt) return 'expired';
  switch (grant.revokedReason) {
    case RevocationReason.withdrawnByPatient:
      return 'withdrawn';
    case RevocationReason.accountClosed:
      return 'account-closed';
    case RevocationReason.codeReplayed:
    case RevocationReason.refreshTokenReused:
      return 'stopped-for-safety';
    case RevocationReason.revokedByClient:
      return 'ended-by-app';
    default:
      return 'stopped';
  }
};

const text = messages({
  fr: {
    title: 'Mes applications connectées',
    intro: 'Les applications auxquelles vous avez donné accès à votre dossier, ou à celui d’un enfant dont vous êtes le représentant légal. Retirer un accès prend effet immédiatement.',
    active: 'Accès en cours',
    ended: 'Accès terminés',
    noActive: 'Aucune application n’a accès à vos données.',
    noEnded: 'Aucun accès terminé.',
    browse: 'Découvrir les applications certifiées',
    forYou: 'Pour vous',
    forChild: (name: string) => `Pour ${name}, dont vous êtes le représentant légal`,
    since: (date: string) => `Autorisée le ${date}`,
    until: (date: string) => `jusqu’au ${date}`,
    untilWithdrawn: 'jusqu’à ce que vous la retiriez',
    once: (date: string) => `Accès unique, le ${date}`,
    notified: 'L’application est prévenue, sans attendre, quand il y a :',
    notifiedOf: (topic: string, date: string) => `${topic} (depuis le ${date})`,
    lastAccess: (date: string) => `Dernier accès à vos données : ${date}`,
    lastAccessOf: (date: string, name: string) => `Dernier accès aux données ${deName(name)} : ${date}`,
    noAccess: 'L’application n’a encore accédé à aucune donnée.',
    canDo: 'Elle peut :',
    could: 'Elle pouvait :',
    history: 'Voir ce qu’elle a consulté',
    withdraw: (app: string) => `Retirer l’accès de ${app}`,
    confirmTitle: (app: string) => `Retirer l’accès de ${app}\u00a0?`,
    confirmBody: (app: string) => `${app} ne pourra plus lire ni modifier vos données, dès maintenant.`,
    confirmBodyChild: (app: string, child: string) => `${app} ne pourra plus lire ni modifier les données ${deName(child)}, dès maintenant.`,
    confirmAfter: 'Ce qu’elle a déjà consulté reste dans votre historique des accès. Pour lui redonner accès plus tard, il faudra l’autoriser à nouveau depuis l’application.',
    confirm: 'Oui, retirer l’accès',
    cancel: 'Annuler',
    blocked: 'Cette application ne peut plus accéder à vos données tant que sa certification n’est pas rétablie.',
    endReasons: {
      withdrawn: 'Vous avez retiré cet accès',
      'account-closed': 'Le compte a été fermé',
      'stopped-for-safety': 'Arrêté par sécurité : une utilisation suspecte a été détectée',
      'ended-by-app': 'L’application a mis fin à cet accès',
      expired: 'Accès arrivé à échéance',
      stopped: 'Accès arrêté',
    } satisfies Record<EndReason, string>,
    endedOn: (reason: string, date: string) => `${reason} (le ${date}).`,
    withdrawnNotice: 'L’accès a été retiré. L’application ne peut plus lire ni modifier vos données.',
    alreadyEndedNotice: 'Cet accès était déjà terminé.',
    noticeTitle: {
      suspended: (app: string) => `${app} a été suspendue`,
      revoked: (app: string) => `${app} n’est plus certifiée`,
      expired: (app: string) => `La certification de ${app} a expiré`,
    },
    noticeBody: (date: string) =>
      `Depuis le ${date}, cette application ne peut plus accéder à vos données. Vous n’avez rien à faire ; vous pouvez aussi retirer son accès ci-dessous.`,
    understood: 'J’ai compris',
    openFor: (app: string, name: string) => `Ouvrir ${app} pour ${name}`,
    openSelf: (app: string) => `Ouvrir ${app}`,
    notLaunchableTitle: 'Application indisponible',
    notLaunchable: 'Cette application ne peut pas être ouverte depuis votre espace santé pour le moment.',
  },
  en: {
    title: 'My connected apps',
    intro: 'The apps you gave access to your record, or to the record of a child whose legal guardian you are. Withdrawing an access takes effect at once.',
    active: 'Current accesses',
    ended: 'Ended accesses',
    noActive: 'No app has access to your data.',
    noEnded: 'No ended access.',
    browse: 'Discover certified apps',
    forYou: 'For you',
    forChild: (name: string) => `For ${name}, whose legal guardian you are`,
    since: (date: string) => `Authorized on ${date}`,
    until: (date: string) => `until ${date}`,
    untilWithdrawn: 'until you withdraw it',
    once: (date: string) => `One-time access, on ${date}`,
    notified: 'The app is told at once when there is:',
    notifiedOf: (topic: string, date: string) => `${topic} (since ${date})`,
    lastAccess: (date: string) => `Last access to your data: ${date}`,
    lastAccessOf: (date: string, name: string) => `Last access to ${name}’s data: ${date}`,
    noAccess: 'The app has not accessed any data yet.',
    canDo: 'It can:',
    could: 'It could:',
    history: 'See what it looked at',
    withdraw: (app: string) => `Withdraw ${app}’s access`,
    confirmTitle: (app: string) => `Withdraw ${app}’s access?`,
    confirmBody: (app: string) => `${app} will no longer be able to read or change your data, from now on.`,
    confirmBodyChild: (app: string, child: string) => `${app} will no longer be able to read or change ${child}’s data, from now on.`,
    confirmAfter: 'What it already looked at stays in your access history. To give it access again later, you will authorize it again from the app.',
    confirm: 'Yes, withdraw the access',
    cancel: 'Cancel',
    blocked: 'This app cannot access your data until its certification is restored.',
    endReasons: {
      withdrawn: 'You withdrew this access',
      'account-closed': 'The account was closed',
      'stopped-for-safety': 'Stopped for safety: suspicious use was detected',
      'ended-by-app': 'The app ended this access',
      expired: 'The access reached its end',
      stopped: 'Access stopped',
    } satisfies Record<EndReason, string>,
    endedOn: (reason: string, date: string) => `${reason} (on ${date}).`,
    withdrawnNotice: 'The access was withdrawn. The app can no longer read or change your data.',
    alreadyEndedNotice: 'This access had already ended.',
    noticeTitle: {
      suspended: (app: string) => `${app} has been suspended`,
      revoked: (app: string) => `${app} is no longer certified`,
      expired: (app: string) => `${app}’s certification has expired`,
    },
    noticeBody: (date: string) => `Since ${date}, this app cannot access your data. You need not do anything; you may also withdraw its access below.`,
    understood: 'Understood',
    openFor: (app: string, name: string) => `Open ${app} for ${name}`,
    openSelf: (app: string) => `Open ${app}`,
    notLaunchableTitle: 'App unavailable',
    notLaunchable: 'This app cannot be opened from your health space at the moment.',
  },
});

export interface PatientPageDeps {
  db: Queryable;
  config: AppConfig;
  sessions: PatientSessions;
  issuerOf: (request: FastifyRequest) => string;
}

/** One grant as "my connected apps" shows it. */
interface ConnectedApp {
  grant: GrantSummary;
  app: AppForPatients | undefined;
  lastAccessAt: Date | null;
  forWhom: PatientSummary | null;
  /** The app's subscriptions running under this grant (notifications of new documents…). */
  subscriptions: SubscriptionSummary[];
}

/** What "my connected apps" shows a person: their grants with the apps, last accesses and the people they are for; the notices. */
async function overview(db: Queryable, personId: string): Promise<{ items: ConnectedApp[]; notices: CertificationNotice[] }> {
  const grants = await connectedApps(db, personId);
  const [apps, last, people, notices, subscriptions] = await Promise.all([
    appsForPatients(db, grants.map((grant) => grant.appId)),
    lastAccesses(db, grants.map((grant) => grant.id)),
    patientSummaries(db, [...new Set(grants.map((grant) => grant.patientId).filter((id) => id !== personId))]),
    certificationNotices(db, personId),
    subscriptionsOfGrants(db, grants.filter((grant) => grant.active).map((grant) => grant.id)),
  ]);
  const byId = new Map(people.map((person) => [person.id, person]));
  return {
    items: grants.map((grant) => ({
      grant,
      app: apps.get(grant.appId),
      lastAccessAt: last.get(grant.id) ?? null,
      subscriptions: subscriptions.filter((subscription) => subscription.grantId === grant.id),
      forWhom: grant.patientId === personId ? null : (byId.get(grant.patientId) ?? { id: grant.patientId, name: grant.patientId, birthDate: undefined }),
    })),
    notices,
  };
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function patientPageHandlers(deps: PatientPageDeps): HandlerMap<PatientPageOperations> {
  const { db } = deps;
  const forbidden = (ctx: PageContext) =>
    refusedPage(ctx, { href: CONNECTED_APPS, label: ctx.lang === 'fr' ? 'Revenir à mes applications connectées' : 'Back to my connected apps' });

  return {
    async showConnectedApps({ request, query }) {
      const ctx = await pageContext(deps, request);
      if (!ctx.session) return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(CONNECTED_APPS)}`);
      const { items, notices } = await overview(db, ctx.session.patientId);
      // "Ouvrir l'application" posts here and is redirected to the app: the CSP's form-action must allow its origin.
      const launchTargets = items.flatMap(({ app }) => (app && launchable(app) ? formTargetOf(app.launchUrl!) : []));
      return pageReply(200, {
        ...ctx,
        title: text(ctx.lang).title,
        section: 'apps',
        body: connectedAppsBody(ctx, ctx.session, items, notices, query.notice),
        formTargets: [...ctx.formTargets, ...launchTargets],
      });
    },

    async launchApp({ request, body }) {
      const ctx = await pageContext(deps, request);
      if (!ownForm(ctx, request, deps.issuerOf(request), body.csrf_token)) return forbidden(ctx);
      const actorId = ctx.session.patientId;
      const patientId = body.for ?? actorId;
      if (patientId !== actorId && !(await mayActFor(db, actorId, patientId))) return forbidden(ctx);
      const location = await startLaunch(db, deps.config, { appId: body.app_id, patientId, actorId, issuer: deps.issuerOf(request) });
      if (!location) {
        const t = text(ctx.lang);
        return pageReply(404, { ...ctx, title: t.notLaunchableTitle, body: `<h1>${escapeHtml(t.notLaunchableTitle)}</h1><p>${escapeHtml(t.notLaunchable)}</p><p><a href="${CONNECTED_APPS}">${escapeHtml(t.title)}</a></p>` });
      }
      return seeOther(location);
    },

    async confirmConnectedAppWithdrawal({ request, params }) {
      const ctx = await pageContext(deps, request);
      const own = `/patient/apps/${encodeURIComponent(params.grantId)}/withdrawal`;
      if (!ctx.session) return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(own)}`);
      const { items } = await overview(db, ctx.session.patientId);
      const item = items.find(({ grant }) => grant.id === params.grantId && grant.active);
      if (!item) return seeOther(`${CONNECTED_APPS}?notice=already-ended`);
      const t = text(ctx.lang);
      const name = item.grant.appName;
      const csrf = `<input type="hidden" name="csrf_token" value="${escapeHtml(ctx.session.csrfToken)}">`;
      return pageReply(200, {
        ...ctx,
        title: t.confirmTitle(name),
        section: 'apps',
        body: `<h1>${escapeHtml(t.confirmTitle(name))}</h1>
${appHead(item, ctx.lang)}
<p><strong>${escapeHtml(item.forWhom ? t.forChild(item.forWhom.name) : t.forYou)}</strong></p>
<p>${escapeHtml(item.forWhom ? t.confirmBodyChild(name, item.forWhom.name) : t.confirmBody(name))}</p>
<p>${escapeHtml(t.confirmAfter)}</p>
<form method="post" action="${escapeHtml(own)}">${csrf}<div class="actions">${button(t.confirm)}
<a href="${CONNECTED_APPS}">${escapeHtml(t.cancel)}</a></div></form>`,
      });
    },

    async withdrawConnectedApp({ request, params, body }) {
      const ctx = await pageContext(deps, request);
      if (!ownForm(ctx, request, deps.issuerOf(request), body.csrf_token)) return forbidden(ctx);
      const withdrawn = await withdrawOwnGrant(db, params.grantId, ctx.session.patientId);
      return seeOther(`${CONNECTED_APPS}?notice=${withdrawn ? 'withdrawn' : 'already-ended'}`);
    },

    async dismissCertificationNotice({ request, params, body }) {
      const ctx = await pageContext(deps, request);
      if (!ownForm(ctx, request, deps.issuerOf(request), body.csrf_token)) return forbidden(ctx);
      await dismissCertificationNotice(db, ctx.session.patientId, params.appId);
      return seeOther(CONNECTED_APPS);
    },

    async listConnectedApps({ request }) {
      const session = await deps.sessions.current(request);
      if (!session) throw new ProblemError('authentication_required');
      const { items, notices } = await overview(db, session.patientId);
      const entries = items.map(({ grant, app, lastAccessAt }) => ({
        grantId: grant.id,
        app: {
          id: grant.appId,
          name: grant.appName,
          publisher: app?.publisher.name ?? '',
          certificationStatus: grant.appCertificationStatus,
          certificateReference: app?.certificateReference ?? null,
        },
        patientId: grant.patientId,
        actorId: grant.actorId,
        scope: grant.scope,
        createdAt: grant.createdAt.toISOString(),
        expiresAt: iso(grant.expiresAt),
        lastAccessAt: iso(lastAccessAt),
        active: grant.active,
        endedAt: grant.active ? null : iso(grant.revokedAt ?? grant.expiresAt),
        endReason: grant.active ? null : endReasonOf(grant),
      }));
      return {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        body: {
          active: entries.filter((entry) => entry.active),
          ended: entries.filter((entry) => !entry.active),
          notices: notices.map((notice) => ({ appId: notice.appId, appName: notice.appName, status: notice.status, changedAt: notice.changedAt.toISOString() })),
        },
      };
    },

    async withdrawConnectedAppApi({ request, params }) {
      const session = await deps.sessions.current(request);
      if (!session) throw new ProblemError('authentication_required');
      // A browser always sends Origin with a DELETE: another site's page is refused (and, without
      // CORS, could not have sent it with the cookie anyway).
      if (request.headers.origin !== undefined && !fromOwnOrigin(request, deps.issuerOf(request))) {
        throw new ProblemError('cross_origin_request', `Origin ${request.headers.origin} is not the platform's.`);
      }
      const withdrawn = await withdrawOwnGrant(db, params.grantId, session.patientId);
      if (!withdrawn) throw new ProblemError('not_found', 'No active grant of yours has this id.');
      return { status: 204 };
    },
  };
}

/** An access approved for one time ends a quarter of an hour after approval (ONE_TIME_MINUTES); any other lasts months. */
const isOneTime = (grant: GrantSummary) => grant.expiresAt !== null && grant.expiresAt.getTime() - grant.createdAt.getTime() <= 3_600_000;

/**
 * When the access was given, and until when: "until" only while it runs (an ended access says
 * when and why it ended instead), and a one-time access says so rather than "until today".
 */
function period(grant: GrantSummary, lang: Lang): string {
  const t = text(lang);
  if (isOneTime(grant)) return t.once(formatDate(lang, grant.createdAt));
  const since = t.since(formatDate(lang, grant.createdAt));
  if (!grant.active) return since;
  return `${since}, ${grant.expiresAt ? t.until(formatDate(lang, grant.expiresAt)) : t.untilWithdrawn}`;
}

/** What the access allows, said of the child's record for a guardian's grant; its duration is in period(). */
function permissions(item: ConnectedApp, lang: Lang): string {
  return `<ul class="fr-tags-group">${describeScopeString(item.grant.scope, lang, { forWhom: item.forWhom?.name, withoutDuration: true })
    .map((line) => `<li>${tag(line)}</li>`)
    .join('')}</ul>`;
}

function lastAccess(item: ConnectedApp, lang: Lang): string {
  const t = text(lang);
  if (!item.lastAccessAt) return t.noAccess;
  const when = formatDateTime(lang, item.lastAccessAt);
  return item.forWhom ? t.lastAccessOf(when, item.forWhom.name) : t.lastAccess(when);
}

/** What the app is notified of (its running subscriptions), in plain words; nothing when none. */
function notifications(item: ConnectedApp, lang: Lang): string {
  if (item.subscriptions.length === 0) return '';
  const t = text(lang);
  const lines = item.subscriptions.map((subscription) => `<li>${escapeHtml(t.notifiedOf(subscription.topicLabel[lang], formatDate(lang, subscription.createdAt)))}</li>`);
  return `<p>${escapeHtml(t.notified)}</p>\n<ul>${lines.join('')}</ul>\n`;
}

function appHead(item: ConnectedApp, lang: Lang): string {
  const { grant, app } = item;
  if (!app) return `<h3>${escapeHtml(grant.appName)}</h3>`;
  return appIdentity(app, lang, { level: 3, nameHtml: `<a href="${escapeHtml(catalogueAppPath(app.id))}">${escapeHtml(app.name)}</a>` });
}

function connectedAppsBody(ctx: PageContext, session: PatientSession, items: ConnectedApp[], notices: CertificationNotice[], notice: 'withdrawn' | 'already-ended' | undefined): string {
  const lang = ctx.lang;
  const t = text(lang);
  const csrf = `<input type="hidden" name="csrf_token" value="${escapeHtml(session.csrfToken)}">`;
  const forWhom = (item: ConnectedApp) => `<p><strong>${escapeHtml(item.forWhom ? t.forChild(item.forWhom.name) : t.forYou)}</strong></p>`;

  const certificationNoticesHtml = notices
    .map(
      (item) =>
        alert(
          'warning',
          `<p>${escapeHtml(t.noticeBody(formatDate(lang, item.changedAt)))}</p>
<form method="post" action="/patient/apps/notices/${escapeHtml(item.appId)}/dismissal">${csrf}${button(t.understood, { kind: 'secondary' })}</form>`,
          { title: t.noticeTitle[item.status](item.appName), role: 'status' },
        ),
    )
    .join('\n');

  const active = items.filter((item) => item.grant.active);
  const ended = items.filter((item) => !item.grant.active);
  const activeItems = active.map((item) => {
    const { grant } = item;
    // Suspended, revoked or expired apps are cut off (a sandbox's draft apps are not).
    const blocked = CUT_OFF.includes(grant.appCertificationStatus) ? alert('warning', `<p>${escapeHtml(t.blocked)}</p>`) : '';
    return card(`${appHead(item, lang)}
${forWhom(item)}<p>${escapeHtml(period(grant, lang))}.</p>
<p>${escapeHtml(lastAccess(item, lang))}</p>
${blocked}<p>${escapeHtml(t.canDo)}</p>
${permissions(item, lang)}
${notifications(item, lang)}<div class="actions">${
      item.app && launchable(item.app) && !blocked
        ? launchForm(item.app, session.csrfToken, item.forWhom ? t.openFor(grant.appName, item.forWhom.name) : t.openSelf(grant.appName), grant.patientId)
        : ''
    }<form method="get" action="/patient/apps/${escapeHtml(grant.id)}/withdrawal">${button(t.withdraw(grant.appName), { kind: 'secondary' })}</form>
<a href="/patient/history?app=${escapeHtml(grant.appId)}">${escapeHtml(t.history)}</a></div>`);
  });
  const endedItems = ended.map((item) => {
    const { grant } = item;
    const endedAt = grant.revokedAt ?? grant.expiresAt!;
    return card(`${appHead(item, lang)}
${forWhom(item)}<p>${escapeHtml(period(grant, lang))}. ${escapeHtml(t.endedOn(t.endReasons[endReasonOf(grant)], formatDate(lang, endedAt)))}</p>
<p>${escapeHtml(lastAccess(item, lang))}</p>
<p>${escapeHtml(t.could)}</p>
${permissions(item, lang)}`);
  });
  const actionNotice = notice ? alert(notice === 'withdrawn' ? 'success' : 'info', `<p>${escapeHtml(notice === 'withdrawn' ? t.withdrawnNotice : t.alreadyEndedNotice)}</p>`, { role: 'status' }) : '';
  return `<h1>${escapeHtml(t.title)}</h1>
${actionNotice}
${certificationNoticesHtml}
<p>${escapeHtml(t.intro)}</p>
<h2>${escapeHtml(t.active)}</h2>
${active.length ? `<ul class="cards">${activeItems.join('\n')}</ul>` : `<p>${escapeHtml(t.noActive)} <a href="/catalogue">${escapeHtml(t.browse)}</a></p>`}
<h2>${escapeHtml(t.ended)}</h2>
${ended.length ? `<ul class="cards">${endedItems.join('\n')}</ul>` : `<p>${escapeHtml(t.noEnded)}</p>`}`;
}
