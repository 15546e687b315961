// What the SDK costs an app on top of the request itself: one patient's observation read again and
// again, one call at a time, through `@mes/sdk` (`mes.fhir.read`: token manager, DPoP proof signed
// with WebCrypto, retries policy, error mapping, JSON) and by hand (fetch with a proof signed with
// node:crypto), against the same platform. Rounds alternate; the ratio of calls per second (SDK /
// by hand) is the number to follow: 1 means the SDK costs nothing measurable.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { fhirBench } from './fhir-scenarios.mjs';
import { dpopProof } from './oauth-client.mjs';

async function callsPerSecond(call, calls) {
  for (let i = 0; i < 20; i += 1) await call();
  const started = performance.now();
  for (let i = 0; i < calls; i += 1) await call();
  return calls / ((performance.now() - started) / 1000);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** `ctx` as run.mjs builds it; `rootDir` to find the built SDK (sdk/dist). */
export async function measureSdkOverhead(ctx, rootDir, { calls = 300, rounds = 3 } = {}) {
  const { createClient } = await import(pathToFileURL(join(rootDir, 'sdk', 'dist', 'index.js')).href);
  const { clientId } = await fhirBench.setUp(ctx);
  const url = `${ctx.url}/fhir/Observation/${fhirBench.readId}`;

  const session = await fhirBench.signIn(ctx.url, clientId);
  const ath = createHash('sha256').update(session.accessToken).digest('base64url');
  const byHand = async () => {
    const response = await fetch(url, {
      headers: {
        accept: 'application/fhir+json',
        authorization: `DPoP ${session.accessToken}`,
        dpop: dpopProof(session.sign, session.publicJwk, { htm: 'GET', htu: url, ath }),
      },
    });
    const body = await response.json();
    if (response.status !== 200 || body.id !== fhirBench.readId) throw new Error(`by hand: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
  };

  const mes = createClient({ baseUrl: ctx.url, clientId, redirectUri: fhirBench.redirectUri, scope: ['patient/Observation.rs'] });
  await mes.sandbox.signIn({ patient: fhirBench.patient });
  const withSdk = async () => {
    const observation = await mes.fhir.read('Observation', fhirBench.readId);
    if (observation.id !== fhirBench.readId) throw new Error(`SDK: got ${observation.id}`);
  };

  const hand = [];
  const sdk = [];
  for (let round = 0; round < rounds; round += 1) {
    hand.push(await callsPerSecond(byHand, calls));
    sdk.push(await callsPerSecond(withSdk, calls));
  }
  const round1 = (n) => Math.round(n * 10) / 10;
  return {
    description: `GET /fhir/Observation/{id}, ${calls} sequential calls per round, ${rounds} rounds alternating: mes.fhir.read against fetch with a hand-signed DPoP proof`,
    byHandCallsPerSec: round1(median(hand)),
    sdkCallsPerSec: round1(median(sdk)),
    ratio: Math.round((median(sdk) / median(hand)) * 1000) / 1000,
    rounds: hand.map((value, i) => ({ byHand: round1(value), sdk: round1(sdk[i]) })),
  };
}
