// Calendar arithmetic of the synthetic records, on whole UTC days counted from 1970-01-01:
// integer algorithms only, so no result depends on the machine's time zone or clock.

/** A day: the number of days since 1970-01-01 (UTC). */
export type Day = number;

const MS_PER_DAY = 86_400_000;

/** Howard Hinnant's days_from_civil: the day of a proleptic Gregorian date. */
export function dayOf(year: number, month: number, day: number): Day {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** civil_from_days: the date of a day. */
export function civil(day: Day): { year: number; month: number; day: number } {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** `YYYY-MM-DD`. */
export function formatDay(day: Day): string {
  const { year, month, day: d } = civil(day);
  return `${pad(year, 4)}-${pad(month)}-${pad(d)}`;
}

/** `DD/MM/YYYY`, as French documents write dates (without any locale API). */
export function frenchDate(day: Day): string {
  const { year, month, day: d } = civil(day);
  return `${pad(d)}/${pad(month)}/${pad(year, 4)}`;
}

/** The day of a `YYYY-MM-DD` string; throws on anything else, including 2026-02-30. */
export function parseDay(text: string): Day {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match) {
    const day = dayOf(Number(match[1]), Number(match[2]), Number(match[3]));
    if (formatDay(day) === text) return day;
  }
  throw new RangeError(`"${text}" is not a date (YYYY-MM-DD)`);
}

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** The same date `years` later (or earlier); 29 February becomes 1 March in a common year. */
export function addYears(day: Day, years: number): Day {
  const date = civil(day);
  const year = date.year + years;
  if (date.month === 2 && date.day === 29 && !isLeap(year)) return dayOf(year, 3, 1);
  return dayOf(year, date.month, date.day);
}

/** The same day of the month `months` later, or the month's last day when it has fewer. */
export function addMonths(day: Day, months: number): Day {
  const date = civil(day);
  const index = date.year * 12 + (date.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  const last = dayOf(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - 1;
  return Math.min(dayOf(year, month, date.day), last);
}

/** Age in whole years on `day` of someone born on `birth`. */
export function ageOn(birth: Day, day: Day): number {
  const b = civil(birth);
  const d = civil(day);
  return d.year - b.year - (d.month < b.month || (d.month === b.month && d.day < b.day) ? 1 : 0);
}

/** Age in whole months on `day`. */
export function monthsOn(birth: Day, day: Day): number {
  const b = civil(birth);
  const d = civil(day);
  return (d.year - b.year) * 12 + (d.month - b.month) - (d.day < b.day ? 1 : 0);
}

/** An instant: a day and a minute of that day (UTC). */
export interface Instant {
  day: Day;
  minute: number;
}

/** `YYYY-MM-DDTHH:MM:00Z`, the full ISO form the API stores. */
export function isoInstant(at: Instant): string {
  return `${formatDay(at.day)}T${pad(Math.floor(at.minute / 60))}:${pad(at.minute % 60)}:00Z`;
}

/** The instant as a Date (built from its epoch milliseconds, so independent of the time zone). */
export function toDate(at: Instant): Date {
  return new Date(at.day * MS_PER_DAY + at.minute * 60_000);
}

/** The instant `minutes` after `at` (across midnight if need be). */
export function addMinutes(at: Instant, minutes: number): Instant {
  const total = at.minute + minutes;
  return { day: at.day + Math.floor(total / 1440), minute: ((total % 1440) + 1440) % 1440 };
}
