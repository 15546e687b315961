import { describe, expect, it } from 'vitest';
import { details, shortDate, table } from '../src/output.js';

describe('table', () => {
  it('aligns columns under upper-case headers', () => {
    const rows = [{ id: '1', name: 'Alpha' }, { id: '22', name: 'B' }];
    expect(table(rows, [{ header: 'id', get: (r) => r.id }, { header: 'name', get: (r) => r.name }])).toBe(
      ['ID  NAME', '1   Alpha', '22  B'].join('\n'),
    );
  });

  it('neutralises control characters from the server', () => {
    const rows = [{ name: 'evil\u001b[31m\nname' }];
    expect(table(rows, [{ header: 'name', get: (r) => r.name }])).toBe('NAME\nevil [31m name');
  });
});

describe('details', () => {
  it('aligns labels and indents list values', () => {
    expect(details([['ID', 'a1'], ['Redirect URIs', ['https://a', 'https://b']], ['Logo', null]])).toBe(
      ['ID:            a1', 'Redirect URIs: https://a', '               https://b', 'Logo:          -'].join('\n'),
    );
  });

  it('shortens dates', () => {
    expect(shortDate('2025-01-31T10:00:00.000Z')).toBe('2025-01-31 10:00');
    expect(shortDate(null)).toBe('-');
  });
});
