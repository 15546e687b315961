// Offline verification of what certification publishes: certificates (compact JWS, ES256, signed
// with the platform key) and the hash-chained decision log. WebCrypto only, so it runs in Node
// >= 20 and in browsers. The server hashes decisions with these same functions: what it writes is
// what anyone checks.
import type { components } from '@mes/openapi';

export type Decision = components['schemas']['Decision'];
export type DecisionKind = Decision['kind'];
/** A decision before its hash is computed. */
export type UnhashedDecision = Omit<Decision, 'hash'>;

/** The `previousHash` of the first decision. */
export const GENESIS_HASH = '0'.repeat(64);

/** The `typ` header of a certificate. */
export const CERTIFICATE_TYPE = 'mes-certificate+jwt';

/**
 * The canonical JSON of a value (RFC 8785, JSON Canonicalization Scheme): object members sorted by
 * their UTF-16 code units, no whitespace, numbers and strings as ECMAScript serializes them.
 * `undefined` members are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`canonical JSON cannot represent ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const members = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
}

const hex = (bytes: ArrayBuffer): string => Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');

/** SHA-256 of a text's UTF-8 bytes, in lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** The hash of a decision: SHA-256 of the canonical JSON of every member but `hash`. */
export async function decisionHash(entry: UnhashedDecision | Decision): Promise<string> {
  const { hash: _ignored, ...unhashed } = entry as Decision;
  return sha256Hex(canonicalJson(unhashed));
}

export type DecisionLogVerification =
  | { valid: true; entries: number; head: { seq: number; hash: string } }
  | { valid: false; entries: number; seq: number; reason: 'sequence_gap' | 'broken_link' | 'hash_mismatch' | 'head_mismatch'; detail: string };

/**
 * Checks a run of decisions: positions contiguous, each entry's `previousHash` the hash of the one
 * before (the genesis hash before position 1, or `options.previousHash` for a run that starts
 * later), each `hash` recomputed, and, with `options.head`, the last entry equal to the published
 * head.
 */
export async function verifyDecisionLog(
  entries: readonly Decision[],
  options: { previousHash?: string; head?: { seq: number; hash: string } } = {},
): Promise<DecisionLogVerification> {
  let previousHash = options.previousHash ?? GENESIS_HASH;
  let previousSeq = entries[0] ? entries[0].seq - 1 : 0;
  if (options.previousHash === undefined && entries[0] && entries[0].seq !== 1) {
    return { valid: false, entries: 0, seq: entries[0].seq, reason: 'sequence_gap', detail: `the log starts at position ${entries[0].seq}, not 1` };
  }
  for (const [index, entry] of entries.entries()) {
    const failure = (reason: 'sequence_gap' | 'broken_link' | 'hash_mismatch', detail: string) =>
      ({ valid: false, entries: index, seq: entry.seq, reason, detail }) as const;
    if (entry.seq !== previousSeq + 1) return failure('sequence_gap', `position ${entry.seq} follows position ${previousSeq}`);
    if (entry.previousHash !== previousHash) return failure('broken_link', `decision ${entry.seq} names ${entry.previousHash} as the previous hash, not ${previousHash}`);
    const computed = await decisionHash(entry);
    if (computed !== entry.hash) return failure('hash_mismatch', `decision ${entry.seq} hashes to ${computed}, not ${entry.hash}`);
    previousHash = entry.hash;
    previousSeq = entry.seq;
  }
  const head = { seq: previousSeq, hash: previousHash };
  if (options.head && (options.head.seq !== head.seq || options.head.hash !== head.hash)) {
    return {
      valid: false,
      entries: entries.length,
      seq: options.head.seq,
      reason: 'head_mismatch',
      detail: `the published head is position ${options.head.seq} (${options.head.hash}); the entries end at ${head.seq} (${head.hash})`,
    };
  }
  return { valid: true, entries: entries.length, head };
}

/** What a certificate says (the JWS payload). */
export interface CertificateClaims {
  iss: string;
  /** The app id. */
  sub: string;
  /** The certificate id. */
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
  reference: string;
  app_name: string;
  publisher: { id: string; name: string; registration_number: string };
  version: string;
  scopes: string[];
  redirect_uris: string[];
  criteria_version: string;
  /** Ids of the decisions that certified it, in the decision log. */
  decisions: string[];
}

/** A public key of the platform, as published (JWK). */
export interface CertificateKey {
  kty: string;
  kid?: string;
  crv?: string;
  x?: string;
  y?: string;
  alg?: string;
  [member: string]: unknown;
}

export type CertificateVerification =
  | { valid: true; kid: string; claims: CertificateClaims }
  | {
      valid: false;
      reason: 'malformed' | 'unsupported_algorithm' | 'unknown_key' | 'bad_signature' | 'not_yet_valid' | 'expired';
      detail: string;
      kid?: string;
      claims?: CertificateClaims;
    };

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError('not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '='));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

const base64UrlJson = (text: string): unknown => JSON.parse(new TextDecoder().decode(base64UrlBytes(text)));

/**
 * Verifies a certificate offline against the platform's published keys: its form, the ES256
 * signature by the key its `kid` names, and its validity period at `options.now` (default now).
 * Whether it was suspended or revoked since is online information: the certificate's state in the
 * API and the decision log.
 */
export async function verifyCertificate(
  jws: string,
  keys: { keys: readonly CertificateKey[] } | readonly CertificateKey[],
  options: { now?: Date } = {},
): Promise<CertificateVerification> {
  const parts = jws.trim().split('.');
  if (parts.length !== 3) return { valid: false, reason: 'malformed', detail: 'a certificate is a compact JWS: three base64url parts separated by dots' };
  let header: { alg?: unknown; kid?: unknown; typ?: unknown };
  let claims: CertificateClaims;
  let signature: Uint8Array<ArrayBuffer>;
  try {
    header = base64UrlJson(parts[0]!) as typeof header;
    claims = base64UrlJson(parts[1]!) as CertificateClaims;
    signature = base64UrlBytes(parts[2]!);
  } catch {
    return { valid: false, reason: 'malformed', detail: 'the header, payload or signature is not base64url-encoded JSON' };
  }
  if (header.typ !== CERTIFICATE_TYPE) return { valid: false, reason: 'malformed', detail: `the JWS type is ${String(header.typ)}, not ${CERTIFICATE_TYPE}` };
  if (header.alg !== 'ES256') return { valid: false, reason: 'unsupported_algorithm', detail: `the algorithm is ${String(header.alg)}; certificates are signed with ES256` };
  const kid = typeof header.kid === 'string' ? header.kid : '';
  const list = Array.isArray(keys) ? keys : (keys as { keys: readonly CertificateKey[] }).keys;
  const jwk = list.find((key) => key.kid === kid && key.kty === 'EC' && key.crv === 'P-256');
  if (!jwk) return { valid: false, reason: 'unknown_key', detail: `no published P-256 key has the id ${kid || '(none)'}`, kid, claims };
  const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
  if (!(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, signed))) {
    return { valid: false, reason: 'bad_signature', detail: `the signature does not verify with key ${kid}`, kid, claims };
  }
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (typeof claims.nbf === 'number' && now < claims.nbf) {
    return { valid: false, reason: 'not_yet_valid', detail: `valid from ${new Date(claims.nbf * 1000).toISOString()}`, kid, claims };
  }
  if (typeof claims.exp !== 'number' || now >= claims.exp) {
    return { valid: false, reason: 'expired', detail: `expired at ${new Date((claims.exp ?? 0) * 1000).toISOString()}`, kid, claims };
  }
  return { valid: true, kid, claims };
}
