// A real OpenID provider for the tests of patient sign-in: oidc-provider over HTTPS on a loopback
// port (certificate made for the test by https-server.ts), with the platform registered as a
// client, accounts given by the test, and its own plain login page (no script): a form with
// `login` and `password` and two buttons, "Sign in" (name="action" value="sign-in") and "Refuse"
// (value="refuse"), so fetch-driven tests and a real browser drive the same page. Consent is
// given at once (the platform is the provider's own relying party). Its logout page is a plain
// form too, with one button "Sign out". DNS and the public PKI are the edge: the platform's
// outbound fetches get `ca` and `resolve` (BuildOptions.outbound), as the helper's browser does.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
// @ts-expect-error oidc-provider ships no type declarations; the little used here is typed below.
import ProviderClass from 'oidc-provider';
import type { PatientIdentityProvider } from '../src/core/config.js';
import { startHttpsServer, type TestHttpsServer } from './https-server.js';

export interface TestAccount {
  /** When set, the login page requires it. */
  password?: string;
  /** Claims besides `sub` (the login), e.g. `{ ins: '…', given_name: 'Marie' }`. */
  claims?: Record<string, unknown>;
}

export interface IdentityProviderOptions {
  /** Accounts by login; the login is the subject (`sub`). */
  accounts: Record<string, TestAccount>;
  /** The platform's redirect URIs (`<PUBLIC_URL>/patient/sign-in/callback`). */
  redirectUris: string[];
  /** The platform's post-logout redirect URIs (`<PUBLIC_URL>/patient/signed-out`). */
  postLogoutRedirectUris?: string[];
  /** How the platform authenticates at the token endpoint (default client_secret_basic). */
  clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** The provider requires pushed authorization requests (RFC 9126). */
  requirePar?: boolean;
  /** Scopes and the claims they release, besides `openid` (default `profile`: given_name, family_name, birthdate). */
  claims?: Record<string, string[]>;
  /** Put the scopes' claims in the ID token too (by default only in userinfo, as the code flow does). */
  claimsInIdToken?: boolean;
  /** Offer RP-initiated logout (default true). */
  logout?: boolean;
  /** The provider's host name (default `idp.test`), resolved to 127.0.0.1 by `resolve`. */
  hostname?: string;
}

export interface TestIdentityProvider {
  /** `https://<hostname>:<port>`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The platform's private JWK, for private_key_jwt. */
  clientKey: JWK;
  /** The provider's certificate, to trust. */
  ca: string;
  resolve: TestHttpsServer['resolve'];
  /** What the provider received, in order. */
  requests: TestHttpsServer['requests'];
  /** The platform's settings for this provider (`patientIdentityProvider`), with overrides. */
  settings(overrides?: Partial<PatientIdentityProvider>): PatientIdentityProvider;
  /** A browser of the provider's pages, with its own cookies (its session at the provider). */
  browser(): ProviderBrowser;
  close(): Promise<void>;
}

