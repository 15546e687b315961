// The token manager: the tokens of one session and their DPoP key, kept in the storage. It hands
// out an access token that is good for the next request, refreshing it shortly before it expires;
// concurrent calls share one refresh (single flight); a rotated refresh token replaces the old one;
// a grant that ended surfaces as ConsentWithdrawnError or ReauthorizationRequiredError.
import * as oauth from 'oauth4webapi';
import { grantEndReasons } from '../constants.js';
import { ConsentWithdrawnError, OAuthError, ReauthorizationRequiredError, type GrantEndReason } from '../errors.js';
import { loadKeyPair, storeKeyPair, type StoredKeyPair } from './dpop-keys.js';
import type { AuthorizationServer } from './server.js';
import type { TokenStorage } from './storage.js';

/** Refresh this long before the access token expires, so a request never leaves with a dying token. */
export const refreshMarginMs = 30_000;

/** How many imported DPoP keys a client keeps in memory. */
const maxImportedKeys = 1_000;

/** What a session holds, as stored. */
export interface StoredSession {
  version: 1;
  /** `patient`: a patient-data token (FHIR API); `platform`: a platform token (the publisher API, device flow). */
  audience: 'patient' | 'platform';
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  refreshToken?: string | undefined;
  scope: string;
  patient?: string | undefined;
  key: StoredKeyPair;
}

/** What the app may know of its current authorization. */
export interface AuthorizationInfo {
  audience: 'patient' | 'platform';
  /** The scopes granted, which may be fewer than those asked for (the patient may untick some). */
  scopes: string[];
  /** The patient the access is for (patient-data tokens). */
  patient: string | undefined;
  /** When the current access token expires. */
  expiresAt: Date;
  /** Whether the session can refresh (offline access). */
  refreshable: boolean;
}

export interface UsableToken {
  accessToken: string;
  dpop: oauth.DPoPHandle;
}


const endMessages: Record<GrantEndReason, string> = {
  consent_withdrawn: 'The patient withdrew their consent to this app: ask them to authorize it again.',
  grant_expired: 'The access the patient granted has reached its end date: ask them to authorize the app again.',
  grant_revoked: 'The platform revoked this access: authorize again.',
  app_suspended: "The app's certification is suspended: no access until it is reinstated.",
  app_not_certified: 'The app is not certified (any more): no access.',
  client_deleted: 'This OAuth client was deleted: register a client and authorize again.',
  access_expired: 'The access token expired and there is no refresh token (a one-time access, or no offline_access): authorize again.',
  refresh_refused: 'The refresh token no longer works: authorize again.',
  not_authorized: 'Not authorized yet: call authorize() and handleCallback(), or the device flow, first.',
};

/** Reasons after which the app's certification may come back, and the same grant with it. */
const reversible: readonly GrantEndReason[] = ['app_suspended', 'app_not_certified'];

/**
 * Forgets the session's tokens, unless the grant may work again (a suspended app reinstated):
 * then they are kept, and the next call after the reinstatement works without a new consent.
 */
export async function forgetUnlessReversible(session: Session, error: ReauthorizationRequiredError): Promise<ReauthorizationRequiredError> {
  if (!reversible.includes(error.reason)) await session.clear();
  return error;
}

/** The error for a grant that ended, from the server's `grant_ended` (or the SDK's own reason). */
export function grantEnded(reason: string | undefined, fallback: GrantEndReason, cause?: unknown): ReauthorizationRequiredError {
  const known = reason !== undefined && (grantEndReasons as readonly string[]).includes(reason) ? (reason as GrantEndReason) : fallback;
  const options = cause === undefined ? undefined : { cause };
  return known === 'consent_withdrawn' ? new ConsentWithdrawnError(endMessages.consent_withdrawn, options) : new ReauthorizationRequiredError(known, endMessages[known], options);
}

export class Session {
  readonly #server: AuthorizationServer;
  readonly #storage: TokenStorage;
  readonly #key: string;
  readonly #now: () => number;
  #refreshing: Promise<StoredSession> | undefined;
  #handles = new WeakMap<CryptoKeyPair, oauth.DPoPHandle>();
  /** Keys imported from JWK, by their public coordinates: a storage that parses JSON returns a new object each time. */
  #imported = new Map<string, Promise<CryptoKeyPair>>();

  constructor(server: AuthorizationServer, storage: TokenStorage, key: string, now: () => number = Date.now) {
    this.#server = server;
    this.#storage = storage;
    this.#key = key;
    this.#now = now;
  }

  get storage(): TokenStorage {
    return this.#storage;
  }

