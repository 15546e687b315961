// HTTP handlers of the authorization server: discovery, PAR, authorize and token.
import type { FastifyRequest } from 'fastify';
import { bearerTokensAllowed, type AppConfig } from '../../core/config.js';
import { OAuthError } from '../../core/oauth-error.js';
import type { HandlerMap } from '../../core/operations.js';
import type { Db } from '../../core/store/db.js';
import type { ConsentStep } from '../consent/index.js';
import { ACCESS_TOKEN_LIFETIME_SECONDS, ID_TOKEN_ALGORITHMS, type Signer } from './access-tokens.js';
import {
  AuthorizationError,
  checkPushedLaunch,
  clientCutOff,
  completeAuthorization,
  errorRedirect,
  exchangeCode,
  exchangeRefreshToken,
  PUSHED_REQUEST_LIFETIME_SECONDS,
  type CodeExchange,
  validateAuthorizationRequest,
  verifiedRedirect,
} from './authorization.js';
import { fhirBaseOf } from './audience.js';
import { authenticateClient, CLIENT_ASSERTION_REPLAY_NAMESPACE, ClientAuthError, REPLAYED_ASSERTION, type ClientAuthDeps } from './client-auth.js';
import { clientAssertionAlgorithms } from './client-keys.js';
import { DPOP_ALGORITHMS, DPOP_REPLAY_NAMESPACE, DpopError, REPLAYED_PROOF, verifyDpopProof, type DpopNonces } from './dpop.js';
import { unverifiedClaims } from './jws.js';
import { clientCache, findClientById, type ClientWithApp } from './client-repository.js';
import * as grants from './grant-repository.js';
import type { RemoteKeySets } from './client-remote-keys.js';
import { deferredReplayCache, type ReplayCache } from './replay-cache.js';
import { contextScopes, resourceTypes } from './scopes.js';
import { authorizationErrorPage, deviceDecisionPage, deviceSignInPage, pageHeaders } from './pages.js';
import {
  CLI_CLIENT_ID,
  decideDevice,
  scopeForRole,
  type DeviceApproval,
  DEVICE_CODE_LIFETIME_SECONDS,
  DEVICE_POLL_INTERVAL_SECONDS,
  normalizeUserCode,
  pendingDevice,
  pollDevice,
  startDeviceAuthorization,
} from './device.js';
import { authenticateApiKey } from '../catalog/index.js';
import { authenticateReviewerKey } from '../certification/reviewers.js';
import { accessTokenVerifier, appCutOff, grantAllowsTokens, platformTokenVerifier, signedTokenVerifier } from './token-state.js';
import {
  endPlatformSession,
  exchangePlatformRefreshToken,
  insertPlatformRefreshToken,
  openPlatformSession,
  PLATFORM_SESSION_LIFETIME_SECONDS,
  platformSessionOfRefreshToken,
} from './platform-sessions.js';

/**
 * The approval a publisher's or a reviewer's key gives a command-line sign-in: whose it is, and the
 * scope its role allows of what was asked (null scope: none of it). Null for an unknown key.
 */
async function deviceApprovalOfKey(db: Db, key: string, requestedScope: string): Promise<(Omit<DeviceApproval, 'scope'> & { scope: string | null }) | null> {
  const publisher = await authenticateApiKey(db, key);
  if (publisher) {
    return { approved: true, subject: `publisher:${publisher.publisherId}`, apiKeyId: publisher.apiKeyId, reviewerKeyId: null, scope: scopeForRole(requestedScope, 'publisher') };
  }
  const reviewer = await authenticateReviewerKey(db, key);
  if (reviewer) {
    return { approved: true, subject: `reviewer:${reviewer.reviewerId}`, apiKeyId: null, reviewerKeyId: reviewer.apiKeyId, scope: scopeForRole(requestedScope, 'reviewer') };
  }
  return null;
}

