// The platform as an OpenID Connect relying party of the identity provider patients sign in at,
// built on oauth4webapi: discovery (cached), the authorization request (code flow, PKCE S256,
// state, nonce; pushed when the provider requires it), the callback (state and RFC 9207 `iss`
// checked, code exchanged, ID token validated: signature against the provider's key set, iss,
// aud, exp, nonce), claims the ID token lacks read from userinfo, and the RP-initiated logout URL.
import { importJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { checkPatientIdentityProvider, clientKeyAlgorithm, type PatientIdentityProvider } from '../../core/config.js';
import { OutboundError } from '../../core/outbound/safe-fetch.js';
import { boundedFetch, type BoundedFetchPolicy } from './bounded-fetch.js';

/** How long the provider's metadata is reused before it is fetched again. */
export const METADATA_CACHE_MS = 10 * 60_000;
/** The largest answer read from the provider. */
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * Why a step with the provider failed: `unavailable` (it could not be reached, or answered
 * something unusable: the operator's side), `refused` (its authorization response is an error,
 * `error` says which, e.g. access_denied), `invalid` (an answer that does not check out: state,
 * issuer, code, ID token; possibly an attack, never trusted).
 */
export class IdentityProviderError extends Error {
  override name = 'IdentityProviderError';

  constructor(
    readonly kind: 'unavailable' | 'refused' | 'invalid',
    message: string,
    readonly error?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type Claims = Record<string, oauth.JsonValue | undefined>;

export interface IdentityProviderClient {
  /** The provider's name as patients know it. */
  readonly name: string;
  readonly issuer: string;
  /**
   * The origin signing out sends the browser to (its end_session_endpoint is expected there): a
   * page with a sign-out form lists it in its CSP form-action.
   */
  readonly origin: string;
  /** Where to send the browser to sign in. */
  authorizationUrl(input: { redirectUri: string; state: string; nonce: string; codeVerifier: string }): Promise<URL>;
  /**
   * Checks the provider's answer at the callback and redeems its code: the ID token's claims (with
   * the `wanted` ones it lacks from userinfo) and the ID token itself.
   */
  finish(input: {
    callback: URLSearchParams;
    redirectUri: string;
    state: string;
    nonce: string;
    codeVerifier: string;
    wanted: readonly string[];
  }): Promise<{ claims: Claims; idToken: string }>;
  /** The provider's logout URL for a session opened with `idToken`, or null when it has none. */
  endSessionUrl(input: { idToken: string; postLogoutRedirectUri: string; state: string }): Promise<URL | null>;
}

export interface RelyingPartyOptions extends Pick<BoundedFetchPolicy, 'ca' | 'resolve'> {
  timeoutMs: number;
  /** OUTBOUND_ALLOW_PRIVATE_NETWORKS: a provider on plain http on the loopback interface is accepted. */
  allowPrivateNetworks: boolean;
}

const unavailable = (what: string, cause: unknown) =>
  new IdentityProviderError('unavailable', `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, undefined, { cause });

/** Builds the client of the configured provider (checking its settings, importing its key); fetches nothing yet. */
export async function identityProviderClient(settings: PatientIdentityProvider, options: RelyingPartyOptions): Promise<IdentityProviderClient> {
  checkPatientIdentityProvider(settings, { outboundAllowPrivateNetworks: options.allowPrivateNetworks });
  const issuer = new URL(settings.issuer);
  const allowLoopbackHttp = options.allowPrivateNetworks && issuer.protocol === 'http:';
  const fetcher = boundedFetch({ timeoutMs: options.timeoutMs, maxBytes: MAX_ANSWER_BYTES, allowLoopbackHttp, ca: options.ca, resolve: options.resolve });
  const http = {
    // One fetch for every kind of request oauth4webapi makes (its type is per method and body).
    [oauth.customFetch]: fetcher as never,
    ...(allowLoopbackHttp ? { [oauth.allowInsecureRequests]: true } : {}),
  };
  const client: oauth.Client = { client_id: settings.clientId };

  let privateKey: oauth.PrivateKey | undefined;
  let assertionAlg: string | undefined;
  if (settings.clientKey) {
    assertionAlg = clientKeyAlgorithm(settings.clientKey)!;
    const key = (await importJWK(settings.clientKey as Parameters<typeof importJWK>[0], assertionAlg)) as CryptoKey;
    const { kid } = settings.clientKey as JsonWebKey & { kid?: string };
    privateKey = { key, ...(kid ? { kid } : {}) };
  }
  const clientAuth = (as: oauth.AuthorizationServer): oauth.ClientAuth => {
    if (privateKey) {
      // oauth4webapi names Ed25519 keys' algorithm "Ed25519"; a key configured as EdDSA says EdDSA.
      return oauth.PrivateKeyJwt(privateKey, assertionAlg === 'EdDSA' ? { [oauth.modifyAssertion]: (header) => void (header.alg = 'EdDSA') } : {});
    }
    const methods = as.token_endpoint_auth_methods_supported;
    const secret = settings.clientSecret!;
    if (!methods || methods.includes('client_secret_basic')) return oauth.ClientSecretBasic(secret);
    if (methods.includes('client_secret_post')) return oauth.ClientSecretPost(secret);
    throw new IdentityProviderError('unavailable', `the provider takes none of client_secret_basic and client_secret_post (it takes ${methods.join(', ')})`);
  };

  // The browser is sent to these: the same scheme rule as the fetches.
  const browserUrl = (value: string | undefined, what: string): URL => {
    let url: URL;
    try {
      url = new URL(value ?? '');
    } catch {
      throw new IdentityProviderError('unavailable', `the provider's metadata has no valid ${what}`);
    }
    if (url.protocol !== 'https:' && !(allowLoopbackHttp && url.protocol === 'http:')) {
      throw new IdentityProviderError('unavailable', `the provider's ${what} is not https`);
    }
    return url;
  };

  let cached: { as: oauth.AuthorizationServer; until: number } | undefined;
  let pending: Promise<oauth.AuthorizationServer> | undefined;
  const metadata = (): Promise<oauth.AuthorizationServer> => {
    if (cached && cached.until > Date.now()) return Promise.resolve(cached.as);
    pending ??= (async () => {
      try {
        const response = await oauth.discoveryRequest(issuer, http);
        const as = await oauth.processDiscoveryResponse(issuer, response);
        browserUrl(as.authorization_endpoint, 'authorization_endpoint');
        if (!as.token_endpoint || !as.jwks_uri) throw new Error('its metadata lacks token_endpoint or jwks_uri');
        if (as.code_challenge_methods_supported && !as.code_challenge_methods_supported.includes('S256')) {
          throw new Error('it does not support PKCE with S256');
        }
        cached = { as, until: Date.now() + METADATA_CACHE_MS };
        return as;
      } catch (error) {
        throw error instanceof IdentityProviderError ? error : unavailable(`discovery of ${settings.issuer} failed`, error);
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };

  return {
    name: settings.name,
    issuer: settings.issuer,
    origin: issuer.origin,

    async authorizationUrl({ redirectUri, state, nonce, codeVerifier }) {
      const as = await metadata();
      const parameters = new URLSearchParams({
        client_id: settings.clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: ['openid', ...settings.scopes].join(' '),
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      const url = browserUrl(as.authorization_endpoint, 'authorization_endpoint');
      if (as.require_pushed_authorization_requests) {
        let pushed: oauth.PushedAuthorizationResponse;
        try {
          const response = await oauth.pushedAuthorizationRequest(as, client, clientAuth(as), parameters, http);
          pushed = await oauth.processPushedAuthorizationResponse(as, client, response);
        } catch (error) {
          throw error instanceof IdentityProviderError ? error : unavailable('the pushed authorization request failed', error);
        }
        url.searchParams.set('client_id', settings.clientId);
        url.searchParams.set('request_uri', pushed.request_uri);
      } else {
        for (const [name, value] of parameters) url.searchParams.set(name, value);
      }
      return url;
    },

    async finish({ callback, redirectUri, state, nonce, codeVerifier, wanted }) {
      const as = await metadata();
      let parameters: URLSearchParams;
      try {
        parameters = oauth.validateAuthResponse(as, client, callback, state);
      } catch (error) {
        if (error instanceof oauth.AuthorizationResponseError) {
          throw new IdentityProviderError('refused', `the provider answered ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`, error.error, { cause: error });
        }
        throw new IdentityProviderError('invalid', `the authorization response does not check out: ${(error as Error).message}`, undefined, { cause: error });
      }
      const auth = clientAuth(as);
      let response: Response;
      let tokens: oauth.TokenEndpointResponse;
      try {
        response = await oauth.authorizationCodeGrantRequest(as, client, auth, parameters, redirectUri, codeVerifier, http);
        tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
        // The ID token came over TLS from the token endpoint; its signature is checked all the same.
        await oauth.validateApplicationLevelSignature(as, response, http);
      } catch (error) {
        throw classify('the code exchange', error);
      }
      const claims: Claims = { ...oauth.getValidatedIdTokenClaims(tokens)! };
      if (wanted.some((name) => claims[name] === undefined) && as.userinfo_endpoint) {
        try {
          const answer = await oauth.userInfoRequest(as, client, tokens.access_token, http);
          const userinfo = await oauth.processUserInfoResponse(as, client, claims.sub as string, answer);
          for (const name of wanted) if (claims[name] === undefined) claims[name] = userinfo[name];
        } catch (error) {
          throw classify('the userinfo request', error);
        }
      }
      return { claims, idToken: tokens.id_token! };
    },

    async endSessionUrl({ idToken, postLogoutRedirectUri, state }) {
      const as = await metadata();
      if (!as.end_session_endpoint) return null;
      const url = browserUrl(as.end_session_endpoint, 'end_session_endpoint');
      url.searchParams.set('id_token_hint', idToken);
      url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
      url.searchParams.set('state', state);
      return url;
    },
  };
}

/** Errors of the back-channel steps: the provider unreachable or failing is `unavailable`, an answer that does not check out is `invalid`. */
function classify(step: string, error: unknown): IdentityProviderError {
  if (error instanceof IdentityProviderError) return error;
  if (error instanceof OutboundError) return unavailable(`${step} failed`, error);
  if (error instanceof oauth.ResponseBodyError) {
    const operatorSide = error.status >= 500 || ['invalid_client', 'unauthorized_client', 'server_error', 'temporarily_unavailable'].includes(error.error);
    return new IdentityProviderError(operatorSide ? 'unavailable' : 'invalid', `${step} was refused: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`, error.error, { cause: error });
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) return unavailable(`${step} was refused (${error.status})`, error);
  // A 5xx page, or anything else that is not the JSON answer expected.
  if (error instanceof oauth.OperationProcessingError && (error.code === oauth.RESPONSE_IS_NOT_CONFORM || error.code === oauth.RESPONSE_IS_NOT_JSON)) {
    return unavailable(`${step} failed`, error);
  }
  return new IdentityProviderError('invalid', `${step} does not check out: ${(error as Error)?.message ?? String(error)}`, undefined, { cause: error });
}
