// The ways to get tokens: the authorization code flow (PKCE S256, PAR wherever the server offers
// it, RFC 9207 `iss` and `state` checked on the way back, the code bound to the DPoP
// key) and the device flow (RFC 8628) for command-line tools.
import * as oauth from 'oauth4webapi';
import { MesError, OAuthError } from '../errors.js';
import { newDpopKeyPair, storeKeyPair, type StoredKeyPair } from './dpop-keys.js';
import { sleep } from '../internal/sleep.js';
import type { AuthorizationServer } from './server.js';
import { type AuthorizationInfo, type Session } from './session.js';

/** How long an authorization started by `authorize()` may wait for its callback. */
export const pendingLifetimeMs = 10 * 60_000;

export interface AuthorizeOptions {
  /** The scopes to ask for; by default the client's `scope`. */
  scope?: string | readonly string[] | undefined;
  /** Your own `state` (an opaque value, returned in the callback); a random one by default. */
  state?: string | undefined;
  /** Sandbox: the patient (or `<guardian>:<child>`) whose consent is pre-approved. */
  loginHint?: string | undefined;
  /** Extra authorization request parameters. */
  params?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
}

export interface AuthorizationRequest {
  /** Where to send the patient's browser. */
  url: URL;
  state: string;
}

interface Pending {
  version: 1;
  codeVerifier: string;
  redirectUri: string;
  createdAt: number;
  key: StoredKeyPair;
}

export interface DeviceAuthorization {
  /** The code the person types at `verificationUri`. */
  userCode: string;
  verificationUri: string;
  /** The same page with the code filled in (for a link or a QR code). */
  verificationUriComplete: string | undefined;
  expiresAt: Date;
  /** Polls the token endpoint until the person approves (or refuses, or the code expires). */
  wait(options?: { signal?: AbortSignal }): Promise<AuthorizationInfo>;
}

export interface FlowContext {
  server: AuthorizationServer;
  session: Session;
  pendingKey: (state: string) => string;
  /** Where the states of the authorizations in progress are listed, so abandoned ones are forgotten. */
  pendingIndexKey: string;
  redirectUri: string | undefined;
  defaultScope: readonly string[] | undefined;
  /** The FHIR base URL the tokens are for: SMART's `aud` of every authorization request. */
  audience: string;
}

function scopeString(scope: string | readonly string[] | undefined, fallback: readonly string[] | undefined): string {
  const value = scope ?? fallback;
  const joined = typeof value === 'string' ? value : (value ?? []).join(' ');
  if (!joined.trim()) throw new MesError('No scope to ask for: pass scope to createClient() or to this call.');
  return joined.trim();
}


/**
 * Keeps an authorization in progress, and forgets the ones older than `pendingLifetimeMs` (a
 * patient who never came back): the storage does not grow with abandoned sign-ins.
 */
async function rememberPending(context: FlowContext, state: string, pending: Pending): Promise<void> {
  const { storage } = context.session;
  const listed = (await storage.get(context.pendingIndexKey)) as { state: string; createdAt: number }[] | undefined;
  const index = Array.isArray(listed) ? listed : [];
  const expired = index.filter((entry) => pending.createdAt - entry.createdAt > pendingLifetimeMs);
  for (const entry of expired) await storage.delete(context.pendingKey(entry.state));
  const kept = index.filter((entry) => !expired.includes(entry) && entry.state !== state);
  await storage.set(context.pendingKey(state), pending);
  await storage.set(context.pendingIndexKey, [...kept, { state, createdAt: pending.createdAt }]);
}

async function forgetPending(context: FlowContext, state: string): Promise<void> {
  const { storage } = context.session;
  await storage.delete(context.pendingKey(state));
  const listed = (await storage.get(context.pendingIndexKey)) as { state: string; createdAt: number }[] | undefined;
  if (Array.isArray(listed) && listed.some((entry) => entry.state === state)) {
    const kept = listed.filter((entry) => entry.state !== state);
    if (kept.length) await storage.set(context.pendingIndexKey, kept);
    else await storage.delete(context.pendingIndexKey);
  }
}

