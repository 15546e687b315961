// Authenticates operators with the token configured in OPERATOR_TOKEN; without one configured,
// operator operations are refused to everybody.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProblemError } from './errors.js';
import type { Authenticator } from './operations.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function operatorTokenAuthenticator(operatorToken: string | undefined): Authenticator {
  const expected = operatorToken ? digest(operatorToken) : null;
  const challenge = { 'www-authenticate': 'Bearer realm="mes-operator"' };
  return async (request) => {
    const header = request.headers.authorization;
    if (!header) throw new ProblemError('authentication_required', 'This operation needs the operator token.', undefined, challenge);
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!expected || !timingSafeEqual(digest(token), expected)) {
      throw new ProblemError('invalid_operator_token', undefined, undefined, challenge);
    }
    return { kind: 'operator' };
  };
}
