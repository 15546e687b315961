// Conditional GETs (RFC 9110 §13): whether the copy a client already has, named by its ETag or
// dated by If-Modified-Since, is still the current one, so that the answer can be a 304.

/** The entity tags of an `If-None-Match` header, or `*`; null when the header is not one. */
export function parseEntityTags(header: string): '*' | { weak: boolean; opaque: string }[] | null {
  if (header.trim() === '*') return '*';
  const tags: { weak: boolean; opaque: string }[] = [];
  // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes DQUOTE, so a comma may sit inside
  // one. Empty list elements are ignored, as RFC 9110 §5.6.1.2 asks of recipients.
  const element = /[ \t]*(?:(W\/)?("[\x21\x23-\x7e\x80-\xff]*"))?[ \t]*(,|$)/y;
  for (;;) {
    const match = element.exec(header);
    if (!match) return null;
    if (match[2] !== undefined) tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    if (match[3] === '') break;
  }
  return tags.length > 0 ? tags : null;
}

/**
 * Whether `If-None-Match` names `etag`. The comparison is weak (RFC 9110 §13.1.2, as for every
 * GET): `W/"3"` and `"3"` name the same version. A header that is not a list of entity tags names nothing.
 */
export function ifNoneMatchNames(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const tags = parseEntityTags(header);
  if (tags === '*') return true;
  const current = etag.replace(/^W\//, '');
  return tags?.some((tag) => tag.opaque === current) ?? false;
}

const days = '(Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const months = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
/** The three forms of HTTP-date a recipient must read (RFC 9110 §5.6.7): IMF-fixdate, RFC 850, asctime. */
const httpDate = new RegExp(
  `^(${days}, \\d{2} ${months} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT|(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \\d{2}-${months}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT|${days} ${months} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4})$`,
);

/** The instant of an HTTP date, or null when the text is not one. */
export function parseHttpDate(text: string): Date | null {
  if (!httpDate.test(text)) return null;
  // asctime carries no zone: it is GMT too.
  const instant = Date.parse(/GMT$/.test(text) ? text : `${text} GMT`);
  return Number.isNaN(instant) ? null : new Date(instant);
}

/**
 * Whether `If-Modified-Since` says the client's copy is as recent as `lastModified`. HTTP dates
 * count whole seconds, so the instant is compared at that precision; a header that is not an
 * HTTP date is ignored, as RFC 9110 §13.1.3 asks.
 */
export function unmodifiedSince(header: string | undefined, lastModified: Date): boolean {
  const since = header === undefined ? null : parseHttpDate(header.trim());
  return since !== null && Math.floor(lastModified.getTime() / 1000) * 1000 <= since.getTime();
}

/**
 * Whether a GET may answer 304: by `If-None-Match` when sent, otherwise by `If-Modified-Since`
 * (RFC 9110 §13.2.2 evaluates the second only without the first).
 */
export function notModified(conditions: { ifNoneMatch: string | undefined; ifModifiedSince: string | undefined }, current: { etag: string; lastModified: Date }): boolean {
  if (conditions.ifNoneMatch !== undefined) return ifNoneMatchNames(conditions.ifNoneMatch, current.etag);
  return unmodifiedSince(conditions.ifModifiedSince, current.lastModified);
}
