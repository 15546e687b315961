// What the apps of the cluster test do, as real apps would: register (a publisher, an app, a
// confidential client with private_key_jwt and the public client), obtain grants for patients
// (the sandbox pre-approves consent with login_hint), refresh tokens, read, search and create
// Observations, every request with a fresh DPoP proof; creates carry an Idempotency-Key and are
// retried with it. The proofs and assertions come from bench/lib/oauth-client.mjs.
//
// Two URLs are kept apart: the issuer (PUBLIC_URL, the load balancer), which proofs (`htu`) and
// assertions (`aud`) name whatever instance they go to, and the target a request is sent to (the
// balancer, or one instance directly).
import { createHash, randomUUID } from 'node:crypto';
import { CLIENT_ASSERTION_TYPE, clientAssertion, dpopProof, es256Signer, newEs256Key, pkce } from '../../bench/lib/oauth-client.mjs';
import { api, newPublisher } from '../../bench/lib/setup.mjs';

export const redirectUri = 'https://grappe.example.fr/oauth/callback';
export const scope = 'launch/patient offline_access patient/Observation.crs';

/** Why a request failed, in a few words that group alike failures: the error kinds of the report. */
export function failureKind(answer) {
  if (answer.status === 0) return `no answer (${answer.error})`;
  const body = answer.json ?? {};
  if (body.code) return `${answer.status} ${body.code}`;
  if (body.error) return `${answer.status} ${body.error}${/already used/.test(body.error_description ?? '') ? ' (proof replayed)' : ''}`;
  const challenge = answer.headers?.get('www-authenticate') ?? '';
  const error = /error="([^"]+)"/.exec(challenge)?.[1];
  if (error) return `${answer.status} ${error}${/already used/.test(challenge) ? ' (proof replayed)' : ''}`;
  if (body.resourceType === 'OperationOutcome') {
    const issue = body.issue?.[0] ?? {};
    // The FHIR API answers the platform's problems as OperationOutcome; the Idempotency-Key ones say so.
    const idempotency = /Idempotency-Key/.test(issue.diagnostics ?? '') ? ' (Idempotency-Key: first request not finished)' : '';
    return `${answer.status} ${issue.code ?? 'OperationOutcome'}${idempotency}`;
  }
  return `${answer.status}${answer.text ? ` ${answer.text.replace(/\s+/g, ' ').slice(0, 60)}` : ''}`;
}

/** One HTTP exchange that never throws: a network failure is status 0 with its cause. */
export async function exchange(url, init = {}, timeoutMs = 30_000) {
  try {
    const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  } catch (error) {
    const cause = error?.cause?.code ?? error?.cause?.name ?? error?.name ?? 'error';
    return { status: 0, error: cause === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : cause };
  }
}

/** The publisher, its app and the app's two clients, registered through the balancer. */
export async function registerApp({ issuer, catalogApi }) {
  const ctx = { url: issuer, api: catalogApi };
  const key = await newPublisher(ctx, 'Éditeur de la grappe');
  const app = await api(ctx, 'POST', '/apps', {
    key,
    body: catalogApi.sampleAppInput({
      name: 'Grappe de test',
      websiteUrl: 'https://grappe.example.fr',
      redirectUris: [redirectUri],
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
        { scope: 'offline_access', justification: 'Synchroniser sans vous redemander.' },
        { scope: 'patient/Observation.crs', justification: 'Lire et déposer vos mesures.' },
      ],
    }),
  });
  const clientKey = newEs256Key();
  const confidential = await api(ctx, 'POST', `/apps/${app.id}/clients`, {
    key,
    body: { type: 'confidential', jwks: { keys: [{ ...clientKey.publicJwk, kid: 'grappe-1', alg: 'ES256', use: 'sig' }] } },
  });
  const clients = await api(ctx, 'GET', `/apps/${app.id}/clients`, { key });
  const publicClient = clients.items.find((client) => client.type === 'public');
  if (!publicClient) throw new Error(`the sandbox gave app ${app.id} no public client: ${JSON.stringify(clients)}`);
  return {
    apiKey: key,
    appId: app.id,
    confidential: newClient({ issuer, clientId: confidential.clientId, kid: 'grappe-1', clientPrivateJwk: clientKey.privateJwk }),
    public: newClient({ issuer, clientId: publicClient.clientId }),
  };
}

