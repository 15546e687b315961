// The FHIR API scenarios of scenarios.mjs: a search and a read of one patient's measurements with
// everything a real request goes through (DPoP proof with ath verified, token and grant checked,
// compartment and scopes enforced, the access history appended), and the same search on a second
// server over the same store that does not record the access history, to measure what it costs.
// Imported by the load generator too: no import of the platform here.
import { createHash } from 'node:crypto';
import { dpopProof, es256Signer, newEs256Key, pkce } from './oauth-client.mjs';
import { api, newPublisher } from './setup.mjs';

const PATIENT = 'bench-patient-1';
const OBSERVATIONS = 200;
const redirectUri = 'https://banc-essai.example.fr/oauth/callback';
const searchPath = '/fhir/Observation?category=vital-signs&_count=20';
const readId = `${PATIENT}-obs-7`;

/** A patient's 200 vital signs (weights, heart rates), written straight to the store. */
function records() {
  const subject = { reference: `Patient/${PATIENT}` };
  const items = [{ patientId: PATIENT, id: PATIENT, resource: { resourceType: 'Patient', name: [{ family: 'Banc', given: ['Essai'] }], birthDate: '1970-01-01' } }];
  for (let i = 0; i < OBSERVATIONS; i += 1) {
    const weight = i % 2 === 0;
    items.push({
      patientId: PATIENT,
      id: `${PATIENT}-obs-${i}`,
      resource: {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: weight ? '29463-7' : '8867-4' }] },
        subject,
        effectiveDateTime: new Date(Date.UTC(2026, 0, 1) + i * 3600_000).toISOString(),
        valueQuantity: weight
          ? { value: 70 + (i % 7) / 10, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' }
          : { value: 60 + (i % 20), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
    });
  }
  return items;
}

/** Main thread, once: the patient's records, and an app of its own with the scope to read them. */
async function setUp(ctx) {
  if (!(await ctx.db.query('SELECT 1 FROM fhir_resources WHERE patient_id = $1 LIMIT 1', [PATIENT])).length) {
    await ctx.api.records.insertResources(ctx.db, records());
  }
  const key = await newPublisher(ctx, 'Éditeur du banc d’essai FHIR');
  const app = await api(ctx, 'POST', '/apps', {
    key,
    body: ctx.api.sampleAppInput({ name: 'Banc FHIR', redirectUris: [redirectUri], scopes: [{ scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' }] }),
  });
  const clients = await api(ctx, 'GET', `/apps/${app.id}/clients`, { key });
  return { clientId: clients.items[0].clientId, urls: ctx.urls };
}

/**
 * A token for the patient, as an app obtains it: authorization with PKCE (consent pre-approved
 * with login_hint), then the code exchange with a DPoP proof. Made in each run's load() against
 * the run's own server (the issuer is the origin), so every run has a fresh 300 s token.
 */
async function signIn(issuer, clientId) {
  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'patient/Observation.rs',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: PATIENT,
  });
  const authorized = await fetch(`${issuer}/oauth/authorize?${query}`, { redirect: 'manual' });
  const code = new URL(authorized.headers.get('location')).searchParams.get('code');
  await authorized.body?.cancel();
  const key = newEs256Key();
  const sign = es256Signer(key.privateJwk);
  const htu = `${issuer}/oauth/token`;
  let nonce;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const response = await fetch(htu, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpopProof(sign, key.publicJwk, { htm: 'POST', htu, nonce }) },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }),
    });
    const body = await response.json();
    if (response.status === 200) return { accessToken: body.access_token, sign, publicJwk: key.publicJwk };
    nonce = response.headers.get('dpop-nonce') ?? undefined;
    if (body.error !== 'use_dpop_nonce') throw new Error(`token answered ${response.status}: ${JSON.stringify(body)}`);
  }
  throw new Error('token: no nonce accepted');
}

function fhirLoad(path, target) {
  return async (params) => {
    const issuer = params.urls[target];
    const session = await signIn(issuer, params.clientId);
    const url = `${issuer}${path.split('?')[0]}`;
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
  };
}

function checkPage(response) {
  const entry = response.json?.entry;
  if (response.json?.resourceType !== 'Bundle' || !Array.isArray(entry) || entry.length !== 20) {
    throw new Error(`expected a Bundle of 20 observations, got ${response.text.slice(0, 300)}`);
  }
}

/** What the SDK's overhead measurement (lib/sdk-overhead.mjs) shares with these scenarios. */
export const fhirBench = { patient: PATIENT, readId, redirectUri, setUp, signIn };

const described = 'Authorization: DPoP with a fresh ES256 proof (ath) per request; token, grant, compartment and scopes checked';

export const fhirSearchScenario = {
  name: 'fhir-search',
  target: 'platform',
  description: `GET ${searchPath} of a patient with ${OBSERVATIONS} observations; ${described}; access history appended`,
  setup: setUp,
  load: fhirLoad(searchPath, 'platform'),
  check: checkPage,
};

export const fhirReadScenario = {
  name: 'fhir-read',
  target: 'platform',
  description: `GET /fhir/Observation/{id}; ${described}; access history appended`,
  setup: setUp,
  load: fhirLoad(`/fhir/Observation/${readId}`, 'platform'),
  check(response) {
    if (response.json?.id !== readId) throw new Error(`expected Observation ${readId}, got ${response.text.slice(0, 300)}`);
  },
};

export const fhirSearchWithoutHistoryScenario = {
  name: 'fhir-search-without-history',
  target: 'platform-without-history',
  description: 'the same search on a second server over the same store that does not record the access history (what the history costs)',
  setup: setUp,
  load: fhirLoad(searchPath, 'platform-without-history'),
  check: checkPage,
};
