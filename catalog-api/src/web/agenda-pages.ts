// "Mon agenda": the person's appointments and those of the children they act for. First a
// reminder of those in the next two days, with what the patient should know or do; then every
// appointment to come, with whom, where, its status and the app that added it (or "your care
// team" for what the record received from elsewhere); then the cancelled ones with their reason,
// and the past ones of the last year. Appointments entered in error are not shown.
import type { components } from '@mes/openapi';
import type { HandlerMap } from '../core/operations.js';
import { appsForPatients, type AppForPatients } from '../modules/catalog/index.js';
import { agendaOf, type AgendaEntry, type PatientSummary } from '../modules/records/index.js';
import { catalogueAppPath } from './app-summary.js';
import { alert, badge, button, card, selectField, type Tone } from './components.js';
import { escapeHtml } from './html.js';
import { formatDate, formatDateTime, formatTime, messages, type Lang } from './i18n.js';
import { pageReply, refusedPage, seeOther } from './layout.js';
import { householdOf, pageContext, type PageDeps } from './page-context.js';

type Appointment = components['schemas']['Appointment'];
type Status = Appointment['status'];

const AGENDA = '/patient/agenda';
/** Appointments starting within this much time are reminded at the top of the page. */
export const REMINDER_WINDOW_MS = 48 * 3_600_000;
/** How far back the past appointments go. */
const PAST_MS = 365 * 86_400_000;
/** At most this many appointments per page (a year back and everything ahead). */
const LIMIT = 500;

const text = messages({
  fr: {
    title: 'Mon agenda',
    intro: 'Vos rendez-vous médicaux, et ceux des enfants dont vous êtes le représentant légal : ceux que vos professionnels de santé ont transmis à votre dossier et ceux que vous avez pris dans une application connectée.',
    reminders: 'Rappels',
    reminderTitle: (count: number) => (count > 1 ? `${count} rendez-vous dans les deux jours` : 'Un rendez-vous dans les deux jours'),
    upcoming: 'À venir',
    noUpcoming: 'Aucun rendez-vous à venir.',
    cancelled: 'Annulés',
    past: 'Passés (les douze derniers mois)',
    noPast: 'Aucun rendez-vous passé.',
    with: 'Avec',
    forChild: (name: string) => `Pour ${name}`,
    addedBy: 'Ajouté par l’application',
    addedByCareTeam: 'Transmis par votre équipe de soins',
    instruction: 'À savoir',
    reason: 'Motif de l’annulation',
    until: (end: string) => `jusqu’à ${end}`,
    unscheduled: 'Date à fixer',
    status: {
      proposed: 'Proposé',
      pending: 'En attente de confirmation',
      booked: 'Confirmé',
      arrived: 'Arrivé',
      'checked-in': 'Enregistré',
      fulfilled: 'Honoré',
      cancelled: 'Annulé',
      noshow: 'Non honoré',
      'entered-in-error': 'Saisi par erreur',
      waitlist: 'Liste d’attente',
    } satisfies Record<Status, string>,
    everyone: 'Tout le monde',
    show: 'Afficher l’agenda de',
    yourself: 'vous',
    showButton: 'Afficher',
  },
  en: {
    title: 'My agenda',
    intro: 'Your medical appointments, and those of the children you are the legal guardian of: those your care professionals sent to your record and those you booked in a connected app.',
    reminders: 'Reminders',
    reminderTitle: (count: number) => (count > 1 ? `${count} appointments within two days` : 'An appointment within two days'),
    upcoming: 'Upcoming',
    noUpcoming: 'No upcoming appointment.',
    cancelled: 'Cancelled',
    past: 'Past (the last twelve months)',
    noPast: 'No past appointment.',
    with: 'With',
    forChild: (name: string) => `For ${name}`,
    addedBy: 'Added by the app',
    addedByCareTeam: 'Sent by your care team',
    instruction: 'Good to know',
    reason: 'Reason for cancelling',
    until: (end: string) => `until ${end}`,
    unscheduled: 'Date to be set',
    status: {
      proposed: 'Proposed',
      pending: 'Waiting for confirmation',
      booked: 'Confirmed',
      arrived: 'Arrived',
      'checked-in': 'Checked in',
      fulfilled: 'Attended',
      cancelled: 'Cancelled',
      noshow: 'Missed',
      'entered-in-error': 'Entered in error',
      waitlist: 'Waiting list',
    },
    everyone: 'Everyone',
    show: 'Show the agenda of',
    yourself: 'you',
    showButton: 'Show',
  },
});

