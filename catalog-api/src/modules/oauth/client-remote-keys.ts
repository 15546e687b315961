// Key sets that confidential clients publish at their `jwks_uri` instead of registering them:
// fetched through the safe outbound fetcher, reduced to the keys this profile can use, and kept
// per instance for as long as the publisher's Cache-Control says (within bounds). A key the client
// has just added (an unknown kid, a signature no cached key verifies) triggers one early re-fetch,
// at most once per cool-down, so a rotation at the client works without waiting for the cache.
import { OutboundError, safeGet, type OutboundPolicy } from '../../core/outbound/safe-fetch.js';
import { keyProblem, PRIVATE_KEY_MEMBERS, type Jwk } from './client-keys.js';

/** A public key the server may verify client assertions with; `kid` may be absent in a published set. */
export type VerificationKey = Omit<Jwk, 'kid'> & { kid?: string };

export interface RemoteKeys {
  keys: VerificationKey[];
  /** Keys of the document that this profile cannot use, each with the reason (shown at registration). */
  skipped: string[];
  /** When the document was fetched (milliseconds since the epoch). */
  fetchedAt: number;
}

/** A key set that could not be fetched or holds nothing usable; the message is for the client's developer. */
export class RemoteKeysError extends Error {
  override name = 'RemoteKeysError';
}

export const JWKS_MAX_BYTES = 64 * 1024;
const MAX_KEYS = 100;
const DEFAULT_TTL_SECONDS = 300;
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 3600;
/** Fewest seconds between two fetches of one URI forced by an unknown key. */
export const REFETCH_COOLDOWN_SECONDS = 10;
const MAX_CACHED_URIS = 10_000;

export interface RemoteKeySets {
  /** The keys at `uri`, from the cache while it is fresh. */
  get(uri: string): Promise<RemoteKeys>;
  /** The keys at `uri` fetched again, unless the cached copy is younger than the cool-down. */
  refresh(uri: string): Promise<RemoteKeys>;
  /** The keys at `uri` fetched now, whatever the cache holds (registration checks them this way). */
  load(uri: string): Promise<RemoteKeys>;
}

const allowedAlgs: Record<string, string> = { EC: 'ES256', RSA: 'PS256', OKP: 'EdDSA' };

/** Reads a published JWK Set: the usable public signing keys, and why the others were left out. */
export function usableKeys(document: unknown): { keys: VerificationKey[]; skipped: string[] } {
  if (typeof document !== 'object' || document === null || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new RemoteKeysError('is not a JWK Set: a JSON object with a "keys" array is expected');
  }
  const published = (document as { keys: unknown[] }).keys;
  if (published.length > MAX_KEYS) throw new RemoteKeysError(`holds ${published.length} keys; at most ${MAX_KEYS} are read`);
  const keys: VerificationKey[] = [];
  const skipped: string[] = [];
  published.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null) throw new RemoteKeysError(`key ${index} is not a JSON object`);
    const jwk = entry as Record<string, unknown>;
    const name = typeof jwk.kid === 'string' ? `key "${jwk.kid.slice(0, 64)}"` : `key ${index}`;
    // A private key published by mistake compromises the client: refuse the whole set rather than pick around it.
    const leaked = PRIVATE_KEY_MEMBERS.find((member) => member in jwk);
    if (leaked) throw new RemoteKeysError(`${name} holds the private member "${leaked}": publish public keys only, and replace that key now`);
    if (jwk.use !== undefined && jwk.use !== 'sig') return void skipped.push(`${name}: use is "${String(jwk.use)}", not "sig"`);
    if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return void skipped.push(`${name}: key_ops do not include "verify"`);
    if (typeof jwk.kty !== 'string' || !(jwk.kty in allowedAlgs)) return void skipped.push(`${name}: kty ${String(jwk.kty)} is not EC, RSA or OKP`);
    if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid === '' || jwk.kid.length > 128)) {
      return void skipped.push(`${name}: kid must be a string of 1 to 128 characters`);
    }
    const strings = ['crv', 'x', 'y', 'n', 'e', 'alg'] as const;
    const key: Record<string, string> = { kty: jwk.kty };
    for (const member of strings) {
      if (jwk[member] === undefined) continue;
      if (typeof jwk[member] !== 'string') return void skipped.push(`${name}: "${member}" is not a string`);
      key[member] = jwk[member] as string;
    }
    if (typeof jwk.kid === 'string') key.kid = jwk.kid;
    const problem = keyProblem(key as unknown as Jwk);
    if (problem) return void skipped.push(`${name} ${problem}`);
    keys.push(key as unknown as VerificationKey);
  });
  const kids = keys.flatMap((key) => (key.kid === undefined ? [] : [key.kid]));
  const twice = kids.find((kid, index) => kids.indexOf(kid) !== index);
  if (twice !== undefined) throw new RemoteKeysError(`kid "${twice.slice(0, 64)}" is used by two keys`);
  return { keys, skipped };
}

