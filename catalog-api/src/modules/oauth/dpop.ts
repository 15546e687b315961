// DPoP (RFC 9449): checks the proof of possession a client sends in the `DPoP` header, at the
// token endpoint and with every DPoP-bound access token, and hands out the server nonces
// (RFC 9449 §8, §9) that clients put in their proofs. No HTTP framework here: the caller passes
// the header value(s), the method and the public URL of the request, and maps a DpopError to its
// response (400 `{ error }` at the token endpoint, 401 `WWW-Authenticate: DPoP error=…` at a
// resource), with a `DPoP-Nonce` header when the error carries a nonce.
//
// Time windows (all in seconds):
// - a proof's `iat` may be at most DPOP_MAX_AGE_SECONDS (300) old: the client's clock may be
//   behind ours by that much, as node-oidc-provider allows;
// - and less than DPOP_MAX_FUTURE_SECONDS (60) ahead: FAPI 2.0 requires accepting 10 s and
//   rejecting 60 s or more; oauth4webapi adds its configured clock skew to `iat`, so a client
//   that has measured our clock lands well inside;
// - a `jti` is remembered (namespace 'dpop') for DPOP_MAX_AGE_SECONDS + DPOP_MAX_FUTURE_SECONDS
//   after it is seen, longer than any proof carrying it could still be accepted;
// - a nonce is an HMAC of a DPOP_NONCE_SLOT_SECONDS (300) time slot: the current one, the one
//   before and the one after (another instance's clock may be slightly ahead) are accepted, so a
//   nonce stays usable 5 to 10 minutes after it was handed out.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Queryable } from '../../core/store/db.js';
import { PRIVATE_KEY_MEMBERS } from './client-keys.js';
import { BoundedCache, JwsError, jwkThumbprint, parseCompactJws, payloadBytes, publicKeyFromJwk, verifySignature, type ParsedJws } from './jws.js';
import type { ReplayCache } from './replay-cache.js';

/** Why a replayed proof is refused (also said when the replay is found with the token's state). */
export const REPLAYED_PROOF = 'DPoP proof "jti" was already used: every request needs a new proof';

/**
 * ES256, PS256 and EdDSA; `Ed25519` is the fully-specified name of EdDSA on Ed25519 (RFC 9864),
 * the one oauth4webapi 3.x writes in proofs made with an Ed25519 key (client-auth.ts accepts it
 * for client assertions too).
 */
export const DPOP_ALGORITHMS = ['ES256', 'PS256', 'EdDSA', 'Ed25519'] as const;
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];
export const DPOP_MAX_AGE_SECONDS = 300;
export const DPOP_MAX_FUTURE_SECONDS = 60;
export const DPOP_NONCE_SLOT_SECONDS = 300;
/** Namespace of proof identifiers in the replay cache. */
export const DPOP_REPLAY_NAMESPACE = 'dpop';
/** Name of the nonce secret in `server_secrets`. */
export const DPOP_NONCE_SECRET_NAME = 'dpop_nonce_secret';

const MAX_JTI_LENGTH = 256;
/** A proof with an RSA-4096 key is under 2 KB; anything far bigger is not a proof. */
const MAX_PROOF_LENGTH = 8192;
const MIN_RSA_BITS = 2048;
/**
 * Proof keys already imported, by RFC 7638 thumbprint (which names the key's public members, so
 * one entry is one key). A client signs every proof with the same key: a hit saves the import.
 * Bounded, since any request may bring a new key.
 */
export const DPOP_KEY_CACHE_SIZE = 10_000;
const proofKeys = new BoundedCache<string, KeyObject>(DPOP_KEY_CACHE_SIZE);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A public JWK reduced to the members that make the key. */
export type PublicJwk = { kty: string } & Record<string, string>;

export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

/**
 * A refused proof. `use_dpop_nonce` (proof fine but without a valid nonce) carries a fresh nonce
 * for the `DPoP-Nonce` response header; the client retries with it.
 */
export class DpopError extends Error {
  override name = 'DpopError';
  readonly code: DpopErrorCode;
  readonly nonce?: string;

  constructor(code: DpopErrorCode, message: string, nonce?: string) {
    super(message);
    this.code = code;
    if (nonce !== undefined) this.nonce = nonce;
  }
}

const invalid = (message: string) => new DpopError('invalid_dpop_proof', message);

export interface DpopNonces {
  /** The nonce to hand out now (in `DPoP-Nonce`). */
  current(): Promise<string>;
  /** Whether `nonce` is one this server handed out recently enough. */
  isValid(nonce: string): Promise<boolean>;
}

