// A backend (node:http, no framework) that shows a patient their vital-sign measurements: a
// confidential OAuth client (private_key_jwt with an ES256 key it generates and registers), one
// SDK session per signed-in user, its tokens kept in a file so they survive restarts.
//
//   GET /login?patient=<id>  → 303 to the platform's authorization page (pushed with PAR)
//   GET /callback            → the platform sends the browser back here with the code
//   GET /measurements        → the patient's vital signs, as JSON
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createClient, MesError, OAuthError, ReauthorizationRequiredError, type Observation } from '@mes/sdk';
import { createPublisherClient } from '@mes/sdk/publisher';
import { ensureSandboxApp, requiredEnv } from '../setup/sandbox-app.js';
import { fileStorage } from '../storage/file-storage.js';

const baseUrl = process.env.MES_API_URL ?? 'http://localhost:4010';
// The publisher's key registers the app and its client at start-up; patients' data never uses it.
const apiKey = requiredEnv('MES_API_KEY', 'the publisher API key that `npm start` prints (mes_pk_…).');
const port = Number(process.env.PORT ?? 3000);
const stateDir = process.env.STATE_DIR ?? '.state';
// Offline access: the backend keeps reading after the access token expires, with its refresh token.
const scope = ['patient/Observation.rs', 'offline_access'] as const;
/** The most measurements one answer lists; a patient with a daily series may have thousands. */
const maxMeasurements = 500;

// --- The client's signing key: generated at the first start, then reused. ---------------------

interface ClientKey {
  kid: string;
  privateJwk: JsonWebKey;
  publicJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string; alg: 'ES256'; use: 'sig' };
}

/** The private key stays in this file (mode 0600); the platform only ever gets the public half. */
async function loadOrCreateKey(file: string): Promise<ClientKey> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ClientKey;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const privateJwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  const { x, y } = privateJwk as { x: string; y: string };
  // The RFC 7638 thumbprint names the key: a new key gets a new kid, so a rotation is unambiguous.
  const kid = createHash('sha256').update(JSON.stringify({ crv: 'P-256', kty: 'EC', x, y })).digest('base64url');
  const key: ClientKey = { kid, privateJwk: { ...privateJwk, kid } as JsonWebKey, publicJwk: { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' } };
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify(key), { mode: 0o600, flag: 'wx' });
  return key;
}

// --- Registration in the sandbox: the app, its redirect URI, a confidential client with our key. --

async function register(redirectUri: string, key: ClientKey): Promise<string> {
  const publisher = createPublisherClient({ baseUrl, apiKey });
  const app = await ensureSandboxApp(publisher, {
    name: 'Mes mesures (exemple backend)',
    shortDescription: { fr: 'Vos mesures de santé, sur votre ordinateur.' },
    longDescription: { fr: 'Exemple du SDK : un serveur qui lit les signes vitaux du patient avec un client confidentiel.' },
    category: 'suivi-maladie-chronique',
    websiteUrl: 'https://mesmesures.example.fr',
    redirectUris: [redirectUri],
    scopes: [
      { scope: 'patient/Observation.rs', justification: 'Afficher vos mesures (poids, tension) et leur évolution.', required: true },
      { scope: 'offline_access', justification: 'Mettre vos mesures à jour sans vous redemander votre accord.' },
    ],
    privacyPolicyUrl: 'https://mesmesures.example.fr/confidentialite',
    termsUrl: 'https://mesmesures.example.fr/cgu',
    supportContact: { email: 'support@mesmesures.example.fr' },
  });
  const { items } = await publisher.clients.list(app.id);
  const existing = items.find((client) => client.type === 'confidential' && client.jwks?.keys.some((jwk) => jwk.kid === key.kid));
  const client = existing ?? (await publisher.clients.create(app.id, { type: 'confidential', jwks: { keys: [key.publicJwk] } }));
  return client.clientId;
}

// --- HTTP -------------------------------------------------------------------------------------

const storage = fileStorage(join(stateDir, 'tokens.json'));
let config: { clientId: string; redirectUri: string; key: ClientKey } | undefined;

/** The SDK client of one user's session: cheap to create, its state is in the shared storage. */
function clientFor(sessionId: string) {
  const { clientId, redirectUri, key } = config!;
  return createClient({
    baseUrl,
    clientId,
    clientAuth: { method: 'private_key_jwt', privateKey: key.privateJwk, kid: key.kid },
    redirectUri,
    scope,
    storage,
    session: sessionId,
  });
}

// The browser holds a random cookie; the server maps it to the SDK session it stands for. The
// cookie is replaced once the patient has signed in, so that one planted before the sign-in (session
// fixation) is worth nothing after it; the SDK session, where the tokens are, stays.
const newId = () => randomBytes(32).toString('base64url');
const cookieKey = (cookie: string) => `app:cookie:${cookie}`;
const setCookie = (cookie: string) => ({ 'set-cookie': `sid=${cookie}; Path=/; HttpOnly; SameSite=Lax` });

