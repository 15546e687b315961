// The consent screen: the patient's step of an authorization, where the authorization endpoint
// hands the browser over (`/patient/authorize?interaction=…`). The patient signs in first (the
// sandbox's picker or the identity provider), then sees who asks (the app, its publisher, its
// certification and certificate reference), what for whom: each permission in plain words with
// the publisher's justification, ticked, and untickable unless the publisher marked it required;
// for how long (one time, 3 months, 1 year, until withdrawn); and, for a guardian, whether it is
// for themselves or a child. Approve and Refuse both go back to the app through the
// authorization server. The form carries the session's CSRF token and must come from the
// platform's own origin; the page's CSP lets that form lead to the app's redirect URI only.
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../core/config.js';
import type { HandlerMap, RequestBody } from '../core/operations.js';
import type { Db } from '../core/store/db.js';
import { findAppForPatients, type AppForPatients } from '../modules/catalog/index.js';
import { approveFor } from '../modules/consent/index.js';
import {
  finishAuthorization,
  finishCoveredLaunch,
  formatScope,
  hasScope,
  isSubset,
  parseScope,
  pendingAuthorization,
  scopeSet,
  type PendingAuthorization,
  type ResourceScope,
  type ScopeSet,
} from '../modules/oauth/index.js';
import { childrenOf, mayActFor, patientSummaries, type PatientSummary } from '../modules/records/index.js';
import { appIdentity } from './app-summary.js';
import { alert, button, card, checkbox, fieldset, radio } from './components.js';
import { escapeHtml, formTargetOf } from './html.js';
import { formatCalendarDate, formatDate, messages, type Lang } from './i18n.js';
import { pageReply, refusedPage, seeOther } from './layout.js';
import { ownForm, pageContext, type PageContext } from './page-context.js';
import type { PatientSessions } from './patient-session.js';
import { describeContextScope, describeResourceScope, permissionChoice } from './scope-labels.js';

type AuthorizationPageOperations = 'showAuthorization' | 'decideAuthorization';
type DecisionForm = RequestBody<'decideAuthorization'>;

/** How long an approved access lasts, as the patient chooses it. */
export const DURATIONS = ['once', '3-months', '1-year', 'until-withdrawn'] as const;
export type Duration = (typeof DURATIONS)[number];

/**
 * A one-time access ends a quarter of an hour after approval: time for the app to redeem its code
 * and use its access token (5 minutes), with no refresh token and nothing after.
 */
export const ONE_TIME_MINUTES = 15;
const DEFAULT_DURATION: Duration = '3-months';

/** When an access approved at `now` for `duration` ends (null: until withdrawn). */
export function grantEnd(duration: Duration, now: Date = new Date()): Date | null {
  const end = new Date(now);
  switch (duration) {
    case 'once':
      return new Date(now.getTime() + ONE_TIME_MINUTES * 60_000);
    case '3-months':
      end.setUTCMonth(end.getUTCMonth() + 3);
      return end;
    case '1-year':
      end.setUTCFullYear(end.getUTCFullYear() + 1);
      return end;
    case 'until-withdrawn':
      return null;
  }
}

