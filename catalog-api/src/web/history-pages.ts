// The patient's access history as a page (who read what of their record, and of their children's,
// when) with filters by app, period and person, pages of 50 with a keyset cursor, and the same list
// as a CSV file for a spreadsheet. Server-rendered, no scripts; the filters are a GET form.
import type { FastifyRequest } from 'fastify';
import type { HandlerMap } from '../core/operations.js';
import { decodeCursor, encodeCursor } from '../core/pagination.js';
import { appsInAccessHistory, listAccessHistory, type AccessInteraction, type RecordedAccess } from '../modules/audit/index.js';
import { childrenOf, patientSummaries } from '../modules/records/index.js';
import { escapeHtml } from './html.js';
import { alert, button, buttonLink, card, inputField, selectField } from './components.js';
import { formatDateTime, messages, type Lang } from './i18n.js';
import { pageReply, safeReturnPath, seeOther } from './layout.js';
import { pageContext, type PageContext, type PageDeps } from './page-context.js';

type HistoryOperations = 'showAccessHistory' | 'exportAccessHistory';

const PAGE = '/patient/history';
const CSV = '/patient/history.csv';
/** Entries on one page. */
export const PAGE_SIZE = 50;
/** Entries in one CSV file at most (the newest): about 2 MB, built in memory. */
export const EXPORT_LIMIT = 10_000;
/** Entries read per query while building the CSV file. */
const EXPORT_BATCH = 1_000;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isoDay = /^(\d{4})-(\d{2})-(\d{2})$/;

type Entry = RecordedAccess & { appName: string };
type Period = '7d' | '30d' | '12m';