/** An OAuth client of the app, with its DPoP key (one per client, as one app installation has) and last nonce. */
function newClient({ issuer, clientId, kid, clientPrivateJwk }) {
  const dpopKey = newEs256Key();
  return {
    issuer,
    clientId,
    confidential: Boolean(clientPrivateJwk),
    kid,
    signClient: clientPrivateJwk ? es256Signer(clientPrivateJwk) : null,
    signDpop: es256Signer(dpopKey.privateJwk),
    dpopPublicJwk: dpopKey.publicJwk,
    dpopJkt: dpopKey.thumbprint,
    nonce: undefined,
  };
}

/** The client authentication parameters: a fresh assertion (private_key_jwt), or client_id alone. */
function authentication(client) {
  if (!client.confidential) return { client_id: client.clientId };
  return {
    client_id: client.clientId,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: clientAssertion(client.signClient, { kid: client.kid, clientId: client.clientId, audience: client.issuer }),
  };
}

const proofFor = (client, htm, url, extra = {}) => dpopProof(client.signDpop, client.dpopPublicJwk, { htm, htu: url.split('?')[0], ...extra });

/**
 * A token request to `target` (default: the issuer): fresh assertion and proof, the last nonce;
 * one more try when the server asks for a (new) nonce. Answers the exchange, never throws.
 */
export async function tokenRequest(client, grant, target = client.issuer) {
  const htu = `${client.issuer}/oauth/token`;
  let answer;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    answer = await exchange(`${target}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proofFor(client, 'POST', htu, client.nonce ? { nonce: client.nonce } : {}) },
      body: new URLSearchParams({ ...grant, ...authentication(client) }),
    });
    client.nonce = answer.headers?.get('dpop-nonce') ?? client.nonce;
    if (!(answer.status === 400 && answer.json?.error === 'use_dpop_nonce')) break;
  }
  return answer;
}

/** A grant for `patient` (code flow: PAR for the confidential client, then authorize, then the code exchange): its tokens. */
export async function authorize(client, patient) {
  const { verifier, challenge } = pkce();
  const request = {
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    state: 'grappe',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    dpop_jkt: client.dpopJkt,
    login_hint: patient,
  };
  let query = request;
  if (client.confidential) {
    const pushed = await exchange(`${client.issuer}/oauth/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...request, ...authentication(client) }),
    });
    if (pushed.status !== 201) throw new Error(`POST /oauth/par answered ${pushed.status}: ${pushed.text ?? pushed.error}`);
    query = { client_id: client.clientId, request_uri: pushed.json.request_uri };
  }
  const authorized = await exchange(`${client.issuer}/oauth/authorize?${new URLSearchParams(query)}`);
  const location = authorized.headers?.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (authorized.status !== 303 || !code) throw new Error(`GET /oauth/authorize answered ${authorized.status}: ${location ?? authorized.text ?? authorized.error}`);
  const tokens = await tokenRequest(client, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri });
  if (tokens.status !== 200) throw new Error(`the code exchange answered ${tokens.status}: ${tokens.text ?? tokens.error}`);
  return { patient, client, accessToken: tokens.json.access_token, refreshToken: tokens.json.refresh_token, obtainedAt: Date.now() };
}

/**
 * A FHIR request with the session's access token and a fresh proof (`ath`), to `target` (default:
 * the issuer). Never throws.
 */
export function fhirRequest(session, method, path, { body, headers = {}, target = session.client.issuer, timeoutMs } = {}) {
  const { client, accessToken } = session;
  const ath = createHash('sha256').update(accessToken).digest('base64url');
  return exchange(
    `${target}${path}`,
    {
      method,
      headers: {
        authorization: `DPoP ${accessToken}`,
        dpop: proofFor(client, method, `${client.issuer}${path}`, { ath }),
        ...(body ? { 'content-type': 'application/fhir+json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    },
    timeoutMs,
  );
}

/** A heart rate measured at `effectiveDateTime` (unique per create, so that the store can be counted by it). */
export function heartRate(effectiveDateTime, value) {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Fréquence cardiaque' }] },
    effectiveDateTime,
    valueQuantity: { value, unit: 'battements/min', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

export const newIdempotencyKey = () => randomUUID();
