// The headline scenarios as the yardstick comparison runs them (lib/yardstick.mjs): the same
// requests sent to the platform and to the limit (bench/limit/), which are two instances of one
// issuer on one PostgreSQL store. `params.issuer` is the platform's public URL (what proofs name
// in `htu` and assertions in `aud`); the request goes to whichever server the run targets.
// Imported by the load generator too: no import of the platform here.
import { createHash } from 'node:crypto';
import { dpopProof } from './oauth-client.mjs';
import { checkTokenResponse, clientOf, postToken, tokenEndpointLoad } from './oauth-scenarios.mjs';

export const searchPath = '/fhir/Observation?category=vital-signs&_count=20';

/** A fresh access token of the grant set up for the FHIR scenarios, from the platform of this line (a refresh). */
export async function fhirAccessToken(params) {
  const tokens = await postToken(params, { grant_type: 'refresh_token', refresh_token: params.fhirRefreshToken });
  return tokens.access_token;
}

/** The headers of one FHIR request: the token, and a proof for it and this URL (`ath`). */
export function fhirHeaders(params, accessToken, path) {
  const client = clientOf(params);
  const ath = createHash('sha256').update(accessToken).digest('base64url');
  return { authorization: `DPoP ${accessToken}`, dpop: dpopProof(client.signDpop, params.dpopPublicJwk, { htm: 'GET', htu: `${params.issuer}${path.split('?')[0]}`, ath }) };
}

function fhirScenario(name, path) {
  return {
    name: `yardstick:${name}`,
    async load(params) {
      const accessToken = await fhirAccessToken(params);
      return {
        requests: [
          {
            method: 'GET',
            path: path(params),
            setupRequest(request) {
              request.headers = { ...request.headers, ...fhirHeaders(params, accessToken, request.path) };
              return request;
            },
          },
        ],
      };
    },
  };
}

export const yardstickScenarios = [
  { name: 'yardstick:catalog-list', load: () => ({ method: 'GET', path: '/catalog/apps?limit=20' }) },
  {
    name: 'yardstick:oauth-token-refresh',
    load(params) {
      let next = 0;
      return tokenEndpointLoad(params, () => {
        const token = params.refreshTokens[next];
        next = (next + 1) % params.refreshTokens.length;
        return { grant_type: 'refresh_token', refresh_token: token };
      });
    },
    check: checkTokenResponse,
  },
  fhirScenario('fhir-search', () => searchPath),
  fhirScenario('fhir-read', (params) => `/fhir/Observation/${params.readId}`),
];

/** The scenarios compared with the limit, by their names in BENCH_SCENARIOS. */
export const yardstickNames = ['catalog-list', 'oauth-token-refresh', 'fhir-search', 'fhir-read'];