export interface DpopNonceOptions {
  /** Length of a nonce time slot, in seconds (default 300). */
  slotSeconds?: number;
  /** Clock in milliseconds (default Date.now). */
  now?: () => number;
}

/**
 * RFC 9449 §4.3 `htu` normalization: scheme and host lower-case, default port dropped, dot
 * segments resolved, percent-encodings upper-cased and unreserved ones decoded (RFC 3986 §6.2.2,
 * §6.2.3); query and fragment removed. Throws a TypeError for anything but an absolute http(s) URL.
 */
export function htuOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not an absolute URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TypeError(`not an http(s) URL: ${JSON.stringify(url)}`);
  }
  parsed.search = '';
  parsed.hash = '';
  parsed.pathname = parsed.pathname.replace(/%[0-9a-fA-F]{2}/g, (escape) => {
    const char = String.fromCharCode(parseInt(escape.slice(1), 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : escape.toUpperCase();
  });
  return parsed.href;
}

/** base64url(SHA-256(access token)): the `ath` a proof sent with that token must carry. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The one proof among the request's `DPoP` header values. */
function singleProof(headers: string | string[] | undefined): string {
  const values = (Array.isArray(headers) ? headers : headers === undefined ? [] : [headers]).filter((v) => v.trim() !== '');
  if (values.length === 0) throw invalid('missing DPoP header');
  // Node.js joins repeated headers with ", "; a compact JWS never holds a comma or a space.
  if (values.length > 1 || /[,\s]/.test(values[0]!.trim())) throw invalid('more than one DPoP header');
  const proof = values[0]!.trim();
  if (proof.length > MAX_PROOF_LENGTH) throw invalid('DPoP proof is too large');
  // The signature part may be empty here so that `alg: none` is refused by name below.
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(proof)) {
    throw invalid('DPoP proof is not a compact JWS (three base64url parts)');
  }
  return proof;
}

/** MIME types are case-insensitive and `application/` may be omitted (RFC 7515 §4.1.9). */
function isDpopTyp(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === 'dpop+jwt' || lower === 'application/dpop+jwt';
}

const isEdDsa = (alg: unknown) => alg === 'EdDSA' || alg === 'Ed25519';

