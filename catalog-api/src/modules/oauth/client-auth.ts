// Client authentication at the token, PAR, revocation and introspection endpoints:
// `private_key_jwt` (RFC 7523 §2.2 over RFC 7521 §4.2) for confidential clients, `none` for public
// ones. Client secrets, in the body or through HTTP Basic, are not a method of this profile.
//
// What a client assertion must be:
// - signed with ES256, ES384, RS384 (SMART App Launch's baseline: servers SHALL accept one of RS384
//   and ES384), PS256 or EdDSA (also spelled `Ed25519`, the fully-specified name of RFC 9864 that
//   oauth4webapi 3.x puts in the header for Ed25519 keys) by one of the client's keys: the one of
//   the header's `kid`, else each key that fits the algorithm (a key registered with an `alg`
//   fits that algorithm only). The keys are the registered JWKS,
//   or the set published at the client's `jwks_uri` (fetched safely and cached; fetched again, at
//   most once per cool-down, when no cached key verifies, so a key rotation at the client works);
// - `iss` = `sub` = the client_id, and = the `client_id` parameter when the request has one;
// - `aud` = the issuer identifier (what oauth4webapi sends, and what FAPI 2.0 and rfc7523bis want)
//   or the URL of the endpoint receiving it, as a string or in an array;
// - `exp` in the future and at most 5 minutes after `iat` (or after now when there is no `iat`);
// - `iat` and `nbf`, when present, at most 10 s in the future (clock skew). FAPI 2.0 asks to accept
//   up to 10 s and to refuse beyond 60 s; this server refuses everything beyond 10 s, so there is a
//   single tolerance and no window in which an assertion that says "not before" is used before;
// - a `jti` never seen for this client while its first assertion was unexpired (the replay record is
//   in the store, so a replay to another instance is refused too).
import type { KeyObject } from 'node:crypto';
import type { Queryable } from '../../core/store/db.js';
import { findClientById, type ClientWithApp } from './client-repository.js';
import { clientAssertionAlgorithms } from './client-keys.js';
import { RemoteKeysError, type RemoteKeySets, type VerificationKey } from './client-remote-keys.js';
import { BoundedCache, JwsError, jwkThumbprint, parseCompactJws, payloadJson, publicKeyFromJwk, verifySignature as verifyJwsSignature, type ParsedJws } from './jws.js';
import type { ReplayCache } from './replay-cache.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Replay-cache namespace of client assertions; the identifier recorded is `<client_id>:<jti>`. */
export const CLIENT_ASSERTION_REPLAY_NAMESPACE = 'client_assertion';
/** Longest life of an assertion, from its `iat` (or from now without one) to its `exp`. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** How far in the future `iat` and `nbf` may be. */
export const MAX_CLOCK_SKEW_SECONDS = 10;
/** The algorithms accepted in a client assertion's header (EdDSA also as `Ed25519`). */
export const CLIENT_ASSERTION_ALGORITHMS = [...clientAssertionAlgorithms, 'Ed25519'] as const;
type AssertionAlgorithm = (typeof CLIENT_ASSERTION_ALGORITHMS)[number];
/** The algorithms in words, for the descriptions of refusals. */
const ACCEPTED = 'ES256, ES384, RS384, PS256 or EdDSA';

const MAX_JTI_LENGTH = 256;

/**
 * Clients' public keys already imported, by client and RFC 7638 thumbprint (the key's public
 * members: a key registered again under the same kid with other members is another entry).
 */
export const CLIENT_KEY_CACHE_SIZE = 2_000;
const clientKeys = new BoundedCache<string, KeyObject>(CLIENT_KEY_CACHE_SIZE);

type Claims = Record<string, unknown>;

/** The key type (and curve) each algorithm needs. */
const keyShapes: Record<AssertionAlgorithm, (jwk: VerificationKey) => boolean> = {
  ES256: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256',
  ES384: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-384',
  RS384: (jwk) => jwk.kty === 'RSA',
  PS256: (jwk) => jwk.kty === 'RSA',
  EdDSA: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519',
  Ed25519: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519',
};

/** Whether a key may verify `alg`: its shape fits, and the `alg` it was registered with, if any, is that one (EdDSA and Ed25519 are one). */
function keyFits(alg: AssertionAlgorithm, jwk: VerificationKey): boolean {
  return keyShapes[alg](jwk) && (jwk.alg === undefined || jwk.alg === (alg === 'Ed25519' ? 'EdDSA' : alg));
}

