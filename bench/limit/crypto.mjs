// The cryptography of the limit server, with node:crypto only and every imported key kept as a
// KeyObject: JWS (compact) verification and ES256 signing, JWK thumbprints, RFC 9449 `htu`
// normalization, the DPoP nonces (HMAC of a time slot, as the platform hands them out) and the
// AES-256-GCM "secret box" the platform keeps its private keys in.
import { createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, constants, sign, timingSafeEqual, verify } from 'node:crypto';

export const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function sameString(a, b) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export const sha256b64url = (text) => createHash('sha256').update(text).digest('base64url');

/** How each JWS algorithm is verified with node:crypto. */
const algorithms = {
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' }, fits: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256' },
  ES384: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' }, fits: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-384' },
  RS384: { hash: 'sha384', options: { padding: constants.RSA_PKCS1_PADDING }, fits: (jwk) => jwk.kty === 'RSA' },
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, fits: (jwk) => jwk.kty === 'RSA' },
  EdDSA: { hash: null, options: {}, fits: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519' },
  Ed25519: { hash: null, options: {}, fits: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519' },
};

export const algorithmFits = (alg, jwk) => algorithms[alg]?.fits(jwk) ?? false;

/** Verifies a compact JWS's signature (`parts` from split('.')) with a KeyObject. */
export function verifyJws(alg, key, parts) {
  const { hash, options } = algorithms[alg];
  const signature = Buffer.from(parts[2], 'base64url');
  return verify(hash, Buffer.from(`${parts[0]}.${parts[1]}`), { key, ...options }, signature);
}

/** A bounded cache of imported public keys, keyed by their JWK's (or header's) text. */
export function keyCache(limit = 1000) {
  const keys = new Map();
  return (id, jwk) => {
    let key = keys.get(id);
    if (!key) {
      key = createPublicKey({ key: jwk, format: 'jwk' });
      if (keys.size >= limit) keys.delete(keys.keys().next().value);
      keys.set(id, key);
    }
    return key;
  };
}

/** RFC 7638 SHA-256 thumbprint of a public JWK (EC, RSA or OKP). */
export function jwkThumbprint(jwk) {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return sha256b64url(JSON.stringify(members));
}

/** RFC 9449 §4.3 normalization of a URL for `htu` comparison (the same rules as the platform's). */
export function htuOf(url) {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TypeError('not an http(s) URL');
  parsed.search = '';
  parsed.hash = '';
  parsed.pathname = parsed.pathname.replace(/%[0-9a-fA-F]{2}/g, (escape) => {
    const char = String.fromCharCode(parseInt(escape.slice(1), 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : escape.toUpperCase();
  });
  return parsed.href;
}

/** An ES256 signer for a private JWK: (header, payload) → compact JWS. */
export function es256Signer(privateJwk) {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  return (header, payload) => {
    const input = `${b64json(header)}.${b64json(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
}

/** Opens a secret the platform sealed (`plain:` or `aes256gcm:iv.tag.ciphertext`, base64url parts). */
export function openSecret(stored, key) {
  if (stored.startsWith('plain:')) return stored.slice('plain:'.length);
  if (!stored.startsWith('aes256gcm:')) throw new Error('unknown secret format in the store');
  if (!key) throw new Error('the store holds encrypted secrets: a key encryption key is needed');
  const [iv, tag, ciphertext] = stored.slice('aes256gcm:'.length).split('.').map((part) => Buffer.from(part, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}

/**
 * DPoP nonces from the platform's secret: HMAC-SHA-256 of the 300 s time slot; the slot before
 * and after are accepted too. The three values are computed once per slot.
 */
export function dpopNonces(secret, slotSeconds = 300) {
  const slotMs = slotSeconds * 1000;
  let slot = -1;
  let current = '';
  let valid = [];
  const nonceFor = (n) => createHmac('sha256', secret).update(`dpop-nonce:${n}`).digest('base64url');
  const refresh = () => {
    const now = Math.floor(Date.now() / slotMs);
    if (now !== slot) {
      slot = now;
      current = nonceFor(now);
      valid = [nonceFor(now + 1), current, nonceFor(now - 1)];
    }
  };
  return {
    current() {
      refresh();
      return current;
    },
    isValid(nonce) {
      if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(nonce)) return false;
      refresh();
      let ok = false;
      for (const candidate of valid) ok = sameString(candidate, nonce) || ok;
      return ok;
    },
  };
}
