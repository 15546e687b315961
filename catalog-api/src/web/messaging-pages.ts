// "Ma messagerie": the secure messages between a person (and the children they act for) and the
// care teams behind their apps. One conversation per app and person; the messages oldest first,
// their files to download (never rendered here), and a form to answer while the app's access lets
// it read messages. When the access ends (withdrawn, expired, the app suspended), both directions
// stop at once: the app's tokens fail, and the form is gone (a post is refused).
import type { FastifyRequest } from 'fastify';
import type { components } from '@mes/openapi';
import type { AppConfig } from '../core/config.js';
import type { HandlerMap } from '../core/operations.js';
import type { Db } from '../core/store/db.js';
import { appsForPatients } from '../modules/catalog/index.js';
import { enqueueResourceEvent } from '../modules/notifications/index.js';
import { connectedApps } from '../modules/consent/index.js';
import { allows, grantedScopes, type GrantSummary } from '../modules/oauth/index.js';
import { conversationMessage, conversationMessages, conversationsOf, insertResource, messageFromPatient } from '../modules/records/index.js';
import { CUT_OFF } from './app-summary.js';
import { alert, button, card } from './components.js';
import { escapeHtml } from './html.js';
import { formatDateTime, messages, type Lang } from './i18n.js';
import { pageReply, refusedPage, seeOther } from './layout.js';
import { householdOf, ownForm, pageContext, type PageContext } from './page-context.js';
import type { PatientSessions } from './patient-session.js';

type Communication = components['schemas']['Communication'];
type MessagingOperations = 'showMessages' | 'showConversation' | 'sendMessage' | 'downloadMessageAttachment';

const MESSAGES = '/patient/messages';
/**
 * The conversation of what the care team sent through the national secure health messaging, not
 * through an app (its messages belong to no app): read on these pages, answered from there.
 */
export const CARE_TEAM = 'equipe-de-soins';
/** The app a conversation's path names: null for the care team's own. */
const sourceOf = (appId: string) => (appId === CARE_TEAM ? null : appId);
/** The most recent messages a conversation page shows. */
const CONVERSATION_LIMIT = 200;

export interface MessagingPageDeps {
  db: Db;
  config: AppConfig;
  sessions: PatientSessions;
  issuerOf: (request: FastifyRequest) => string;
}

const text = messages({
  fr: {
    title: 'Ma messagerie',
    intro: 'Vos échanges sécurisés avec les équipes de soins des applications que vous avez autorisées à lire vos messages, et ceux des enfants dont vous êtes le représentant légal.',
    none: 'Aucune conversation pour l’instant. Une application que vous autorisez à lire vos messages peut vous écrire, et vous pouvez lui écrire ici.',
    open: (name: string) => `Ouvrir la conversation avec ${name}`,
    forChild: (name: string) => `Pour ${name}`,
    count: (n: number) => (n > 1 ? `${n} messages` : n === 1 ? 'Un message' : 'Aucun message'),
    lastOn: (when: string) => `Dernier message le ${when}`,
    conversation: (name: string) => `Conversation avec ${name}`,
    you: 'Vous',
    careTeam: (name: string) => `L’équipe de soins de ${name}`,
    ownCareTeam: 'votre équipe de soins',
    careTeamNote: 'Ces messages viennent de vos professionnels de santé, par la messagerie sécurisée de santé : répondez-leur depuis leur messagerie ou à votre prochain rendez-vous.',
    file: 'Fichier',
    download: (title: string, size: string) => `Télécharger ${title} (${size})`,
    reply: 'Votre message',
    replyHint: '10 000 caractères au plus. L’équipe de soins le lit dans l’application.',
    send: 'Envoyer',
    sent: 'Votre message a été envoyé.',
    closed: 'L’accès de cette application à votre dossier a pris fin, ou ne lui permet pas de lire vos messages : vous ne pouvez plus lui écrire, et elle ne peut plus vous écrire.',
    back: 'Revenir à ma messagerie',
    empty: 'Aucun message dans cette conversation.',
    noSuchConversation: 'Aucune conversation avec cette application',
    emptyMessage: 'Écrivez votre message avant de l’envoyer.',
  },
  en: {
    title: 'My messages',
    intro: 'Your secure exchanges with the care teams of the apps you allowed to read your messages, and those of the children you are the legal guardian of.',
    none: 'No conversation yet. An app you allow to read your messages can write to you, and you can write to it here.',
    open: (name: string) => `Open the conversation with ${name}`,
    forChild: (name: string) => `For ${name}`,
    count: (n: number) => (n > 1 ? `${n} messages` : n === 1 ? 'One message' : 'No message'),
    lastOn: (when: string) => `Last message on ${when}`,
    conversation: (name: string) => `Conversation with ${name}`,
    you: 'You',
    careTeam: (name: string) => `The care team of ${name}`,
    ownCareTeam: 'your care team',
    careTeamNote: 'These messages come from your health professionals, through the secure health messaging: answer them from their messaging or at your next appointment.',
    file: 'File',
    download: (title: string, size: string) => `Download ${title} (${size})`,
    reply: 'Your message',
    replyHint: '10,000 characters at most. The care team reads it in the app.',
    send: 'Send',
    sent: 'Your message was sent.',
    closed: 'This app’s access to your record has ended, or does not let it read your messages: you can no longer write to it, and it can no longer write to you.',
    back: 'Back to my messages',
    empty: 'No message in this conversation.',
    noSuchConversation: 'No conversation with this app',
    emptyMessage: 'Write your message before sending it.',
  },
});

