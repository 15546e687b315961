// The `patientDataToken` security scheme of the spec: what the FHIR API checks before any
// handler runs. A DPoP-bound access token for `<issuer>/fhir`, with a proof for this request, and
// an active grant behind it (not withdrawn, not expired, app still certified, client not deleted):
// a withdrawal, a suspension or an account closure takes effect at the next request, refused with
// `grant_ended` saying why. What the token's scopes allow on each type and interaction is the
// records module's to enforce.
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../core/config.js';
import { ProblemError } from '../../core/errors.js';
import type { Principal, SecurityScheme } from '../../core/operations.js';
import type { Queryable } from '../../core/store/db.js';
import type { DpopNonces } from './dpop.js';
import type { ReplayCache } from './replay-cache.js';
import { dpopChallenge, ResourceAccessError, tokenChallenge, verifyBoundRequest } from './resource-access.js';
import { bearerTokensAllowed } from '../../core/config.js';
import { access, grantedScopes, type Interaction, type ResourceType } from './scopes.js';
import { activeAccessTokenVerifier, grantEndedDescriptions, signedTokenVerifier, type AccessTokenPayload, type ActiveAccessToken } from './token-state.js';

export interface PatientDataAuthDeps {
  db: Queryable;
  config: AppConfig;
  replay: ReplayCache;
  nonces: DpopNonces;
  issuerOf: (request: FastifyRequest) => string;
}

export function patientDataTokenScheme(deps: PatientDataAuthDeps): SecurityScheme {
  const verify = activeAccessTokenVerifier(deps.db, deps.config, signedTokenVerifier(deps.db, deps.config));
  // Clients registered for Bearer tokens send them as such, where the platform allows them.
  const bearer = bearerTokensAllowed(deps.config);
  return {
    authScheme: 'dpop',
    challenge: bearer ? `${dpopChallenge()}, ${tokenChallenge('bearer')}` : dpopChallenge(),
    hint: 'a patient-data access token as "Authorization: DPoP <token>" with a DPoP proof carrying ath',
    async authenticate(request, scopes): Promise<Principal> {
      const issuer = deps.issuerOf(request);
      try {
        const active = await verifyBoundRequest<ActiveAccessToken & { scope: string; cnf: AccessTokenPayload['cnf'] }>(
          { authorization: request.headers.authorization, dpop: request.headers.dpop, method: request.method, url: `${issuer}${request.url}` },
          {
            verifyToken: async (token, proof) => {
              const found = await verify(token, issuer, proof);
              if (!found || 'replayed' in found) return found;
              if (!found.active) return { cnf: found.payload.cnf, grantEnded: found.grantEnded, description: grantEndedDescriptions[found.grantEnded] };
              return { ...found, scope: found.payload.scope, cnf: found.payload.cnf };
            },
            replay: deps.replay,
            recordProofWithToken: true,
            nonces: deps.nonces,
            bearer,
          },
        );
        // The operation's roles name the type and interaction it needs (`patient/Observation.c`):
        // a token that has no grant of it at all is refused before the request is validated.
        const set = grantedScopes(active.payload.scope);
        for (const role of scopes) {
          const [, type, letter] = /^patient\/([A-Za-z]+)\.([cruds])$/.exec(role) ?? [];
          if (!type || !letter) continue;
          if (access(set, type as ResourceType, letter as Interaction).kind === 'denied') {
            throw new ResourceAccessError('insufficient_scope', `needs ${role}`, { scope: role });
          }
        }
        return {
          kind: 'patient_data',
          patientId: active.payload.patient,
          actorId: active.grant.actorId,
          grantId: active.payload.grant_id,
          clientId: active.payload.client_id,
          appId: active.grant.appId,
          scope: active.payload.scope,
          actorMayAct: active.mayAct,
        };
      } catch (error) {
        if (error instanceof ResourceAccessError) throw new ProblemError(error.code, error.message, undefined, error.headers);
        throw error;
      }
    },
  };
}
