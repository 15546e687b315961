// The token endpoint scenarios of scenarios.mjs: the authorization code exchange and the refresh,
// for a confidential and a public client. See bench/README.md, "The token endpoint scenarios".
// Imported by the load generator too: no import of the platform here.
import {
  clientAssertion,
  CLIENT_ASSERTION_TYPE,
  dpopProof,
  es256Signer,
  jwtClaims,
  newEs256Key,
  pkce,
} from './oauth-client.mjs';
import { api, newPublisher } from './setup.mjs';

// Every token request carries a fresh DPoP proof (its jti is replay-checked; htm POST, htu the
// token endpoint, the server's nonce) and, for a confidential client, a fresh private_key_jwt
// client assertion (jti replay-checked too, aud = the issuer): both are signed with ES256 in the
// load generator's setupRequest, per request, as a real client does. The nonce comes from a first
// nonce-less proof (400 use_dpop_nonce + DPoP-Nonce) and then from each answer's DPoP-Nonce.

const oauthRedirectUri = 'https://banc-essai.example.fr/oauth/callback';
/** What the code exchange asks for: no offline_access, so it issues an access token only. */
const onlineScope = 'launch/patient patient/Observation.rs';
/** What the grants behind the refresh scenarios ask for: offline_access brings a refresh token. */
const offlineScope = `${onlineScope} offline_access`;

/**
 * A publisher of its own, an app registered for `offlineScope`, and its client: a new confidential
 * client with one ES256 key (private_key_jwt), or the public client the sandbox gives every app.
 * The DPoP key is the load generator's, one for the whole scenario, as one app instance has.
 */
async function setUpOAuthClient(ctx, { confidential }) {
  const key = await newPublisher(ctx, 'Éditeur du banc d’essai OAuth');
  const app = await api(ctx, 'POST', '/apps', {
    key,
    body: ctx.api.sampleAppInput({
      name: `Banc d'essai OAuth (${confidential ? 'confidentiel' : 'public'})`,
      websiteUrl: 'https://banc-essai.example.fr',
      redirectUris: [oauthRedirectUri],
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
        { scope: 'offline_access', justification: 'Synchroniser sans vous redemander.' },
        { scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' },
      ],
    }),
  });
  const params = { issuer: ctx.url, redirectUri: oauthRedirectUri, confidential };
  if (confidential) {
    const clientKey = newEs256Key();
    params.kid = 'bench-1';
    const client = await api(ctx, 'POST', `/apps/${app.id}/clients`, {
      key,
      body: { type: 'confidential', jwks: { keys: [{ ...clientKey.publicJwk, kid: params.kid, alg: 'ES256', use: 'sig' }] } },
    });
    params.clientId = client.clientId;
    params.clientPrivateJwk = clientKey.privateJwk;
  } else {
    const clients = await api(ctx, 'GET', `/apps/${app.id}/clients`, { key });
    const client = clients.items.find((c) => c.type === 'public');
    if (!client) throw new Error(`the sandbox gave app ${app.id} no public client: ${JSON.stringify(clients)}`);
    params.clientId = client.clientId;
  }
  const dpopKey = newEs256Key();
  params.dpopPrivateJwk = dpopKey.privateJwk;
  params.dpopPublicJwk = dpopKey.publicJwk;
  params.dpopJkt = dpopKey.thumbprint;
  return params;
}

/** The client's signers (and, in the main thread, its last DPoP nonce), made once per params. */
const clients = new WeakMap();
export function clientOf(params) {
  let client = clients.get(params);
  if (!client) {
    client = {
      signDpop: es256Signer(params.dpopPrivateJwk),
      signClient: params.confidential ? es256Signer(params.clientPrivateJwk) : null,
      nonce: undefined,
    };
    clients.set(params, client);
  }
  return client;
}

/** The client authentication parameters: a fresh assertion (private_key_jwt), or client_id alone. */
function clientAuthentication(params, client) {
  if (!params.confidential) return { client_id: params.clientId };
  return {
    client_id: params.clientId,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: clientAssertion(client.signClient, { kid: params.kid, clientId: params.clientId, audience: params.issuer }),
  };
}

/**
 * One authorization code, as an app obtains it: PAR (authenticated with a client assertion) then
 * the authorization endpoint with the request_uri for a confidential client; the authorization
 * endpoint with the whole request for a public one. The sandbox's consent step approves at once
 * and answers 303 to the redirect URI with the code, bound to the DPoP key (`dpop_jkt`).
 */