export async function authorize(context: FlowContext, options: AuthorizeOptions = {}): Promise<AuthorizationRequest> {
  const { server, session } = context;
  const redirectUri = context.redirectUri;
  if (!redirectUri) throw new MesError('authorize() needs the redirectUri option of createClient(): one of the redirect URIs the app registered.');
  const as = await server.metadata(options.signal);
  const keepsObjects = session.storage.keepsObjects === true;
  const pair = await newDpopKeyPair(!keepsObjects);
  const dpop = session.dpop(pair);
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = options.state ?? oauth.generateRandomState();
  const params = new URLSearchParams({
    ...options.params,
    client_id: server.client.client_id,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: scopeString(options.scope, context.defaultScope),
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    // The code can only be exchanged with this DPoP key (RFC 9449 §10).
    dpop_jkt: await dpop.calculateThumbprint(),
    aud: context.audience,
  });
  if (options.loginHint) params.set('login_hint', options.loginHint);
  const pending: Pending = { version: 1, codeVerifier, redirectUri, createdAt: Date.now(), key: await storeKeyPair(pair, keepsObjects) };
  await rememberPending(context, state, pending);

  const url = new URL(as.authorization_endpoint ?? new URL('oauth/authorize', server.issuer));
  if (as.pushed_authorization_request_endpoint || as.require_pushed_authorization_requests || server.confidential) {
    // PAR (RFC 9126), for public clients too wherever the server offers it (FAPI 2.0): the request
    // goes to the server directly, bound to the DPoP key; the browser carries only its handle.
    const auth = await server.clientAuth();
    const pushed = await server.call(
      async (request) =>
        oauth.processPushedAuthorizationResponse(as, server.client, await oauth.pushedAuthorizationRequest(as, server.client, auth, params, { ...request, DPoP: dpop })),
      options.signal,
    );
    url.searchParams.set('client_id', server.client.client_id);
    url.searchParams.set('request_uri', pushed.request_uri);
  } else {
    for (const [name, value] of params) url.searchParams.set(name, value);
  }
  return { url, state };
}

/**
 * Finishes an authorization at the redirect URI: checks `state` (one use, 10 minutes) and `iss`,
 * turns an error of the server (`access_denied`…) into an OAuthError, exchanges the code with the
 * PKCE verifier and the DPoP key, and stores the tokens.
 */
export async function handleCallback(context: FlowContext, callbackUrl: string | URL, options: { signal?: AbortSignal } = {}): Promise<AuthorizationInfo> {
  const { server, session } = context;
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    throw new MesError(`handleCallback() needs the absolute URL the browser came back to, got ${JSON.stringify(String(callbackUrl))}.`);
  }
  const state = url.searchParams.get('state');
  if (!state) throw new OAuthError({ error: 'invalid_state', description: 'the callback URL has no state' });
  const pendingKey = context.pendingKey(state);
  const pending = (await session.storage.get(pendingKey)) as Pending | undefined;
  // One use: whatever happens next, this state cannot be played again.
  await forgetPending(context, state);
  if (!pending || pending.version !== 1) {
    throw new OAuthError({ error: 'invalid_state', description: 'no authorization in progress with this state (already used, started in another browser, or forgotten by the storage)' });
  }
  if (Date.now() - pending.createdAt > pendingLifetimeMs) {
    throw new OAuthError({ error: 'invalid_state', description: 'the authorization was started more than 10 minutes ago: start it again' });
  }
  const as = await server.metadata(options.signal);
  const params = await server.call(async () => oauth.validateAuthResponse(as, server.client, url, state), options.signal);
  const pair = await session.keyPair(pending.key);
  const dpop = session.dpop(pair);
  const auth = await server.clientAuth();
  const response = await server.call(
    async (request) =>
      oauth.processAuthorizationCodeResponse(
        as,
        server.client,
        await oauth.authorizationCodeGrantRequest(as, server.client, auth, params, pending.redirectUri, pending.codeVerifier, { ...request, DPoP: dpop }),
      ),
    options.signal,
  );
  await session.save(response, pair, 'patient', undefined, pending.key);
  return (await session.info())!;
}

