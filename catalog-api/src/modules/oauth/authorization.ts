// The authorization code flow of the profile: pushed requests (RFC 9126), the authorization
// endpoint with PKCE S256 and exact redirect URIs, handing over to the patient's consent step,
// and the code exchange at the token endpoint for a DPoP-bound access token.
import { createHash } from 'node:crypto';
import type { AppConfig } from '../../core/config.js';
import { OAuthError } from '../../core/oauth-error.js';
import type { Db, Queryable } from '../../core/store/db.js';
import type { ConsentDecision, ConsentStep } from '../consent/index.js';
import { findClientById, type ClientWithApp } from './client-repository.js';
import * as grants from './grant-repository.js';
import { formatScopes, grantedScopes, hasScope, intersect, isEmptyScopeSet, isSubset, parseScopeString, scopeSet, type ScopeSet } from './scopes.js';
import { findLaunch, takeLaunch, type LaunchContext } from './launches.js';
import { appCutOff, appMayUseTokens, grantEnded, grantEndedDescriptions, type GrantEnded } from './token-state.js';
import type { PendingFirstUse } from './replay-cache.js';
import { audienceMatches } from './audience.js';

export const PUSHED_REQUEST_LIFETIME_SECONDS = 60;
export const CODE_LIFETIME_SECONDS = 60;

const base64url43 = /^[A-Za-z0-9_-]{43}$/;
const codeVerifierPattern = /^[A-Za-z0-9._~-]{43,128}$/;
const loopbackRedirect = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::\d{1,5})?([/?].*)?$/;

/** Exact string match, except that the port of a loopback redirect URI may vary (RFC 8252 §7.3). */
export function redirectUriRegistered(registered: readonly string[], given: string): boolean {
  if (registered.includes(given)) return true;
  const loopback = loopbackRedirect.exec(given);
  if (!loopback) return false;
  return registered.some((entry) => {
    const candidate = loopbackRedirect.exec(entry);
    return candidate !== null && candidate[1] === loopback[1] && (candidate[2] ?? '') === (loopback[2] ?? '');
  });
}

/** An error of the authorization endpoint; `redirect` says whether it may go back to the client. */
export class AuthorizationError extends OAuthError {
  constructor(
    error: ConstructorParameters<typeof OAuthError>[0],
    description: string,
    readonly redirect: { redirectUri: string; state?: string | undefined } | null,
  ) {
    super(error, description);
  }
}

export interface ValidRequest extends grants.AuthorizationParams {
  scopes: ScopeSet;
}

