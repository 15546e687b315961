// What a protected resource of this server checks on a request that carries an access token:
// - a DPoP-bound token (RFC 9449 §7): `Authorization: DPoP <token>` and one valid proof for this
//   method and URL whose `ath` is the token's hash and whose key is the token's `cnf.jkt`;
// - a Bearer token (RFC 6750), only where the resource accepts them (the FHIR API, for clients
//   registered for Bearer tokens where the platform allows it) and only for a token bound to no
//   key: a DPoP-bound token used as a bearer token is a downgrade, always refused;
// then the token itself (signature, issuer, audience, expiry and the state behind it, through the
// verifier given). Refusals carry the RFC 6750 / RFC 9449 challenge to send in WWW-Authenticate,
// in the scheme the request used, with `grant_ended` (an extension auth-param, RFC 9110 §11.2)
// when the grant behind the token has ended. No HTTP framework here: the platform API and the FHIR
// API map a ResourceAccessError to their own error format.
import { DPOP_ALGORITHMS, DpopError, REPLAYED_PROOF, verifyDpopProof, type DpopNonces } from './dpop.js';
import { deferredReplayCache, type PendingFirstUse, type ReplayCache } from './replay-cache.js';
import type { GrantEnded, ReplayedProof } from './token-state.js';

export type ResourceAccessErrorCode = 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'insufficient_scope';

/** Algorithms a resource accepts proofs in, as the `algs` challenge parameter lists them. */
const challengeAlgs = DPOP_ALGORITHMS.filter((alg) => alg !== 'Ed25519').join(' ');

/** The authentication schemes a token may travel in. */
export type TokenScheme = 'dpop' | 'bearer';

/**
 * A `WWW-Authenticate` challenge of the DPoP scheme, or of the Bearer scheme for a request that
 * used it; description and scope limited to the characters RFC 6750 allows. `grantEnded` says
 * why the grant behind the token ended (`grant_ended="…"`).
 */
export function tokenChallenge(scheme: TokenScheme, error?: ResourceAccessErrorCode, description?: string, scope?: string, grantEnded?: GrantEnded): string {
  const quoted = (value: string) => value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
  const parts = scheme === 'dpop' ? [`algs="${challengeAlgs}"`] : [];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${quoted(description)}"`);
  if (scope) parts.push(`scope="${quoted(scope)}"`);
  if (grantEnded) parts.push(`grant_ended="${quoted(grantEnded)}"`);
  return `${scheme === 'dpop' ? 'DPoP' : 'Bearer'}${parts.length ? ` ${parts.join(', ')}` : ''}`;
}

/** A `WWW-Authenticate: DPoP …` challenge (see tokenChallenge). */
export const dpopChallenge = (error?: ResourceAccessErrorCode, description?: string, scope?: string, grantEnded?: GrantEnded): string =>
  tokenChallenge('dpop', error, description, scope, grantEnded);

/** A refused request: status, code, why, and the challenge (and nonce) to answer with. */
export class ResourceAccessError extends Error {
  override name = 'ResourceAccessError';
  readonly status: 401 | 403;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ResourceAccessErrorCode,
    description: string,
    options: { scope?: string; nonce?: string; grantEnded?: GrantEnded; scheme?: TokenScheme } = {},
  ) {
    super(description);
    this.status = code === 'insufficient_scope' ? 403 : 401;
    this.headers = { 'www-authenticate': tokenChallenge(options.scheme ?? 'dpop', code, description, options.scope, options.grantEnded) };
    if (options.nonce) this.headers['dpop-nonce'] = options.nonce;
  }
}

/** The claims a resource needs of a token: its scope, and its key binding when it is DPoP-bound. */
export interface BoundTokenClaims {
  scope: string;
  cnf?: { jkt: string } | undefined;
}

/** A token that verifies, but whose grant has ended: refused with why, once its key binding holds. */
export interface EndedTokenClaims {
  cnf?: { jkt: string } | undefined;
  grantEnded: GrantEnded;
  /** The end in plain words, for `error_description`. */
  description: string;
}

export interface BoundRequest {
  /** The Authorization header. */
  authorization: string | undefined;
  /** The DPoP header value(s). */
  dpop: string | string[] | undefined;
  method: string;
  /** The request's public URL (the issuer's origin, never the Host header outside the sandbox). */
  url: string;
}

export interface BoundRequestDeps<T extends BoundTokenClaims> {
  /**
   * Verifies the token and its state; null when it is not an active token for this resource.
   * With `recordProofWithToken`, it is also given the proof's identifier to record in the same
   * statement as the token's state, and says `{ replayed: true }` when it was used before.
   */
  verifyToken: (token: string, proof?: PendingFirstUse) => Promise<T | EndedTokenClaims | ReplayedProof | null>;
  replay: ReplayCache;
  /**
   * Whether verifyToken records the proof's identifier (one round trip for both) rather than the
   * replay cache before it. A proof is bound to its token (`ath`): one whose token is refused is of
   * no use to anyone, recorded or not.
   */
  recordProofWithToken?: boolean;
  nonces: DpopNonces;
  /** Whether tokens bound to no key may be sent as `Authorization: Bearer` (false by default). */
  bearer?: boolean | undefined;
}

