// The platform API scenarios of scenarios.mjs: one publisher's first page of apps, read with its
// API key and with a command-line token (DPoP-bound, a fresh proof with `ath` signed per request).
// The gap between the two is the cost of the resource-server checks the FHIR API will make too.
// Imported by the load generator too: no import of the platform here.
import { createHash } from 'node:crypto';
import { dpopProof, es256Signer, newEs256Key } from './oauth-client.mjs';
import { api, newPublisher } from './setup.mjs';

const APPS = 20;
const path = `/apps?limit=${APPS}`;

/** A publisher of its own with a full first page of apps: its API key. */
async function setUpPublisher(ctx) {
  const key = await newPublisher(ctx, 'Éditeur du banc d’essai de l’API');
  for (let i = 0; i < APPS; i += 1) await api(ctx, 'POST', '/apps', { key, body: ctx.api.sampleAppInput({ name: `Appli du banc ${i + 1}` }) });
  return { issuer: ctx.url, apiKey: key };
}

/**
 * A device sign-in of the command line, as `mes login` will make it: device authorization, the
 * approval page with the publisher's key, the token request with a DPoP proof (and its nonce).
 * Made in each run's load(), in the load generator, so every run has a fresh 300 s token.
 */
async function signIn(params) {
  const form = (values) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(values) });
  const started = await (await fetch(`${params.issuer}/oauth/device_authorization`, form({ client_id: 'mes-cli', scope: 'platform/apps.read' }))).json();
  const approval = await fetch(`${params.issuer}/device`, form({ user_code: started.user_code, api_key: params.apiKey, decision: 'approve' }));
  if (approval.status !== 200) throw new Error(`device approval answered ${approval.status}`);
  await approval.body?.cancel();
  const key = newEs256Key();
  const sign = es256Signer(key.privateJwk);
  const htu = `${params.issuer}/oauth/token`;
  let nonce;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const response = await fetch(htu, {
      ...form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'mes-cli', device_code: started.device_code }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpopProof(sign, key.publicJwk, { htm: 'POST', htu, nonce }) },
    });
    const body = await response.json();
    if (response.status === 200) return { accessToken: body.access_token, sign, publicJwk: key.publicJwk };
    nonce = response.headers.get('dpop-nonce') ?? undefined;
    if (body.error !== 'use_dpop_nonce') throw new Error(`device token answered ${response.status}: ${JSON.stringify(body)}`);
  }
  throw new Error('device token: no nonce accepted');
}

function checkPage(response) {
  const items = response.json?.items;
  if (!Array.isArray(items) || items.length !== APPS) throw new Error(`expected a page of ${APPS} apps, got ${response.text.slice(0, 200)}`);
}

export const apiKeyScenario = {
  name: 'apps-list-api-key',
  target: 'platform',
  description: `GET ${path} with a publisher API key (Authorization: Bearer)`,
  setup: setUpPublisher,
  load: (params) => ({ method: 'GET', path, headers: { authorization: `Bearer ${params.apiKey}` } }),
  check: checkPage,
};

export const platformTokenScenario = {
  name: 'apps-list-platform-token',
  target: 'platform',
  description: `GET ${path} with a command-line platform token: Authorization: DPoP, a fresh ES256 proof with ath per request, session checked`,
  setup: setUpPublisher,
  async load(params) {
    const session = await signIn(params);
    const url = `${params.issuer}${path}`;
    const ath = createHash('sha256').update(session.accessToken).digest('base64url');
    return {
      requests: [
        {
          method: 'GET',
          path,
          setupRequest(request) {
            request.headers = {
              ...request.headers,
              authorization: `DPoP ${session.accessToken}`,
              dpop: dpopProof(session.sign, session.publicJwk, { htm: 'GET', htu: url, ath }),
            };
            return request;
          },
        },
      ],
    };
  },
  check: checkPage,
};
