#!/usr/bin/env node
// `npm run screenshots`: the home page and the patient's pages as they look, at desktop (1280 px)
// and phone (360 px) widths, written to docs/screenshots/<page>-desktop.png and <page>-phone.png
// for the docs.
//
// Starts the built server in-process (sandbox mode, throw-away store), seeds a small scene (the
// sandbox's demo apps, a few synthetic households, grants given by sandbox-patient-1 for herself
// and her child, some reads of her record, one access she withdrew) and photographs each page of
// PAGES below with Debian's Chromium, JavaScript off. A page the server does not have yet (404) is
// skipped with a message. `npm run screenshots -- connected-apps catalogue` takes only those.
// SCREENSHOT_DIR writes elsewhere; CHROMIUM_PATH names another browser.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { records, startTestServer } from '@mes/catalog-api';
import { seedSandbox, seedSyntheticRecords } from '@mes/sandbox';
import { CHROMIUM_SEARCH, contextOptions, findChromium, launchChromium, screenshotPage } from '../catalog-api/test/browser/chromium.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = process.env.SCREENSHOT_DIR ?? join(root, 'docs', 'screenshots');
const PATIENT = 'sandbox-patient-1';

/**
 * The pages, in the order of a patient's visit. `path` is a path or a function of the scene;
 * `signedIn` opens the page with PATIENT's session; `lang` picks the language through the header's
 * switch. Add a page here and it is photographed.
 */
const PAGES = [
  // The front door: on this local sandbox, its population and where the demo key is.
  { name: 'home', path: '/' },
  { name: 'sign-in', path: '/patient/sign-in?return_to=%2Fpatient%2Fapps' },
  { name: 'catalogue', path: '/catalogue' },
  { name: 'catalogue-app', path: (scene) => `/catalogue/${scene.apps.TensioSuivi.id}` },
  // An app asks for access: the patient signs in, then decides.
  { name: 'consent-sign-in', path: (scene) => scene.pendingAuthorization('GlycéMie') },
  { name: 'consent', path: (scene) => scene.pendingAuthorization('GlycéMie'), signedIn: true },
  { name: 'connected-apps', path: '/patient/apps', signedIn: true },
  { name: 'connected-apps-english', path: '/patient/apps', signedIn: true, lang: 'en' },
  { name: 'agenda', path: '/patient/agenda', signedIn: true },
  { name: 'messages', path: '/patient/messages/equipe-de-soins', signedIn: true },
  { name: 'access-history', path: '/patient/history', signedIn: true },
  // A legal page of the footer.
  { name: 'accessibility', path: '/accessibilite' },
];

// --- the app side, as the tests' helpers do it: PKCE, DPoP-bound tokens, FHIR reads ---

const form = (values) => new URLSearchParams(Object.entries(values).filter(([, value]) => value !== undefined));

async function newKeys() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

async function proof(keys, method, url, { nonce, accessToken } = {}) {
  const claims = { htm: method, htu: url, jti: randomBytes(12).toString('base64url') };
  if (nonce) claims.nonce = nonce;
  if (accessToken) claims.ath = createHash('sha256').update(accessToken).digest('base64url');
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: keys.publicJwk }).setIssuedAt().sign(keys.privateKey);
}