type AuthorizationOperations =
  | 'getAuthorizationServerMetadata'
  | 'getSmartConfiguration'
  | 'getFhirSmartConfiguration'
  | 'getOpenIdConfiguration'
  | 'pushAuthorizationRequest'
  | 'authorize'
  | 'token'
  | 'revokeToken'
  | 'introspectToken'
  | 'deviceAuthorization'
  | 'showDeviceSignIn'
  | 'decideDeviceSignIn';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The client a token request names: its client_id, or the subject of its assertion (verified later). */
function clientNamed(form: Record<string, string | undefined>): string | undefined {
  if (form.client_id !== undefined || form.client_assertion === undefined) return form.client_id;
  try {
    const { sub } = unverifiedClaims(form.client_assertion);
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** A request of the command line: it names itself and sends no client credential (it has none). */
const isCommandLine = (form: Record<string, string | undefined>) =>
  form.client_id === CLI_CLIENT_ID && form.client_assertion === undefined && form.client_secret === undefined;

export interface AuthorizationServerDeps {
  db: Db;
  config: AppConfig;
  consent: ConsentStep;
  replay: ReplayCache;
  nonces: DpopNonces;
  sign: Signer;
  /** Key sets of clients that registered a jwks_uri. */
  remoteKeys: RemoteKeySets;
  /** Clients kept in memory for the token endpoint (client-repository.ts). */
  clients: ReturnType<typeof clientCache>;
}

/**
 * The issuer identifier: the configured public URL. Only the sandbox, where PUBLIC_URL is
 * optional, falls back to the origin the request came to.
 */
export function issuerOf(request: FastifyRequest, config: AppConfig): string {
  return config.publicUrl ?? `${request.protocol}://${request.host}`;
}


function scopesSupported(): string[] {
  const resources = resourceTypes.flatMap((type) => [`patient/${type}.rs`, `patient/${type}.cruds`]);
  return [...contextScopes, 'patient/*.rs', ...resources];
}

/** What RFC 8414 metadata and the SMART configuration both say. */
function sharedMetadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    jwks_uri: `${issuer}/jwks.json`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...clientAssertionAlgorithms],
    scopes_supported: scopesSupported(),
  };
}

/**
 * What is wrong with an authorization request's parameters, in the words of `error_description`:
 * the first problem the validation found (a parameter sent twice arrives as a list).
 */