const tone: Partial<Record<Status, Tone>> = { booked: 'ok', pending: 'warn', proposed: 'warn', cancelled: 'danger', noshow: 'danger' };

/** Who or what the appointment is with: every participant but the patient, by name or by role. */
function withWhom(appointment: Appointment): string[] {
  return (appointment.participant ?? [])
    .filter((participant) => !participant.actor?.reference?.startsWith('Patient/'))
    .map((participant) => participant.actor?.display ?? participant.type?.[0]?.text ?? participant.type?.[0]?.coding?.[0]?.display ?? participant.actor?.reference ?? '')
    .filter((name) => name !== '');
}

/** What the appointment is: its description, else its service or type. */
const whatOf = (appointment: Appointment): string =>
  appointment.description ?? appointment.serviceType?.[0]?.text ?? appointment.appointmentType?.text ?? appointment.appointmentType?.coding?.[0]?.display ?? '';

const conceptText = (concept: components['schemas']['FhirCodeableConcept'] | undefined) => concept?.text ?? concept?.coding?.[0]?.display ?? concept?.coding?.[0]?.code;

interface Shown extends AgendaEntry {
  app: AppForPatients | undefined;
  forWhom: PatientSummary | null;
}

/** When: "10 décembre 2026 à 09:30, jusqu’à 10:00" (the end's date only when it is another day). */
function when(appointment: Appointment, lang: Lang): string {
  const t = text(lang);
  if (!appointment.start) return t.unscheduled;
  const start = new Date(appointment.start);
  if (!appointment.end) return formatDateTime(lang, start);
  const end = new Date(appointment.end);
  const sameDay = formatDate(lang, start) === formatDate(lang, end);
  const endText = sameDay ? formatTime(lang, end) : formatDateTime(lang, end);
  return `${formatDateTime(lang, start)}, ${t.until(endText)}`;
}

function entryCard(entry: Shown, lang: Lang, options: { headingLevel: 3 | 4 }): string {
  const t = text(lang);
  const { appointment, app } = entry;
  const level = options.headingLevel;
  const who = withWhom(appointment);
  const source = entry.sourceAppId
    ? `<p>${escapeHtml(t.addedBy)} ${app ? `<a href="${escapeHtml(catalogueAppPath(app.id))}">${escapeHtml(app.name)}</a>` : escapeHtml(entry.sourceAppId)}</p>`
    : `<p>${escapeHtml(t.addedByCareTeam)}</p>`;
  const cancelReason = appointment.status === 'cancelled' && conceptText(appointment.cancelationReason) ? `<p>${escapeHtml(t.reason)} : ${escapeHtml(conceptText(appointment.cancelationReason)!)}</p>` : '';
  const instruction = appointment.patientInstruction ? `<p><strong>${escapeHtml(t.instruction)} :</strong> ${escapeHtml(appointment.patientInstruction)}</p>` : '';
  return card(`<h${level}>${escapeHtml(when(appointment, lang))}</h${level}>
<p>${badge(tone[appointment.status] ?? 'ok', t.status[appointment.status])}</p>
${entry.forWhom ? `<p><strong>${escapeHtml(t.forChild(entry.forWhom.name))}</strong></p>` : ''}${whatOf(appointment) ? `<p>${escapeHtml(whatOf(appointment))}</p>` : ''}
${who.length ? `<p>${escapeHtml(t.with)} : ${escapeHtml(who.join(', '))}</p>` : ''}
${instruction}${cancelReason}${source}`);
}