async function sessionOf(request: IncomingMessage): Promise<{ cookie: string; session: string } | undefined> {
  const cookie = /(?:^|;\s*)sid=([A-Za-z0-9_-]{43})(?:;|$)/.exec(request.headers.cookie ?? '')?.[1];
  const session = cookie ? await storage.get(cookieKey(cookie)) : undefined;
  return cookie && typeof session === 'string' ? { cookie, session } : undefined;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  response.end(`${JSON.stringify(body, null, 2)}\n`);
}

/** What the page shows of a measurement: when, what, and its value (or its components). */
function summary(observation: Observation) {
  const quantity = (q: Observation['valueQuantity']) => (q ? { value: q.value, unit: q.unit ?? q.code } : undefined);
  return {
    id: observation.id,
    date: observation.effectiveDateTime,
    name: observation.code.text ?? observation.code.coding?.[0]?.display,
    loinc: observation.code.coding?.find((coding) => coding.system === 'http://loinc.org')?.code,
    ...(observation.valueQuantity ? quantity(observation.valueQuantity) : {}),
    ...(observation.component?.length
      ? { components: observation.component.map((part) => ({ name: part.code.coding?.[0]?.display, ...quantity(part.valueQuantity) })) }
      : {}),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (!config) return send(response, 503, { error: 'starting' }, { 'retry-after': '1' });
  const url = new URL(request.url ?? '/', config.redirectUri);
  if (request.method !== 'GET') return send(response, 405, { error: 'method_not_allowed' }, { allow: 'GET' });

  if (url.pathname === '/login') {
    // A new session at each sign-in. The cookie is HttpOnly, and SameSite=Lax so that it comes
    // back with the platform's redirect to /callback; add Secure behind https.
    const cookie = newId();
    const session = newId();
    // Sandbox: the patient's id as login_hint pre-approves the consent. Without it the patient
    // signs in on the platform and reads the consent screen.
    const patient = url.searchParams.get('patient') ?? undefined;
    const { url: authorizationUrl } = await clientFor(session).authorize(patient ? { loginHint: patient } : {});
    await storage.set(cookieKey(cookie), session);
    response.writeHead(303, { location: authorizationUrl.href, ...setCookie(cookie) });
    return void response.end();
  }

  const current = await sessionOf(request);
  if (url.pathname === '/callback') {
    if (!current) return send(response, 400, { error: 'no_session', login: '/login' });
    try {
      // Checks state and iss, exchanges the code (signed with our key, bound to a DPoP key), stores the tokens.
      await clientFor(current.session).handleCallback(url);
    } catch (error) {
      // access_denied when the patient refused; invalid_state for a stale or replayed callback.
      if (error instanceof OAuthError) return send(response, 400, { error: error.error, description: error.description, login: '/login' });
      throw error;
    }
    const signedIn = newId();
    await storage.set(cookieKey(signedIn), current.session);
    await storage.delete(cookieKey(current.cookie));
    response.writeHead(303, { location: '/measurements', ...setCookie(signedIn) });
    return void response.end();
  }

  if (url.pathname === '/measurements') {
    const mes = current ? clientFor(current.session) : undefined;
    const authorization = await mes?.authorization();
    if (!mes || !authorization) return send(response, 401, { error: 'not_signed_in', login: '/login' });
    try {
      const measurements = [];
      // Every page, fetched as the loop goes (the Bundle's next links), refreshing the token when needed.
      for await (const observation of mes.fhir.search('Observation', { category: 'vital-signs', _count: 50 })) {
        measurements.push(summary(observation));
        if (measurements.length >= maxMeasurements) break;
      }
      return send(response, 200, { patient: authorization.patient, count: measurements.length, measurements });
    } catch (error) {
      // Consent withdrawn, access expired, app suspended…: the stored tokens are gone, sign in again.
      if (error instanceof ReauthorizationRequiredError) return send(response, 401, { error: error.reason, message: error.message, login: '/login' });
      throw error;
    }
  }

  return send(response, 404, { error: 'not_found' });
}

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    // The SDK's errors say what went wrong in words; nothing else leaves the server.
    console.error(error);
    if (!response.headersSent) send(response, 502, { error: 'upstream_error', message: error instanceof MesError ? error.message : 'internal error' });
    else response.end();
  });
});

// Listen first: the redirect URI carries the port (PORT=0 takes a free one).
server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address() as AddressInfo;
  const redirectUri = `http://127.0.0.1:${actual}/callback`;
  void (async () => {
    const key = await loadOrCreateKey(join(stateDir, 'client-key.json'));
    config = { clientId: await register(redirectUri, key), redirectUri, key };
    console.log(`Listening on http://127.0.0.1:${actual} (OAuth client ${config.clientId})`);
    console.log(`Sign in: http://127.0.0.1:${actual}/login?patient=sandbox-patient-1`);
  })().catch((error: unknown) => {
    console.error('Could not register the app:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)));
