// Raw OAuth requests for the security tests: DPoP proofs, client assertions and PKCE made with
// jose and node:crypto, so each test controls every field it breaks.
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface Keys {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newKeys(): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

export const form = (values: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function clientAssertion(issuer: string, client: { clientId: string; keys: Keys }, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(issuer)
    .setIssuedAt()
    .setExpirationTime('60s')
    .setJti(randomBytes(12).toString('base64url'))
    .sign(client.keys.privateKey);
}

export async function dpopProof(keys: Keys, url: string, nonce?: string): Promise<string> {
  return new SignJWT({ htm: 'POST', htu: url, jti: randomBytes(12).toString('base64url'), ...(nonce ? { nonce } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: keys.publicJwk })
    .setIssuedAt()
    .sign(keys.privateKey);
}

/** POSTs a form, with a fresh DPoP proof when keys are given, retrying once with the server's nonce. */
export async function postForm(baseUrl: string, path: string, body: URLSearchParams, dpopKeys?: Keys) {
  const send = async (nonce?: string) =>
    fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(dpopKeys ? { dpop: await dpopProof(dpopKeys, `${baseUrl}${path}`, nonce) } : {}),
      },
      body,
    });
  let response = await send();
  const nonce = response.headers.get('dpop-nonce');
  if (response.status === 400 && nonce && dpopKeys) response = await send(nonce);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Registers a confidential client with a fresh ES256 key (kid `k1`) for an app. */
export async function createConfidentialClient(baseUrl: string, publisherKey: string, appId: string): Promise<{ clientId: string; keys: Keys }> {
  const keys = await newKeys();
  const response = await fetch(`${baseUrl}/apps/${appId}/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${publisherKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'confidential', jwks: { keys: [{ ...keys.publicJwk, kid: 'k1' }] } }),
  });
  if (response.status !== 201) throw new Error(`client creation failed: ${await response.text()}`);
  return { clientId: ((await response.json()) as { clientId: string }).clientId, keys };
}
