// The `platformToken` security scheme of the spec: the platform API accepts the command line's
// DPoP-bound tokens (from the device sign-in) beside publisher API keys. Each request needs a
// proof for its method and URL, a token whose session is still open, and the platform scope the
// operation lists with the scheme.
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../core/config.js';
import { ProblemError } from '../../core/errors.js';
import type { Principal, SecurityScheme } from '../../core/operations.js';
import type { Queryable } from '../../core/store/db.js';
import type { DpopNonces } from './dpop.js';
import type { ReplayCache } from './replay-cache.js';
import { dpopChallenge, requireScope, ResourceAccessError, verifyBoundRequest } from './resource-access.js';
import { platformTokenVerifier } from './token-state.js';

export interface PlatformAuthDeps {
  db: Queryable;
  config: AppConfig;
  replay: ReplayCache;
  nonces: DpopNonces;
  /** The issuer of a request (the configured public URL; the request's origin in a sandbox without one). */
  issuerOf: (request: FastifyRequest) => string;
}

const SUBJECT = /^(publisher|reviewer):([0-9a-f-]{36})$/;

export function platformTokenScheme(deps: PlatformAuthDeps): SecurityScheme {
  const verify = platformTokenVerifier(deps.db, deps.config);
  return {
    authScheme: 'dpop',
    challenge: dpopChallenge(),
    hint: 'a platform token (mes login) as "Authorization: DPoP <token>" with a DPoP proof',
    async authenticate(request, scopes): Promise<Principal> {
      const issuer = deps.issuerOf(request);
      try {
        const claims = await verifyBoundRequest(
          { authorization: request.headers.authorization, dpop: request.headers.dpop, method: request.method, url: `${issuer}${request.url}` },
          { verifyToken: (token) => verify(token, issuer), replay: deps.replay, nonces: deps.nonces },
        );
        requireScope(claims, scopes);
        const subject = SUBJECT.exec(claims.sub ?? '');
        if (!subject) throw new ResourceAccessError('invalid_token', 'this platform token is neither a publisher’s nor a reviewer’s');
        const session = { via: 'platform_token', sessionId: claims.sid, scope: claims.scope } as const;
        return subject[1] === 'publisher' ? { kind: 'publisher', publisherId: subject[2]!, ...session } : { kind: 'reviewer', reviewerId: subject[2]!, ...session };
      } catch (error) {
        if (error instanceof ResourceAccessError) throw new ProblemError(error.code, error.message, undefined, error.headers);
        throw error;
      }
    },
  };
}
