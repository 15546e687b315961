// Compact JWS (RFC 7515) with node:crypto KeyObjects: strict parsing, signature checks and signing,
// synchronous, for the per-request paths (DPoP proofs, access tokens, client assertions, ID tokens).
// Each caller states the algorithms it accepts; the key must fit the algorithm (type, curve, size).
import { constants, createHash, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

/** Every algorithm this module knows; each use accepts a subset of them. */
export const JWS_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'RS384', 'EdDSA', 'Ed25519'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** The smallest RSA modulus accepted, to verify or to sign (as jose and the profile require). */
export const MIN_RSA_MODULUS_BITS = 2048;

export type JwsErrorCode = 'malformed' | 'unsupported' | 'algorithm' | 'key' | 'signature';

/**
 * Why a JWS was refused: `malformed` (not three base64url parts, header not a JSON object),
 * `unsupported` (`crit` or `b64` in the header), `algorithm` (not accepted for this use),
 * `key` (the key does not fit the algorithm), `signature` (it does not verify).
 */
export class JwsError extends Error {
  override name = 'JwsError';
  readonly code: JwsErrorCode;
  /** The part of the JWS found malformed, when one was. */
  readonly part: JwsPart | undefined;

  constructor(code: JwsErrorCode, message: string, part?: JwsPart) {
    super(message);
    this.code = code;
    this.part = part;
  }
}

export type JwsPart = 'header' | 'payload' | 'signature';

export interface ParsedJws {
  /** The protected header, a JSON object. */
  header: Record<string, unknown>;
  /** The payload's base64url segment, decoded on demand (payloadJson). */
  payloadSegment: string;
  /** `<header>.<payload>`: what the signature covers. */
  signingInput: string;
  signature: Buffer;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** base64url without padding, canonical (no stray bits): anything else is refused. */
function decodeSegment(segment: string, part: JwsPart): Buffer {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) throw new JwsError('malformed', `the JWS ${part} is not base64url without padding`, part);
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw new JwsError('malformed', `the JWS ${part} is not canonical base64url`, part);
  return bytes;
}

function jsonObject(bytes: Buffer, part: JwsPart): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    throw new JwsError('malformed', `the JWS ${part} is not UTF-8 JSON`, part);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwsError('malformed', `the JWS ${part} is not a JSON object`, part);
  return value as Record<string, unknown>;
}

/**
 * Splits a compact JWS and decodes its header. Refuses anything but three base64url segments
 * without padding, a header that is not a JSON object, and the `crit` and `b64` header parameters
 * (no extension is understood here, and payloads are always base64url-encoded). The signature may
 * be empty here, so that callers can refuse `alg: none` by name; verification refuses it.
 */
export function parseCompactJws(jws: string): ParsedJws {
  if (typeof jws !== 'string') throw new JwsError('malformed', 'a JWS is a string');
  const parts = jws.split('.');
  if (parts.length !== 3) throw new JwsError('malformed', 'a compact JWS has three parts separated by dots');
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
  if (headerSegment === '') throw new JwsError('malformed', 'the JWS header is empty', 'header');
  const header = jsonObject(decodeSegment(headerSegment, 'header'), 'header');
  if (!BASE64URL.test(payloadSegment) || payloadSegment.length % 4 === 1) throw new JwsError('malformed', 'the JWS payload is not base64url without padding', 'payload');
  const signature = decodeSegment(signatureSegment, 'signature');
  if (Object.hasOwn(header, 'crit')) throw new JwsError('unsupported', 'the JWS header parameter "crit" is not supported');
  if (Object.hasOwn(header, 'b64')) throw new JwsError('unsupported', 'the JWS header parameter "b64" is not supported');
  return { header, payloadSegment, signingInput: `${headerSegment}.${payloadSegment}`, signature };
}

/** The payload of a parsed JWS, decoded. */
export function payloadBytes(parsed: ParsedJws): Buffer {
  return decodeSegment(parsed.payloadSegment, 'payload');
}

/** The payload of a parsed JWS as a JSON object (the claims of a JWT). */
export function payloadJson(parsed: ParsedJws): Record<string, unknown> {
  return jsonObject(payloadBytes(parsed), 'payload');
}

/** The claims of a JWT, unverified: only to tell whose request it is before anything is checked. */
export function unverifiedClaims(jwt: string): Record<string, unknown> {
  return payloadJson(parseCompactJws(jwt));
}

