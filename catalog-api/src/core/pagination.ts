// Opaque keyset-pagination cursors: the sort key of the last item of a page, base64url-encoded.
// Clients must treat them as opaque; the server checks their shape when decoding.
import { ProblemError } from './errors.js';

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ProblemError('invalid_cursor', 'The cursor is not one this server issued.');
  }
  if (!Array.isArray(key) || key.length !== shape.length || key.some((part, i) => typeof part !== shape[i])) {
    throw new ProblemError('invalid_cursor', 'The cursor is not one this server issued.');
  }
  return key as (string | number)[];
}