const publicMembers: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/** The key the proof names, reduced to its public members; refuses a private or unsuitable key. */
function publicJwkFor(alg: DpopAlgorithm, jwk: Record<string, unknown>): PublicJwk {
  for (const member of PRIVATE_KEY_MEMBERS) {
    if (member in jwk) throw invalid(`DPoP proof jwk must be a public key, it holds the private member "${member}"`);
  }
  const kty = jwk.kty;
  const fits =
    alg === 'ES256' ? kty === 'EC' && jwk.crv === 'P-256' : alg === 'PS256' ? kty === 'RSA' : kty === 'OKP' && jwk.crv === 'Ed25519';
  const sameAlg = (named: unknown) => named === alg || (isEdDsa(alg) && isEdDsa(named));
  if (!fits) {
    const wanted = alg === 'ES256' ? 'an EC P-256' : alg === 'PS256' ? 'an RSA' : 'an OKP Ed25519';
    throw invalid(`DPoP proof alg ${alg} needs ${wanted} key in jwk`);
  }
  if (jwk.alg !== undefined && !sameAlg(jwk.alg)) throw invalid(`DPoP proof jwk is for alg ${String(jwk.alg)}, not ${alg}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw invalid('DPoP proof jwk "use" must be "sig" when present');
  const reduced: Record<string, string> = {};
  for (const member of publicMembers[kty as string]!) {
    const value = jwk[member];
    if (typeof value !== 'string' || value === '') throw invalid(`DPoP proof jwk lacks "${member}"`);
    reduced[member] = value;
  }
  if (kty === 'RSA') {
    const modulus = Buffer.from(reduced.n!, 'base64url');
    const start = modulus.findIndex((byte) => byte !== 0);
    const bits = start < 0 ? 0 : (modulus.length - start - 1) * 8 + (32 - Math.clz32(modulus[start]!));
    if (bits < MIN_RSA_BITS) throw invalid(`DPoP proof RSA key must have at least ${MIN_RSA_BITS} bits`);
  }
  return reduced as PublicJwk;
}

export interface DpopProofInput {
  /** The request's `DPoP` header value(s), as the HTTP server gives them. */
  headers: string | string[] | undefined;
  /** The request method, e.g. 'POST'. */
  method: string;
  /** The request's public URL (from the configured base URL, not from a Host header); query allowed. */
  url: string;
  /** The access token sent with the proof, at a protected resource: the proof must carry its `ath`. */
  accessToken?: string;
  /** Refuse a proof without a nonce (`use_dpop_nonce`, with one to retry with). */
  requireNonce?: boolean;
}

export interface DpopDeps {
  replay: ReplayCache;
  nonces: DpopNonces;
  /** Clock in milliseconds (default Date.now). */
  now?: () => number;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: the `cnf.jkt` of tokens bound to it. */
  jkt: string;
  /** The proof key, public members only. */
  jwk: PublicJwk;
  jti: string;
}

/** Checks a DPoP proof (RFC 9449 §4.3) and records its `jti`; throws a DpopError when refused. */
export async function verifyDpopProof(input: DpopProofInput, deps: DpopDeps): Promise<VerifiedDpopProof> {
  const proof = singleProof(input.headers);

  let parsed: ParsedJws;
  try {
    parsed = parseCompactJws(proof);
  } catch (error) {
    if (error instanceof JwsError && error.part === 'header') throw invalid('DPoP proof header is not base64url-encoded JSON');
    throw invalid(`DPoP proof is not a valid JWS: ${(error as Error).message}`);
  }
  const { header } = parsed;
  if (!isDpopTyp(header.typ)) throw invalid('DPoP proof header "typ" must be "dpop+jwt"');
  const alg = header.alg;
  if (typeof alg !== 'string') throw invalid('DPoP proof header has no "alg"');
  if (alg.toLowerCase() === 'none') throw invalid('DPoP proof alg "none" is refused: the proof must be signed');
  if (/^HS/i.test(alg)) throw invalid(`DPoP proof alg ${alg} is symmetric and refused; use one of ${DPOP_ALGORITHMS.join(', ')}`);
  if (!(DPOP_ALGORITHMS as readonly string[]).includes(alg)) {
    throw invalid(`DPoP proof alg ${alg} is not allowed; use one of ${DPOP_ALGORITHMS.join(', ')}`);
  }
  const jwkHeader = header.jwk;
  if (jwkHeader === undefined) throw invalid('DPoP proof header has no "jwk"');
  if (typeof jwkHeader !== 'object' || jwkHeader === null || Array.isArray(jwkHeader)) {
    throw invalid('DPoP proof header "jwk" must be a JSON object');
  }
  const jwk = publicJwkFor(alg as DpopAlgorithm, jwkHeader as Record<string, unknown>);
  const jkt = jwkThumbprint(jwk);

  let verified: boolean;
  try {
    const key = proofKeys.getOrCreate(jkt, () => publicKeyFromJwk(jwk));
    verified = verifySignature(parsed, alg as DpopAlgorithm, key);
  } catch {
    throw invalid('DPoP proof jwk is not a valid public key');
  }
  if (!verified) throw invalid('DPoP proof signature does not verify with the key in its jwk header');
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(strictUtf8.decode(payloadBytes(parsed))) as Record<string, unknown>;
  } catch {
    throw invalid('DPoP proof payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalid('DPoP proof payload is not a JSON object');

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    throw invalid(`DPoP proof "jti" must be a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  if (typeof htm !== 'string') throw invalid('DPoP proof has no "htm"');
  if (htm !== input.method) throw invalid(`DPoP proof "htm" ${JSON.stringify(htm)} does not match the request method ${input.method}`);
  if (typeof htu !== 'string') throw invalid('DPoP proof has no "htu"');
  let claimedHtu: string;
  try {
    claimedHtu = htuOf(htu);
  } catch {
    throw invalid('DPoP proof "htu" is not an absolute http(s) URL');
  }
  const requestHtu = htuOf(input.url);
  if (claimedHtu !== requestHtu) throw invalid(`DPoP proof "htu" ${JSON.stringify(htu)} does not match the request URL ${requestHtu}`);

  const nowSeconds = (deps.now ?? Date.now)() / 1000;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('DPoP proof "iat" must be a number');
  if (nowSeconds - iat > DPOP_MAX_AGE_SECONDS) {
    throw invalid(`DPoP proof "iat" is more than ${DPOP_MAX_AGE_SECONDS} seconds in the past`);
  }
  if (iat - nowSeconds >= DPOP_MAX_FUTURE_SECONDS) {
    throw invalid(`DPoP proof "iat" is ${DPOP_MAX_FUTURE_SECONDS} seconds or more in the future`);
  }

  if (input.accessToken !== undefined) {
    if (ath === undefined) throw invalid('DPoP proof has no "ath" though it comes with an access token');
    if (typeof ath !== 'string' || !sameString(ath, accessTokenHash(input.accessToken))) {
      throw invalid('DPoP proof "ath" does not match the access token');
    }
  }

  // Only a proof valid in every other way is asked for a nonce, so the client's retry can succeed.
  if (nonce !== undefined) {
    if (typeof nonce !== 'string') throw invalid('DPoP proof "nonce" must be a string');
    if (!(await deps.nonces.isValid(nonce))) {
      throw new DpopError('use_dpop_nonce', 'DPoP proof nonce is not valid or has expired; retry with the one in DPoP-Nonce', await deps.nonces.current());
    }
  } else if (input.requireNonce) {
    throw new DpopError('use_dpop_nonce', 'DPoP proof must carry a nonce; retry with the one in DPoP-Nonce', await deps.nonces.current());
  }

  const rememberUntil = new Date((nowSeconds + DPOP_MAX_AGE_SECONDS + DPOP_MAX_FUTURE_SECONDS) * 1000);
  if (!(await deps.replay.firstUse(DPOP_REPLAY_NAMESPACE, jti, rememberUntil))) {
    throw invalid(REPLAYED_PROOF);
  }

  return { jkt, jwk, jti };
}

/**
 * Stateless nonces from a secret: HMAC-SHA-256 of the time slot number. Pure; `createDpopNonces`
 * gets the secret from the store.
 */
export function dpopNoncesFromSecret(secret: Uint8Array | (() => Promise<Uint8Array>), options: DpopNonceOptions = {}): DpopNonces {
  const slotMs = (options.slotSeconds ?? DPOP_NONCE_SLOT_SECONDS) * 1000;
  if (!(slotMs > 0)) throw new RangeError('slotSeconds must be positive');
  const now = options.now ?? Date.now;
  const getSecret = typeof secret === 'function' ? secret : async () => secret;
  // The nonces of the last few slots, computed once each (every request checks three of them).
  let memoKey: Uint8Array | undefined;
  const memo = new Map<number, string>();
  const nonceFor = (key: Uint8Array, slot: number) => {
    if (key !== memoKey) {
      memo.clear();
      memoKey = key;
    }
    let nonce = memo.get(slot);
    if (nonce === undefined) {
      nonce = createHmac('sha256', key).update(`dpop-nonce:${slot}`).digest('base64url');
      if (memo.size >= 8) memo.delete(memo.keys().next().value!);
      memo.set(slot, nonce);
    }
    return nonce;
  };
  return {
    async current() {
      return nonceFor(await getSecret(), Math.floor(now() / slotMs));
    },
    async isValid(nonce) {
      if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(nonce)) return false;
      const key = await getSecret();
      const slot = Math.floor(now() / slotMs);
      let valid = false;
      for (const candidate of [slot + 1, slot, slot - 1]) valid = sameString(nonceFor(key, candidate), nonce) || valid;
      return valid;
    },
  };
}

