// DPoP key pairs (RFC 9449): ES256, generated with WebCrypto. Non-extractable when the storage
// keeps CryptoKey objects; otherwise exportable, and stored as a JWK pair.
import * as oauth from 'oauth4webapi';
import { MesError } from '../errors.js';

/** A DPoP key pair as stored: the CryptoKeyPair itself, or its JWK export. */
export type StoredKeyPair = CryptoKeyPair | { privateJwk: JsonWebKey; publicJwk: JsonWebKey };

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export function newDpopKeyPair(extractable: boolean): Promise<CryptoKeyPair> {
  return oauth.generateKeyPair('ES256', { extractable });
}

export async function storeKeyPair(pair: CryptoKeyPair, keepsObjects: boolean): Promise<StoredKeyPair> {
  if (keepsObjects) return pair;
  const [privateJwk, publicJwk] = await Promise.all([
    crypto.subtle.exportKey('jwk', pair.privateKey),
    crypto.subtle.exportKey('jwk', pair.publicKey),
  ]);
  return { privateJwk, publicJwk };
}

export async function loadKeyPair(stored: StoredKeyPair): Promise<CryptoKeyPair> {
  if ('privateKey' in stored && 'publicKey' in stored) return stored;
  if (!stored || typeof stored.privateJwk !== 'object' || typeof stored.publicJwk !== 'object') {
    throw new MesError('The stored DPoP key is not a key pair: the storage returned something else than what was saved.');
  }
  // Imported non-extractable: the JWK stays in the storage, never leaves this process otherwise.
  const [privateKey, publicKey] = await Promise.all([
    crypto.subtle.importKey('jwk', stored.privateJwk, ecdsa, false, ['sign']),
    crypto.subtle.importKey('jwk', stored.publicJwk, ecdsa, true, ['verify']),
  ]);
  return { privateKey, publicKey };
}
