import { describe, expect, it } from 'vitest';
import { ifNoneMatchNames, notModified, parseEntityTags, parseHttpDate, unmodifiedSince } from '../src/core/conditional-requests.js';

describe('If-None-Match', () => {
  it.each([
    ['W/"3"', [{ weak: true, opaque: '"3"' }]],
    ['"3"', [{ weak: false, opaque: '"3"' }]],
    ['"1", W/"3" ,"x"', [{ weak: false, opaque: '"1"' }, { weak: true, opaque: '"3"' }, { weak: false, opaque: '"x"' }]],
    ['"a,b", "c"', [{ weak: false, opaque: '"a,b"' }, { weak: false, opaque: '"c"' }]],
    // Empty list elements are ignored (RFC 9110 §5.6.1.2).
    ['"3",', [{ weak: false, opaque: '"3"' }]],
    [', ,W/"3"', [{ weak: true, opaque: '"3"' }]],
    [' * ', '*'],
  ])('reads %j', (header, tags) => expect(parseEntityTags(header)).toEqual(tags));

  it.each(['', ' , ', '3', 'W/3', '"3" junk', '"3" "4"', 'w/"3"', '*, "3"'])('is no list of entity tags in %j', (header) => expect(parseEntityTags(header)).toBeNull());

  it.each(['W/"3"', '"3"', '"1", W/"3"', '*', 'W/"2",W/"3"'])('%j names version 3 (weak comparison)', (header) => expect(ifNoneMatchNames(header, 'W/"3"')).toBe(true));

  it.each(['W/"2"', '"33"', '"3 "', 'W/"3" junk', '3', ''])('%j does not name version 3', (header) => expect(ifNoneMatchNames(header, 'W/"3"')).toBe(false));

  it('names nothing when absent', () => expect(ifNoneMatchNames(undefined, 'W/"3"')).toBe(false));
});

describe('If-Modified-Since', () => {
  const instant = '2026-12-01T10:00:00.000Z';
  it.each(['Tue, 01 Dec 2026 10:00:00 GMT', 'Tuesday, 01-Dec-26 10:00:00 GMT', 'Tue Dec  1 10:00:00 2026'])('reads the HTTP date %j', (text) =>
    expect(parseHttpDate(text)?.toISOString()).toBe(instant),
  );

  it.each(['2026-12-01T10:00:00Z', '1', 'Tue, 01 Dec 2026 10:00:00 UTC', 'Tue, 1 Dec 2026 10:00:00 GMT', 'yesterday', ''])('is no HTTP date in %j', (text) =>
    expect(parseHttpDate(text)).toBeNull(),
  );

  it('compares at the second, as HTTP dates count', () => {
    const lastModified = new Date('2026-12-01T10:00:00.750Z');
    expect(unmodifiedSince('Tue, 01 Dec 2026 10:00:00 GMT', lastModified)).toBe(true);
    expect(unmodifiedSince('Tue, 01 Dec 2026 10:00:01 GMT', lastModified)).toBe(true);
    expect(unmodifiedSince('Tue, 01 Dec 2026 09:59:59 GMT', lastModified)).toBe(false);
    expect(unmodifiedSince('not a date', lastModified)).toBe(false);
    expect(unmodifiedSince(undefined, lastModified)).toBe(false);
  });

  it('is weighed only without If-None-Match', () => {
    const current = { etag: 'W/"1"', lastModified: new Date('2026-12-01T10:00:00Z') };
    const recent = 'Wed, 02 Dec 2026 10:00:00 GMT';
    expect(notModified({ ifNoneMatch: undefined, ifModifiedSince: recent }, current)).toBe(true);
    expect(notModified({ ifNoneMatch: 'W/"2"', ifModifiedSince: recent }, current)).toBe(false);
    expect(notModified({ ifNoneMatch: 'W/"1"', ifModifiedSince: 'Mon, 30 Nov 2026 10:00:00 GMT' }, current)).toBe(true);
    expect(notModified({ ifNoneMatch: undefined, ifModifiedSince: undefined }, current)).toBe(false);
  });
});