/** Seconds to keep a document, from its Cache-Control max-age within [60 s, 1 h]; 5 minutes without one. */
export function cacheSeconds(cacheControl: string | string[] | undefined): number {
  const header = [cacheControl ?? []].flat().join(',');
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(header);
  const seconds = maxAge ? Number(maxAge[1]) : /no-cache|no-store/i.test(header) ? 0 : DEFAULT_TTL_SECONDS;
  return Math.min(MAX_TTL_SECONDS, Math.max(MIN_TTL_SECONDS, seconds));
}

export interface RemoteKeySetOptions {
  policy: OutboundPolicy;
  /** Clock in milliseconds (Date.now by default). */
  now?: () => number;
}

export function remoteKeySets(options: RemoteKeySetOptions): RemoteKeySets {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { keys: RemoteKeys; expiresAt: number }>();
  // One fetch at a time per URI: a burst of token requests waits for the same answer.
  const inflight = new Map<string, Promise<RemoteKeys>>();

  async function fetchKeys(uri: string): Promise<RemoteKeys> {
    let document;
    try {
      document = await safeGet(uri, { accept: 'application/jwk-set+json, application/json', maxBytes: JWKS_MAX_BYTES }, options.policy);
    } catch (error) {
      if (error instanceof OutboundError) throw new RemoteKeysError(`could not be fetched: ${error.message}`);
      throw error;
    }
    if (document.status !== 200) throw new RemoteKeysError(`answered HTTP ${document.status}, not 200`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(document.body.toString('utf8'));
    } catch {
      throw new RemoteKeysError('is not JSON');
    }
    const { keys, skipped } = usableKeys(parsed);
    if (keys.length === 0) {
      throw new RemoteKeysError(`holds no usable signing key (EC P-256 or P-384, RSA of at least 2048 bits, or Ed25519)${skipped.length ? `: ${skipped.join('; ')}` : ''}`);
    }
    const result = { keys, skipped, fetchedAt: now() };
    if (cache.size >= MAX_CACHED_URIS) cache.delete(cache.keys().next().value!);
    cache.set(uri, { keys: result, expiresAt: result.fetchedAt + cacheSeconds(document.headers['cache-control']) * 1000 });
    return result;
  }

  function load(uri: string): Promise<RemoteKeys> {
    let pending = inflight.get(uri);
    if (!pending) {
      pending = fetchKeys(uri).finally(() => inflight.delete(uri));
      inflight.set(uri, pending);
    }
    return pending;
  }

  return {
    async get(uri) {
      const entry = cache.get(uri);
      if (entry && entry.expiresAt > now()) return entry.keys;
      return load(uri);
    },
    async refresh(uri) {
      const entry = cache.get(uri);
      if (entry && now() - entry.keys.fetchedAt < REFETCH_COOLDOWN_SECONDS * 1000) return entry.keys;
      return load(uri);
    },
    load,
  };
}
