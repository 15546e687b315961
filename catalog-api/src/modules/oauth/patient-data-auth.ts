// The `patientDataToken` security scheme of the spec: what the FHIR API checks before any
// handler runs. A DPoP-bound access token for `<issuer>/fhir`, with a proof for this request, and
// an active grant behind it (not withdrawn, not expired, app still certified, client not deleted):
// a withdrawal, a suspension or an account closure takes effect at the next request, refused with
// `grant_ended` saying why. What the token's scopes allow on each type and interaction is the
// records module's to enforce.
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../core/config.js';
import { ProblemError } from '../../core/errors.js';
import type { DeferredAccessCheck, GrantFacts, Principal, SecurityScheme } from '../../core/operations.js';
import type { Queryable } from '../../core/store/db.js';
import type { DpopNonces } from './dpop.js';
import * as grants from './grant-repository.js';
import type { ReplayCache } from './replay-cache.js';
import { checkRequestCredentials, dpopChallenge, judgeTokenClaims, ResourceAccessError, tokenChallenge, type CheckedRequest } from './resource-access.js';
import { bearerTokensAllowed } from '../../core/config.js';
import { access, grantedScopes, type Interaction, type ResourceType } from './scopes.js';
import {
  grantEndedDescriptions,
  judgeAccessToken,
  patientDataTokenPayload,
  signedTokenVerifier,
  type AccessTokenFound,
  type AccessTokenPayload,
  type ActiveAccessToken,
} from './token-state.js';

export interface PatientDataAuthDeps {
  db: Queryable;
  config: AppConfig;
  replay: ReplayCache;
  nonces: DpopNonces;
  issuerOf: (request: FastifyRequest) => string;
}

type ActiveClaims = ActiveAccessToken & { scope: string; cnf: AccessTokenPayload['cnf'] };

/** What the token's state says, as the resource's checks take it (resource-access.ts). */
function claimsOf(found: AccessTokenFound) {
  if (!found || 'replayed' in found) return found;
  if (!found.active) return { cnf: found.payload.cnf, grantEnded: found.grantEnded, description: grantEndedDescriptions[found.grantEnded] };
  return { ...found, scope: found.payload.scope, cnf: found.payload.cnf };
}

/**
 * The operation's roles name the type and interaction it needs (`patient/Observation.c`): the
 * first one a token has no grant of at all, if any.
 */
function missingRole(scope: string, roles: readonly string[]): string | undefined {
  const set = grantedScopes(scope);
  return roles.find((role) => {
    const [, type, letter] = /^patient\/([A-Za-z]+)\.([cruds])$/.exec(role) ?? [];
    return type && letter && access(set, type as ResourceType, letter as Interaction).kind === 'denied';
  });
}

/** A refusal of resource-access.ts in the platform's error format. */
const refusal = (error: unknown) => (error instanceof ResourceAccessError ? new ProblemError(error.code, error.message, undefined, error.headers) : error);

export function patientDataTokenScheme(deps: PatientDataAuthDeps): SecurityScheme {
  const signed = signedTokenVerifier(deps.db, deps.config);
  // Clients registered for Bearer tokens send them as such, where the platform allows them.
  const bearer = bearerTokensAllowed(deps.config);

  /** The principal of a token whose store check is still to run, whether now or in the operation's statement. */
  function principalOf(checked: CheckedRequest, payload: AccessTokenPayload, roles: readonly string[]) {
    // The state the store holds of the token, judged: the grant's facts, or the refusal.
    const judge = (state: grants.AccessState): GrantFacts => {
      const active = judgeTokenClaims<ActiveClaims>(checked, claimsOf(judgeAccessToken(payload, state, deps.config)));
      const missing = missingRole(payload.scope, roles);
      if (missing) throw new ResourceAccessError('insufficient_scope', `needs ${missing}`, { scope: missing });
      return { actorId: active.grant.actorId, appId: active.grant.appId, actorMayAct: active.mayAct };
    };
    const principal: Extract<Principal, { kind: 'patient_data' }> = {
      kind: 'patient_data',
      patientId: payload.patient,
      grantId: payload.grant_id,
      clientId: payload.client_id,
      scope: payload.scope,
      grant: null,
      deferredCheck: null,
    };
    // The check is judged once; the answer, or the refusal, stands for the rest of the request.
    let outcome: { facts: GrantFacts } | { error: unknown } | undefined;
    let reading: Promise<grants.AccessState> | undefined;
    // null: only the outcome already judged.
    const settleWith = (state: grants.AccessState | null): GrantFacts => {
      if (!outcome && state) {
        try {
          outcome = { facts: judge(state) };
          principal.grant = outcome.facts;
        } catch (error) {
          outcome = { error: refusal(error) };
        }
      }
      if (!outcome) throw new Error('access check judged without a state');
      if ('error' in outcome) throw outcome.error;
      return outcome.facts;
    };
    const deferred: DeferredAccessCheck = {
      query: grants.accessStateQuery(payload.grant_id, payload.jti!, checked.proof, payload.patient),
      judge: (row) => settleWith(grants.accessStateOf(row)),
      // Alone: accessState is the same statement without the operation's work (read once, judged once).
      settle: async () => settleWith(outcome ? null : await (reading ??= grants.accessState(deps.db, payload.grant_id, payload.jti!, checked.proof))),
    };
    return { principal, deferred };
  }

  return {
    authScheme: 'dpop',
    challenge: bearer ? `${dpopChallenge()}, ${tokenChallenge('bearer')}` : dpopChallenge(),
    hint: 'a patient-data access token as "Authorization: DPoP <token>" with a DPoP proof carrying ath',
    async authenticate(request, roles, options): Promise<Principal> {
      const issuer = deps.issuerOf(request);
      try {
        const checked = await checkRequestCredentials(
          { authorization: request.headers.authorization, dpop: request.headers.dpop, method: request.method, url: `${issuer}${request.url}` },
          // The proof's identifier is recorded with the token's state, in one statement.
          { replay: deps.replay, recordProofWithToken: true, nonces: deps.nonces, bearer },
        );
        const payload = await patientDataTokenPayload(signed, checked.token, issuer);
        if (!payload) return judgeTokenClaims<never>(checked, null);
        const { principal, deferred } = principalOf(checked, payload, roles);
        // An operation that runs the store's check in its own statement gets it to run; a token
        // refused whatever the store says (a missing role) is checked now, in the usual order.
        if (options?.deferStoreCheck && !missingRole(payload.scope, roles)) {
          principal.deferredCheck = deferred;
          return principal;
        }
        await deferred.settle();
        return principal;
      } catch (error) {
        throw refusal(error);
      }
    },
  };
}
