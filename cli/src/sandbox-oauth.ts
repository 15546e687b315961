// The sandbox's pre-approved authorization code flow, as an app's public client runs it: PKCE S256,
// `login_hint` instead of a patient's sign-in, then the code exchange bound to a DPoP key.
import type { components } from '@mes/sdk/publisher';
import { CodedError } from './base-command.js';
import { messages } from './messages.js';
import { dpopProof, pkce, randomState, type EcPrivateJwk } from './sandbox-dpop.js';

type AuthorizationServerMetadata = components['schemas']['AuthorizationServerMetadata'];
type TokenResponse = components['schemas']['TokenResponse'];
type OAuthError = components['schemas']['OAuthError'];

export interface CodeFlowRequest {
  /** The API's base URL, with a trailing slash (PublisherClient.baseUrl). */
  baseUrl: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  /** `<patient>` or `<guardian>:<child>`: the sandbox pre-approves consent for them. */
  loginHint: string;
  dpopKey: EcPrivateJwk;
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    throw new CodedError(messages.unreachable(`Could not reach ${url}${typeof cause === 'string' ? ` (${cause})` : ''}.`), 'connection_failed');
  }
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text()) as unknown;
  } catch {
    return undefined;
  }
}

function isOAuthError(value: unknown): value is OAuthError {
  return typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string';
}

/** The endpoints from the server's metadata (RFC 8414), so that `htu` is the URL the server signs for. */
async function discover(baseUrl: string): Promise<AuthorizationServerMetadata> {
  const url = new URL('.well-known/oauth-authorization-server', baseUrl).href;
  const response = await send(url, { headers: { accept: 'application/json' } });
  const body = await readJson(response);
  const metadata = body as Partial<AuthorizationServerMetadata> | undefined;
  if (!response.ok || typeof metadata?.authorization_endpoint !== 'string' || typeof metadata.token_endpoint !== 'string') {
    throw new CodedError(messages.noOAuthMetadata(url, response.status), 'oauth_metadata_unavailable');
  }
  return metadata as AuthorizationServerMetadata;
}

/** The error the authorization endpoint shows on its page when it cannot redirect back. */
function pageError(html: string): { error: string; description: string } {
  const found = /<code>([^<]+)<\/code>:\s*([^<]*)/.exec(html);
  return { error: found?.[1] ?? 'invalid_request', description: found?.[2]?.trim() ?? '' };
}

async function authorizationCode(metadata: AuthorizationServerMetadata, request: CodeFlowRequest, challenge: string): Promise<string> {
  const state = randomState();
  const url = new URL(metadata.authorization_endpoint);
  for (const [name, value] of Object.entries({
    client_id: request.clientId,
    response_type: 'code',
    redirect_uri: request.redirectUri,
    scope: request.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: request.loginHint,
  })) {
    url.searchParams.set(name, value);
  }
  // The answer is a redirect to the app; it is read here, never followed.
  const response = await send(url.href, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 303 || !location) {
    const { error, description } = pageError(await response.text());
    throw new CodedError(messages.authorizationRefused(error, description || `HTTP ${response.status}`), error);
  }
  const back = new URL(location, url);
  const expected = new URL(request.redirectUri);
  if (back.origin !== expected.origin || back.pathname !== expected.pathname) {
    // Without login_hint the sandbox sends the browser to its patient picker; with one it never should.
    throw new CodedError(messages.authorizationNotPreApproved(back.href), 'not_pre_approved');
  }
  const params = back.searchParams;
  // RFC 9207: an answer from another issuer is not ours to use (mix-up attack).
  if (params.get('iss') !== null && params.get('iss') !== metadata.issuer) {
    throw new CodedError(messages.authorizationWrongIssuer(params.get('iss')!, metadata.issuer), 'invalid_issuer');
  }
  if (params.get('state') !== state) throw new CodedError(messages.authorizationWrongState, 'invalid_state');
  const error = params.get('error');
  if (error) throw new CodedError(messages.authorizationRefused(error, params.get('error_description') ?? ''), error);
  const code = params.get('code');
  if (!code) throw new CodedError(messages.authorizationRefused('invalid_response', 'no code in the redirect'), 'invalid_response');
  return code;
}

async function exchangeCode(metadata: AuthorizationServerMetadata, request: CodeFlowRequest, code: string, verifier: string): Promise<TokenResponse> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: request.clientId,
    code,
    code_verifier: verifier,
    redirect_uri: request.redirectUri,
  });
  const post = (nonce?: string) =>
    send(metadata.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        dpop: dpopProof(request.dpopKey, { htm: 'POST', htu: metadata.token_endpoint, nonce }),
      },
      body,
    });
  let response = await post();
  let answer = await readJson(response);
  // RFC 9449 §8: the first proof cannot know the server's nonce; the server hands it over in a 400.
  const nonce = response.headers.get('dpop-nonce');
  if (response.status === 400 && nonce && isOAuthError(answer) && answer.error === 'use_dpop_nonce') {
    response = await post(nonce);
    answer = await readJson(response);
  }
  if (!response.ok) {
    const error = isOAuthError(answer) ? answer : { error: `http_${response.status}`, error_description: response.statusText };
    throw new CodedError(messages.tokenRefused(error.error, error.error_description ?? ''), error.error);
  }
  const tokens = answer as Partial<TokenResponse> | undefined;
  if (typeof tokens?.access_token !== 'string' || typeof tokens.expires_in !== 'number') {
    throw new CodedError(messages.tokenRefused('invalid_response', 'the token endpoint answered without access_token'), 'invalid_response');
  }
  return tokens as TokenResponse;
}

/** Runs the whole flow: the tokens, bound to `request.dpopKey`. */
export async function preApprovedTokens(request: CodeFlowRequest): Promise<TokenResponse> {
  const metadata = await discover(request.baseUrl);
  const { verifier, challenge } = pkce();
  const code = await authorizationCode(metadata, request, challenge);
  return exchangeCode(metadata, request, code, verifier);
}