function scopeErrorDescription(errors: readonly { token: string; reason: string }[]): string {
  return errors.map((e) => `${e.token ? `${e.token}: ` : ''}${e.reason}`).join('; ').replace(/["\\]/g, "'");
}

/**
 * Where errors of a request may go back to: its redirect URI once it is known to be registered
 * for the client (with the request's state), else nowhere (null: the browser is shown a page).
 */
export function verifiedRedirect(
  client: ClientWithApp,
  params: Record<string, string | undefined>,
  config: AppConfig,
): { redirectUri: string; state: string | undefined } | null {
  const redirectUri = params.redirect_uri;
  if (!redirectUri || !redirectUriRegistered(versionInForce(client, config).redirectUris, redirectUri)) return null;
  return { redirectUri, state: params.state };
}

/**
 * Checks an authorization request against its client and this server's FHIR base URL (`aud`).
 * The redirect URI is checked first: until it is known to be registered, no error may be sent to it.
 */
export function validateAuthorizationRequest(
  client: ClientWithApp,
  params: Record<string, string | undefined>,
  config: AppConfig,
  fhirBase: string,
): ValidRequest {
  const redirectUri = params.redirect_uri;
  if (!redirectUri) throw new AuthorizationError('invalid_request', 'redirect_uri is required', null);
  const back = verifiedRedirect(client, params, config);
  if (!back) throw new AuthorizationError('invalid_request', 'redirect_uri is not registered for this client', null);
  const state = params.state;
  if (state !== undefined && state.length > 1024) throw new AuthorizationError('invalid_request', 'state is longer than 1024 characters', back);
  if (params.response_type !== 'code') {
    throw new AuthorizationError('unsupported_response_type', 'response_type must be "code"', back);
  }
  // SMART's aud: the app says which FHIR server it wants a token for; a token for this one only.
  if (params.aud !== undefined && !audienceMatches(params.aud, fhirBase)) {
    throw new AuthorizationError('invalid_request', `aud must be the FHIR base URL of this server, ${fhirBase}`, back);
  }
  if (params.code_challenge_method !== 'S256') {
    const description =
      params.code_challenge_method === 'plain'
        ? 'code_challenge_method "plain" is refused: use S256'
        : 'PKCE is required: send code_challenge with code_challenge_method=S256';
    throw new AuthorizationError('invalid_request', description, back);
  }
  if (!params.code_challenge || !base64url43.test(params.code_challenge)) {
    throw new AuthorizationError('invalid_request', 'code_challenge must be the base64url SHA-256 of the code verifier (43 characters)', back);
  }
  if (params.dpop_jkt !== undefined && !base64url43.test(params.dpop_jkt)) {
    throw new AuthorizationError('invalid_request', 'dpop_jkt must be a base64url SHA-256 JWK thumbprint', back);
  }
  if (params.nonce !== undefined && (params.nonce.length === 0 || params.nonce.length > 512)) {
    throw new AuthorizationError('invalid_request', 'nonce must be 1 to 512 characters', back);
  }
  if (params.launch !== undefined && !launchValue.test(params.launch)) throw new AuthorizationError('invalid_request', 'launch is not a launch value this platform gave', back);
  if (!params.scope) throw new AuthorizationError('invalid_scope', 'scope is required', back);
  const parsed = parseScopeString(params.scope);
  if (!parsed.ok) throw new AuthorizationError('invalid_scope', scopeErrorDescription(parsed.errors), back);
  return {
    client_id: client.clientId,
    redirect_uri: redirectUri,
    scope: params.scope,
    state,
    code_challenge: params.code_challenge,
    dpop_jkt: params.dpop_jkt,
    login_hint: params.login_hint,
    nonce: params.nonce,
    launch: params.launch,
    scopes: parsed.scopes,
  };
}

const launchValue = /^[A-Za-z0-9_-]{1,100}$/;
const launchGone = 'launch is unknown, expired or already used: open the app again from the patient space';

/**
 * Checks, without using it up, that a pushed request's launch can still be used by this client's
 * app: a pushed request naming a dead launch is refused at once rather than after the redirect.
 */
export async function checkPushedLaunch(db: Db, client: ClientWithApp, request: ValidRequest): Promise<void> {
  if (request.launch !== undefined && !(await findLaunch(db, request.launch, client.appId))) throw new OAuthError('invalid_request', launchGone);
}

/** Apps receive data only while certified, except in the sandbox (until suspended or revoked). */
export function clientMayObtainTokens(client: ClientWithApp, config: AppConfig): boolean {
  return appMayUseTokens(client.appCertificationStatus, config);
}

/** The refusal of a client whose app may not obtain tokens now, saying why as an ended grant's would; null when it may. */
export function clientCutOff(client: ClientWithApp, config: AppConfig): OAuthError | null {
  if (clientMayObtainTokens(client, config)) return null;
  return new OAuthError('unauthorized_client', `${client.appName} may not obtain tokens now`, undefined, {}, appCutOff(client.appCertificationStatus, config) ?? undefined);
}

/**
 * One-time identifiers a request sent (its DPoP proof's, its client assertion's), to record with
 * the rest of its work in one statement, and the refusal of each namespace found used before.
 */
export interface RequestFirstUses {
  uses: readonly PendingFirstUse[];
  refusals: Readonly<Record<string, () => OAuthError>>;
}

/**
 * The version of the app the authorization server applies: once a version is certified, the
 * certified redirect URIs and scopes, while a newer version is being reviewed; in the sandbox,
 * where developers exercise their next version, the working copy.
 */
export function versionInForce(client: ClientWithApp, config: AppConfig): { redirectUris: string[]; scopes: string[] } {
  if (config.mode !== 'sandbox' && client.certified) return client.certified;
  return { redirectUris: client.redirectUris, scopes: client.appScopes };
}

/** What the app's version in force may ask for. */
export function appScopeCeiling(client: ClientWithApp, config: AppConfig): ScopeSet {
  const parsed = parseScopeString(versionInForce(client, config).scopes.join(' '));
  return parsed.scopes ?? scopeSet([]);
}

export interface AuthorizeOutcome {
  redirectTo: string;
}

function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

export function errorRedirect(error: AuthorizationError, issuer: string): string {
  return redirectWith(error.redirect!.redirectUri, {
    error: error.error,
    error_description: error.description,
    state: error.redirect!.state,
    iss: issuer,
  });
}

/** How long the patient has to sign in and decide, once the browser is sent to the consent pages. */
export const INTERACTION_LIFETIME_SECONDS = 600;
/** Where the authorization endpoint sends the browser when the patient must sign in and decide. */
export const INTERACTION_PATH = '/patient/authorize';

/**
 * Runs the consent step for a valid request: a decision now (a code, or an error back to the
 * app), or a hand-over to the patient's pages, which finish the request with finishAuthorization.
 */
export async function completeAuthorization(
  db: Db,
  config: AppConfig,
  consent: ConsentStep,
  client: ClientWithApp,
  request: ValidRequest,
  issuer: string,
): Promise<AuthorizeOutcome> {
  const back = { redirectUri: request.redirect_uri, state: request.state };
  if (!clientMayObtainTokens(client, config)) {
    throw new AuthorizationError('unauthorized_client', `${client.appName} is not certified`, back);
  }
  let allowed = intersect(request.scopes, appScopeCeiling(client, config));
  let launch: LaunchContext | null = null;
  if (request.launch !== undefined) {
    if (!hasScope(allowed, 'launch')) {
      throw new AuthorizationError('invalid_scope', 'a launch needs the launch scope, registered for the app and requested with the launch', back);
    }
    launch = await takeLaunch(db, request.launch, client.appId);
    if (!launch) throw new AuthorizationError('invalid_request', launchGone, back);
  } else {
    // The launch scope stands for the context of a launch: without one, there is nothing to grant.
    allowed = { ...allowed, context: allowed.context.filter((scope) => scope !== 'launch') };
  }
  if (isEmptyScopeSet(allowed)) {
    throw new AuthorizationError('invalid_scope', 'none of the requested scopes is among those registered for this app', back);
  }
  // A launched request always goes through the patient's pages: only the person who launched it,
  // signed in in this browser, may see it through (finishLaunch), whoever holds the launch value.
  const outcome = launch
    ? ({ interact: true } as const)
    : await consent.decide({ clientId: client.clientId, appId: client.appId, appName: client.appName, scopes: allowed, loginHint: request.login_hint });
  if ('interact' in outcome) {
    const { scopes: _scopes, ...params } = request;
    const id = await grants.insertInteraction(db, { clientId: client.clientId, request: params, allowedScope: formatScopes(allowed), issuer, launch }, INTERACTION_LIFETIME_SECONDS);
    return { redirectTo: `${issuer}${INTERACTION_PATH}?interaction=${encodeURIComponent(id)}` };
  }
  return decide(db, client, request, allowed, outcome, issuer);
}

/**
 * A launched request, met by the person who launched it (signed in), that an active grant of
 * theirs for the launch's patient already covers: finished at once under that same grant, so the
 * app opens without asking again. Answers where to send the browser, or null when the consent
 * screen must decide (not launched, launched by someone else, not covered, or gone).
 */
export async function finishCoveredLaunch(db: Db, config: AppConfig, interactionId: string, personId: string): Promise<string | null> {
  const pending = await grants.findInteraction(db, interactionId);
  const launch = pending?.launch;
  if (!pending || !launch || launch.actorId !== personId) return null;
  const client = await findClientById(db, pending.clientId);
  if (!client) return null;
  const allowed = parseScopeString(pending.allowedScope).scopes;
  const existing = await grants.activeGrantOf(db, { appId: client.appId, ...launch });
  // The launch scope itself is not part of a grant: it only says where the request came from.
  const asked = { ...allowed, context: allowed.context.filter((scope) => scope !== 'launch') };
  if (!existing || !isSubset(asked, parseScopeString(existing.scope, { purpose: 'any' }).scopes)) return null;
  const taken = await grants.takeInteraction(db, interactionId);
  if (!taken) return null;
  try {
    if (!clientMayObtainTokens(client, config)) {
      throw new AuthorizationError('unauthorized_client', `${client.appName} is not certified`, { redirectUri: taken.request.redirect_uri, state: taken.request.state });
    }
    const decision: ConsentDecision = { approved: true, ...launch, scopes: allowed, expiresAt: existing.expiresAt };
    return (await decide(db, client, taken.request, allowed, decision, taken.issuer, existing.id)).redirectTo;
  } catch (error) {
    if (error instanceof AuthorizationError) return errorRedirect(error, taken.issuer);
    throw error;
  }
}

/**
 * Issues the code of an approved decision, or the error of a refusal, as the redirect back to the
 * app: under a new grant, or under `grantId`, an active grant the decision reuses.
 */
async function decide(db: Db, client: ClientWithApp, request: grants.AuthorizationParams, allowed: ScopeSet, decision: ConsentDecision, issuer: string, grantId?: string) {
  const back = { redirectUri: request.redirect_uri, state: request.state };
  if (!decision.approved) throw new AuthorizationError(decision.error, decision.description, back);
  // The consent step may narrow, never widen.
  const scope = formatScopes(intersect(decision.scopes, allowed));
  if (scope === '') throw new AuthorizationError('access_denied', 'the patient approved none of the requested scopes', back);
  const code = await db.transaction(async (tx) => {
    grantId ??= await grants.insertGrant(tx, {
      appId: client.appId,
      clientId: client.clientId,
      patientId: decision.patientId,
      actorId: decision.actorId,
      scope,
      expiresAt: decision.expiresAt,
    });
    return grants.insertCode(
      tx,
      {
        grantId,
        clientId: client.clientId,
        redirectUri: request.redirect_uri,
        codeChallenge: request.code_challenge,
        dpopJkt: request.dpop_jkt,
        nonce: request.nonce,
        scope,
      },
      CODE_LIFETIME_SECONDS,
    );
  });
  return { redirectTo: redirectWith(request.redirect_uri, { code, state: request.state, iss: issuer }) };
}

/** A request waiting for the patient, as the consent pages show it. */
export interface PendingAuthorization {
  clientId: string;
  appId: string;
  appName: string;
  /** What the app may be granted: requested ∩ its ceiling. */
  scopes: ScopeSet;
  /** The app's hint of which patient signs in, if any. */
  loginHint: string | undefined;
  /** Where the decision goes back to (the consent page allows its form to lead there). */
  redirectUri: string;
  /** For a request that came from a launch: the patient it is for, and the person who launched it. */
  launch: LaunchContext | null;
}

/** The request behind an interaction id, if it is still waiting (not used, not expired). */
export async function pendingAuthorization(db: Db, interactionId: string): Promise<PendingAuthorization | null> {
  const pending = await grants.findInteraction(db, interactionId);
  if (!pending) return null;
  const client = await findClientById(db, pending.clientId);
  if (!client) return null;
  return {
    clientId: client.clientId,
    appId: client.appId,
    appName: client.appName,
    scopes: parseScopeString(pending.allowedScope).scopes,
    loginHint: pending.request.login_hint,
    redirectUri: pending.request.redirect_uri,
    launch: pending.launch,
  };
}

/**
 * Finishes a waiting request with the patient's decision, once: answers where to send the
 * browser (the app's redirect URI with a code, or with the error), or null when the interaction
 * is unknown, used or expired (the page says so; nothing goes to the app).
 */
export async function finishAuthorization(db: Db, config: AppConfig, interactionId: string, decision: ConsentDecision): Promise<string | null> {
  const pending = await grants.takeInteraction(db, interactionId);
  if (!pending) return null;
  const client = await findClientById(db, pending.clientId);
  if (!client) return null;
  const back = { redirectUri: pending.request.redirect_uri, state: pending.request.state };
  try {
    // The app may have been suspended while the patient was deciding.
    if (!clientMayObtainTokens(client, config)) throw new AuthorizationError('unauthorized_client', `${client.appName} is not certified`, back);
    const { launch } = pending;
    if (launch && decision.approved && (decision.patientId !== launch.patientId || decision.actorId !== launch.actorId)) {
      throw new AuthorizationError('access_denied', 'the launch was for another patient', back);
    }
    return (await decide(db, client, pending.request, parseScopeString(pending.allowedScope).scopes, decision, pending.issuer)).redirectTo;
  } catch (error) {
    if (error instanceof AuthorizationError) return errorRedirect(error, pending.issuer);
    throw error;
  }
}

/** The refusal of a code or refresh token whose grant has ended, saying why (`grant_ended`). */
function grantEndedError(ended: GrantEnded, description = `the grant is no longer active: ${grantEndedDescriptions[ended]}`): OAuthError {
  return new OAuthError('invalid_grant', description, undefined, {}, ended);
}

/** Why a grant is over once this request has revoked it: its earlier end if it had one, else this revocation. */
function endOnceRevoked(state: grants.GrantState, reason: grants.RevocationReason, config: AppConfig): GrantEnded {
  const revoked = state.revoked ? state : { ...state, revoked: true, revokedReason: reason };
  return grantEnded(revoked, config) ?? 'grant_revoked';
}

export interface CodeExchange {
  grantId: string;
  patientId: string;
  actorId: string;
  scope: string;
  /** The OpenID Connect nonce of the authorization request, for the ID token. */
  nonce?: string | undefined;
}

/** Redeems a code for the authenticated client, with the PKCE verifier and the DPoP key of the request (null: none). */
export async function exchangeCode(
  db: Db,
  config: AppConfig,
  form: Record<string, string | undefined>,
  client: ClientWithApp,
  jkt: string | null,
): Promise<CodeExchange> {
  const invalid = (description: string) => new OAuthError('invalid_grant', description);
  if (!form.code) throw new OAuthError('invalid_request', 'code is required');
  if (!form.redirect_uri) throw new OAuthError('invalid_request', 'redirect_uri is required');
  if (!form.code_verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
  if (!codeVerifierPattern.test(form.code_verifier)) throw new OAuthError('invalid_request', 'code_verifier must be 43 to 128 unreserved characters');

  const redeemed = await db.transaction((tx) => grants.redeemCode(tx, form.code!));
  if (!redeemed) throw invalid('the code is unknown');
  if (redeemed.replayed) {
    // A code used twice may have been stolen: everything issued from it is revoked (RFC 6749 §4.1.2).
    await grants.revokeGrant(db, redeemed.grantId, grants.RevocationReason.codeReplayed);
    throw grantEndedError(endOnceRevoked(redeemed.grant, grants.RevocationReason.codeReplayed, config), 'the code was already used; the grant issued from it is revoked');
  }
  if (redeemed.clientId !== client.clientId) throw invalid('the code was issued to another client');
  if (redeemed.expired) throw invalid('the code has expired');
  if (redeemed.redirectUri !== form.redirect_uri) throw invalid('redirect_uri differs from the authorization request');
  const challenge = createHash('sha256').update(form.code_verifier).digest('base64url');
  if (challenge !== redeemed.codeChallenge) throw invalid('code_verifier does not match the code_challenge');
  if (redeemed.dpopJkt && redeemed.dpopJkt !== jkt) {
    throw invalid(jkt ? 'the DPoP key differs from the dpop_jkt of the authorization request' : 'the code is bound to a DPoP key (dpop_jkt): send a DPoP proof made with it');
  }
  const ended = grantEnded(redeemed.grant, config);
  if (ended) throw grantEndedError(ended);
  return {
    grantId: redeemed.grantId,
    patientId: redeemed.grant.patientId,
    actorId: redeemed.grant.actorId,
    scope: redeemed.scope,
    nonce: redeemed.nonce ?? undefined,
  };
}

export interface RefreshExchange extends CodeExchange {
  /** The refresh token to hand back: a new one for public clients (rotation), none for confidential ones. */
  newRefreshToken: string | null;
}

/**
 * Exchanges a refresh token: same client, same DPoP key, grant still active, scope narrowed at
 * most. A public client's token is rotated; presenting a rotated token again is taken as theft
 * and ends the whole grant. The request's one-time identifiers (`firstUses`) are recorded in the
 * statement that reads the token, with the client's app status as it is now. Null when the client's
 * keys are no longer those it was authenticated with (nothing was done: authenticate it again).
 */
export async function exchangeRefreshToken(
  db: Db,
  config: AppConfig,
  form: Record<string, string | undefined>,
  client: ClientWithApp,
  jkt: string | null,
  firstUses: RequestFirstUses,
): Promise<RefreshExchange | null> {
  const invalid = (description: string) => new OAuthError('invalid_grant', description);
  const refreshToken = form.refresh_token;
  if (!refreshToken) throw new OAuthError('invalid_request', 'refresh_token is required');
  let requested: ScopeSet | undefined;
  if (form.scope !== undefined) {
    const parsed = parseScopeString(form.scope);
    if (!parsed.ok) throw new OAuthError('invalid_scope', scopeErrorDescription(parsed.errors));
    requested = parsed.scopes;
  }
  type Outcome = { refused: OAuthError } | { exchange: RefreshExchange } | { clientChanged: true };
  const refuse = (description: string): Outcome => ({ refused: invalid(description) });
  // A public client's token is rotated: read and locked in a transaction. A confidential client's
  // is only read, and the whole exchange is one statement.
  const rotates = client.type === 'public';
  const exchange = async (q: Queryable): Promise<Outcome> => {
    const state = await grants.refreshState(q, refreshToken, client, firstUses.uses, rotates);
    if (!state.sameClient) return { clientChanged: true };
    const replayed = firstUses.uses.find((use) => !state.firstUses.has(use.namespace));
    if (replayed) return { refused: firstUses.refusals[replayed.namespace]!() };
    // The app's state as it is now, whatever this instance remembers of the client.
    const cutOff = clientCutOff({ ...client, appCertificationStatus: state.clientAppStatus! }, config);
    if (cutOff) return { refused: cutOff };
    const token = state.token;
    if (!token) return refuse('the refresh token is unknown');
    if (token.clientId !== client.clientId) return refuse('the refresh token was issued to another client');
    if (token.jkt !== jkt) return refuse(token.jkt ? 'the refresh token is bound to another DPoP key' : 'the refresh token of a Bearer client is bound to no key: send no DPoP proof with it');
    if (token.rotated) {
      await grants.revokeGrant(q, token.grantId, grants.RevocationReason.refreshTokenReused);
      const ended = endOnceRevoked(token.grant, grants.RevocationReason.refreshTokenReused, config);
      return { refused: grantEndedError(ended, 'the refresh token was already exchanged; the grant is revoked') };
    }
    const ended = grantEnded(token.grant, config);
    if (ended) return { refused: grantEndedError(ended) };
    if (token.revoked) return refuse('the refresh token is revoked');
    const granted = grantedScopes(token.scope);
    if (requested && !isSubset(requested, granted)) {
      return { refused: new OAuthError('invalid_scope', 'a refresh may narrow the scope of the grant, never widen it') };
    }
    let newRefreshToken: string | null = null;
    if (rotates) {
      await grants.markRefreshTokenRotated(q, token.tokenHash);
      newRefreshToken = await grants.insertRefreshToken(q, { grantId: token.grantId, clientId: client.clientId, jkt, scope: token.scope });
    }
    return {
      exchange: {
        grantId: token.grantId,
        patientId: token.grant.patientId,
        actorId: token.grant.actorId,
        scope: requested ? formatScopes(requested) : token.scope,
        newRefreshToken,
      },
    };
  };
  // Errors are returned, not thrown, so that what was recorded (a reuse's revocation, the identifiers) stays.
  const outcome = rotates ? await db.transaction(exchange) : await exchange(db);
  if ('refused' in outcome) throw outcome.refused;
  return 'clientChanged' in outcome ? null : outcome.exchange;
}