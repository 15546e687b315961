// createClient(): the entry point of the SDK, what an app uses. One client holds one server, its
// credentials and one transport per API: the platform API (an API key, or the platform token of
// the device flow) and the FHIR API (the session's DPoP-bound patient-data token). Its methods
// authorize, following the platform's OAuth profile. The publisher's namespaces (apps, clients,
// certification, the sandbox's controls) and the device flow are in `@mes/sdk/publisher`, whose
// client extends this one, so an app's bundle carries none of them.
import { dpopFetch } from './auth/dpop-fetch.js';
import * as flows from './auth/flows.js';
import { allowsHttp, AuthorizationServer, type ClientAuthentication } from './auth/server.js';
import { Session, type AuthorizationInfo } from './auth/session.js';
import { memoryStorage, type TokenStorage } from './auth/storage.js';
import { MesError } from './errors.js';
import { FhirApi } from './fhir/resource.js';
import { SubscriptionsApi } from './fhir/subscriptions.js';
import { defaultTimeout, Transport, type FetchLike } from './internal/transport.js';
import { CatalogResource } from './resources/catalog.js';
import { HealthResource } from './resources/health.js';

/**
 * What a client built for the extensions of `@mes/sdk/publisher`: the platform API's transport,
 * the base `fetch` and the OAuth context. Under a symbol the package does not export.
 * @internal
 */
export const internals: unique symbol = Symbol('mes.client');
/** @internal */
export interface ClientInternals {
  transport: Transport;
  fetch: FetchLike;
  flow<T>(method: string, run: (context: flows.FlowContext) => Promise<T>): Promise<T>;
}

/** Options of `createClient`. */
export interface ClientOptions<Scopes extends readonly string[] = readonly string[]> {
  /**
   * The platform's URL, e.g. `https://api.sandbox.example` or `http://localhost:4010`: the base
   * URL of its APIs and its OAuth issuer (discovery at `/.well-known/oauth-authorization-server`).
   * `issuer` is a synonym; give one of them.
   */
  baseUrl?: string | undefined;
  issuer?: string | undefined;
  /** A publisher API key (`mes_pk_…`) for the publisher API. Not needed for the catalogue nor for patient data. */
  apiKey?: string | undefined;
  /** The OAuth client id of your app (for patient data), or `mes-cli` for the device flow. */
  clientId?: string | undefined;
  /** How the client authenticates: `{ method: 'none' }` (default, public clients) or `private_key_jwt`. */
  clientAuth?: ClientAuthentication | undefined;
  /** One of the app's registered redirect URIs, where `handleCallback()` runs. */
  redirectUri?: string | undefined;
  /**
   * The scopes the app asks for, e.g. `['patient/Immunization.rs', 'offline_access']`. Written as
   * a literal, they type `client.fhir`: a type or interaction outside them does not compile.
   */
  scope?: Scopes | undefined;
  /** Where tokens, DPoP keys and pending authorizations are kept (memory by default). */
  storage?: TokenStorage | undefined;
  /** Names the session inside the storage: one per signed-in user of a backend (default `default`). */
  session?: string | undefined;
  /** The FHIR API's base URL (default `<baseUrl>/fhir`). */
  fhirBaseUrl?: string | undefined;
  /** A `fetch` implementation; defaults to the global `fetch`. */
  fetch?: FetchLike | undefined;
  /** Milliseconds to wait for each attempt's response (default 30 000). */
  timeout?: number | undefined;
  /** Retries of idempotent calls on network errors, 408, 429 and 5xx (default 2; 0 disables). */
  maxRetries?: number | undefined;
  /** Headers sent with every request. */
  headers?: Record<string, string> | undefined;
}

function baseUrlOf(options: ClientOptions): string {
  const { baseUrl, issuer } = options;
  if (baseUrl !== undefined && issuer !== undefined && baseUrl.replace(/\/$/, '') !== issuer.replace(/\/$/, '')) {
    throw new MesError('Give baseUrl or issuer, not two different URLs: the platform is its own issuer.');
  }
  const url = baseUrl ?? issuer;
  if (url === undefined) throw new MesError('createClient() needs baseUrl (or issuer): the platform\'s URL, e.g. http://localhost:4010.');
  return url;
}

export class MesClient<Scopes extends readonly string[] = readonly string[]> {
  readonly baseUrl: string;
  readonly health: HealthResource;
  /** The public catalogue of certified apps. */
  readonly catalog: CatalogResource;
  /** The patient-data API (FHIR R4), limited to the client's scopes. */
  readonly fhir: FhirApi<Scopes>;
  /** FHIR Subscriptions for the session's patient (notifications instead of polling). */
  readonly subscriptions: SubscriptionsApi;
  /**
   * `fetch` with this client's credentials for the platform API: the API key as a bearer token,
   * or the signed-in session's DPoP-bound token (proof, nonce and refresh handled). For calls the
   * typed resources do not cover yet; prefer them when they do. No retries, no error mapping.
   */
  readonly fetchWithCredentials: FetchLike;
  /** @internal */
  readonly [internals]: ClientInternals;
  readonly #flows: flows.FlowContext | undefined;
  readonly #session: Session | undefined;