/**
 * Nonces whose secret lives in `server_secrets`, created by whichever instance needs it first;
 * every instance on the store reads the same one, then keeps it in memory.
 */
export function createDpopNonces(db: Queryable, options: DpopNonceOptions = {}): DpopNonces {
  let secret: Promise<Uint8Array> | undefined;
  const load = async (): Promise<Uint8Array> => {
    const read = async () =>
      (await db.query<{ value: string }>('SELECT value FROM server_secrets WHERE name = $1', [DPOP_NONCE_SECRET_NAME]))[0]?.value;
    let value = await read();
    if (value === undefined) {
      // Two instances may get here together: the first insert wins and both read its secret.
      await db.query('INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
        DPOP_NONCE_SECRET_NAME,
        randomBytes(32).toString('base64url'),
      ]);
      value = await read();
    }
    const bytes = value === undefined ? undefined : Buffer.from(value, 'base64url');
    if (!bytes || bytes.length < 32) throw new Error(`server secret ${DPOP_NONCE_SECRET_NAME} is missing or shorter than 32 bytes`);
    return bytes;
  };
  return dpopNoncesFromSecret(() => {
    secret ??= load().catch((error: unknown) => {
      secret = undefined; // a failed read (store down) is retried by the next request
      throw error;
    });
    return secret;
  }, options);
}