const text = messages({
  fr: {
    title: (app: string) => `Autoriser ${app}\u00a0?`,
    intro: (app: string) => `${app} demande à accéder à votre dossier Mon espace santé. Vous choisissez ce que l’application peut faire, et pour combien de temps.`,
    introChoice: (app: string) =>
      `${app} demande à accéder à un dossier Mon espace santé : le vôtre, ou celui d’un enfant dont vous êtes le représentant légal. Vous choisissez pour qui, ce que l’application peut faire, et pour combien de temps.`,
    introChild: (app: string, child: string) => `${app} demande à accéder au dossier Mon espace santé de ${child}. Vous choisissez ce que l’application peut faire, et pour combien de temps.`,
    forWhomLegend: 'Pour qui donnez-vous cet accès\u00a0?',
    forSelf: (name: string) => `Pour moi-même (${name})`,
    forChild: (name: string, born: string) => `Pour ${name}${born}, dont je suis le représentant légal`,
    born: (date: string) => `, né(e) le ${date}`,
    permissionsLegend: 'Ce que l’application pourra faire',
    permissionsHint: 'Décochez ce que vous ne voulez pas partager.',
    why: 'Pourquoi :',
    required: 'Nécessaire au fonctionnement de l’application : sans cela, refusez la demande.',
    noJustification: 'L’éditeur n’a pas donné de justification pour cette permission.',
    alsoLegend: 'L’application pourra aussi',
    colon: ' :',
    durationLegend: 'Pendant combien de temps\u00a0?',
    once: 'Une seule fois : l’application lit vos données maintenant et ne pourra pas revenir',
    '3-months': (until: string) => `3 mois (jusqu’au ${until})`,
    '1-year': (until: string) => `1 an (jusqu’au ${until})`,
    'until-withdrawn': 'Jusqu’à ce que je retire l’accès',
    onceOnly: 'Cet accès est ponctuel : l’application lit vos données maintenant, pendant quelques minutes, et ne pourra pas revenir sans vous le redemander.',
    withdrawAnyTime: 'Vous pourrez retirer cet accès à tout moment dans « Mes applications connectées ». Chaque lecture de vos données par l’application apparaît dans votre historique des accès.',
    approve: 'Autoriser',
    refuse: 'Refuser',
    privacy: 'Politique de confidentialité de l’application',
    details: 'Fiche de l’application dans le catalogue',
    expiredTitle: 'Demande expirée',
    expired: 'Cette demande d’accès a expiré',
    expiredBody: 'Elle a déjà été traitée ou date de plus de dix minutes. Revenez à l’application et recommencez.',
    backToRequest: 'Revenir à la demande',
    noneChosen: 'Choisissez au moins une permission, ou refusez la demande.',
    unknownScope: 'Une permission envoyée ne fait pas partie de la demande. Rien n’a été accordé.',
    notGuardian: 'Vous ne pouvez pas donner cet accès pour cette personne.',
    errorTitle: 'Il y a un problème',
    otherPersonTitle: 'Demande d’une autre personne',
    otherPerson: 'Cette application a été ouverte depuis l’espace santé d’une autre personne. Connectez-vous avec le compte qui l’a ouverte, ou ouvrez l’application depuis votre propre espace.',
    launchedFor: (name: string) => `Pour ${name}`,
  },
  en: {
    title: (app: string) => `Authorize ${app}?`,
    intro: (app: string) => `${app} asks to access your Mon espace santé record. You choose what the app can do, and for how long.`,
    introChoice: (app: string) =>
      `${app} asks to access a Mon espace santé record: yours, or that of a child whose legal guardian you are. You choose for whom, what the app can do, and for how long.`,
    introChild: (app: string, child: string) => `${app} asks to access ${child}’s Mon espace santé record. You choose what the app can do, and for how long.`,
    forWhomLegend: 'Who are you giving this access for?',
    forSelf: (name: string) => `For myself (${name})`,
    forChild: (name: string, born: string) => `For ${name}${born}, whose legal guardian I am`,
    born: (date: string) => `, born ${date}`,
    permissionsLegend: 'What the app will be able to do',
    permissionsHint: 'Untick what you do not want to share.',
    why: 'Why:',
    required: 'Needed for the app to work: if you do not agree, refuse the request.',
    noJustification: 'The publisher gave no justification for this permission.',
    alsoLegend: 'The app will also',
    colon: ':',
    durationLegend: 'For how long?',
    once: 'Just once: the app reads your data now and cannot come back',
    '3-months': (until: string) => `3 months (until ${until})`,
    '1-year': (until: string) => `1 year (until ${until})`,
    'until-withdrawn': 'Until I withdraw the access',
    onceOnly: 'This is a one-time access: the app reads your data now, for a few minutes, and cannot come back without asking you again.',
    withdrawAnyTime: 'You can withdraw this access at any time in “My connected apps”. Every time the app reads your data, it appears in your access history.',
    approve: 'Authorize',
    refuse: 'Refuse',
    privacy: 'The app’s privacy policy',
    details: 'The app’s page in the catalogue',
    expiredTitle: 'Request expired',
    expired: 'This access request has expired',
    expiredBody: 'It has already been handled or is more than ten minutes old. Go back to the app and start again.',
    backToRequest: 'Back to the request',
    noneChosen: 'Choose at least one permission, or refuse the request.',
    unknownScope: 'A permission sent is not part of the request. Nothing was granted.',
    notGuardian: 'You cannot give this access for this person.',
    errorTitle: 'There is a problem',
    otherPersonTitle: 'Another person’s request',
    otherPerson: 'This app was opened from another person’s health space. Sign in with the account that opened it, or open the app from your own space.',
    launchedFor: (name: string) => `For ${name}`,
  },
});