/** The page's sections from the entries, at `now`. */
export function agendaSections(entries: readonly Shown[], now: Date) {
  const startOf = (entry: Shown) => (entry.appointment.start ? new Date(entry.appointment.start).getTime() : Number.POSITIVE_INFINITY);
  const shown = entries.filter((entry) => entry.appointment.status !== 'entered-in-error');
  const ahead = shown.filter((entry) => startOf(entry) >= now.getTime() || (!entry.appointment.start && entry.appointment.status !== 'cancelled'));
  const upcoming = ahead.filter((entry) => entry.appointment.status !== 'cancelled');
  return {
    reminders: upcoming.filter((entry) => ['booked', 'pending'].includes(entry.appointment.status) && startOf(entry) - now.getTime() <= REMINDER_WINDOW_MS),
    upcoming,
    cancelled: ahead.filter((entry) => entry.appointment.status === 'cancelled'),
    past: shown.filter((entry) => startOf(entry) < now.getTime()).reverse(),
  };
}

export function agendaPageHandlers(deps: PageDeps): HandlerMap<'showAgenda'> {
  const { db } = deps;
  return {
    async showAgenda({ request, query }) {
      const ctx = await pageContext(deps, request);
      if (!ctx.session) return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(query.for ? `${AGENDA}?for=${query.for}` : AGENDA)}`);
      const self = ctx.session.patientId;
      const { ids: people, children: byId } = await householdOf(db, self);
      if (query.for !== undefined && !people.includes(query.for)) {
        return refusedPage(ctx, { href: AGENDA, label: ctx.lang === 'fr' ? 'Revenir à mon agenda' : 'Back to my agenda' });
      }
      const now = new Date();
      const entries = await agendaOf(db, query.for ? [query.for] : people, new Date(now.getTime() - PAST_MS), LIMIT);
      const apps = await appsForPatients(db, [...new Set(entries.flatMap((entry) => (entry.sourceAppId ? [entry.sourceAppId] : [])))]);
      const shown: Shown[] = entries.map((entry) => ({
        ...entry,
        app: entry.sourceAppId ? apps.get(entry.sourceAppId) : undefined,
        forWhom: entry.patientId === self ? null : (byId.get(entry.patientId) ?? { id: entry.patientId, name: entry.patientId, birthDate: undefined }),
      }));
      const t = text(ctx.lang);
      const sections = agendaSections(shown, now);
      const list = (items: Shown[], level: 3 | 4 = 3) => `<ul class="cards">${items.map((entry) => entryCard(entry, ctx.lang, { headingLevel: level })).join('\n')}</ul>`;
      const reminders = sections.reminders.length
        ? alert('info', list(sections.reminders, 4), { title: t.reminderTitle(sections.reminders.length), role: 'status', headingLevel: 3 })
        : '';
      const options = [`<option value="">${escapeHtml(t.everyone)}</option>`, ...people.map((id) => `<option value="${escapeHtml(id)}"${query.for === id ? ' selected' : ''}>${escapeHtml(id === self ? t.yourself : (byId.get(id)?.name ?? id))}</option>`)];
      // A guardian chooses whose agenda to see; without children there is no choice to make.
      const filter = byId.size
        ? `<form method="get" action="${AGENDA}">${selectField({ id: 'agenda-for', name: 'for', label: t.show, options: options.join('') })}<div class="actions">${button(t.showButton, { kind: 'secondary' })}</div></form>`
        : '';
      return pageReply(200, {
        ...ctx,
        title: t.title,
        section: 'agenda',
        body: `<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.intro)}</p>
${filter}
${reminders ? `<h2>${escapeHtml(t.reminders)}</h2>\n${reminders}` : ''}
<h2>${escapeHtml(t.upcoming)}</h2>
${sections.upcoming.length ? list(sections.upcoming) : `<p>${escapeHtml(t.noUpcoming)}</p>`}
${sections.cancelled.length ? `<h2>${escapeHtml(t.cancelled)}</h2>\n${list(sections.cancelled)}` : ''}
<h2>${escapeHtml(t.past)}</h2>
${sections.past.length ? list(sections.past) : `<p>${escapeHtml(t.noPast)}</p>`}`,
      });
    },
  };
}