/** Starts the device flow (RFC 8628): show `userCode` and `verificationUri`, then `wait()`. */
export async function deviceAuthorization(context: FlowContext, options: { scope?: string | readonly string[]; signal?: AbortSignal } = {}): Promise<DeviceAuthorization> {
  const { server, session } = context;
  const as = await server.metadata(options.signal);
  const auth = await server.clientAuth();
  const scope = scopeString(options.scope, context.defaultScope);
  const started = await server.call(
    async (request) => oauth.processDeviceAuthorizationResponse(as, server.client, await oauth.deviceAuthorizationRequest(as, server.client, auth, { scope }, request)),
    options.signal,
  );
  const now = Date.now;
  const expiresAt = now() + started.expires_in * 1000;
  const keepsObjects = session.storage.keepsObjects === true;
  return {
    userCode: started.user_code,
    verificationUri: started.verification_uri,
    verificationUriComplete: started.verification_uri_complete,
    expiresAt: new Date(expiresAt),
    async wait(waitOptions = {}) {
      const pair = await newDpopKeyPair(!keepsObjects);
      const dpop = session.dpop(pair);
      let interval = (started.interval ?? 5) * 1000;
      for (;;) {
        await sleep(interval, waitOptions.signal);
        try {
          const response = await server.call(
            async (request) =>
              oauth.processDeviceCodeResponse(as, server.client, await oauth.deviceCodeGrantRequest(as, server.client, auth, started.device_code, { ...request, DPoP: dpop })),
            waitOptions.signal,
          );
          await session.save(response, pair, 'platform');
          return (await session.info())!;
        } catch (error) {
          if (error instanceof OAuthError && error.error === 'authorization_pending' && now() < expiresAt) continue;
          // RFC 8628 §3.5: slow down by 5 seconds for this and every later poll.
          if (error instanceof OAuthError && error.error === 'slow_down' && now() < expiresAt) {
            interval += 5_000;
            continue;
          }
          throw error;
        }
      }
    },
  };
}

/** Revokes the refresh token (or the access token) at the server, then forgets the session. */
export async function signOut(context: FlowContext, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { server, session } = context;
  const stored = await session.load();
  if (!stored) return;
  try {
    const as = await server.metadata(options.signal);
    if (as.revocation_endpoint) {
      const auth = await server.clientAuth();
      const token = stored.refreshToken ?? stored.accessToken;
      await server.call(async (request) => oauth.processRevocationResponse(await oauth.revocationRequest(as, server.client, auth, token, request)), options.signal);
    }
  } finally {
    await session.clear();
  }
}

/**
 * The sandbox's pre-approved flow, for tests and quick starts: `authorize()` with
 * `login_hint=<patient>`, the authorization endpoint's redirect read (never followed), then
 * `handleCallback()`. Only a sandbox server pre-approves; elsewhere this fails with `not_pre_approved`.
 */
export async function sandboxSignIn(
  context: FlowContext,
  fetch: (url: string, init: RequestInit) => Promise<Response>,
  options: { patient: string; scope?: string | readonly string[]; signal?: AbortSignal },
): Promise<AuthorizationInfo> {
  if (!options.patient) throw new MesError('sandbox.signIn() needs the id of a synthetic patient, e.g. sandbox-patient-1.');
  const request = await authorize(context, { scope: options.scope, loginHint: options.patient, signal: options.signal });
  const response = await fetch(request.url.href, { redirect: 'manual', ...(options.signal ? { signal: options.signal } : {}) });
  const location = response.headers.get('location');
  const back = location ? new URL(location, request.url) : undefined;
  const expected = new URL(context.redirectUri!);
  await response.body?.cancel();
  if (!back || back.origin !== expected.origin || back.pathname !== expected.pathname) {
    throw new OAuthError({
      error: 'not_pre_approved',
      description: `the server did not pre-approve the consent (HTTP ${response.status}${back ? `, sent to ${back.origin}${back.pathname}` : ''}): is it a sandbox, and is ${options.patient} one of its patients?`,
      status: response.status,
    });
  }
  return handleCallback(context, back, options.signal ? { signal: options.signal } : {});
}