/** Whether a grant lets its app read the messages of its patient now: the conversation is open both ways. */
const opensConversation = (grant: GrantSummary) =>
  grant.active && !CUT_OFF.includes(grant.appCertificationStatus) && allows(grantedScopes(grant.scope), 'Communication', 'r');

const sizeOf = (bytes: number, lang: Lang) =>
  bytes < 1024 ? `${bytes} ${lang === 'fr' ? 'o' : 'B'}` : bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} ${lang === 'fr' ? 'Ko' : 'KB'}` : `${(bytes / 1024 / 1024).toFixed(1)} ${lang === 'fr' ? 'Mo' : 'MB'}`;

/** A file's name to save it as: its title, or the message's, in safe characters, with its type's extension. */
function fileName(title: string | undefined, contentType: string, fallback: string): string {
  const extension = { 'application/pdf': 'pdf', 'image/png': 'png', 'image/jpeg': 'jpg' }[contentType] ?? 'bin';
  const base = (title ?? fallback).replace(/\.[A-Za-z0-9]{1,4}$/, '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || fallback;
  return `${base}.${extension}`;
}

export function messagingPageHandlers(deps: MessagingPageDeps): HandlerMap<MessagingOperations> {
  const { db } = deps;

  /** Resolves `for` against the people the person acts for: the one chosen, or a refusal. */
  async function whose(personId: string, chosen: string | undefined) {
    const people = await householdOf(db, personId);
    const patientId = chosen ?? personId;
    return { people, patientId, allowed: people.ids.includes(patientId) };
  }

  const refused = (ctx: PageContext) => refusedPage(ctx, { href: MESSAGES, label: text(ctx.lang).back });
  const conversationPath = (appId: string, patientId: string, self: string) =>
    `${MESSAGES}/${encodeURIComponent(appId)}${patientId === self ? '' : `?for=${encodeURIComponent(patientId)}`}`;

  return {
    async showMessages({ request, query }) {
      const ctx = await pageContext(deps, request);
      if (!ctx.session) return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(MESSAGES)}`);
      const { people, allowed } = await whose(ctx.session.patientId, query.for);
      if (!allowed) return refused(ctx);
      const ids = query.for ? [query.for] : people.ids;
      const [conversations, grants] = await Promise.all([conversationsOf(db, ids), connectedApps(db, ctx.session.patientId)]);
      // An app the person may write to before any message: an open conversation of its own.
      const open = grants.filter((grant) => ids.includes(grant.patientId) && opensConversation(grant));
      const entries = new Map(conversations.map((conversation) => [`${conversation.patientId}|${conversation.appId}`, conversation]));
      for (const grant of open) {
        const key = `${grant.patientId}|${grant.appId}`;
        if (!entries.has(key)) entries.set(key, { patientId: grant.patientId, appId: grant.appId, messages: 0, last: null as never });
      }
      const apps = await appsForPatients(db, [...new Set([...entries.values()].flatMap((entry) => (entry.appId ? [entry.appId] : [])))]);
      const t = text(ctx.lang);
      const self = ctx.session.patientId;
      const items = [...entries.values()].map((entry) => {
        const name = entry.appId ? (apps.get(entry.appId)?.name ?? entry.appId) : t.ownCareTeam;
        const child = entry.patientId === self ? null : people.children.get(entry.patientId);
        const last = entry.last?.resourceType === 'Communication' && entry.last.sent ? `<p>${escapeHtml(t.lastOn(formatDateTime(ctx.lang, new Date(entry.last.sent))))}</p>` : '';
        return card(`<h2 class="fr-h4"><a href="${escapeHtml(conversationPath(entry.appId ?? CARE_TEAM, entry.patientId, self))}">${escapeHtml(t.conversation(name))}</a></h2>
${child ? `<p><strong>${escapeHtml(t.forChild(child.name))}</strong></p>` : ''}<p>${escapeHtml(t.count(entry.messages))}</p>${last}`);
      });
      return pageReply(200, {
        ...ctx,
        title: t.title,
        section: 'messages',
        body: `<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.intro)}</p>
${items.length ? `<ul class="cards">${items.join('\n')}</ul>` : `<p>${escapeHtml(t.none)}</p>`}`,
      });
    },

    async showConversation({ request, params, query }) {
      const ctx = await pageContext(deps, request);
      const own = `${MESSAGES}/${encodeURIComponent(params.appId)}${query.for ? `?for=${encodeURIComponent(query.for)}` : ''}`;
      if (!ctx.session) return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(own)}`);
      const { people, patientId, allowed } = await whose(ctx.session.patientId, query.for);
      if (!allowed) return refused(ctx);
      const [stored, grants, apps] = await Promise.all([
        conversationMessages(db, patientId, sourceOf(params.appId), CONVERSATION_LIMIT),
        connectedApps(db, ctx.session.patientId),
        appsForPatients(db, params.appId === CARE_TEAM ? [] : [params.appId]),
      ]);
      const grant = grants.find((g) => g.appId === params.appId && g.patientId === patientId && opensConversation(g));
      const t = text(ctx.lang);
      const careTeam = params.appId === CARE_TEAM;
      const app = careTeam ? { name: t.ownCareTeam } : apps.get(params.appId);
      if (!app || (stored.length === 0 && !grant)) {
        return pageReply(404, { ...ctx, title: t.noSuchConversation, section: 'messages', body: `<h1>${escapeHtml(t.noSuchConversation)}</h1><p><a href="${MESSAGES}">${escapeHtml(t.back)}</a></p>` });
      }
      const child = patientId === ctx.session.patientId ? null : people.children.get(patientId);
      const list = stored.map(({ resource }) => messageCard(resource as Communication, params.appId, app.name, patientId, query.for, ctx.lang));
      const csrf = `<input type="hidden" name="csrf_token" value="${escapeHtml(ctx.session.csrfToken)}">`;
      const forField = query.for ? `<input type="hidden" name="for" value="${escapeHtml(query.for)}">` : '';
      const form = careTeam
        ? `<p>${escapeHtml(t.careTeamNote)}</p>`
        : grant
        ? `<form method="post" action="${escapeHtml(`${MESSAGES}/${encodeURIComponent(params.appId)}`)}">${csrf}${forField}
