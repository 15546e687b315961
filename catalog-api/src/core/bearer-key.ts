// API keys sent as bearer tokens (RFC 6750): publishers' `mes_pk_…` and reviewers' `mes_rk_…`.
// The header's form and the challenge are the same for both; each key type's scheme judges the key.
import type { FastifyRequest } from 'fastify';
import { ProblemError } from './errors.js';

const bearer = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

/** The `WWW-Authenticate` challenge of a bearer key, with the RFC 6750 error when there is one. */
export function bearerChallenge(error?: string): Record<string, string> {
  return { 'www-authenticate': `Bearer realm="mes"${error ? `, error="${error}"` : ''}` };
}

/** The key of a `Bearer <key>` header, null without a header; `what` names the key in the error. */
export function bearerKey(request: FastifyRequest, what: string): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = bearer.exec(header);
  if (!match) throw new ProblemError('invalid_api_key', `The Authorization header must be "Bearer <${what}>".`, undefined, bearerChallenge('invalid_request'));
  return match[1]!;
}
