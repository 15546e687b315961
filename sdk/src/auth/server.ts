// The authorization server as the SDK talks to it, through oauth4webapi: discovery (RFC 8414), the
// client's authentication, DPoP nonces (retried once, transparently), timeouts, and the mapping of
// every failure to the SDK's errors.
import * as oauth from 'oauth4webapi';
import { ConnectionError, MesError, OAuthError, TimeoutError } from '../errors.js';
import type { FetchLike } from '../internal/transport.js';

/**
 * How the client authenticates at the token endpoint: `none` for a public client (a browser app,
 * a mobile or command-line app), `private_key_jwt` for a confidential one (a backend), with the
 * private key whose public half the client registered (a CryptoKey, or a private JWK: ES256 on
 * P-256, PS256 on RSA, EdDSA on Ed25519).
 */
export type ClientAuthentication =
  | { method: 'none' }
  | { method: 'private_key_jwt'; privateKey: CryptoKey | JsonWebKey; kid?: string | undefined };

type OAuthFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface AuthorizationServerOptions {
  issuer: URL;
  clientId: string;
  clientAuth: ClientAuthentication;
  fetch: FetchLike;
  timeout: number;
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Plain HTTP is accepted for a server on this machine only (a sandbox on a developer's laptop). */
export function allowsHttp(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (loopbackHosts.has(url.hostname) || url.hostname.endsWith('.localhost')));
}

async function importPrivateKey(jwk: JsonWebKey): Promise<CryptoKey> {
  const algorithm =
    jwk.kty === 'EC' && jwk.crv === 'P-256'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : jwk.kty === 'RSA'
        ? { name: 'RSA-PSS', hash: 'SHA-256' }
        : jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
          ? { name: 'Ed25519' }
          : undefined;
  if (!algorithm || typeof jwk.d !== 'string') {
    throw new MesError('clientAuth.privateKey must be a private JWK (with "d") of an EC P-256, RSA or Ed25519 key.');
  }
  return crypto.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
}

export class AuthorizationServer {
  readonly issuer: URL;
  readonly client: oauth.Client;
  readonly confidential: boolean;
  readonly #options: AuthorizationServerOptions;
  #metadata: Promise<oauth.AuthorizationServer> | undefined;
  #clientAuth: Promise<oauth.ClientAuth> | undefined;

  constructor(options: AuthorizationServerOptions) {
    this.#options = options;
    this.issuer = options.issuer;
    this.client = { client_id: options.clientId };
    this.confidential = options.clientAuth.method === 'private_key_jwt';
  }

  /** The server's metadata, fetched once (again after a failure). */
  metadata(signal?: AbortSignal): Promise<oauth.AuthorizationServer> {
    this.#metadata ??= this.call(
      async (options) => oauth.processDiscoveryResponse(this.issuer, await oauth.discoveryRequest(this.issuer, { ...options, algorithm: 'oauth2' })),
      signal,
    ).catch((error: unknown) => {
      this.#metadata = undefined;
      throw error;
    });
    return this.#metadata;
  }

  clientAuth(): Promise<oauth.ClientAuth> {
    this.#clientAuth ??= (async () => {
      const auth = this.#options.clientAuth;
      if (auth.method === 'none') return oauth.None();
      const key = auth.privateKey instanceof CryptoKey ? auth.privateKey : await importPrivateKey(auth.privateKey);
      const kid = auth.kid ?? (auth.privateKey instanceof CryptoKey ? undefined : (auth.privateKey as { kid?: string }).kid);
      return oauth.PrivateKeyJwt(kid ? { key, kid } : key);
    })();
    return this.#clientAuth;
  }

  /** The options every oauth4webapi request takes: the fetch, plain HTTP on loopback, a timeout. */
  requestOptions(signal?: AbortSignal): { [oauth.customFetch]: OAuthFetch; [oauth.allowInsecureRequests]: boolean; signal: AbortSignal } {
    const timeout = AbortSignal.timeout(this.#options.timeout);
    return {
      [oauth.customFetch]: this.#options.fetch as OAuthFetch,
      [oauth.allowInsecureRequests]: this.issuer.protocol === 'http:',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    };
  }

  /**
   * Runs one exchange with the server: retried once when the server asks for a DPoP nonce (the
   * handle remembers it), its failures turned into OAuthError, ConnectionError or TimeoutError.
   */
  async call<T>(exchange: (options: ReturnType<AuthorizationServer['requestOptions']>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      try {
        return await exchange(this.requestOptions(signal));
      } catch (error) {
        if (oauth.isDPoPNonceError(error)) return await exchange(this.requestOptions(signal));
        throw error;
      }
    } catch (error) {
      throw await toSdkError(error, this.issuer, signal);
    }
  }
}

/** The RFC 6749 error of an answer oauth4webapi would not read (a 429 or 5xx), when it has one. */
async function errorOfResponse(response: Response): Promise<OAuthError> {
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = await response.clone().json();
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: a proxy's page. The status says enough.
  }
  const error = typeof body?.error === 'string' ? body.error : response.status >= 500 ? 'server_error' : 'invalid_response';
  const description = typeof body?.error_description === 'string' ? body.error_description : `HTTP ${response.status} from ${new URL(response.url || 'about:blank').pathname}`;
  return new OAuthError({ error, description, status: response.status, body });
}

/** Maps what oauth4webapi or fetch threw to the SDK's errors; the caller's abort passes through. */
export async function toSdkError(error: unknown, issuer: URL, signal?: AbortSignal): Promise<unknown> {
  if (error instanceof MesError) return error;
  if (signal?.aborted && error === signal.reason) return error;
  if (error instanceof oauth.ResponseBodyError) {
    return new OAuthError({ error: error.error, description: error.error_description, status: error.status, body: error.cause as Record<string, unknown>, cause: error });
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    return new OAuthError({ error: error.error, description: error.error_description, cause: error });
  }
  if (error instanceof oauth.OperationProcessingError && error.cause instanceof Response && error.cause.status >= 400) {
    return errorOfResponse(error.cause);
  }
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.WWWAuthenticateChallengeError) {
    return new OAuthError({ error: 'invalid_response', description: error.message, cause: error });
  }
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new TimeoutError(`No answer from the authorization server ${issuer.origin} in time.`, { cause: error });
  }
  // fetch rejects with a bare TypeError when the network fails; oauth4webapi's own TypeErrors carry a code.
  if (error instanceof TypeError && !(error as { code?: unknown }).code) {
    return new ConnectionError(`Could not reach the authorization server ${issuer.origin}.`, { cause: error });
  }
  return error;
}