export interface ProviderPage {
  status: number;
  url: URL;
  location: string | null;
  html: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface ProviderBrowser {
  /** Cookies of the provider, by name. */
  jar: Map<string, string>;
  get(url: string | URL): Promise<ProviderPage>;
  post(url: string | URL, form: Record<string, string>): Promise<ProviderPage>;
  /**
   * Follows `authorizationUrl` at the provider, signs in on its login page when it shows one
   * (or refuses, with `refuse`), and answers the URL the provider sends the browser back to (the
   * platform's callback). `login: null` expects no login page (a session at the provider exists).
   */
  signIn(authorizationUrl: string | URL, credentials: { login: string | null; password?: string; refuse?: boolean }): Promise<URL>;
  /** Opens `authorizationUrl` and tells whether the provider asks to sign in (no session there). */
  asksToSignIn(authorizationUrl: string | URL): Promise<boolean>;
  /** Follows the platform's logout URL at the provider, confirms, and answers where it sends the browser back. */
  signOut(endSessionUrl: string | URL): Promise<URL>;
}

/** The subset of oidc-provider's API these tests use. */
interface Provider {
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
  interactionDetails(request: IncomingMessage, response: ServerResponse): Promise<{ uid: string; prompt: { name: string }; params: Record<string, string> }>;
  interactionFinished(request: IncomingMessage, response: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: new (input: { clientId: string; accountId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
}
const ProviderCtor = ProviderClass as new (issuer: string, configuration: Record<string, unknown>) => Provider;

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const shell = (title: string, body: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title></head>
<body><main>
<h1>${escape(title)}</h1>
${body}
</main></body>
</html>
`;

function loginPage(uid: string, clientId: string, error?: string): string {
  return shell(
    'Test identity provider: sign in',
    `<p>The application <strong>${escape(clientId)}</strong> asks you to sign in.</p>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label for="login">Login</label><br><input id="login" name="login" autocomplete="username" required></p>
<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit" name="action" value="sign-in">Sign in</button> <button type="submit" name="action" value="refuse" formnovalidate>Refuse</button></p>
</form>`,
  );
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startIdentityProvider(options: IdentityProviderOptions): Promise<TestIdentityProvider> {
  const hostname = options.hostname ?? 'idp.test';
  let handle: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => {
    response.statusCode = 503;
    response.end();
  };
  const server = await startHttpsServer([hostname], (request, response) => handle(request, response));
  const issuer = `https://${hostname}:${server.port}`;

  const signing = await generateKeyPair('ES256', { extractable: true });
  const signingJwk = { ...(await exportJWK(signing.privateKey)), kid: 'idp-signing-1', alg: 'ES256', use: 'sig' };
  const client = await generateKeyPair('ES256', { extractable: true });
  const clientKey: JWK = { ...(await exportJWK(client.privateKey)), kid: 'mes-platform-1', alg: 'ES256' };
  const clientPublic = { ...(await exportJWK(client.publicKey)), kid: 'mes-platform-1', alg: 'ES256', use: 'sig' };
  const clientId = 'mes-platform';
  const clientSecret = randomBytes(24).toString('base64url');
  const clientAuth = options.clientAuth ?? 'client_secret_basic';
  const claims = options.claims ?? { profile: ['given_name', 'family_name', 'birthdate'] };

  const provider = new ProviderCtor(issuer, {
    clients: [
      {
        client_id: clientId,
        ...(clientAuth === 'private_key_jwt' ? { jwks: { keys: [clientPublic] } } : { client_secret: clientSecret }),
        token_endpoint_auth_method: clientAuth,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], ...claims },
    conformIdTokenClaims: !options.claimsInIdToken,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: options.requirePar ?? false },
      rpInitiatedLogout: {
        enabled: options.logout ?? true,
        logoutSource(ctx: { body: string }, form: string) {
          ctx.body = shell('Test identity provider: sign out', `${form}\n<p><button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button></p>`);
        },
        postLogoutSuccessSource(ctx: { body: string }) {
          ctx.body = shell('Test identity provider: signed out', '<p>You are signed out.</p>');
        },
      },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: unknown, sub: string) {
      const account = options.accounts[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account.claims, sub }) };
    },
    // Consent is implied: the grant holds whatever OpenID scopes the platform asked for.
    async loadExistingGrant(ctx: {
      oidc: { session: { accountId?: string; grantIdFor(clientId: string): string | undefined }; client: { clientId: string }; requestParamOIDCScopes: Set<string>; provider: Provider & { Grant: { find(id: string): Promise<unknown> } } };
    }) {
      const { session, client: rp, provider: op } = ctx.oidc;
      if (!session.accountId) return undefined;
      const existing = session.grantIdFor(rp.clientId);
      const grant = (existing ? await op.Grant.find(existing) : undefined) ?? new op.Grant({ clientId: rp.clientId, accountId: session.accountId });
      (grant as { addOIDCScope(scope: string): void }).addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
      await (grant as { save(): Promise<string> }).save();
      return grant;
    },
    renderError(ctx: { type: string; body: string }, out: Record<string, string>) {
      ctx.type = 'html';
      ctx.body = shell('Test identity provider: error', `<p>${escape(out.error ?? 'error')}: ${escape(out.error_description ?? '')}</p>`);
    },
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  const callback = provider.callback();

  handle = (request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const interaction = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path);
    if (!interaction) return callback(request, response);
    void (async () => {
      try {
        const details = await provider.interactionDetails(request, response);
        const page = (status: number, html: string) => {
          response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
          response.end(html);
        };
        if (!interaction[2]) return page(200, loginPage(details.uid, details.params.client_id ?? ''));
        if (request.method !== 'POST') return page(405, shell('Method not allowed', ''));
        const form = await readForm(request);
        if (form.get('action') === 'refuse') {
          return provider.interactionFinished(request, response, { error: 'access_denied', error_description: 'the person refused to sign in' }, { mergeWithLastSubmission: false });
        }
        const login = form.get('login') ?? '';
        const account = options.accounts[login];
        if (!account || (account.password !== undefined && account.password !== form.get('password'))) {
          return page(200, loginPage(details.uid, details.params.client_id ?? '', 'Unknown login or wrong password.'));
        }
        return provider.interactionFinished(request, response, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain' });
        response.end(`interaction failed: ${(error as Error).message}`);
      }
    })();
  };

  return {
    issuer,
    clientId,
    clientSecret,
    clientKey,
    ca: server.ca,
    resolve: server.resolve,
    requests: server.requests,
    settings: (overrides = {}) => ({
      issuer,
      clientId,
      ...(clientAuth === 'private_key_jwt' ? { clientKey: clientKey as JsonWebKey } : { clientSecret }),
      scopes: [],
      patientClaim: 'sub',
      name: 'FranceConnect',
      ...overrides,
    }),
    browser: () => providerBrowser(issuer, server.ca),
    close: () => server.close(),
  };
}

/** Drives the provider's pages like a browser: keeps the provider's cookies, follows its redirects by hand. */
export function providerBrowser(issuer: string, ca: string): ProviderBrowser {
  const origin = new URL(issuer).origin;
  const jar = new Map<string, string>();
  const send = (method: string, target: string | URL, form?: Record<string, string>) =>
    new Promise<ProviderPage>((resolve, reject) => {
      const url = new URL(target);
      if (url.origin !== origin) return reject(new Error(`not the provider: ${url.href}`));
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const request = httpsRequest(
        {
          method,
          hostname: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          ca,
          agent: false,
          servername: url.hostname,
          lookup: (_name, options, callback) => {
            if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
            else callback(null, '127.0.0.1', 4);
          },
          headers: {
            ...(jar.size ? { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') } : {}),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), origin } : {}),
          },
        },
        (response) => {
          for (const cookie of response.headers['set-cookie'] ?? []) {
            const [pair] = cookie.split(';');
            const index = pair!.indexOf('=');
            const name = pair!.slice(0, index);
            if (/expires=Thu, 01 Jan 1970/i.test(cookie) || /max-age=0/i.test(cookie)) jar.delete(name);
            else jar.set(name, pair!.slice(index + 1));
          }
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, url, location: response.headers.location ?? null, html: Buffer.concat(chunks).toString('utf8'), headers: response.headers }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  /** Follows redirects at the provider until it shows a page, or sends the browser elsewhere (answered as `leave`). */
  async function follow(page: ProviderPage): Promise<ProviderPage | { leave: URL }> {
    for (let hops = 0; hops < 10; hops++) {
      if (!page.location) return page;
      const next = new URL(page.location, page.url);
      if (next.origin !== origin) return { leave: next };
      page = await send('GET', next);
    }
    throw new Error('too many redirects at the provider');
  }
  const formAction = (html: string, pattern: RegExp) => {
    const action = pattern.exec(html)?.[1];
    if (!action) throw new Error(`no form on the provider's page: ${html.slice(0, 800)}`);
    return action.replace(/&amp;/g, '&');
  };

  return {
    jar,
    get: (url) => send('GET', url),
    post: (url, form) => send('POST', url, form),
    async signIn(authorizationUrl, credentials) {
      let step = await follow(await send('GET', authorizationUrl));
      if ('leave' in step) {
        if (credentials.login !== null) throw new Error('the provider did not ask to sign in');
        return step.leave;
      }
      if (credentials.login === null) throw new Error(`the provider asked to sign in: ${step.html.slice(0, 300)}`);
      const action = new URL(formAction(step.html, /<form method="post" action="([^"]+\/login)"/), step.url);
      const form: Record<string, string> = credentials.refuse ? { action: 'refuse' } : { action: 'sign-in', login: credentials.login, password: credentials.password ?? '' };
      step = await follow(await send('POST', action, form));
      if ('leave' in step) return step.leave;
      throw new Error(`the provider did not send the browser back (${step.status}): ${step.html.slice(0, 800)}`);
    },
    async asksToSignIn(authorizationUrl) {
      const step = await follow(await send('GET', authorizationUrl));
      return !('leave' in step) && /name="login"/.test(step.html);
    },
    async signOut(endSessionUrl) {
      const step = await follow(await send('GET', endSessionUrl));
      if ('leave' in step) return step.leave;
      const action = new URL(formAction(step.html, /<form[^>]*action="([^"]+)"/), step.url);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(step.html)?.[1];
      const done = await follow(await send('POST', action, { ...(xsrf ? { xsrf } : {}), logout: 'yes' }));
      if ('leave' in done) return done.leave;
      throw new Error(`the provider did not send the browser back after signing out (${done.status}): ${done.html.slice(0, 800)}`);
    },
  };
}

/** Signs in at the provider with a fresh browser: the platform callback URL the provider sends back to. */
export async function signInAtProvider(idp: TestIdentityProvider, authorizationUrl: string | URL, credentials: { login: string; password?: string; refuse?: boolean }): Promise<URL> {
  return idp.browser().signIn(authorizationUrl, credentials);
}
