// The two sides of a patient's journey in a browser test: the patient signing in through the
// sign-in page (JavaScript off), and the app registering itself, starting an authorization (PAR
// for a confidential client), getting the browser back on its own site (a loopback web server)
// and exchanging the code with DPoP, as a real app does.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { setCertificationStatus } from '../../src/modules/catalog/repository.js';
import type { TestServer } from '../../src/testing.js';
import { appInput, call, registerPublisher } from '../helpers.js';
import { clientAssertion, createConfidentialClient, form, newKeys, pkce, postForm, type Keys } from '../oauth-helpers.js';

/**
 * Signs `page` in as a sandbox patient through the sign-in page: the one it shows (e.g. where an
 * authorization sent the browser), else GET /patient/sign-in?return_to=`returnTo`; then waits
 * until the browser is at the page's return_to. It relies on the form field the spec names,
 * `patient_id`, posted to /patient/sign-in, in whichever shape the page has: a list where each
 * patient is a form with a hidden `patient_id` and one button (after a search, `q`, when the
 * patient is not listed at once), or a form where the id is typed.
 */
export async function signInAsPatient(page: Page, patientId: string, returnTo = '/patient/apps'): Promise<void> {
  const onSignIn = () => page.url().startsWith('http') && new URL(page.url()).pathname === '/patient/sign-in';
  if (!onSignIn()) await page.goto(`/patient/sign-in?return_to=${encodeURIComponent(returnTo)}`);
  const destination = new URL(new URL(page.url()).searchParams.get('return_to') ?? returnTo, page.url()).pathname;
  const main = page.getByRole('main');
  const listed = () => main.locator(`form:has(input[type="hidden"][name="patient_id"][value=${JSON.stringify(patientId)}])`);
  if ((await listed().count()) === 0) {
    const search = main.locator('form:not([method="post" i]) input[name="q"]');
    if (await search.count()) {
      await search.first().fill(patientId);
      await Promise.all([page.waitForURL((url) => url.searchParams.get('q') === patientId), search.first().press('Enter')]);
    }
  }
  if (await listed().count()) {
    await listed().first().getByRole('button').first().click();
  } else {
    const typed = main.locator('form[action="/patient/sign-in"]:has(input[name="patient_id"]:not([type="hidden"]))');
    if ((await typed.count()) === 0) throw new Error(`the sign-in page (${page.url()}) offers neither patient ${patientId} nor a field to type an id`);
    await typed.locator('input[name="patient_id"]').fill(patientId);
    await typed.getByRole('button').first().click();
  }
  await page.waitForURL((url) => url.pathname === destination);
}

export interface TestApp {
  appId: string;
  name: string;
  publisherKey: string;
  clientId: string;
  redirectUri: string;
  /** The confidential client's key (private_key_jwt); public client when absent. */
  keys?: Keys;
}

/**
 * Registers an app through the API (in the sandbox, usable at once), certified in the catalogue
 * unless told otherwise, with a public client, or a confidential one.
 */
export async function registerApp(
  server: TestServer,
  options: {
    name?: string;
    scopes?: Array<{ scope: string; justification: string; required?: boolean }>;
    redirectUri?: string;
    confidential?: boolean;
    certified?: boolean;
    input?: NonNullable<Parameters<typeof appInput>[0]>;
  } = {},
): Promise<TestApp> {
  const redirectUri = options.redirectUri ?? 'https://tensiosuivi.example.fr/oauth/callback';
  const publisher = await registerPublisher(server, `Éditeur de ${options.name ?? 'TensioSuivi'}`);
  const created = await call(server, 'POST', '/apps', {
    key: publisher.key,
    body: appInput({
      ...(options.name ? { name: options.name } : {}),
      redirectUris: [redirectUri],
      ...(options.scopes ? { scopes: options.scopes } : {}),
      ...options.input,
    }),
  });
  if (created.status !== 201) throw new Error(`app creation failed: ${JSON.stringify(created.body)}`);
  if (options.certified ?? true) await setCertificationStatus(server.app.db, created.body.id, 'certified');
  const app = { appId: created.body.id as string, name: created.body.name as string, publisherKey: publisher.key, redirectUri };
  if (options.confidential) {
    const client = await createConfidentialClient(server.url, publisher.key, app.appId);
    return { ...app, clientId: client.clientId, keys: client.keys };
  }
  const [client] = (await call(server, 'GET', `/apps/${app.appId}/clients`, { key: publisher.key })).body.items;
  return { ...app, clientId: client.clientId };
}

export interface StartedAuthorization {
  /** Where the app sends the browser. */
  url: string;
  state: string;
  verifier: string;
}

const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

async function issuerOf(server: TestServer): Promise<string> {
  return (await call(server, 'GET', '/.well-known/oauth-authorization-server')).body.issuer;
}

/**
 * The app's first step: PKCE and state, and for a confidential client a pushed request (PAR)
 * authenticated with private_key_jwt; the authorization URL to send the browser to. Extra
 * parameters (e.g. `login_hint` in the sandbox to skip the patient's step) go in the request.
 */