<div class="fr-input-group"><label class="fr-label" for="message-text">${escapeHtml(t.reply)}<span class="fr-hint-text" id="message-text-hint">${escapeHtml(t.replyHint)}</span></label>
<textarea class="fr-input" id="message-text" name="text" rows="5" maxlength="10000" required aria-describedby="message-text-hint"></textarea></div>
<div class="actions">${button(t.send)}</div></form>`
        : alert('info', `<p>${escapeHtml(t.closed)}</p>`);
      return pageReply(200, {
        ...ctx,
        title: t.conversation(app.name),
        section: 'messages',
        body: `<h1>${escapeHtml(t.conversation(app.name))}</h1>
${query.notice === 'sent' ? alert('success', `<p>${escapeHtml(t.sent)}</p>`, { role: 'status' }) : ''}
${child ? `<p><strong>${escapeHtml(t.forChild(child.name))}</strong></p>` : ''}
${list.length ? `<ul class="cards">${list.join('\n')}</ul>` : `<p>${escapeHtml(t.empty)}</p>`}
${form}
<p><a href="${MESSAGES}">${escapeHtml(t.back)}</a></p>`,
      });
    },

    async sendMessage({ request, params, body }) {
      const ctx = await pageContext(deps, request);
      if (!ownForm(ctx, request, deps.issuerOf(request), body.csrf_token)) return refused(ctx);
      const { patientId, allowed } = await whose(ctx.session.patientId, body.for);
      if (!allowed) return refused(ctx);
      const grants = await connectedApps(db, ctx.session.patientId);
      const grant = grants.find((g) => g.appId === params.appId && g.patientId === patientId && opensConversation(g));
      // The app's access has ended (or never let it read messages): nothing is sent.
      if (!grant) return refused(ctx);
      const back = conversationPath(params.appId, patientId, ctx.session.patientId);
      if (body.text.trim() === '') {
        const t = text(ctx.lang);
        return pageReply(400, { ...ctx, title: t.emptyMessage, section: 'messages', body: `<h1>${escapeHtml(t.emptyMessage)}</h1><p><a href="${escapeHtml(back)}">${escapeHtml(t.conversation(grant.appName))}</a></p>` });
      }
      const [last] = (await conversationMessages(db, patientId, params.appId, 1)).map((stored) => stored.resource);
      const message = messageFromPatient({ patientId, appName: grant.appName, text: body.text, ...(last?.id ? { inResponseTo: last.id } : {}) });
      // The message and its notification to the app's subscriptions commit together.
      await db.transaction(async (tx) => {
        const stored = await insertResource(tx, { patientId, resource: message, sourceAppId: params.appId });
        await enqueueResourceEvent(tx, { patientId, resourceType: 'Communication', id: stored.resource.id!, interaction: 'create', appId: params.appId });
      });
      return seeOther(`${back}${back.includes('?') ? '&' : '?'}notice=sent`);
    },

    async downloadMessageAttachment({ request, params, query }) {
      const ctx = await pageContext(deps, request);
      const t = text(ctx.lang);
      if (!ctx.session) return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(`${MESSAGES}/${encodeURIComponent(params.appId)}`)}`);
      const { patientId, allowed } = await whose(ctx.session.patientId, query.for);
      if (!allowed) return refused(ctx);
      const stored = await conversationMessage(db, patientId, sourceOf(params.appId), params.messageId);
      const file = (stored?.resource as Communication | undefined)?.payload?.[params.part]?.contentAttachment;
      if (!file?.data) return pageReply(404, { ...ctx, title: t.noSuchConversation, section: 'messages', body: `<h1>${escapeHtml(t.file)}</h1><p><a href="${MESSAGES}">${escapeHtml(t.back)}</a></p>` });
      const name = fileName(file.title, file.contentType, `message-${params.messageId}-${params.part}`);
      return {
        status: 200,
        headers: {
          'content-type': file.contentType,
          'content-disposition': `attachment; filename="${name}"`,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'content-security-policy': "default-src 'none'; sandbox",
        },
        body: Buffer.from(file.data, 'base64'),
      };
    },
  };
}

