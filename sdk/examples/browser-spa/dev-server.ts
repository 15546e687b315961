// The SPA's development server, run from this folder: registers the app in the sandbox with the
// publisher's key (the key stays here, never in the page), bundles app.ts for the browser with
// esbuild, and serves index.html and app.js on http://127.0.0.1:<PORT>/, the app's redirect URI.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublisherClient } from '@mes/sdk/publisher';
import { build } from 'esbuild';
import { ensureSandboxApp, publicClientOf, requiredEnv } from '../setup/sandbox-app.js';

const baseUrl = process.env.MES_API_URL ?? 'http://localhost:4010';
const apiKey = requiredEnv('MES_API_KEY', 'the publisher API key that `npm start` prints (mes_pk_…).');
const port = Number(process.env.PORT ?? 5173);

async function register(redirectUri: string): Promise<string> {
  const publisher = createPublisherClient({ baseUrl, apiKey });
  const app = await ensureSandboxApp(publisher, {
    name: 'Carnet de vaccination (exemple SPA)',
    shortDescription: { fr: 'Vos vaccinations, dans votre navigateur.' },
    longDescription: { fr: 'Exemple du SDK : une application web monopage qui affiche les vaccinations du patient.' },
    category: 'prevention',
    websiteUrl: 'https://carnet.example.fr',
    redirectUris: [redirectUri],
    scopes: [{ scope: 'patient/Immunization.rs', justification: 'Afficher vos vaccinations et leurs dates.', required: true }],
    privacyPolicyUrl: 'https://carnet.example.fr/confidentialite',
    termsUrl: 'https://carnet.example.fr/cgu',
    supportContact: { email: 'support@carnet.example.fr' },
  });
  return publicClientOf(publisher, app);
}

/** app.ts and what it imports (the SDK included) as one browser module, configured for this app. */
async function bundle(clientId: string): Promise<string> {
  const result = await build({
    entryPoints: ['app.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    minify: true,
    sourcemap: 'inline',
    define: { MES_API_URL: JSON.stringify(baseUrl), MES_CLIENT_ID: JSON.stringify(clientId) },
  });
  return result.outputFiles[0]!.text;
}

async function start(origin: string): Promise<void> {
  const clientId = await register(`${origin}/`);
  const [html, script] = await Promise.all([readFile('index.html', 'utf8'), bundle(clientId)]);
  // The page may talk to itself and to the platform only: an injected script could not send the
  // tokens or the DPoP key in sessionStorage anywhere else.
  const csp = `default-src 'self'; connect-src ${new URL(baseUrl).origin}; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'`;
  server.on('request', (request, response) => {
    const path = new URL(request.url ?? '/', origin).pathname;
    if (path === '/') response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }).end(html);
    else if (path === '/app.js') response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    else if (path === '/favicon.ico') response.writeHead(204).end();
    else response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  });
  console.log(`Serving the SPA on ${origin}/ (OAuth client ${clientId})`);
  console.log(`Sandbox: ${origin}/?patient=sandbox-patient-1 pre-approves that patient's consent.`);
}

// Listen first: the redirect URI carries the port (PORT=0 takes a free one).
const server = createServer();
server.listen(port, '127.0.0.1', () => {
  start(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).catch((error: unknown) => {
    console.error('Could not start:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)));
