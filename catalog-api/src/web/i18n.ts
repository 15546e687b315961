// The languages of the patient's pages: French by default, English on request. The language is
// the `mes_lang` cookie when the patient chose one (the switch in every page's header), else the
// browser's Accept-Language when it prefers English, else French. Each page module keeps its own
// texts with `messages`, both languages side by side, so a text missing in one language is a
// type error.
import type { FastifyRequest } from 'fastify';
import { readCookies } from './patient-session.js';

export const LANGUAGES = ['fr', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];

export const LANGUAGE_COOKIE = 'mes_lang';
/** The language choice is remembered for a year. */
export const LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600;

const isLang = (value: string | undefined): value is Lang => LANGUAGES.includes(value as Lang);

/** The language of a request: the patient's choice, else the browser's preference between fr and en, else fr. */
export function languageOf(request: FastifyRequest): Lang {
  const chosen = readCookies(request.headers.cookie).get(LANGUAGE_COOKIE);
  if (isLang(chosen)) return chosen;
  return preferredLanguage(request.headers['accept-language']);
}

/** The first of fr and en in an Accept-Language header, by quality then order; fr when neither appears. */
export function preferredLanguage(header: string | undefined): Lang {
  let best: { lang: Lang; q: number } | null = null;
  for (const part of (header ?? '').split(',').slice(0, 20)) {
    const [tag = '', ...params] = part.trim().split(';');
    const primary = tag.trim().toLowerCase().split('-')[0];
    if (!isLang(primary)) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    if (!best || q > best.q) best = { lang: primary, q };
  }
  return best?.lang ?? 'fr';
}

/** The Set-Cookie value that remembers a language for a year. */
export function languageCookie(lang: Lang, secure: boolean): string {
  return `${LANGUAGE_COOKIE}=${lang}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${LANGUAGE_COOKIE_SECONDS}${secure ? '; Secure' : ''}`;
}

/** "de Juliette", "d’Inès": French elides "de" before a vowel or a mute h. */
export const deName = (name: string): string => (/^[aeiouyhàâäéèêëîïôöûü]/i.test(name) ? `d’${name}` : `de ${name}`);

/**
 * French typography: a no-break space (U+00A0) before « : ; ! ? » and inside « », so a sign
 * never starts a line on its own ("Autoriser Premiers Pas ?" on a phone).
 */
export const frenchSpacing = (text: string): string => text.replace(/ ([:;!?»])/g, '\u00a0$1').replace(/« /g, '«\u00a0');

/** A text, a text-making function or a group of them, with French typography applied throughout. */
function typeset<T>(value: T): T {
  if (typeof value === 'string') return frenchSpacing(value) as T;
  if (typeof value === 'function') return ((...args: unknown[]) => typeset((value as (...a: unknown[]) => unknown)(...args))) as T;
  if (Array.isArray(value)) return value.map(typeset) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, typeset(item)])) as T;
  return value;
}

/**
 * The texts of a page module in both languages; `messages(dict)(lang)` picks one. The French
 * texts get French typography here (frenchSpacing), once, so no page has to remember it.
 */
export function messages<T>(dict: { fr: T; en: NoInfer<T> }): (lang: Lang) => T {
  const texts: Record<Lang, T> = { fr: typeset(dict.fr), en: dict.en };
  return (lang) => texts[lang];
}

const locales: Record<Lang, string> = { fr: 'fr-FR', en: 'en-GB' };
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function format(lang: Lang, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${lang}:${JSON.stringify(options)}`;
  let formatter = dateFormats.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locales[lang], { timeZone: 'Europe/Paris', ...options });
    dateFormats.set(key, formatter);
  }
  return formatter;
}

/** "2 décembre 2026" / "2 December 2026", in Paris time. */
export const formatDate = (lang: Lang, date: Date): string => format(lang, { dateStyle: 'long' }).format(date);

/** "2 décembre 2026 à 14:05" / "2 December 2026 at 14:05", in Paris time. */
export const formatDateTime = (lang: Lang, date: Date): string => format(lang, { dateStyle: 'long', timeStyle: 'short' }).format(date);

/** "14:05", in Paris time. */
export const formatTime = (lang: Lang, date: Date): string => format(lang, { timeStyle: 'short' }).format(date);

/** A calendar date (YYYY-MM-DD, e.g. a birth date) without time-zone shifts. */
export const formatCalendarDate = (lang: Lang, isoDate: string): string =>
  new Intl.DateTimeFormat(locales[lang], { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${isoDate}T00:00:00Z`));