/** One message: who wrote it and when, its text, its files to download. */
function messageCard(message: Communication, appId: string, appName: string, patientId: string, forPerson: string | undefined, lang: Lang): string {
  const t = text(lang);
  const fromPatient = message.sender?.reference === `Patient/${patientId}`;
  const who = fromPatient ? t.you : (message.sender?.display ?? t.careTeam(appName));
  const when = message.sent ? formatDateTime(lang, new Date(message.sent)) : '';
  const query = forPerson ? `?for=${encodeURIComponent(forPerson)}` : '';
  const parts = (message.payload ?? []).map((part, i) => {
    if (part.contentString !== undefined) return `<p>${escapeHtml(part.contentString).replace(/\r?\n/g, '<br>')}</p>`;
    const file = part.contentAttachment!;
    const href = `${MESSAGES}/${encodeURIComponent(appId)}/${encodeURIComponent(message.id!)}/files/${i}${query}`;
    const title = file.title ?? `${t.file} ${i + 1}`;
    return `<p><a class="fr-link" href="${escapeHtml(href)}" download>${escapeHtml(t.download(title, sizeOf(file.size ?? 0, lang)))}</a></p>`;
  });
  const topic = message.topic?.text ? `<p><strong>${escapeHtml(message.topic.text)}</strong></p>` : '';
  return card(`<h2 class="fr-h4">${escapeHtml(who)}${when ? ` — ${escapeHtml(when)}` : ''}</h2>
${topic}${parts.join('\n')}`);
}