  constructor(options: ClientOptions<Scopes>) {
    const baseUrl = baseUrlOf(options);
    const fetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const common = { fetch, timeout: options.timeout, maxRetries: options.maxRetries, headers: options.headers };
    let apiFetch = fetch;
    let fhirFetch = fetch;
    if (options.clientId !== undefined) {
      if (typeof options.clientId !== 'string' || options.clientId === '') throw new MesError('clientId must be a non-empty string.');
      const issuer = new URL(baseUrl);
      if (!allowsHttp(issuer)) throw new MesError(`The issuer must use https (plain http only on this machine: localhost, 127.0.0.1), got ${issuer.origin}.`);
      const server = new AuthorizationServer({
        issuer,
        clientId: options.clientId,
        clientAuth: options.clientAuth ?? { method: 'none' },
        fetch,
        timeout: options.timeout ?? defaultTimeout,
      });
      const storage = options.storage ?? memoryStorage();
      const prefix = `mes:${options.clientId}:${options.session ?? 'default'}:`;
      this.#session = new Session(server, storage, `${prefix}session`);
      this.#flows = {
        server,
        session: this.#session,
        // Authorizations in progress belong to the client, not to a session: the callback may
        // store the tokens under another session than the one that started (a backend renews its
        // session at sign-in), and abandoned ones are forgotten whichever session started them.
        pendingKey: (state) => `mes:${options.clientId}:pending:${state}`,
        pendingIndexKey: `mes:${options.clientId}:pending`,
        redirectUri: options.redirectUri,
        defaultScope: options.scope,
        audience: (options.fhirBaseUrl ?? new URL('fhir', `${issuer.href.replace(/\/+$/, '')}/`).href).replace(/\/+$/, ''),
      };
      fhirFetch = dpopFetch(this.#session, 'patient', fetch);
      // Without an API key, the publisher API takes the platform token of the device flow.
      if (options.apiKey === undefined) {
        const session = this.#session;
        const platformFetch = dpopFetch(session, 'platform', fetch);
        apiFetch = async (input, init) => ((await session.load())?.audience === 'platform' ? platformFetch(input, init) : fetch(input, init));
      }
    }
    const transport = new Transport({ ...common, baseUrl, apiKey: options.apiKey, fetch: apiFetch });
    const sessionFetch = apiFetch;
    this.fetchWithCredentials =
      options.apiKey === undefined
        ? (input, init) => sessionFetch(input, init)
        : (input, init) => {
            const headers = new Headers(init?.headers);
            headers.set('authorization', `Bearer ${options.apiKey}`);
            return fetch(input, { ...init, headers });
          };
    const fhirBaseUrl = options.fhirBaseUrl ?? new URL('fhir/', transport.baseUrl).href;
    const fhirTransport = new Transport({ ...common, baseUrl: fhirBaseUrl, fetch: fhirFetch });
    // The capability statement needs no token.
    const fhirPublic = new Transport({ ...common, baseUrl: fhirBaseUrl, fetch });
    this.baseUrl = transport.baseUrl;
    this.health = new HealthResource(transport);
    this.catalog = new CatalogResource(transport);
    this.fhir = new FhirApi<Scopes>(fhirTransport, fhirPublic, options.scope);
    this.subscriptions = new SubscriptionsApi(fhirTransport, options.scope);
    this[internals] = { transport, fetch, flow: (method, run) => this.#flow(method, run) };
  }

  #oauth(method: string): flows.FlowContext {
    if (!this.#flows) throw new MesError(`${method} needs the clientId option of createClient(): your app's OAuth client id.`);
    return this.#flows;
  }

  /** Runs a flow; a client without clientId rejects, as every failure of a call does. */
  async #flow<T>(method: string, run: (context: flows.FlowContext) => Promise<T>): Promise<T> {
    return run(this.#oauth(method));
  }

  /**
   * Starts an authorization: returns the URL to send the patient's browser to (after a pushed
   * authorization request when the server or a confidential client needs one), and keeps the PKCE
   * verifier and a new DPoP key in the storage until `handleCallback()`.
   */
  authorize(options?: flows.AuthorizeOptions): Promise<flows.AuthorizationRequest> {
    return this.#flow('authorize()', (context) => flows.authorize(context, options));
  }

  /** Finishes the authorization at the redirect URI (the full URL the browser came back to). */
  handleCallback(url: string | URL, options?: { signal?: AbortSignal }): Promise<AuthorizationInfo> {
    return this.#flow('handleCallback()', (context) => flows.handleCallback(context, url, options));
  }

  /** The current authorization (scopes granted, patient, expiry), or undefined when there is none. */
  async authorization(): Promise<AuthorizationInfo | undefined> {
    return this.#session?.info();
  }

  /** Revokes the session's tokens at the server and forgets them. */
  signOut(options?: { signal?: AbortSignal }): Promise<void> {
    return this.#flow('signOut()', (context) => flows.signOut(context, options));
  }
}

/**
 * Creates an app's client. With `clientId` (and `redirectUri`, `scope`) it authorizes and calls
 * the FHIR API; without, the public catalogue. Publisher tools use `createPublisherClient` of
 * `@mes/sdk/publisher`, which takes the same options and adds the publisher API.
 */
export function createClient<const Scopes extends readonly string[] = readonly string[]>(options: ClientOptions<Scopes>): MesClient<Scopes> {
  return new MesClient(options);
}