const text = messages({
  fr: {
    title: 'Historique des accès',
    intro: 'Chaque fois qu’une application lit, recherche ou ajoute des données de votre dossier, ou du dossier d’un enfant dont vous êtes le représentant légal, c’est noté ici, avec l’heure (heure de Paris).',
    filters: 'Filtrer l’historique',
    app: 'Application',
    allApps: 'Toutes les applications',
    person: 'Pour qui',
    everyone: 'Vous et vos enfants',
    from: 'Du',
    to: 'Au (inclus)',
    apply: 'Afficher',
    quick: 'Période rapide',
    periods: { '7d': '7 derniers jours', '30d': '30 derniers jours', '12m': '12 derniers mois' } satisfies Record<Period, string>,
    reset: 'Effacer les filtres',
    download: 'Télécharger (CSV)',
    downloadNote: `Le fichier contient les accès correspondant aux filtres, au plus ${EXPORT_LIMIT.toLocaleString('fr-FR')} (les plus récents).`,
    caption: 'Accès à vos données, du plus récent au plus ancien',
    captionGuardian: 'Accès à vos données et à celles de vos enfants, du plus récent au plus ancien',
    when: 'Quand',
    who: 'Application',
    forWhom: 'Pour qui',
    what: 'Quoi',
    howMany: 'Combien',
    /** After a column's name, before its value. */
    colon: ' :',
    you: 'Vous',
    empty: 'Aucune application n’a encore accédé à ces données.',
    emptyFiltered: 'Aucun accès ne correspond à ces filtres.',
    pages: 'Pages de l’historique',
    older: 'Plus anciens',
    newest: 'Revenir aux plus récents',
    errorsTitle: 'Corrigez les filtres',
    badApp: 'Choisissez l’application dans la liste.',
    badFrom: 'La date de début n’est pas une date : saisissez-la au format AAAA-MM-JJ, par exemple 2026-03-01.',
    badTo: 'La date de fin n’est pas une date : saisissez-la au format AAAA-MM-JJ, par exemple 2026-03-31.',
    fromAfterTo: 'La date de début est après la date de fin : changez l’une des deux.',
    badPerson: 'Choisissez la personne dans la liste.',
    badCursor: 'Ce lien vers des accès plus anciens n’est plus valide : revenez aux plus récents.',
    things: {
      Patient: 'Identité et coordonnées',
      Observation: 'Mesures et résultats',
      Immunization: 'Vaccinations',
      AllergyIntolerance: 'Allergies',
      Condition: 'Antécédents et problèmes de santé',
      MedicationStatement: 'Traitements',
      DocumentReference: 'Documents',
      Appointment: 'Rendez-vous',
    } as Record<string, string>,
    interactions: { read: 'lecture', search: 'recherche', create: 'ajout', update: 'modification' } satisfies Record<AccessInteraction, string>,
    csvHeader: [
      'Date et heure (UTC, ISO 8601)',
      'Date et heure (heure de Paris)',
      'Application',
      'Identifiant de l’application',
      'Pour qui',
      'Identifiant du patient',
      'Données',
      'Type de ressource FHIR',
      'Action',
      'Nombre de ressources',
    ],
    /** Excel in French locales separates fields with semicolons (the comma is the decimal mark). */
    csvSeparator: ';',
  },
  en: {
    title: 'Access history',
    intro: 'Every time an app reads, searches or adds data of your record, or of the record of a child you are the legal guardian of, it is noted here, with the time (Paris time).',
    filters: 'Filter the history',
    app: 'App',
    allApps: 'All apps',
    person: 'For whom',
    everyone: 'You and your children',
    from: 'From',
    to: 'To (included)',
    apply: 'Show',
    quick: 'Quick period',
    periods: { '7d': 'Last 7 days', '30d': 'Last 30 days', '12m': 'Last 12 months' },
    reset: 'Clear the filters',
    download: 'Download (CSV)',
    downloadNote: `The file holds the accesses that match the filters, ${EXPORT_LIMIT.toLocaleString('en-GB')} at most (the newest).`,
    caption: 'Accesses to your data, newest first',
    captionGuardian: 'Accesses to your data and your children’s, newest first',
    when: 'When',
    who: 'App',
    forWhom: 'For whom',
    what: 'What',
    howMany: 'How many',
    colon: ':',
    you: 'You',
    empty: 'No app has accessed this data yet.',
    emptyFiltered: 'No access matches these filters.',
    pages: 'History pages',
    older: 'Older',
    newest: 'Back to the newest',
    errorsTitle: 'Correct the filters',
    badApp: 'Choose the app from the list.',
    badFrom: 'The start date is not a date: enter it as YYYY-MM-DD, for example 2026-03-01.',
    badTo: 'The end date is not a date: enter it as YYYY-MM-DD, for example 2026-03-31.',
    fromAfterTo: 'The start date is after the end date: change one of them.',
    badPerson: 'Choose the person from the list.',
    badCursor: 'This link to older accesses is no longer valid: go back to the newest.',
    things: {
      Patient: 'Identity and contact details',
      Observation: 'Measurements and results',
      Immunization: 'Vaccinations',
      AllergyIntolerance: 'Allergies',
      Condition: 'Medical history and health problems',
      MedicationStatement: 'Treatments',
      DocumentReference: 'Documents',
      Appointment: 'Appointments',
    },
    interactions: { read: 'read', search: 'search', create: 'addition', update: 'change' },
    csvHeader: [
      'Date and time (UTC, ISO 8601)',
      'Date and time (Paris time)',
      'App',
      'App id',
      'For whom',
      'Patient id',
      'Data',
      'FHIR resource type',
      'Action',
      'Number of resources',
    ],
    csvSeparator: ',',
  },
});

type Texts = ReturnType<typeof text>;

// --- Days in Paris time ---------------------------------------------------------------------

const parisClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** The wall-clock time in Paris of an instant, field by field. */
function parisFields(instant: Date): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(parisClock.formatToParts(instant).map((part) => [part.type, part.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const isoDate = (year: number, month: number, day: number) => new Date(Date.UTC(year, month - 1, day)).toISOString().slice(0, 10);

/** The instant a Paris day (YYYY-MM-DD) starts: midnight in Paris, whatever the summer time. */
function startOfParisDay(day: string): Date {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(year, month - 1, date);
  const offsetAt = (instant: number) => {
    const f = parisFields(new Date(instant));
    return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - Math.floor(instant / 1000) * 1000;
  };
  // Paris is never more than a few hours off UTC, and summer time changes at 2 or 3 a.m., so the
  // offset at "midnight minus the offset at midnight UTC" is the one of that midnight.
  return new Date(wall - offsetAt(wall - offsetAt(wall)));
}

const nextDay = (day: string) => {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  return isoDate(year, month, date + 1);
};

/** Today in Paris, YYYY-MM-DD. */
function parisToday(now = new Date()): string {
  const f = parisFields(now);
  return isoDate(f.year, f.month, f.day);
}

/** The first day of a quick period that ends today (today included). */
function periodStart(period: Period, today: string): string {
  const [year, month, day] = today.split('-').map(Number) as [number, number, number];
  if (period === '7d') return isoDate(year, month, day - 6);
  if (period === '30d') return isoDate(year, month, day - 29);
  return isoDate(year - 1, month, day + 1);
}

/** A calendar day typed or picked in the form, or null when it is not one. */
function validDay(value: string): string | null {
  const match = isoDay.exec(value);
  if (!match) return null;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  if (y < 1900 || isoDate(y, m, d) !== value) return null;
  return value;
}

/** "2026-03-01 11:05:09", Paris wall-clock time (what spreadsheets read as a date and time). */
function parisTimestamp(instant: Date): string {
  const f = parisFields(instant);
  return `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)} ${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`;
}

// --- Filters --------------------------------------------------------------------------------

interface RawFilters {
  app?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  period?: Period | undefined;
  for?: string | undefined;
  cursor?: string | undefined;
}

/** The filters as applied: a quick period turned into its days. */
interface Filters {
  app: string;
  from: string;
  to: string;
  person: string;
}

type FilterField = 'app' | 'from' | 'to' | 'for' | 'cursor';
interface FilterError {
  field: FilterField;
  message: string;
}

interface Checked {
  filters: Filters;
  errors: FilterError[];
  after?: { occurredAt: Date; patientId: string; seq: number } | undefined;
}

function checkFilters(raw: RawFilters, people: string[], t: Texts): Checked {
  const errors: FilterError[] = [];
  const app = (raw.app ?? '').trim();
  const person = (raw.for ?? '').trim();
  let from = (raw.from ?? '').trim();
  let to = (raw.to ?? '').trim();
  if (app && !uuid.test(app)) errors.push({ field: 'app', message: t.badApp });
  if (person && !people.includes(person)) errors.push({ field: 'for', message: t.badPerson });
  if (raw.period) {
    // The quick period's button was pressed: its days replace whatever the date fields held.
    to = parisToday();
    from = periodStart(raw.period, to);
  } else {
    if (from && !validDay(from)) errors.push({ field: 'from', message: t.badFrom });
    if (to && !validDay(to)) errors.push({ field: 'to', message: t.badTo });
    if (from && to && validDay(from) && validDay(to) && from > to) errors.push({ field: 'from', message: t.fromAfterTo });
  }
  let after: Checked['after'];
  if (raw.cursor) {
    try {
      const [occurredAt, patientId, seq] = decodeCursor(raw.cursor, ['string', 'string', 'number']) as [string, string, number];
      after = { occurredAt: new Date(occurredAt), patientId, seq };
      if (Number.isNaN(after.occurredAt.getTime()) || !Number.isSafeInteger(seq) || seq < 1) throw new Error('not a position of the history');
    } catch {
      errors.push({ field: 'cursor', message: t.badCursor });
    }
  }
  return { filters: { app, from, to, person }, errors, after };
}

/** The query string of the applied filters (empty ones left out), with a cursor when given. */
function filterQuery(filters: Filters, cursor?: string): string {
  const params = new URLSearchParams();
  if (filters.app) params.set('app', filters.app);
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  if (filters.person) params.set('for', filters.person);
  if (cursor) params.set('cursor', cursor);
  const query = params.toString();
  return query ? `?${query}` : '';
}

const filtered = (filters: Filters) => Boolean(filters.app || filters.from || filters.to || filters.person);

// --- The page -------------------------------------------------------------------------------

interface People {
  self: string;
  children: string[];
  /** Names by patient id. */
  names: Map<string, string>;
}

function personLabel(people: People, patientId: string, t: Texts): string {
  return patientId === people.self ? t.you : (people.names.get(patientId) ?? patientId);
}

function whatLabel(entry: Entry, t: Texts): { thing: string; action: string } {
  return { thing: t.things[entry.resourceType] ?? entry.resourceType, action: t.interactions[entry.interaction] };
}

function filterForm(t: Texts, view: { filters: Filters; errors: FilterError[]; apps: { id: string; name: string }[]; people: People }): string {
  const { filters, errors, apps, people } = view;
  const invalid = (field: FilterField) => (errors.some((error) => error.field === field) ? ' aria-invalid="true" aria-describedby="filter-errors"' : '');
  const option = (value: string, label: string, selected: boolean) =>
    `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
  const appOptions = [option('', t.allApps, !filters.app), ...apps.map((app) => option(app.id, app.name, app.id === filters.app))].join('');
  const select = (id: FilterField, label: string, options: string) =>
    selectField({ id, name: id, label, options, invalid: Boolean(invalid(id)), describedBy: 'filter-errors' });
  const date = (id: 'from' | 'to', label: string) =>
    inputField({ id, label, invalid: Boolean(invalid(id)), input: `<input class="fr-input" type="date" id="${id}" name="${id}" value="${escapeHtml(filters[id])}"${invalid(id)}>` });
  const personField = people.children.length
    ? `${select('for', t.person, [
        option('', t.everyone, !filters.person),
        option(people.self, t.you, filters.person === people.self),
        ...people.children.map((child) => option(child, people.names.get(child) ?? child, filters.person === child)),
      ].join(''))}\n`
    : '';
  // The quick periods are tags that submit the form with their period.
  const quick = (Object.keys(t.periods) as Period[])
    .map((period) => `<li><button class="fr-tag" name="period" value="${period}">${escapeHtml(t.periods[period])}</button></li>`)
    .join('\n');
  return card(
    `<form method="get" action="${PAGE}" aria-label="${escapeHtml(t.filters)}">
<div class="filters">
${select('app', t.app, appOptions)}
${personField}${date('from', t.from)}
${date('to', t.to)}
</div>
<div class="actions">${button(t.apply)}
<a href="${PAGE}">${escapeHtml(t.reset)}</a></div>
<div role="group" aria-label="${escapeHtml(t.quick)}"><ul class="fr-tags-group">
${quick}
</ul></div>
</form>`,
    { tag: 'div' },
  );
}

function historyTable(lang: Lang, t: Texts, entries: Entry[], people: People): string {
  const count = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB');
  const columns = [t.when, t.who, t.forWhom, t.what, t.howMany];
  // On a narrow screen each row is a block and each cell shows its column's name (data-label);
  // the ARIA roles keep the table a table for screen readers whatever its CSS display.
  const cell = (column: number, html: string) => `<td role="cell" data-label="${escapeHtml(columns[column]! + t.colon)}">${html}</td>`;
  const rows = entries
    .map((entry) => {
      const { thing, action } = whatLabel(entry, t);
      return `<tr role="row">${[
        cell(0, `<time datetime="${entry.occurredAt.toISOString()}">${escapeHtml(formatDateTime(lang, entry.occurredAt))}</time>`),
        cell(1, escapeHtml(entry.appName)),
        cell(2, escapeHtml(personLabel(people, entry.patientId, t))),
        cell(3, `${escapeHtml(thing)} (${escapeHtml(action)})`),
        cell(4, escapeHtml(count.format(entry.resourceCount))),
      ].join('')}</tr>`;
    })
    .join('\n');
  return `<div class="fr-table"><div class="fr-table__wrapper"><div class="fr-table__container"><div class="fr-table__content"><table class="stack" role="table">
<caption>${escapeHtml(people.children.length ? t.captionGuardian : t.caption)}</caption>
<thead role="rowgroup"><tr role="row">${columns.map((column) => `<th scope="col" role="columnheader">${escapeHtml(column)}</th>`).join('')}</tr></thead>
<tbody role="rowgroup">
${rows}
</tbody>
</table></div></div></div></div>`;
}

// --- The CSV file ---------------------------------------------------------------------------

/** Cells a spreadsheet would run as a formula (or whose leading control character hides one). */
const formulaStart = /^[=+\-@\t\r\n]/;

/** One CSV cell: defused if it could be a formula, then quoted as RFC 4180 says when it needs to be. */
export function csvCell(value: string): string {
  const safe = formulaStart.test(value) ? `'${value}` : value;
  return /[",;\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const csvLine = (cells: string[], separator: string) => `${cells.map(csvCell).join(separator)}\r\n`;

// --- Handlers -------------------------------------------------------------------------------

export function historyPageHandlers(deps: PageDeps): HandlerMap<HistoryOperations> {
  const { db } = deps;

  /** The person and the children they may act for, with names. */
  async function peopleOf(patientId: string): Promise<People> {
    const children = await childrenOf(db, patientId);
    const summaries = await patientSummaries(db, [patientId, ...children]);
    return { self: patientId, children, names: new Map(summaries.map((summary) => [summary.id, summary.name])) };
  }

  /** Where sign-in comes back to: the history page with the same query. */
  const signIn = (request: FastifyRequest) => {
    const query = request.url.indexOf('?');
    const back = safeReturnPath(`${PAGE}${query === -1 ? '' : request.url.slice(query)}`, PAGE);
    return seeOther(`/patient/sign-in?return_to=${encodeURIComponent(back)}`);
  };

  function page<S extends 200 | 400>(status: S, ctx: PageContext, t: Texts, content: { form: string; errors: FilterError[]; results: string }) {
    const errors = content.errors.length
      ? `${alert('error', `<ul>${content.errors.map((error) => `<li>${escapeHtml(error.message)}</li>`).join('')}</ul>`, { title: t.errorsTitle, role: 'alert', id: 'filter-errors' })}\n`
      : '';
    return pageReply(status, {
      ...ctx,
      title: t.title,
      section: 'history',
      body: `<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.intro)}</p>
${errors}${content.form}
${content.results}`,
    });
  }

  /** The page with the filters as typed and what to correct (400); nothing is read. */
  async function invalid(ctx: PageContext, t: Texts, raw: RawFilters, checked: Checked, people: People) {
    const apps = await appsInAccessHistory(db, [people.self, ...people.children]);
    // The fields keep what was sent (trimmed and bounded by the spec) so the person can correct it.
    const shown: Filters = { ...checked.filters, from: raw.period ? checked.filters.from : (raw.from ?? '').trim(), to: raw.period ? checked.filters.to : (raw.to ?? '').trim() };
    const form = filterForm(t, { filters: shown, errors: checked.errors, apps, people });
    const back = checked.errors.some((error) => error.field === 'cursor') ? `<p><a href="${PAGE}${escapeHtml(filterQuery(checked.filters))}">${escapeHtml(t.newest)}</a></p>` : '';
    return page(400, ctx, t, { form, errors: checked.errors, results: back });
  }

  /** The history query of the applied filters. */
  const historyQuery = (people: People, filters: Filters) => ({
    patientIds: filters.person ? [filters.person] : [people.self, ...people.children],
    appId: filters.app || undefined,
    since: filters.from ? startOfParisDay(filters.from) : undefined,
    until: filters.to ? startOfParisDay(nextDay(filters.to)) : undefined,
  });

  return {
    async showAccessHistory({ request, query }) {
      const ctx = await pageContext(deps, request);
      if (!ctx.session) return signIn(request);
      const t = text(ctx.lang);
      const people = await peopleOf(ctx.session.patientId);
      const checked = checkFilters(query, [people.self, ...people.children], t);
      if (checked.errors.length) return invalid(ctx, t, query, checked, people);
      const { filters } = checked;

      const [apps, { entries, more }] = await Promise.all([
        appsInAccessHistory(db, [people.self, ...people.children]),
        listAccessHistory(db, { ...historyQuery(people, filters), limit: PAGE_SIZE, after: checked.after }),
      ]);
      const form = filterForm(t, { filters, errors: [], apps, people });
      if (entries.length === 0) {
        const empty = `<p>${escapeHtml(filtered(filters) || checked.after ? t.emptyFiltered : t.empty)}</p>`;
        const back = checked.after ? `\n<p><a href="${PAGE}${escapeHtml(filterQuery(filters))}">${escapeHtml(t.newest)}</a></p>` : '';
        return page(200, ctx, t, { form, errors: [], results: empty + back });
      }
      const last = entries.at(-1)!;
      const links = [
        more ? `<a href="${PAGE}${escapeHtml(filterQuery(filters, encodeCursor([last.occurredAt.toISOString(), last.patientId, last.seq])))}" rel="next">${escapeHtml(t.older)}</a>` : '',
        checked.after ? `<a href="${PAGE}${escapeHtml(filterQuery(filters))}">${escapeHtml(t.newest)}</a>` : '',
      ].filter(Boolean);
      const download = `<div class="actions">${buttonLink(`${CSV}${filterQuery(filters)}`, t.download, { kind: 'secondary', download: true })}
<span class="muted">${escapeHtml(t.downloadNote)}</span></div>`;
      const nav = links.length ? `\n<nav class="actions" aria-label="${escapeHtml(t.pages)}">${links.join('\n')}</nav>` : '';
      return page(200, ctx, t, { form, errors: [], results: `${download}\n${historyTable(ctx.lang, t, entries, people)}${nav}` });
    },

    async exportAccessHistory({ request, query }) {
      const ctx = await pageContext(deps, request);
      if (!ctx.session) return signIn(request);
      const t = text(ctx.lang);
      const people = await peopleOf(ctx.session.patientId);
      const checked = checkFilters(query, [people.self, ...people.children], t);
      if (checked.errors.length) return invalid({ ...ctx, path: `${PAGE}${request.url.slice(CSV.length)}` }, t, query, checked, people);

      const base = historyQuery(people, checked.filters);
      const lines = [csvLine(t.csvHeader, t.csvSeparator)];
      let after: Checked['after'];
      let rows = 0;
      let truncated = false;
      // Newest first, a batch at a time, up to the cap; one more entry than the cap tells it was cut.
      for (;;) {
        const { entries, more } = await listAccessHistory(db, { ...base, limit: Math.min(EXPORT_BATCH, EXPORT_LIMIT - rows), after });
        for (const entry of entries) {
          const { thing, action } = whatLabel(entry, t);
          lines.push(
            csvLine(
              [
                entry.occurredAt.toISOString(),
                parisTimestamp(entry.occurredAt),
                entry.appName,
                entry.appId,
                personLabel(people, entry.patientId, t),
                entry.patientId,
                thing,
                entry.resourceType,
                action,
                String(entry.resourceCount),
              ],
              t.csvSeparator,
            ),
          );
        }
        rows += entries.length;
        const last = entries.at(-1);
        if (!more || !last) break;
        if (rows >= EXPORT_LIMIT) {
          truncated = true;
          break;
        }
        after = { occurredAt: last.occurredAt, patientId: last.patientId, seq: last.seq };
      }
      return {
        status: 200,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="historique-des-acces-${parisToday()}.csv"`,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'same-origin',
          'content-language': ctx.lang,
          vary: 'Cookie, Accept-Language',
          ...(truncated ? { 'x-export-truncated': 'true' } : {}),
        },
        // The byte order mark makes Excel read the file as UTF-8 (accents, typographic apostrophes).
        body: `\uFEFF${lines.join('')}`,
      };
    },
  };
}
