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

/**
 * POSTs a form, with a fresh DPoP proof when keys are given, retrying once with the server's
 * nonce. `publicUrl`: the server's public URL when it is not `baseUrl` (a proof names the public one).
 */
export async function postForm(baseUrl: string, path: string, body: URLSearchParams, dpopKeys?: Keys, publicUrl = baseUrl) {
  const send = async (nonce?: string) =>
    fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(dpopKeys ? { dpop: await dpopProof(dpopKeys, `${publicUrl}${path}`, nonce) } : {}),
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

/** A DPoP proof for a request to a protected resource: its method and URL, and `ath` of the token. */
export async function resourceProof(
  keys: Keys,
  request: { method: string; url: string; accessToken: string },
  claims: Record<string, unknown> = {},
): Promise<string> {
  const payload: Record<string, unknown> = {
    htm: request.method,
    htu: request.url,
    jti: randomBytes(12).toString('base64url'),
    ath: createHash('sha256').update(request.accessToken).digest('base64url'),
    iat: Math.floor(Date.now() / 1000),
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: keys.publicJwk }).sign(keys.privateKey);
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface CommandLineSession {
  accessToken: string;
  refreshToken?: string;
  keys: Keys;
  scope: string;
}

/**
 * Signs the command line in as a person would: device authorization, approval on /device with
 * the publisher's API key, then the poll that gives the tokens.
 */
export async function commandLineSignIn(baseUrl: string, publisherKey: string, scope = 'platform/apps.read platform/apps.write'): Promise<CommandLineSession> {
  const keys = await newKeys();
  const started = await postForm(baseUrl, '/oauth/device_authorization', form({ client_id: 'mes-cli', scope }));
  if (started.status !== 200) throw new Error(`device authorization failed: ${JSON.stringify(started.body)}`);
  const approval = await fetch(`${baseUrl}/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ user_code: started.body.user_code, api_key: publisherKey, decision: 'approve' }),
  });
  if (approval.status !== 200) throw new Error(`device approval failed: ${approval.status} ${await approval.text()}`);
  const tokens = await postForm(baseUrl, '/oauth/token', form({ grant_type: DEVICE_GRANT, client_id: 'mes-cli', device_code: started.body.device_code }), keys);
  if (tokens.status !== 200) throw new Error(`device token failed: ${JSON.stringify(tokens.body)}`);
  return { accessToken: tokens.body.access_token, refreshToken: tokens.body.refresh_token, keys, scope: tokens.body.scope };
}