type KeyShape = { type: 'ec'; curve: string } | { type: 'rsa'; bits: number } | { type: 'ed25519' } | { type: 'other' };

/** Reading a key's details crosses into C++; a KeyObject never changes, so once is enough. */
const shapes = new WeakMap<KeyObject, KeyShape>();

function shapeOf(key: KeyObject): KeyShape {
  let shape = shapes.get(key);
  if (!shape) {
    const details = key.asymmetricKeyDetails ?? {};
    switch (key.asymmetricKeyType) {
      case 'ec':
        shape = { type: 'ec', curve: details.namedCurve ?? '' };
        break;
      case 'rsa':
      case 'rsa-pss':
        shape = { type: 'rsa', bits: details.modulusLength ?? 0 };
        break;
      case 'ed25519':
        shape = { type: 'ed25519' };
        break;
      default:
        shape = { type: 'other' };
    }
    shapes.set(key, shape);
  }
  return shape;
}

interface AlgorithmSpec {
  hash: string | null;
  /** The key shape this algorithm needs. */
  fits: (shape: KeyShape) => boolean;
  /** What it needs, in words. */
  needs: string;
  /** The fixed signature length, for ECDSA and EdDSA; RSA signatures are as long as the modulus. */
  signatureLength?: number;
  options: { dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number };
}