export async function mintCode(params, scope) {
  const { verifier, challenge } = pkce();
  const request = {
    client_id: params.clientId,
    response_type: 'code',
    redirect_uri: params.redirectUri,
    scope,
    state: 'bench',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    dpop_jkt: params.dpopJkt,
    // The sandbox pre-approves consent for the patient named in login_hint (automated clients).
    login_hint: params.patient ?? 'sandbox-patient-1',
  };
  let query = request;
  if (params.confidential) {
    const pushed = await fetch(`${params.issuer}/oauth/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...request, ...clientAuthentication(params, clientOf(params)) }),
    });
    const body = await pushed.json();
    if (pushed.status !== 201) throw new Error(`POST /oauth/par answered ${pushed.status}: ${JSON.stringify(body)}`);
    query = { client_id: params.clientId, request_uri: body.request_uri };
  }
  const answer = await fetch(`${params.issuer}/oauth/authorize?${new URLSearchParams(query)}`, { redirect: 'manual' });
  const location = answer.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (answer.status !== 303 || !code) {
    throw new Error(`GET /oauth/authorize answered ${answer.status} ${location ?? (await answer.text()).slice(0, 300)}`);
  }
  await answer.body?.cancel();
  return { code, verifier };
}

/** A token request from the main thread (setup, minting): client authentication, DPoP, one nonce retry. */
export async function postToken(params, grant) {
  const client = clientOf(params);
  const htu = `${params.issuer}/oauth/token`;
  const send = async () => {
    const response = await fetch(htu, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: dpopProof(client.signDpop, params.dpopPublicJwk, { htm: 'POST', htu, nonce: client.nonce }),
      },
      body: new URLSearchParams({ ...grant, ...clientAuthentication(params, client) }),
    });
    client.nonce = response.headers.get('dpop-nonce') ?? client.nonce;
    return { status: response.status, body: await response.json() };
  };
  let answer = await send();
  if (answer.status === 400 && answer.body.error === 'use_dpop_nonce') answer = await send();
  if (answer.status !== 200) throw new Error(`POST /oauth/token (${grant.grant_type}) answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** A grant with offline_access, run through the code flow: its refresh token, bound to the DPoP key. */
async function mintRefreshToken(params) {
  const { code, verifier } = await mintCode(params, offlineScope);
  const tokens = await postToken(params, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: params.redirectUri });
  if (typeof tokens.refresh_token !== 'string') throw new Error(`no refresh_token for a grant with offline_access: ${JSON.stringify(tokens)}`);
  return { refreshToken: tokens.refresh_token };
}

/**
 * A current DPoP nonce: a token request whose proof has none is answered 400 use_dpop_nonce with a
 * DPoP-Nonce header (what oauth4webapi's clients meet on their first request too).
 */
async function fetchDpopNonce(params, client) {
  const htu = `${params.issuer}/oauth/token`;
  const response = await fetch(htu, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpopProof(client.signDpop, params.dpopPublicJwk, { htm: 'POST', htu }) },
    body: new URLSearchParams({ grant_type: 'authorization_code', ...clientAuthentication(params, client) }),
  });
  const body = await response.text();
  const nonce = response.headers.get('dpop-nonce');
  if (response.status !== 400 || !nonce) throw new Error(`expected 400 use_dpop_nonce with a DPoP-Nonce header, got ${response.status}: ${body.slice(0, 200)}`);
  return nonce;
}

function headerValue(headers, name) {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  return undefined;
}

/**
 * load() of a token scenario: POST /oauth/token whose grant parameters come from `nextGrant()`,
 * with a fresh client authentication and DPoP proof per request.
 */
export async function tokenEndpointLoad(params, nextGrant) {
  const client = clientOf(params);
  const htu = `${params.issuer}/oauth/token`;
  // The server's nonce changes every 5 minutes; each answer carries the current one.
  let nonce = await fetchDpopNonce(params, client);
  return {
    requests: [
      {
        method: 'POST',
        path: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest(request) {
          const form = { ...nextGrant(), ...clientAuthentication(params, client) };
          request.headers = { ...request.headers, dpop: dpopProof(client.signDpop, params.dpopPublicJwk, { htm: 'POST', htu, nonce }) };
          request.body = new URLSearchParams(form).toString();
          return request;
        },
        onResponse(_status, _body, _context, headers) {
          nonce = headerValue(headers, 'dpop-nonce') ?? nonce;
        },
      },
    ],
  };
}