async function expectOk(response, what) {
  if (response.ok) return response;
  throw new Error(`${what} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
}

async function api(server, method, path, { key, body } = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  await expectOk(response, `${method} ${path}`);
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

/** A grant through the sandbox's pre-approved flow (login_hint), and a DPoP-bound token. */
async function authorize(server, app, scope, loginHint) {
  const verifier = randomBytes(32).toString('base64url');
  const authorizeUrl = `${server.url}/oauth/authorize?${form({
    client_id: app.clientId,
    response_type: 'code',
    redirect_uri: app.redirectUri,
    scope,
    state: 'docs',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    login_hint: loginHint,
  })}`;
  const redirect = await fetch(authorizeUrl, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location') ?? 'about:blank').searchParams.get('code');
  if (!code) throw new Error(`no code for ${app.name}: ${redirect.status} ${redirect.headers.get('location')}`);
  const keys = await newKeys();
  const tokenUrl = `${server.url}/oauth/token`;
  const body = form({ grant_type: 'authorization_code', client_id: app.clientId, code, code_verifier: verifier, redirect_uri: app.redirectUri });
  const send = async (nonce) =>
    fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await proof(keys, 'POST', tokenUrl, { nonce }) }, body });
  let response = await send();
  if (response.status === 400 && response.headers.get('dpop-nonce')) response = await send(response.headers.get('dpop-nonce'));
  await expectOk(response, `token for ${app.name}`);
  return { ...(await response.json()), keys };
}

async function readRecord(server, tokens, path) {
  const url = `${server.url}${path}`;
  const response = await fetch(url, {
    headers: { authorization: `DPoP ${tokens.access_token}`, dpop: await proof(tokens.keys, 'GET', url.split('?')[0], { accessToken: tokens.access_token }) },
  });
  await expectOk(response, `GET ${path}`);
}

// --- the scene ---

async function seedScene(server) {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'mes-screenshots-'));
  try {
    const { apiKey } = await seedSandbox(server.app.db, dataDir);
    await seedSyntheticRecords(server.app.db, { seed: 'sandbox', patients: 8 });
    const apps = {};
    for (const app of (await api(server, 'GET', '/apps?limit=50', { key: apiKey })).items) {
      const [client] = (await api(server, 'GET', `/apps/${app.id}/clients`, { key: apiKey })).items;
      // The demo apps also accept a loopback redirect URI, which needs no web server to come back to.
      apps[app.name] = { id: app.id, name: app.name, clientId: client.clientId, redirectUri: app.redirectUris.find((uri) => uri.startsWith('http://127.0.0.1')) };
    }
    const [child] = await records.childrenOf(server.app.db, PATIENT);
    const tensio = await authorize(server, apps.TensioSuivi, 'launch/patient offline_access patient/Observation.rs?category=vital-signs', PATIENT);
    const vaccins = await authorize(server, apps['Carnet de vaccination'], 'launch/patient patient/Immunization.rs patient/Patient.rs', PATIENT);
    if (child) await authorize(server, apps['Premiers Pas'], 'launch/patient patient/Immunization.rs patient/Appointment.rs', `${PATIENT}:${child}`);
    await readRecord(server, tensio, '/fhir/Observation?category=vital-signs');
    await readRecord(server, vaccins, '/fhir/Immunization');
    await readRecord(server, vaccins, `/fhir/Patient/${PATIENT}`);
    // One access that ended: the patient withdrew it (the sandbox's control does what her page does).
    await authorize(server, apps['GlycéMie'], 'launch/patient patient/Observation.rs', PATIENT);
    await api(server, 'POST', `/sandbox/clients/${apps['GlycéMie'].clientId}/withdrawal`, { key: apiKey, body: { patient: PATIENT } });

    return {
      apps,
      /** The patient's step of an authorization the app has just started (no login_hint). */
      async pendingAuthorization(name) {
        const app = apps[name];
        const verifier = randomBytes(32).toString('base64url');
        const response = await fetch(
          `${server.url}/oauth/authorize?${form({
            client_id: app.clientId,
            response_type: 'code',
            redirect_uri: app.redirectUri,
            scope: 'launch/patient offline_access patient/Observation.rs patient/MedicationStatement.rs',
            state: 'docs',
            code_challenge: createHash('sha256').update(verifier).digest('base64url'),
            code_challenge_method: 'S256',
          })}`,
          { redirect: 'manual' },
        );
        const location = response.headers.get('location');
        if (!location) throw new Error(`the authorization of ${name} did not go to the patient's step (${response.status})`);
        return new URL(location, server.url).pathname + new URL(location, server.url).search;
      },
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A session of PATIENT, opened as the sandbox's sign-in form does, for the browser's cookie jar. */
async function sessionCookie(server) {
  const response = await fetch(`${server.url}/patient/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: form({ patient_id: PATIENT, return_to: '/patient/apps' }),
    redirect: 'manual',
  });
  const cookie = response.headers.getSetCookie().find((value) => /^(__Host-)?mes_patient=/.test(value));
  if (response.status !== 303 || !cookie) throw new Error(`sign-in of ${PATIENT} answered ${response.status}`);
  const [name, value] = cookie.split(';')[0].split('=');
  return { name, value, url: server.url };
}

// --- the photographs ---

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !PAGES.some((page) => page.name === name));
if (unknown.length) {
  console.error(`Unknown page(s): ${unknown.join(', ')}. Pages: ${PAGES.map((page) => page.name).join(', ')}`);
  process.exit(2);
}
const executablePath = findChromium();
if (!executablePath) {
  console.error(`No Chromium found (looked at ${CHROMIUM_SEARCH}). Install Debian's package: apt-get install chromium`);
  process.exit(1);
}

const started = Date.now();
const server = await startTestServer({ logLevel: process.env.LOG_LEVEL ?? 'silent' });
const browser = await launchChromium(executablePath);
let failures = 0;
try {
  const scene = await seedScene(server);
  const session = await sessionCookie(server);
  for (const entry of PAGES.filter((page) => !wanted.length || wanted.includes(page.name))) {
    const context = await browser.newContext(contextOptions('desktop', { baseURL: server.url }));
    try {
      if (entry.signedIn) await context.addCookies([session]);
      const page = await context.newPage();
      const path = typeof entry.path === 'function' ? await entry.path(scene) : entry.path;
      // The header's language switch: it remembers the choice and comes back to the page.
      const response = await page.goto(entry.lang ? `/language?lang=${entry.lang}&return_to=${encodeURIComponent(path)}` : path);
      const status = response?.status() ?? 0;
      if (status === 404) {
        console.log(`- ${entry.name}: skipped, ${path.split('?')[0]} answers 404 (not built yet)`);
        continue;
      }
      if (status >= 400) {
        failures += 1;
        console.error(`- ${entry.name}: ${path} answered ${status}; no screenshot`);
        continue;
      }
      const files = await screenshotPage(page, entry.name, { dir: outDir });
      console.log(`- ${entry.name}: ${files.map((file) => relative(root, file)).join(', ')}`);
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(`Screenshots in ${relative(root, outDir) || '.'} (${Math.round((Date.now() - started) / 100) / 10} s).`);
process.exit(failures ? 1 : 0);