const rsaFits = (shape: KeyShape) => shape.type === 'rsa' && shape.bits >= MIN_RSA_MODULUS_BITS;
const eddsa: AlgorithmSpec = { hash: null, fits: (shape) => shape.type === 'ed25519', needs: 'an Ed25519 key', signatureLength: 64, options: {} };
const specs: Record<JwsAlgorithm, AlgorithmSpec> = {
  ES256: { hash: 'sha256', fits: (shape) => shape.type === 'ec' && shape.curve === 'prime256v1', needs: 'an EC P-256 key', signatureLength: 64, options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', fits: (shape) => shape.type === 'ec' && shape.curve === 'secp384r1', needs: 'an EC P-384 key', signatureLength: 96, options: { dsaEncoding: 'ieee-p1363' } },
  // RFC 7518 §3.5: the salt is as long as the hash (what WebCrypto and jose use too).
  PS256: { hash: 'sha256', fits: rsaFits, needs: `an RSA key of at least ${MIN_RSA_MODULUS_BITS} bits`, options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  RS256: { hash: 'sha256', fits: rsaFits, needs: `an RSA key of at least ${MIN_RSA_MODULUS_BITS} bits`, options: { padding: constants.RSA_PKCS1_PADDING } },
  RS384: { hash: 'sha384', fits: rsaFits, needs: `an RSA key of at least ${MIN_RSA_MODULUS_BITS} bits`, options: { padding: constants.RSA_PKCS1_PADDING } },
  EdDSA: eddsa,
  Ed25519: eddsa,
};

const isJwsAlgorithm = (alg: unknown): alg is JwsAlgorithm => typeof alg === 'string' && Object.hasOwn(specs, alg);

/** The algorithm of a header, if it is one of `allowed`; a JwsError otherwise. */
export function allowedAlgorithm<A extends JwsAlgorithm>(header: Record<string, unknown>, allowed: readonly A[]): A {
  const alg = header.alg;
  if (!isJwsAlgorithm(alg) || !(allowed as readonly string[]).includes(alg)) {
    throw new JwsError('algorithm', `JWS alg ${typeof alg === 'string' ? alg : 'missing'} is not accepted here; use one of ${allowed.join(', ')}`);
  }
  return alg as A;
}

/** Refuses a key that does not fit `alg`: an RSA key for ES256, another curve, a short RSA modulus, a private key to verify. */
export function assertKeyFits(alg: JwsAlgorithm, key: KeyObject, use: 'verify' | 'sign'): void {
  const wanted = use === 'verify' ? 'public' : 'private';
  if (key.type !== wanted) throw new JwsError('key', `${use === 'verify' ? 'verifying' : 'signing'} needs a ${wanted} key`);
  const spec = specs[alg];
  if (!spec.fits(shapeOf(key))) throw new JwsError('key', `JWS alg ${alg} needs ${spec.needs}`);
}

/** Whether the signature of a parsed JWS verifies with `key` under `alg` (checked against the key first). */
export function verifySignature(parsed: ParsedJws, alg: JwsAlgorithm, key: KeyObject): boolean {
  assertKeyFits(alg, key, 'verify');
  const spec = specs[alg];
  const expected = spec.signatureLength ?? Math.ceil((shapeOf(key) as { bits: number }).bits / 8);
  if (parsed.signature.length !== expected) return false;
  return cryptoVerify(spec.hash, Buffer.from(parsed.signingInput), { key, ...spec.options }, parsed.signature);
}

/**
 * Parses and verifies a compact JWS in one go: `alg` must be in `allowed`, the key must fit it and
 * the signature must verify. Returns the parsed JWS; throws a JwsError otherwise.
 */
export function verifyCompactJws<A extends JwsAlgorithm>(jws: string, allowed: readonly A[], key: KeyObject): ParsedJws & { alg: A } {
  const parsed = parseCompactJws(jws);
  const alg = allowedAlgorithm(parsed.header, allowed);
  if (!verifySignature(parsed, alg, key)) throw new JwsError('signature', 'the JWS signature does not verify');
  return { ...parsed, alg };
}

const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs `payload` as a compact JWS with `header` (whose `alg` names the algorithm) and a private key that fits it. */
export function signCompactJws(header: { alg: JwsAlgorithm } & Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const { alg } = header;
  if (!isJwsAlgorithm(alg)) throw new JwsError('algorithm', `JWS alg ${String(alg)} is not supported`);
  assertKeyFits(alg, key, 'sign');
  const spec = specs[alg];
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`;
  const signature = cryptoSign(spec.hash, Buffer.from(signingInput), { key, ...spec.options });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Signs `payload` (exact bytes) as a JWS with a detached payload (RFC 7515 appendix F): the
 * compact form with the payload part left empty, `<header>..<signature>`; the verifier puts the
 * base64url of the bytes it received back in the middle.
 */
export function signDetachedJws(header: { alg: JwsAlgorithm } & Record<string, unknown>, payload: Buffer, key: KeyObject): string {
  const { alg } = header;
  if (!isJwsAlgorithm(alg)) throw new JwsError('algorithm', `JWS alg ${String(alg)} is not supported`);
  assertKeyFits(alg, key, 'sign');
  const spec = specs[alg];
  const protectedHeader = encodeJson(header);
  const signature = cryptoSign(spec.hash, Buffer.from(`${protectedHeader}.${payload.toString('base64url')}`), { key, ...spec.options });
  return `${protectedHeader}..${signature.toString('base64url')}`;
}

/** The members of a public JWK that make its RFC 7638 thumbprint, in their order there. */
const thumbprintMembers: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/** RFC 7638 SHA-256 thumbprint of a public EC, RSA or OKP JWK; a JwsError when a member is missing. */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const members = typeof jwk.kty === 'string' ? thumbprintMembers[jwk.kty] : undefined;
  if (!members) throw new JwsError('key', `no thumbprint for a JWK of kty ${String(jwk.kty)}`);
  const required: Record<string, string> = {};
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== 'string' || value === '') throw new JwsError('key', `the JWK lacks "${member}"`);
    required[member] = value;
  }
  return createHash('sha256').update(JSON.stringify(required)).digest('base64url');
}

/** A public KeyObject from a public JWK; only the members that make the key are read. */
export function publicKeyFromJwk(jwk: Readonly<Record<string, unknown>>): KeyObject {
  const { kty, crv, x, y, n, e } = jwk;
  const members = kty === 'RSA' ? { kty, n, e } : kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
  try {
    return createPublicKey({ key: members as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw new JwsError('key', 'the JWK is not a valid public key');
  }
}

/**
 * A Map that keeps at most `capacity` entries, forgetting the least recently used: a cache of
 * KeyObjects that whoever sends keys (any DPoP proof names its own) cannot grow without bound.
 */
export class BoundedCache<K, V> {
  readonly capacity: number;
  readonly #entries = new Map<K, V>();

  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      // Map keeps insertion order: moving the entry to the end makes the first one the oldest.
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  /** The value for `key`, made by `create` and kept when not cached yet. */
  getOrCreate(key: K, create: () => V): V {
    let value = this.get(key);
    if (value === undefined) {
      value = create();
      this.set(key, value);
    }
    return value;
  }
}