export interface AuthorizationPageDeps {
  db: Db;
  config: AppConfig;
  sessions: PatientSessions;
  issuerOf: (request: FastifyRequest) => string;
}

/** One permission the screen offers: a resource scope of the request, with what the publisher said of it. */
interface Offer {
  scope: ResourceScope;
  value: string;
  justification: string | null;
  required: boolean;
}

/** Everything the screen shows for a waiting request. */
interface Screen {
  interaction: string;
  pending: PendingAuthorization;
  app: AppForPatients;
  offers: Offer[];
  person: PatientSummary;
  children: PatientSummary[];
}

/**
 * The requested resource scopes with the publisher's justification and required mark: from the
 * registered scope that grants it (the narrowest when several do).
 */
function offersOf(pending: PendingAuthorization, app: AppForPatients): Offer[] {
  const registered = app.scopes.flatMap((entry) => {
    const parsed = parseScope(entry.scope);
    return parsed.ok && parsed.scope.kind === 'resource' ? [{ set: scopeSet([parsed.scope]), entry }] : [];
  });
  return pending.scopes.resources.map((scope) => {
    const own = scopeSet([scope]);
    const covering = registered.filter(({ set }) => isSubset(own, set));
    const narrowest = covering.find(({ set }) => covering.every((other) => isSubset(set, other.set))) ?? covering[0];
    return {
      scope,
      value: formatScope(scope),
      justification: narrowest?.entry.justification ?? null,
      required: narrowest?.entry.required === true,
    };
  });
}