/** What every token answer must be: a DPoP-bound RFC 9068 access token for this client, and a nonce. */
export function checkTokenResponse(response, params) {
  const { json } = response;
  if (json?.token_type !== 'DPoP' || typeof json.access_token !== 'string') {
    throw new Error(`expected a DPoP access token, got ${response.text.slice(0, 300)}`);
  }
  if (!response.headers.get('dpop-nonce')) throw new Error('the token response carries no DPoP-Nonce header');
  const { header, payload } = jwtClaims(json.access_token);
  if (header.typ !== 'at+jwt' || payload.client_id !== params.clientId || payload.cnf?.jkt !== params.dpopJkt) {
    throw new Error(`the access token is not an at+jwt for ${params.clientId} bound to the DPoP key: ${JSON.stringify({ header, payload })}`);
  }
}

/** Sent when a supply is exhausted (the harness sizes runs so that it is not): the server refuses it, and the run fails. */
const ranDry = 'supply-ran-dry'.padEnd(43, '-');

const clientWords = (confidential) =>
  confidential ? 'confidential client (private_key_jwt assertion + DPoP proof signed per request, ES256)' : 'public client (DPoP proof signed per request, ES256)';

export function codeExchangeScenario({ confidential }) {
  return {
    name: confidential ? 'oauth-token-code' : 'oauth-token-code-public',
    target: 'platform',
    description:
      `POST /oauth/token grant_type=authorization_code with PKCE, ${clientWords(confidential)}, scope "${onlineScope}"; ` +
      `each code minted just before its segment (${confidential ? 'PAR + authorize' : 'authorize'}) while no load runs`,
    setup: (ctx) => setUpOAuthClient(ctx, { confidential }),
    supply: {
      // Codes live 60 s (CODE_LIFETIME_SECONDS); the harness uses each within 45 s of minting it.
      lifetimeSeconds: 60,
      concurrency: 8,
      mint: (_ctx, params) => mintCode(params, onlineScope),
    },
    load: (params, supply) =>
      tokenEndpointLoad(params, () => {
        const item = supply.take() ?? { code: ranDry, verifier: ranDry };
        return { grant_type: 'authorization_code', code: item.code, code_verifier: item.verifier, redirect_uri: params.redirectUri };
      }),
    check: checkTokenResponse,
  };
}

/**
 * The refresh of a confidential client: its refresh tokens are not rotated, so a pool of grants
 * made in setup serves the whole run, round-robin (four per connection, so that two requests
 * rarely hold the same token, whose row the exchange locks).
 */
export function confidentialRefreshScenario() {
  return {
    name: 'oauth-token-refresh',
    target: 'platform',
    description:
      `POST /oauth/token grant_type=refresh_token, ${clientWords(true)}; not rotated, so ` +
      `a pool of grants ("${offlineScope}") made in setup is used round-robin`,
    async setup(ctx) {
      const params = await setUpOAuthClient(ctx, { confidential: true });
      const pool = [];
      for (let i = 0; i < ctx.settings.connections * 4; i += 1) pool.push((await mintRefreshToken(params)).refreshToken);
      return { ...params, refreshTokens: pool };
    },
    load(params) {
      let next = 0;
      return tokenEndpointLoad(params, () => {
        const token = params.refreshTokens[next];
        next = (next + 1) % params.refreshTokens.length;
        return { grant_type: 'refresh_token', refresh_token: token };
      });
    },
    check(response, params) {
      checkTokenResponse(response, params);
      if (response.json.refresh_token !== undefined) throw new Error('a confidential client\'s refresh token was rotated: the pool would go stale');
    },
  };
}

/**
 * The refresh of a public client: each refresh token is rotated (a second use revokes the grant),
 * so each request spends a fresh one, minted like a code (authorize + code exchange) before its
 * segment; the new refresh token in the answer is dropped.
 */
export function publicRefreshScenario() {
  return {
    name: 'oauth-token-refresh-public',
    target: 'platform',
    description:
      `POST /oauth/token grant_type=refresh_token, ${clientWords(false)}; rotated, so each request spends a refresh token ` +
      `minted just before its segment (authorize + code exchange, "${offlineScope}") while no load runs`,
    setup: (ctx) => setUpOAuthClient(ctx, { confidential: false }),
    supply: {
      // Refresh tokens do not expire by themselves: the grant does (never, in the sandbox).
      lifetimeSeconds: 3600,
      concurrency: 8,
      mint: (_ctx, params) => mintRefreshToken(params),
    },
    load: (params, supply) =>
      tokenEndpointLoad(params, () => ({ grant_type: 'refresh_token', refresh_token: (supply.take() ?? { refreshToken: ranDry }).refreshToken })),
    check(response, params) {
      checkTokenResponse(response, params);
      if (typeof response.json.refresh_token !== 'string') throw new Error('a public client\'s refresh gave no new refresh token (rotation)');
    },
  };
}