  async load(): Promise<StoredSession | undefined> {
    const stored = (await this.#storage.get(this.#key)) as StoredSession | undefined;
    return stored && stored.version === 1 && typeof stored.accessToken === 'string' ? stored : undefined;
  }

  async info(): Promise<AuthorizationInfo | undefined> {
    const stored = await this.load();
    if (!stored) return undefined;
    return {
      audience: stored.audience,
      scopes: stored.scope.split(' ').filter(Boolean),
      patient: stored.patient,
      expiresAt: new Date(stored.expiresAt),
      refreshable: stored.refreshToken !== undefined,
    };
  }

  async clear(): Promise<void> {
    await this.#storage.delete(this.#key);
  }

  /** The DPoP handle of a key pair: one per key, so the server's nonces are remembered. */
  dpop(pair: CryptoKeyPair): oauth.DPoPHandle {
    let handle = this.#handles.get(pair);
    if (!handle) {
      handle = oauth.DPoP(this.#server.client, pair);
      this.#handles.set(pair, handle);
    }
    return handle;
  }

  /**
   * The CryptoKeyPair of a stored key, imported once per process: the same pair, hence the same
   * DPoP handle and its remembered nonces, for every request of the session.
   */
  async keyPair(stored: StoredKeyPair): Promise<CryptoKeyPair> {
    if ('privateKey' in stored) return stored;
    const id = `${String(stored.publicJwk?.x)}.${String(stored.publicJwk?.y)}`;
    let pair = this.#imported.get(id);
    if (!pair) {
      pair = loadKeyPair(stored);
      pair.catch(() => this.#imported.delete(id));
      // A backend serving many sessions keeps the most recent keys only.
      if (this.#imported.size >= maxImportedKeys) this.#imported.delete(this.#imported.keys().next().value!);
      this.#imported.set(id, pair);
    }
    return pair;
  }

  /** Saves the answer of a token request made with `pair`; keeps the old refresh token when none came. */
  async save(
    response: oauth.TokenEndpointResponse,
    pair: CryptoKeyPair,
    audience: StoredSession['audience'],
    previous?: StoredSession,
    storedKey?: StoredKeyPair,
  ): Promise<StoredSession> {
    const session: StoredSession = {
      version: 1,
      audience,
      accessToken: response.access_token,
      expiresAt: this.#now() + (response.expires_in ?? 300) * 1000,
      refreshToken: response.refresh_token ?? previous?.refreshToken,
      scope: response.scope ?? previous?.scope ?? '',
      patient: typeof response.patient === 'string' ? response.patient : previous?.patient,
      key: previous?.key ?? storedKey ?? (await storeKeyPair(pair, this.#storage.keepsObjects === true)),
    };
    await this.#storage.set(this.#key, session);
    return session;
  }

  /**
   * An access token good for the next request: refreshed first when it expires within
   * `refreshMarginMs`, or when the server refused `rejected` (the token of the previous attempt).
   */
  async token(audience: StoredSession['audience'], rejected?: string): Promise<UsableToken> {
    let stored = await this.load();
    if (!stored || stored.audience !== audience) throw grantEnded(undefined, 'not_authorized');
    const expiring = stored.expiresAt - refreshMarginMs <= this.#now();
    // A token another call already replaced is not refreshed again: the new one is used.
    if (expiring || (rejected !== undefined && rejected === stored.accessToken)) stored = await this.refresh(stored);
    const pair = await this.keyPair(stored.key);
    return { accessToken: stored.accessToken, dpop: this.dpop(pair) };
  }

  /** Refreshes once for every caller that asks while a refresh is in flight. */
  refresh(stored: StoredSession): Promise<StoredSession> {
    this.#refreshing ??= this.#refresh(stored).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(stored: StoredSession): Promise<StoredSession> {
    const refreshToken = stored.refreshToken;
    if (refreshToken === undefined) {
      await this.clear();
      throw grantEnded(undefined, 'access_expired');
    }
    const pair = await this.keyPair(stored.key);
    const dpop = this.dpop(pair);
    try {
      const as = await this.#server.metadata();
      const auth = await this.#server.clientAuth();
      const response = await this.#server.call(async (options) =>
        oauth.processRefreshTokenResponse(as, this.#server.client, await oauth.refreshTokenGrantRequest(as, this.#server.client, auth, refreshToken, { ...options, DPoP: dpop })),
      );
      return await this.save(response, pair, stored.audience, stored);
    } catch (error) {
      // The server names why the grant ended (`grant_ended`, with invalid_grant or, for a
      // suspended app, unauthorized_client); a bare invalid_grant is a refresh token gone.
      const reason = error instanceof OAuthError ? error.body?.grant_ended : undefined;
      if (error instanceof OAuthError && (typeof reason === 'string' || error.error === 'invalid_grant')) {
        throw await forgetUnlessReversible(this, grantEnded(typeof reason === 'string' ? reason : undefined, 'refresh_refused', error));
      }
      throw error;
    }
  }
}
