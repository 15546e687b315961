// Authenticates operators with the token configured in OPERATOR_TOKEN; without one configured,
// operator operations are refused to everybody.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProblemError } from './errors.js';
import type { SecurityScheme } from './operations.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function operatorTokenScheme(operatorToken: string | undefined): SecurityScheme {
  const expected = operatorToken ? digest(operatorToken) : null;
  const challenge = { 'www-authenticate': 'Bearer realm="mes-operator"' };
  const authenticate: SecurityScheme['authenticate'] = async (request) => {
    const header = request.headers.authorization;
    if (!header) throw new ProblemError('authentication_required', 'This operation needs the operator token.', undefined, challenge);
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!expected || !timingSafeEqual(digest(token), expected)) {
      throw new ProblemError('invalid_operator_token', undefined, undefined, challenge);
    }
    return { kind: 'operator' };
  };
  return { authScheme: 'bearer', challenge: challenge['www-authenticate'], hint: 'the operator token as "Authorization: Bearer <token>"', authenticate };
}