export type ClientAuthErrorCode = 'invalid_client' | 'invalid_request';

/**
 * A refused client authentication, to answer as RFC 6749 §5.2 says: status `status`, body
 * `{ error, error_description }`, and the `WWW-Authenticate` header `wwwAuthenticate` when set
 * (the client tried the Authorization header).
 */
export class ClientAuthError extends Error {
  readonly error: ClientAuthErrorCode;
  readonly status: 401 | 400;
  readonly wwwAuthenticate: string | undefined;

  constructor(error: ClientAuthErrorCode, description: string, options: { wwwAuthenticate?: string } = {}) {
    super(description);
    this.name = 'ClientAuthError';
    this.error = error;
    this.status = error === 'invalid_client' ? 401 : 400;
    this.wwwAuthenticate = options.wwwAuthenticate;
  }

  /** The description, already limited to the characters RFC 6749 allows in `error_description`. */
  get error_description(): string {
    return this.message;
  }

  toJSON(): { error: ClientAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

const invalidClient = (description: string) => new ClientAuthError('invalid_client', description);
const invalidRequest = (description: string) => new ClientAuthError('invalid_request', description);

/** A value the client sent, shown in a description: printable ASCII other than `"` and `\`, cut short. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const safe = text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
  return safe.length > 64 ? `${safe.slice(0, 61)}...` : safe;
}

export interface ClientAuthContext {
  /** The server's issuer identifier (RFC 8414). */
  issuer: string;
  /** The absolute URL of the endpoint receiving the request (token, PAR, revocation, introspection). */
  endpointUrl: string;
  /** The request's Authorization header, if any: HTTP Basic (client_secret_basic) is refused clearly. */
  authorization?: string | undefined;
}

export interface ClientAuthDeps {
  db: Queryable;
  replay: ReplayCache;
  /** Where the keys of clients that registered a `jwks_uri` come from; such clients are refused without it. */
  remoteKeys?: RemoteKeySets | undefined;
  /** Milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  /** How clients are looked up (a cache at the token endpoint: client-repository.ts `clientCache`); the store by default. */
  findClient?: (clientId: string) => Promise<ClientWithApp | null>;
}

const lookUp = (deps: ClientAuthDeps, clientId: string) => (deps.findClient ? deps.findClient(clientId) : findClientById(deps.db, clientId));

/** Why an assertion whose `jti` was seen before is refused. */
export const REPLAYED_ASSERTION = 'client_assertion was already used (same jti): every assertion is single-use';

export type ClientAuthMethod = 'private_key_jwt' | 'none';

export interface AuthenticatedClient {
  /** The client, with its app's id (`appId`) and certification status (`appCertificationStatus`). */
  client: ClientWithApp;
  method: ClientAuthMethod;
  /** For `private_key_jwt`: the kid of the registered key that verified the assertion. */
  keyId?: string;
}

/**
 * Authenticates the client of a request to the token, PAR, revocation or introspection endpoint
 * from its form parameters. Throws `ClientAuthError` when it cannot.
 */
export async function authenticateClient(
  form: Record<string, string | undefined>,
  context: ClientAuthContext,
  deps: ClientAuthDeps,
): Promise<AuthenticatedClient> {
  const assertion = form.client_assertion;
  const assertionType = form.client_assertion_type;
  const secret = form.client_secret;
  const authorization = context.authorization;

  const mechanisms = [authorization !== undefined, assertion !== undefined, secret !== undefined].filter(Boolean).length;
  if (mechanisms > 1) {
    throw invalidRequest('client authentication must use one mechanism only (client_assertion, client_secret or the Authorization header)');
  }
  if (authorization !== undefined) {
    if (/^basic(\s|$)/i.test(authorization.trim())) {
      throw new ClientAuthError(
        'invalid_client',
        'HTTP Basic client authentication (client_secret_basic) is not supported: confidential clients use private_key_jwt, public clients send only client_id',
        { wwwAuthenticate: `Basic realm="${shown(context.issuer)}"` },
      );
    }
    throw invalidRequest('the Authorization header is not a client authentication method of this endpoint: use private_key_jwt or, for a public client, client_id');
  }
  if (secret !== undefined) {
    throw invalidClient('client secrets (client_secret_post) are not supported: confidential clients use private_key_jwt, public clients send only client_id');
  }

  if (assertion !== undefined) {
    if (assertionType === undefined) throw invalidRequest(`client_assertion_type is required with client_assertion (${CLIENT_ASSERTION_TYPE})`);
    if (assertionType !== CLIENT_ASSERTION_TYPE) throw invalidRequest(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    return privateKeyJwt(assertion, form.client_id, context, deps);
  }
  if (assertionType !== undefined) throw invalidRequest('client_assertion_type was sent without client_assertion');

  const clientId = form.client_id;
  if (clientId === undefined || clientId === '') {
    throw invalidClient('no client authentication: a confidential client sends a client_assertion (private_key_jwt), a public client its client_id');
  }
  const client = await lookUp(deps, clientId);
  if (!client) throw invalidClient('unknown client: no client is registered with this client_id');
  if (client.type !== 'public') {
    throw invalidClient('this client is confidential: it must authenticate with private_key_jwt (client_assertion), not none');
  }
  return { client, method: 'none' };
}

async function privateKeyJwt(
  assertion: string,
  clientIdParam: string | undefined,
  context: ClientAuthContext,
  deps: ClientAuthDeps,
): Promise<AuthenticatedClient> {
  let parsed: ParsedJws;
  let claims: Claims;
  try {
    parsed = parseCompactJws(assertion);
    claims = payloadJson(parsed);
  } catch (error) {
    if (error instanceof JwsError && error.code === 'unsupported') {
      throw invalidClient('client_assertion uses a JWS header parameter this server does not support (crit or b64)');
    }
    throw invalidClient('client_assertion is not a signed JWT (compact JWS with a JSON header and claims)');
  }
  const { header } = parsed;

  const alg = header.alg;
  if (alg === undefined || alg === 'none') throw invalidClient('client_assertion must be signed: alg none is refused');
  if (typeof alg !== 'string') throw invalidClient(`client_assertion alg ${shown(alg)} is not accepted: use ${ACCEPTED}`);
  if (/^HS/i.test(alg)) {
    throw invalidClient(`client_assertion alg ${shown(alg)} is refused: secret-based assertions (client_secret_jwt) are not supported, use ${ACCEPTED}`);
  }
  if (!(CLIENT_ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
    throw invalidClient(`client_assertion alg ${shown(alg)} is not accepted: use ${ACCEPTED}`);
  }
  const algorithm = alg as AssertionAlgorithm;

  // Who the client says it is, checked before any look-up.
  const { iss, sub } = claims;
  if (typeof sub !== 'string' || sub === '') throw invalidClient('client_assertion must have a sub claim: the client_id');
  if (typeof iss !== 'string' || iss === '') throw invalidClient('client_assertion must have an iss claim: the client_id');
  if (iss !== sub) throw invalidClient('client_assertion iss and sub must both be the client_id; they differ');
  if (clientIdParam !== undefined && clientIdParam !== sub) {
    throw invalidRequest('client_id does not match the client_assertion (its iss and sub)');
  }

  const client = await lookUp(deps, sub);
  if (!client) throw invalidClient('unknown client: no client is registered with the client_id of the client_assertion');
  if (client.type !== 'confidential') {
    throw invalidClient('this client is public: it authenticates with none (client_id only) and has no keys to verify a client_assertion');
  }
  let keyId: string | undefined;
  if (client.jwks) {
    keyId = verifySignature(parsed, client.clientId, algorithm, client.jwks.keys);
  } else {
    const uri = client.jwksUri!;
    const remote = deps.remoteKeys;
    if (!remote) throw invalidClient('this server cannot fetch jwks_uri key sets; register the public keys inline (jwks)');
    const published = await remoteKeys(() => remote.get(uri));
    try {
      keyId = verifySignature(parsed, client.clientId, algorithm, published.keys);
    } catch (error) {
      // The client may have rotated its keys since the set was cached: look once more.
      const again = await remoteKeys(() => remote.refresh(uri));
      if (again.fetchedAt === published.fetchedAt) throw error;
      keyId = verifySignature(parsed, client.clientId, algorithm, again.keys);
    }
  }
  await checkClaims(claims, client.clientId, context, deps);
  return { client, method: 'private_key_jwt', ...(keyId !== undefined ? { keyId } : {}) };
}

async function remoteKeys<T>(fetch: () => Promise<T>): Promise<T> {
  try {
    return await fetch();
  } catch (error) {
    if (error instanceof RemoteKeysError) throw invalidClient(`the key set at this client's jwks_uri ${error.message}`);
    throw error;
  }
}

/** Verifies the signature with one of the client's keys and returns that key's kid (if it has one). */
function verifySignature(parsed: ParsedJws, clientId: string, alg: AssertionAlgorithm, keys: VerificationKey[]): string | undefined {
  const { header } = parsed;
  let candidates: VerificationKey[];
  if (header.kid !== undefined) {
    const key = keys.find((jwk) => jwk.kid === header.kid);
    if (!key) throw invalidClient(`no key of this client has kid ${shown(header.kid)}`);
    if (!keyFits(alg, key)) {
      throw invalidClient(`key ${shown(header.kid)} (${key.kty}${key.crv ? ` ${key.crv}` : ''}${key.alg ? `, registered for ${key.alg}` : ''}) cannot verify alg ${alg}`);
    }
    candidates = [key];
  } else {
    candidates = keys.filter((jwk) => keyFits(alg, jwk));
    if (candidates.length === 0) throw invalidClient(`no key of this client can verify alg ${alg}`);
  }
  for (const jwk of candidates) {
    // Only the public members make the key: the registered `alg` (EdDSA) must not stop a header's Ed25519.
    try {
      const key = clientKeys.getOrCreate(`${clientId} ${jwkThumbprint(jwk)}`, () => publicKeyFromJwk(jwk));
      if (verifyJwsSignature(parsed, alg, key)) return jwk.kid;
    } catch {
      // A key that cannot be imported or does not fit: try the next; the failure is reported once below.
    }
  }
  throw invalidClient(
    header.kid !== undefined
      ? `client_assertion signature does not verify with the registered key ${shown(header.kid)}`
      : 'client_assertion signature does not verify with any registered key of this client',
  );
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

async function checkClaims(claims: Claims, clientId: string, context: ClientAuthContext, deps: ClientAuthDeps): Promise<void> {
  const now = (deps.now ?? Date.now)() / 1000;

  const accepted = [context.issuer, context.endpointUrl];
  const { aud } = claims;
  if (aud === undefined) throw invalidClient('client_assertion must have an aud claim: the issuer identifier');
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.some((value) => typeof value === 'string' && accepted.includes(value))) {
    throw invalidClient(`client_assertion aud must be the issuer identifier ${shown(context.issuer)} (or this endpoint's URL)`);
  }

  const { exp, iat, nbf, jti } = claims;
  if (!isNumber(exp)) throw invalidClient('client_assertion must have an exp claim (a NumericDate)');
  if (exp <= now) throw invalidClient('client_assertion has expired (exp is past)');
  for (const [name, value] of [['iat', iat], ['nbf', nbf]] as const) {
    if (value === undefined) continue;
    if (!isNumber(value)) throw invalidClient(`client_assertion ${name} must be a NumericDate`);
    if (value - now > MAX_CLOCK_SKEW_SECONDS) {
      throw invalidClient(`client_assertion ${name} is ${Math.round(value - now)} s in the future; clocks may differ by ${MAX_CLOCK_SKEW_SECONDS} s at most`);
    }
  }
  if (exp - ((iat as number | undefined) ?? now) > MAX_ASSERTION_LIFETIME_SECONDS) {
    throw invalidClient(`client_assertion lives too long: exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} s after ${iat === undefined ? 'now' : 'iat'}`);
  }

  if (typeof jti !== 'string' || jti === '') throw invalidClient('client_assertion must have a jti claim, unique to each assertion');
  if (jti.length > MAX_JTI_LENGTH) throw invalidClient(`client_assertion jti is longer than ${MAX_JTI_LENGTH} characters`);
  const first = await deps.replay.firstUse(CLIENT_ASSERTION_REPLAY_NAMESPACE, `${clientId}:${jti}`, new Date(exp * 1000));
  if (!first) throw invalidClient(REPLAYED_ASSERTION);
}