function parameterProblem(error: { validation?: { instancePath: string; keyword: string; params: Record<string, unknown> }[] }): string {
  const [first] = error.validation ?? [];
  if (!first) return 'the request is not valid';
  if (first.keyword === 'required') return `${String(first.params.missingProperty)} is required`;
  const name = first.instancePath.replace(/^\//, '').split('/')[0] ?? '';
  return first.keyword === 'type' ? `${name} must be sent once, as a string` : `${name} is not valid`;
}

/** The SMART configuration, served at the issuer and beside the FHIR base URL. */
function smartConfiguration(issuer: string) {
  return {
    ...sharedMetadata(issuer),
    // The patient's "my connected apps" page: every app they authorized, each withdrawn in one click.
    management_endpoint: `${issuer}/patient/apps`,
    capabilities: [
      'launch-standalone',
      // "Ouvrir l'application" in the patient's space: the app's launch URL gets iss and launch.
      'launch-ehr',
      'client-public',
      'client-confidential-asymmetric',
      'context-standalone-patient',
      'context-ehr-patient',
      'permission-patient',
      'permission-offline',
      'sso-openid-connect',
      'permission-v1',
      'permission-v2',
    ],
  };
}

export function authorizationHandlers(deps: AuthorizationServerDeps): HandlerMap<AuthorizationOperations> {
  const { db, config } = deps;
  const signed = signedTokenVerifier(db, config);
  const activeAccessToken = accessTokenVerifier(db, config, signed);
  const activePlatformToken = platformTokenVerifier(db, config, signed);

  async function authenticate(
    request: FastifyRequest,
    form: Record<string, string | undefined>,
    endpoint: string,
    using: Pick<ClientAuthDeps, 'replay' | 'findClient'> = { replay: deps.replay },
  ) {
    const issuer = issuerOf(request, config);
    try {
      const { client } = await authenticateClient(
        form,
        { issuer, endpointUrl: `${issuer}${endpoint}`, authorization: request.headers.authorization },
        { db, remoteKeys: deps.remoteKeys, ...using },
      );
      return client;
    } catch (error) {
      if (error instanceof ClientAuthError) {
        throw new OAuthError(error.error, error.message, error.status, error.wwwAuthenticate ? { 'www-authenticate': error.wwwAuthenticate } : {});
      }
      throw error;
    }
  }

  async function dpopKey(request: FastifyRequest, endpoint: string, replay = deps.replay): Promise<string> {
    const issuer = issuerOf(request, config);
    try {
      const proof = await verifyDpopProof(
        { headers: request.headers.dpop, method: request.method, url: `${issuer}${endpoint}`, requireNonce: true },
        { replay, nonces: deps.nonces },
      );
      return proof.jkt;
    } catch (error) {
      if (error instanceof DpopError) {
        throw new OAuthError(error.code, error.message, 400, error.nonce ? { 'dpop-nonce': error.nonce } : {});
      }
      throw error;
    }
  }

  /**
   * Whether a token request may come without a DPoP proof: its client (named by client_id, or by
   * the subject of its assertion, verified afterwards) registered for Bearer tokens, and the
   * platform allows them.
   */
  async function mayGoWithoutProof(form: Record<string, string | undefined>): Promise<boolean> {
    if (!bearerTokensAllowed(config)) return false;
    const clientId = clientNamed(form);
    const client = clientId ? await deps.clients.find(clientId) : null;
    return client?.dpopBoundAccessTokens === false;
  }

  /**
   * The refresh_token grant, the most frequent request here, in one statement: the client comes
   * from memory, and its proof's and assertion's identifiers are recorded in the statement that
   * reads the refresh token, which also reads the app's status and finds whether the client's keys
   * are still those it was authenticated with. When they are not (changed through another
   * instance before this one heard of it), or the client was not found or not authenticated with
   * what this instance remembers, it is read again from the store and authenticated once more.
   */
  async function refreshGrant(request: FastifyRequest, form: Record<string, string | undefined>) {
    const proof = deferredReplayCache();
    const jkt = request.headers.dpop !== undefined || !(await mayGoWithoutProof(form)) ? await dpopKey(request, '/oauth/token', proof) : null;
    const refusals = {
      [DPOP_REPLAY_NAMESPACE]: () => new OAuthError('invalid_dpop_proof', REPLAYED_PROOF, 400),
      [CLIENT_ASSERTION_REPLAY_NAMESPACE]: () => new OAuthError('invalid_client', REPLAYED_ASSERTION, 401),
    };
    const named = clientNamed(form);
    for (const attempt of [1, 2]) {
      const remembered = attempt === 1 && named !== undefined && deps.clients.peek(named) !== undefined;
      const assertion = deferredReplayCache();
      let client: ClientWithApp;
      try {
        client = await authenticate(request, form, '/oauth/token', { replay: assertion, findClient: deps.clients.find });
      } catch (error) {
        if (!remembered || !(error instanceof OAuthError && error.error === 'invalid_client')) throw error;
        deps.clients.forget(named);
        continue;
      }
      const exchange = await exchangeRefreshToken(db, config, form, client, jkt, { uses: [...proof.pending, ...assertion.pending], refusals });
      if (exchange) return { client, jkt, exchange };
      deps.clients.forget(client.clientId);
    }
    throw new OAuthError('invalid_client', 'the client changed while it was authenticated; try again', 401);
  }

  return {
    async getAuthorizationServerMetadata(context) {
      const issuer = issuerOf(context.request, config);
      return {
        status: 200,
        body: {
          ...sharedMetadata(issuer),
          pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
          device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
          grant_types_supported: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
          revocation_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
          introspection_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
          // PAR is required of confidential clients only; public clients may send the request directly.
          require_pushed_authorization_requests: false,
          response_modes_supported: ['query'],
          authorization_response_iss_parameter_supported: true,
          dpop_signing_alg_values_supported: DPOP_ALGORITHMS.filter((alg) => alg !== 'Ed25519'),
          id_token_signing_alg_values_supported: [...ID_TOKEN_ALGORITHMS],
        },
      };
    },

    getSmartConfiguration: async (context) => ({ status: 200, body: smartConfiguration(issuerOf(context.request, config)) }),
    // SMART clients look for it next to the FHIR base URL (SMART App Launch 2.2 §2.1).
    getFhirSmartConfiguration: async (context) => ({ status: 200, body: smartConfiguration(issuerOf(context.request, config)) }),

    async getOpenIdConfiguration(context) {
      const issuer = issuerOf(context.request, config);
      return {
        status: 200,
        body: {
          ...sharedMetadata(issuer),
          pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
          require_pushed_authorization_requests: false,
          response_modes_supported: ['query'],
          authorization_response_iss_parameter_supported: true,
          dpop_signing_alg_values_supported: DPOP_ALGORITHMS.filter((alg) => alg !== 'Ed25519'),
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: [...ID_TOKEN_ALGORITHMS],
          claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'fhirUser'],
          claims_parameter_supported: false,
          request_parameter_supported: false,
          request_uri_parameter_supported: false,
        },
      };
    },

    async pushAuthorizationRequest({ request, body }) {
      const form = body as Record<string, string | undefined>;
      if (form.request_uri !== undefined) throw new OAuthError('invalid_request', 'request_uri cannot be pushed');
      // A DPoP proof sent with the pushed request binds the code to its key (RFC 9449 §10.1), like dpop_jkt.
      // It is checked before the client assertion, so a nonce retry does not find the assertion used up.
      if (request.headers.dpop !== undefined) {
        const jkt = await dpopKey(request, '/oauth/par');
        if (form.dpop_jkt !== undefined && form.dpop_jkt !== jkt) throw new OAuthError('invalid_request', 'dpop_jkt differs from the key of the DPoP proof');
        form.dpop_jkt = jkt;
      }
      const client = await authenticate(request, form, '/oauth/par');
      let valid;
      try {
        valid = validateAuthorizationRequest(client, form, config, fhirBaseOf(issuerOf(request, config)));
      } catch (error) {
        // A pushed request answers its errors directly, never by redirect.
        if (error instanceof AuthorizationError) throw new OAuthError(error.error, error.description);
        throw error;
      }
      await checkPushedLaunch(db, client, valid);
      const { scopes: _scopes, ...params } = valid;
      const requestUri = await grants.insertPushedRequest(db, client.clientId, params, PUSHED_REQUEST_LIFETIME_SECONDS);
      return { status: 201, body: { request_uri: requestUri, expires_in: PUSHED_REQUEST_LIFETIME_SECONDS } };
    },

    async authorize({ request }) {
      const issuer = issuerOf(request, config);
      const page = (error: string, description: string) => ({ status: 400 as const, headers: pageHeaders, body: authorizationErrorPage(error, description) });
      // The query may have failed validation (a repeated parameter is an array): only values sent
      // once are read, and an invalid request is refused below once its client is known.
      const query = request.query as Record<string, unknown>;
      const once = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
      const clientId = once('client_id');
      if (clientId === undefined) return page('invalid_request', query.client_id === undefined ? 'client_id is required' : 'client_id is sent more than once');
      const client = await findClientById(db, clientId);
      if (!client) return page('invalid_client', 'This app is not known to the platform.');
      try {
        let params: Record<string, string | undefined>;
        if (query.request_uri !== undefined) {
          // The pushed request is the request: whatever else the query says is ignored (RFC 9126 §4).
          const requestUri = once('request_uri');
          const pushed = requestUri === undefined ? null : await grants.takePushedRequest(db, requestUri, client.clientId);
          if (!pushed) return page('invalid_request_uri', 'This authorization request has expired or was already used. Start again from the app.');
          params = { ...pushed, response_type: 'code', code_challenge_method: 'S256' };
        } else {
          params = Object.fromEntries(Object.keys(query).map((name) => [name, once(name)]));
          const back = verifiedRedirect(client, params, config);
          const refuse = (description: string) => {
            if (!back) return page('invalid_request', description);
            throw new AuthorizationError('invalid_request', description, back);
          };
          if (request.validationError) return refuse(parameterProblem(request.validationError));
          if (client.type === 'confidential') return refuse('this app must push its authorization request first (PAR)');
        }
        const valid = validateAuthorizationRequest(client, params, config, fhirBaseOf(issuer));
        const outcome = await completeAuthorization(db, config, deps.consent, client, valid, issuer);
        return { status: 303, headers: { location: outcome.redirectTo } };
      } catch (error) {
        if (error instanceof AuthorizationError) {
          if (!error.redirect) return page(error.error, error.description);
          return { status: 303, headers: { location: errorRedirect(error, issuer) } };
        }
        throw error;
      }
    },

    async token({ request, body }) {
      const form = body as Record<string, string | undefined>;
      // The command line is a public client built into the platform: it is named, not authenticated.
      if (form.grant_type === DEVICE_CODE_GRANT || (form.grant_type === 'refresh_token' && isCommandLine(form))) {
        const jkt = await dpopKey(request, '/oauth/token');
        const issuer = issuerOf(request, config);
        let session: { id: string; subject: string; scope: string; refreshToken: string | null };
        if (form.grant_type === DEVICE_CODE_GRANT) {
          const approved = await pollDevice(db, form);
          // With offline_access the command line stays signed in (refreshing) for up to 30 days; without, for one token.
          const offline = approved.scope.split(' ').includes('offline_access');
          session = await db.transaction(async (tx) => {
            const id = await openPlatformSession(tx, {
              clientId: CLI_CLIENT_ID,
              subject: approved.subject,
              apiKeyId: approved.apiKeyId,
              reviewerKeyId: approved.reviewerKeyId,
              scope: approved.scope,
              lifetimeSeconds: offline ? PLATFORM_SESSION_LIFETIME_SECONDS : ACCESS_TOKEN_LIFETIME_SECONDS,
            });
            return { id, subject: approved.subject, scope: approved.scope, refreshToken: offline ? await insertPlatformRefreshToken(tx, id, jkt) : null };
          });
        } else {
          const refreshed = await exchangePlatformRefreshToken(db, form, jkt);
          session = { id: refreshed.sessionId, subject: refreshed.subject, scope: refreshed.scope, refreshToken: refreshed.refreshToken };
        }
        const accessToken = await deps.sign.platformAccessToken({
          issuer,
          subject: session.subject,
          clientId: CLI_CLIENT_ID,
          scope: session.scope,
          jkt,
          sessionId: session.id,
        });
        return {
          status: 200,
          headers: { pragma: 'no-cache', 'dpop-nonce': await deps.nonces.current() },
          body: {
            access_token: accessToken,
            token_type: 'DPoP',
            expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
            scope: session.scope,
            ...(session.refreshToken ? { refresh_token: session.refreshToken } : {}),
          },
        };
      }
      // A proof binds the tokens to its key. Only a client registered for Bearer tokens, where the
      // platform allows them, may go without one; the proof is checked before the client assertion,
      // so that a nonce retry does not find the assertion used up.
      let client: ClientWithApp;
      let jkt: string | null;
      let exchange: CodeExchange;
      let refreshToken: string | null = null;
      if (form.grant_type === 'refresh_token') {
        const refreshed = await refreshGrant(request, form);
        ({ client, jkt, exchange } = refreshed);
        refreshToken = refreshed.exchange.newRefreshToken;
      } else {
        jkt = request.headers.dpop !== undefined || !(await mayGoWithoutProof(form)) ? await dpopKey(request, '/oauth/token') : null;
        client = await authenticate(request, form, '/oauth/token');
        if (form.grant_type !== 'authorization_code') {
          throw new OAuthError('unsupported_grant_type', `grant_type "${String(form.grant_type).slice(0, 40).replace(/["\\]/g, '')}" is not supported`);
        }
        // The app's state cuts off every grant of its clients: the error says why, as an ended grant's would.
        const cutOff = clientCutOff(client, config);
        if (cutOff) throw cutOff;
        exchange = await exchangeCode(db, config, form, client, jkt);
        // Refresh tokens only with offline_access, bound to the same DPoP key (or to none, for Bearer tokens).
        if (exchange.scope.split(' ').includes('offline_access')) {
          refreshToken = await grants.insertRefreshToken(db, { grantId: exchange.grantId, clientId: client.clientId, jkt, scope: exchange.scope });
        }
      }
      const issuer = issuerOf(request, config);
      const accessToken = await deps.sign({
        issuer,
        audience: fhirBaseOf(issuer),
        subject: exchange.actorId,
        clientId: client.clientId,
        scope: exchange.scope,
        jkt,
        patient: exchange.patientId,
        grantId: exchange.grantId,
      });
      const scopes = exchange.scope.split(' ');
      // OpenID Connect: an ID token on the code exchange when openid was granted; fhirUser names the person's FHIR resource.
      const idToken =
        form.grant_type === 'authorization_code' && scopes.includes('openid')
          ? await deps.sign.idToken({
              issuer,
              clientId: client.clientId,
              subject: exchange.actorId,
              fhirUser: scopes.includes('fhirUser') ? `${fhirBaseOf(issuer)}/Patient/${exchange.actorId}` : undefined,
              nonce: exchange.nonce,
              alg: client.idTokenSignedResponseAlg,
            })
          : undefined;
      return {
        status: 200,
        // A fresh nonce on success too, so the client's next proof carries a current one.
        headers: { pragma: 'no-cache', ...(jkt ? { 'dpop-nonce': await deps.nonces.current() } : {}) },
        body: {
          access_token: accessToken,
          token_type: jkt ? 'DPoP' : 'Bearer',
          expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
          scope: exchange.scope,
          patient: exchange.patientId,
          ...(refreshToken ? { refresh_token: refreshToken } : {}),
          ...(idToken ? { id_token: idToken } : {}),
        },
      };
    },

    async deviceAuthorization({ request, body }) {
      const started = await startDeviceAuthorization(db, body as Record<string, string | undefined>);
      const verificationUri = `${issuerOf(request, config)}/device`;
      return {
        status: 200,
        body: {
          device_code: started.deviceCode,
          user_code: started.userCode,
          verification_uri: verificationUri,
          verification_uri_complete: `${verificationUri}?user_code=${started.userCode}`,
          expires_in: DEVICE_CODE_LIFETIME_SECONDS,
          interval: DEVICE_POLL_INTERVAL_SECONDS,
        },
      };
    },

    async showDeviceSignIn({ query }) {
      const userCode = query.user_code ? normalizeUserCode(query.user_code) : null;
      const pending = userCode ? await pendingDevice(db, userCode) : null;
      return { status: 200, headers: pageHeaders, body: deviceSignInPage({ userCode: userCode ?? query.user_code, scope: pending?.scope }) };
    },

    async decideDeviceSignIn({ body }) {
      const form = body as Record<string, string | undefined>;
      const refuse = (error: string) => ({ status: 400 as const, headers: pageHeaders, body: deviceSignInPage({ userCode: form.user_code, error }) });
      const userCode = form.user_code ? normalizeUserCode(form.user_code) : null;
      if (!userCode || !(await pendingDevice(db, userCode))) return refuse('Ce code est inconnu, expiré ou déjà utilisé. Relancez « mes login ».');
      if (form.decision === 'deny') {
        await decideDevice(db, userCode, { approved: false });
        return { status: 200, headers: pageHeaders, body: deviceDecisionPage(false) };
      }
      if (form.decision !== 'approve') return refuse('Choisissez « Approuver » ou « Refuser ».');
      const pending = await pendingDevice(db, userCode);
      const approval = pending && form.api_key ? await deviceApprovalOfKey(db, form.api_key, pending.scope) : null;
      if (!approval) return refuse('Cette clé est inconnue ou révoquée.');
      if (!approval.scope) return refuse('Votre compte ne donne aucun des droits demandés. Relancez « mes login ».');
      if (!(await decideDevice(db, userCode, { ...approval, scope: approval.scope }))) {
        return refuse('Ce code est inconnu, expiré ou déjà utilisé. Relancez « mes login ».');
      }
      return { status: 200, headers: pageHeaders, body: deviceDecisionPage(true) };
    },

    async revokeToken({ request, body }) {
      const form = body as Record<string, string | undefined>;
      if (isCommandLine(form)) {
        // Sign-out of the command line: its refresh token or access token ends the whole session.
        if (!form.token) throw new OAuthError('invalid_request', 'token is required');
        const sessionId =
          (await platformSessionOfRefreshToken(db, form.token)) ?? (await activePlatformToken(form.token, issuerOf(request, config)))?.sid;
        if (sessionId) await endPlatformSession(db, sessionId, 'signed out');
        return { status: 200 };
      }
      const client = await authenticate(request, form, '/oauth/revoke');
      if (!form.token) throw new OAuthError('invalid_request', 'token is required');
      const refresh = await grants.findRefreshToken(db, form.token);
      if (refresh) {
        // Revoking a refresh token ends the grant, and so every access token issued under it (RFC 7009 §2.1).
        if (refresh.clientId === client.clientId) await grants.revokeGrant(db, refresh.grantId, grants.RevocationReason.revokedByClient);
        return { status: 200 };
      }
      const access = await activeAccessToken(form.token, issuerOf(request, config));
      if (access && access.client_id === client.clientId) await grants.revokeAccessToken(db, access.jti!, new Date(access.exp! * 1000));
      // Unknown, invalid or another client's token: nothing to do, and nothing to tell (RFC 7009 §2.2).
      return { status: 200 };
    },

    async introspectToken({ request, body }) {
      const form = body as Record<string, string | undefined>;
      const client = await authenticate(request, form, '/oauth/introspect');
      if (!form.token) throw new OAuthError('invalid_request', 'token is required');
      const inactive = { status: 200 as const, body: { active: false } };
      const issuer = issuerOf(request, config);
      const access = await activeAccessToken(form.token, issuer);
      if (access) {
        if (access.client_id !== client.clientId) return inactive;
        return {
          status: 200,
          body: {
            active: true,
            token_type: access.cnf ? 'DPoP' : 'Bearer',
            scope: access.scope,
            client_id: access.client_id,
            sub: access.sub!,
            aud: String(access.aud),
            iss: access.iss!,
            exp: access.exp!,
            iat: access.iat!,
            jti: access.jti!,
            patient: access.patient,
            ...(access.cnf ? { cnf: { jkt: access.cnf.jkt } } : {}),
          },
        };
      }
      const refresh = await grants.findRefreshToken(db, form.token);
      if (!refresh || refresh.clientId !== client.clientId || refresh.rotated || refresh.revoked || !grantAllowsTokens(refresh.grant, config)) {
        return inactive;
      }
      return {
        status: 200,
        body: {
          active: true,
          token_type: 'refresh_token',
          scope: refresh.scope,
          client_id: refresh.clientId,
          sub: refresh.grant.actorId,
          patient: refresh.grant.patientId,
          ...(refresh.jkt ? { cnf: { jkt: refresh.jkt } } : {}),
        },
      };
    },
  };
}