/** The access token of the Authorization header and the scheme it came in, or why there is none. */
export function accessTokenOf(authorization: string | undefined, bearer = false): { scheme: TokenScheme; token: string } {
  const expected = bearer ? 'Authorization: DPoP <token> with a DPoP proof (or Bearer <token> for a Bearer token)' : 'Authorization: DPoP <token> with a DPoP proof';
  if (authorization === undefined || authorization.trim() === '') {
    const refused = new ResourceAccessError('invalid_token', `no access token: send ${expected}`);
    // Both schemes are offered where both are accepted (RFC 9449 §7.2).
    if (bearer) refused.headers['www-authenticate'] += `, ${tokenChallenge('bearer')}`;
    throw refused;
  }
  const match = /^(\S+)\s+(\S+)$/.exec(authorization.trim());
  if (!match) throw new ResourceAccessError('invalid_token', 'the Authorization header must be "DPoP <access token>"');
  const [, sent, token] = match as unknown as [string, string, string];
  const scheme = sent.toLowerCase();
  if (scheme === 'bearer' && !bearer) {
    throw new ResourceAccessError('invalid_token', 'Bearer tokens are not accepted here: send the access token as Authorization: DPoP <token> with a DPoP proof');
  }
  if (scheme !== 'dpop' && scheme !== 'bearer') throw new ResourceAccessError('invalid_token', `the Authorization scheme must be DPoP, not ${sent.slice(0, 20)}`);
  const options = { scheme: scheme as TokenScheme };
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw new ResourceAccessError('invalid_token', 'the access token is malformed', options);
  return { scheme: scheme as TokenScheme, token };
}

/** A request whose credentials passed every check that needs no store: the token to check next, and how. */
export interface CheckedRequest {
  scheme: TokenScheme;
  token: string;
  /** The thumbprint of the proof's key (DPoP). */
  jkt?: string;
  /** The proof's identifier, to record with the token's state (with `recordProofWithToken`). */
  proof?: PendingFirstUse;
}

/**
 * The checks of a request made with an access token that need no store: the Authorization header,
 * and for a DPoP-bound token the proof (checked before the token, so that a proof problem is
 * reported as such; its `jti` recorded now, or left to the token's check with
 * `recordProofWithToken`). Throws a ResourceAccessError.
 */
export async function checkRequestCredentials(
  request: BoundRequest,
  deps: Pick<BoundRequestDeps<BoundTokenClaims>, 'replay' | 'recordProofWithToken' | 'nonces' | 'bearer'>,
): Promise<CheckedRequest> {
  const { scheme, token } = accessTokenOf(request.authorization, deps.bearer);
  if (scheme === 'bearer') return { scheme, token };
  const deferred = deps.recordProofWithToken ? deferredReplayCache() : undefined;
  try {
    const { jkt } = await verifyDpopProof(
      { headers: request.dpop, method: request.method, url: request.url, accessToken: token },
      { replay: deferred ?? deps.replay, nonces: deps.nonces },
    );
    return { scheme, token, jkt, ...(deferred?.pending[0] ? { proof: deferred.pending[0] } : {}) };
  } catch (error) {
    if (error instanceof DpopError) {
      throw new ResourceAccessError(error.code, error.message, error.nonce ? { nonce: error.nonce } : {});
    }
    throw error;
  }
}

/**
 * Judges what the token's check found (its claims, an ended grant, a replayed proof, or null: not
 * active) for a request whose credentials passed checkRequestCredentials: the claims, or a
 * ResourceAccessError, in the order the standards give.
 */
export function judgeTokenClaims<T extends BoundTokenClaims>(request: CheckedRequest, claims: T | EndedTokenClaims | ReplayedProof | null): T {
  const { scheme } = request;
  if (scheme === 'bearer') {
    const refuse = (description: string, grantEnded?: GrantEnded) => new ResourceAccessError('invalid_token', description, { scheme, ...(grantEnded ? { grantEnded } : {}) });
    if (!claims || 'replayed' in claims) throw refuse('the access token is not active (expired, revoked, ended, or not issued for this API)');
    // RFC 9449 §7.2: a bound token presented as a bearer token is refused, whoever presents it.
    if (claims.cnf) throw refuse('this token is DPoP-bound: send it as Authorization: DPoP <token> with a DPoP proof, not as a bearer token');
    if ('grantEnded' in claims) throw refuse(claims.description, claims.grantEnded);
    return claims;
  }
  if (claims && 'replayed' in claims) throw new ResourceAccessError('invalid_dpop_proof', REPLAYED_PROOF);
  if (!claims) throw new ResourceAccessError('invalid_token', 'the access token is not active (expired, revoked, ended, or not issued for this API)');
  if (!claims.cnf) throw new ResourceAccessError('invalid_token', 'this is a Bearer token, bound to no key: send it as Authorization: Bearer <token>');
  // RFC 9449 §7.1's example wording: the proof is fine, but made with another key than the token's.
  if (claims.cnf.jkt !== request.jkt) throw new ResourceAccessError('invalid_token', 'invalid DPoP key binding: the proof key is not the key the token is bound to');
  // Only the holder of the token's key learns why its grant ended.
  if ('grantEnded' in claims) throw new ResourceAccessError('invalid_token', claims.description, { grantEnded: claims.grantEnded });
  return claims;
}

/**
 * Checks a request made with an access token and returns the token's claims, or throws a
 * ResourceAccessError: checkRequestCredentials, the token's check, then judgeTokenClaims.
 */
export async function verifyBoundRequest<T extends BoundTokenClaims>(request: BoundRequest, deps: BoundRequestDeps<T>): Promise<T> {
  const checked = await checkRequestCredentials(request, deps);
  return judgeTokenClaims(checked, await deps.verifyToken(checked.token, checked.proof));
}

/** Refuses a token whose scope lacks every one of `required` (any one is enough). */
export function requireScope(claims: BoundTokenClaims, required: readonly string[]): void {
  if (required.length === 0) return;
  const granted = new Set(claims.scope.split(' '));
  if (!required.some((scope) => granted.has(scope))) {
    throw new ResourceAccessError('insufficient_scope', `this operation needs the scope ${required.join(' or ')}`, { scope: required.join(' ') });
  }
}