export async function startAuthorization(server: TestServer, app: TestApp, scope: string, extra: Record<string, string> = {}): Promise<StartedAuthorization> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const request = { client_id: app.clientId, response_type: 'code', redirect_uri: app.redirectUri, scope, state, code_challenge: challenge, code_challenge_method: 'S256', ...extra };
  if (!app.keys) return { url: `${server.url}/oauth/authorize?${form(request)}`, state, verifier };
  const issuer = await issuerOf(server);
  const pushed = await postForm(
    server.url,
    '/oauth/par',
    form({ ...request, client_assertion_type: assertionType, client_assertion: await clientAssertion(issuer, { clientId: app.clientId, keys: app.keys }) }),
  );
  if (pushed.status !== 201) throw new Error(`PAR failed: ${pushed.status} ${JSON.stringify(pushed.body)}`);
  return { url: `${server.url}/oauth/authorize?${form({ client_id: app.clientId, request_uri: pushed.body.request_uri })}`, state, verifier };
}

export interface AppSite {
  origin: string;
  /** The redirect URI of an app on this site: `<origin>/<name>/callback` (loopback, RFC 8252). */
  redirectUri(name: string): string;
  /** Every URL the browser came back to, in order. */
  callbacks: URL[];
  close(): Promise<void>;
}

/**
 * The apps' own website, on a loopback port: the browser really comes back to the redirect URI,
 * which answers a small page (lang fr) naming the app, and the site keeps the URL. (Playwright
 * cannot intercept the end of a redirect, so an app at an https name could not be played here.)
 */
export async function startAppSite(): Promise<AppSite> {
  const callbacks: URL[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    const match = /^\/([a-z0-9-]+)\/callback$/.exec(url.pathname);
    if (request.method !== 'GET' || !match) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    callbacks.push(url);
    const outcome = url.searchParams.has('code') ? 'Autorisation reçue.' : `Autorisation non accordée (${url.searchParams.get('error') ?? 'sans code'}).`;
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Application ${match[1]}</title></head><body><main><h1>Retour dans l’application</h1><p>${outcome}</p></main></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    redirectUri: (name) => `${origin}/${name}/callback`,
    callbacks,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** One app site for the test file (started before its tests, closed after). */
export function useAppSite(): () => AppSite {
  let site: AppSite | undefined;
  beforeAll(async () => {
    site = await startAppSite();
  });
  afterAll(async () => {
    await site?.close();
  });
  return () => {
    if (!site) throw new Error('the app site is not started');
    return site;
  };
}

/**
 * Where the browser came back to the app, once `page` shows the app's redirect URI (after
 * `page.goto(started.url)` with a pre-approved request, or the patient's decision).
 */
export async function arrivedAtApp(page: Page, app: Pick<TestApp, 'redirectUri'>): Promise<URL> {
  await page.waitForURL((url) => `${url.origin}${url.pathname}` === app.redirectUri);
  return new URL(page.url());
}

export interface AppTokens {
  accessToken: string;
  refreshToken?: string;
  scope: string;
  grantId: string;
  patient?: string;
  /** The DPoP key the tokens are bound to. */
  keys: Keys;
}

/**
 * The app's last step, at its redirect URI: the state and `iss` must be its own (RFC 9207), an
 * error is thrown as such, and the code is exchanged with PKCE and a DPoP proof.
 */
export async function finishAuthorization(server: TestServer, app: TestApp, started: StartedAuthorization, callback: URL): Promise<AppTokens> {
  return exchangeAtCallback(server, app, started, callback);
}

/** The same, for a server whose public URL is not the one it listens on (production-mode tests). */
export async function exchangeAtCallback(server: TestServer, app: TestApp, started: StartedAuthorization, callback: URL, publicUrl = server.url): Promise<AppTokens> {
  const issuer = await issuerOf(server);
  const params = callback.searchParams;
  if (params.get('state') !== started.state) throw new Error(`the callback's state is not the app's: ${callback}`);
  if (params.get('iss') !== issuer) throw new Error(`the callback's iss is not ${issuer}: ${callback}`);
  if (params.get('error')) throw new Error(`authorization answered ${params.get('error')}: ${params.get('error_description') ?? ''}`);
  const code = params.get('code');
  if (!code) throw new Error(`no code in the callback: ${callback}`);
  const keys = await newKeys();
  const clientAuth = app.keys
    ? { client_assertion_type: assertionType, client_assertion: await clientAssertion(issuer, { clientId: app.clientId, keys: app.keys }) }
    : {};
  const tokens = await postForm(
    server.url,
    '/oauth/token',
    form({ grant_type: 'authorization_code', client_id: app.clientId, code, code_verifier: started.verifier, redirect_uri: app.redirectUri, ...clientAuth }),
    keys,
    publicUrl,
  );
  if (tokens.status !== 200) throw new Error(`token request failed: ${tokens.status} ${JSON.stringify(tokens.body)}`);
  return {
    accessToken: tokens.body.access_token,
    ...(tokens.body.refresh_token ? { refreshToken: tokens.body.refresh_token } : {}),
    scope: tokens.body.scope,
    grantId: decodeJwt(tokens.body.access_token).grant_id as string,
    ...(tokens.body.patient ? { patient: tokens.body.patient } : {}),
    keys,
  };
}