export function authorizationPageHandlers(deps: AuthorizationPageDeps): HandlerMap<AuthorizationPageOperations> {
  const { db, config } = deps;
  const ownPath = (interaction: string) => `/patient/authorize?interaction=${encodeURIComponent(interaction)}`;

  const expired = (ctx: PageContext) => {
    const t = text(ctx.lang);
    return pageReply(400, { ...ctx, title: t.expiredTitle, body: `<h1>${escapeHtml(t.expired)}</h1><p>${escapeHtml(t.expiredBody)}</p>` });
  };
  // A request launched from someone's space is theirs to decide: another person signed in gets this page.
  const otherPerson = (ctx: PageContext) => {
    const t = text(ctx.lang);
    return pageReply(403, { ...ctx, title: t.otherPersonTitle, body: `<h1>${escapeHtml(t.otherPersonTitle)}</h1><p>${escapeHtml(t.otherPerson)}</p>` });
  };
  const refused = (ctx: PageContext, interaction: string) => refusedPage(ctx, { href: ownPath(interaction), label: text(ctx.lang).backToRequest });
  const consentPage = <S extends 200 | 400>(status: S, ctx: PageContext, screen: Screen, form?: { error: string; values: DecisionForm }) =>
    pageReply(status, {
      ...ctx,
      title: text(ctx.lang).title(screen.app.name),
      body: consentBody(ctx, screen, form),
      formTargets: [...ctx.formTargets, ...formTargetOf(screen.pending.redirectUri)],
    });

  /** The screen of a waiting request for the signed-in person, or null when the request is gone. */
  async function screenOf(interaction: string, patientId: string): Promise<Screen | null> {
    const pending = await pendingAuthorization(db, interaction);
    if (!pending) return null;
    const app = await findAppForPatients(db, pending.appId);
    if (!app) return null;
    const [person] = await patientSummaries(db, [patientId]);
    // A launch has chosen for whom already; otherwise a guardian chooses among their children.
    const launchedFor = pending.launch && pending.launch.patientId !== patientId ? [pending.launch.patientId] : null;
    const children = await patientSummaries(db, launchedFor ?? (pending.launch ? [] : await childrenOf(db, patientId)));
    return { interaction, pending, app, offers: offersOf(pending, app), person: person ?? { id: patientId, name: patientId, birthDate: undefined }, children };
  }

  return {
    async showAuthorization({ request, query }) {
      const ctx = await pageContext(deps, request);
      if (!ctx.session) {
        if (!(await pendingAuthorization(db, query.interaction))) return expired(ctx);
        return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(ownPath(query.interaction))}`);
      }
      // Opened from the person's space and already authorized for this patient: back to the app at once.
      const covered = await finishCoveredLaunch(db, config, query.interaction, ctx.session.patientId);
      if (covered) return seeOther(covered);
      const screen = await screenOf(query.interaction, ctx.session.patientId);
      if (!screen) return expired(ctx);
      if (screen.pending.launch && screen.pending.launch.actorId !== ctx.session.patientId) return otherPerson(ctx);
      return consentPage(200, ctx, screen);
    },

    async decideAuthorization({ request, body }) {
      const ctx = await pageContext(deps, request);
      const t = text(ctx.lang);
      if (!ownForm(ctx, request, deps.issuerOf(request), body.csrf_token)) return refused(ctx, body.interaction);
      const back = (location: string) => seeOther(location);
      if (body.decision === 'refuse') {
        const location = await finishAuthorization(db, config, body.interaction, { approved: false, error: 'access_denied', description: 'the patient refused' });
        return location ? back(location) : expired(ctx);
      }
      const screen = await screenOf(body.interaction, ctx.session.patientId);
      if (!screen) return expired(ctx);
      const { launch } = screen.pending;
      if (launch && launch.actorId !== ctx.session.patientId) return otherPerson(ctx);
      const again = (error: string) => consentPage(400, ctx, screen, { error, values: body });

      // Only permissions of this request can be ticked; required ones are part of any approval.
      const ticked = new Set(Object.entries(body).flatMap(([name, value]) => (name.startsWith('grant_') && typeof value === 'string' ? [value] : [])));
      const offered = new Set(screen.offers.map((offer) => offer.value));
      if ([...ticked].some((value) => !offered.has(value))) return again(t.unknownScope);
      const chosen = screen.offers.filter((offer) => offer.required || ticked.has(offer.value));
      if (chosen.length === 0 && screen.offers.length > 0) return again(t.noneChosen);

      const forWhom = body.for ?? launch?.patientId ?? ctx.session.patientId;
      if (launch && forWhom !== launch.patientId) return again(t.notGuardian);
      if (forWhom !== ctx.session.patientId && !(await mayActFor(db, ctx.session.patientId, forWhom))) return again(t.notGuardian);

      const offline = hasScope(screen.pending.scopes, 'offline_access');
      const duration: Duration = offline ? (body.duration ?? DEFAULT_DURATION) : 'once';
      // A one-time access gets no refresh token: offline_access goes with any longer duration.
      const context = screen.pending.scopes.context.filter((scope) => scope !== 'offline_access' || duration !== 'once');
      const scopes: ScopeSet = scopeSet([...context.map((scope) => ({ kind: 'context', scope }) as const), ...chosen.map((offer) => offer.scope)]);
      const decision = await approveFor(db, { actorId: ctx.session.patientId, patientId: forWhom, scopes });
      const location = await finishAuthorization(db, config, body.interaction, decision.approved ? { ...decision, expiresAt: grantEnd(duration) } : decision);
      return location ? back(location) : expired(ctx);
    },
  };
}

function consentBody(ctx: PageContext, screen: Screen, form?: { error: string; values: DecisionForm }): string {
  const t = text(ctx.lang);
  const lang: Lang = ctx.lang;
  const { app, pending, offers } = screen;
  const values = form?.values;
  const ticked = values ? new Set(Object.entries(values).flatMap(([name, value]) => (name.startsWith('grant_') ? [String(value)] : []))) : null;

  const launchedForChild = pending.launch && pending.launch.patientId !== screen.person.id ? screen.children[0] : undefined;
  // Whose record the permissions are about: the child's when launched for one; the one chosen
  // below when the guardian chooses (no "vos" then); the patient's own otherwise.
  const recordOf = launchedForChild ? launchedForChild.name : screen.children.length ? '' : undefined;
  const forWhom = launchedForChild
    ? `<p><strong>${escapeHtml(t.launchedFor(launchedForChild.name))}</strong></p><input type="hidden" name="for" value="${escapeHtml(launchedForChild.id)}">`
    : screen.children.length
    ? fieldset(t.forWhomLegend, [
        radio({ name: 'for', value: screen.person.id, id: 'for-self', label: t.forSelf(screen.person.name), checked: !values?.for || values.for === screen.person.id }),
        ...screen.children.map((child, i) =>
          radio({ name: 'for', value: child.id, id: `for-${i}`, label: t.forChild(child.name, child.birthDate ? t.born(formatCalendarDate(lang, child.birthDate)) : ''), checked: values?.for === child.id }),
        ),
      ])
    : '';

  const permissions = offers.length
    ? fieldset(
        t.permissionsLegend,
        offers.map((offer, i) => {
          const why = offer.justification ? `${t.why} ${offer.justification}` : t.noJustification;
          // A required permission is shown ticked and cannot be unticked; it is added on approval.
          return checkbox({
            id: `grant-${i}`,
            label: describeResourceScope(offer.scope, lang, recordOf).join(' · '),
            hintHtml: `${escapeHtml(why)}${offer.required ? `<br><strong>${escapeHtml(t.required)}</strong>` : ''}`,
            ...(offer.required ? { checked: true, disabled: true } : { name: `grant_${i}`, value: offer.value, checked: !ticked || ticked.has(offer.value) }),
          });
        }),
        { hintHtml: offers.some((offer) => !offer.required) ? escapeHtml(t.permissionsHint) : undefined },
      )
    : '';

  // What comes with any access, as the catalogue says too (permissionChoice); offline_access is the duration below.
  const context = pending.scopes.context.filter((scope) => permissionChoice(scope, false) === 'always').map((scope) => describeContextScope(scope, lang));
  const also = context.length ? `<p><strong>${escapeHtml(t.alsoLegend)}${escapeHtml(t.colon)}</strong></p><ul>${[...new Set(context)].map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>` : '';

  const offline = hasScope(pending.scopes, 'offline_access');
  const chosenDuration = values?.duration ?? DEFAULT_DURATION;
  const duration = offline
    ? fieldset(
        t.durationLegend,
        (
          [
            ['once', t.once],
            ['3-months', t['3-months'](formatDate(lang, grantEnd('3-months')!))],
            ['1-year', t['1-year'](formatDate(lang, grantEnd('1-year')!))],
            ['until-withdrawn', t['until-withdrawn']],
          ] as const
        ).map(([value, label]) => radio({ name: 'duration', value, id: `duration-${value}`, label, checked: chosenDuration === value })),
      )
    : alert('info', `<p>${escapeHtml(t.onceOnly)}</p>`);

  const csrf = `<input type="hidden" name="csrf_token" value="${escapeHtml(ctx.session?.csrfToken ?? '')}">`;
  return `<h1>${escapeHtml(t.title(app.name))}</h1>
${form ? alert('error', `<p>${escapeHtml(form.error)}</p>`, { title: t.errorTitle, role: 'alert' }) : ''}
${card(`${appIdentity(app, lang, { level: 2 })}
<p><a href="${escapeHtml(app.privacyPolicyUrl)}" rel="noopener noreferrer">${escapeHtml(t.privacy)}</a></p>`, { tag: 'section', label: app.name })}
<p>${escapeHtml(launchedForChild ? t.introChild(app.name, launchedForChild.name) : screen.children.length ? t.introChoice(app.name) : t.intro(app.name))}</p>
<form method="post" action="/patient/authorize">
<input type="hidden" name="interaction" value="${escapeHtml(screen.interaction)}">${csrf}
${forWhom}
${permissions}
${also}
${duration}
<p class="muted">${escapeHtml(t.withdrawAnyTime)}</p>
<div class="actions">${button(t.approve, { name: 'decision', value: 'approve' })} ${button(t.refuse, { kind: 'secondary', name: 'decision', value: 'refuse' })}</div>
</form>`;
}
