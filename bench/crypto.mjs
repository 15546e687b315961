#!/usr/bin/env node
// `node bench/crypto.mjs` (after `npm run build`): the server's own signature work per request,
// without HTTP or a store: verifying one DPoP proof and one access token (what every FHIR request
// checks), and signing one access token. Microseconds per operation, on this thread.
//
// The store is an in-memory stand-in answering the two key queries; the replay cache and nonces
// always accept. An optional argument names another build's catalog-api/dist, to compare two
// builds on the same machine. Settings: BENCH_CRYPTO_N (5000 operations per measurement).
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = path.resolve(process.argv[2] ?? fileURLToPath(new URL('../catalog-api/dist', import.meta.url)));
const load = (file) => import(pathToFileURL(path.join(dist, file)).href);
const { verifyDpopProof, accessTokenHash } = await load('modules/oauth/dpop.js');
const { signedTokenVerifier } = await load('modules/oauth/token-state.js');
const { accessTokenSigner } = await load('modules/oauth/access-tokens.js');
const { secretBox } = await load('core/secret-box.js');

const box = secretBox(Buffer.alloc(32, 7));
const platform = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = 'bench-kid';
const publicJwk = { ...platform.publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
const sealed = box.seal(JSON.stringify(platform.privateKey.export({ format: 'jwk' })));
const db = {
  async query(sql) {
    if (sql.includes('SELECT public_jwk')) return [{ public_jwk: publicJwk }];
    if (sql.includes('SELECT kid, private_jwk')) return [{ kid, private_jwk: sealed }];
    throw new Error(`unexpected query ${sql}`);
  },
};
const issuer = 'https://api.example.fr';
const audience = `${issuer}/fhir`;
const url = `${audience}/Observation`;

const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const clientJwk = client.publicKey.export({ format: 'jwk' });
const { crv, kty, x, y } = clientJwk;
const jkt = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');

const signer = accessTokenSigner(db, box);
const claims = { issuer, audience, subject: 'person-1', clientId: 'client-1', scope: 'patient/Observation.rs', jkt, patient: 'patient-1', grantId: 'grant-1' };
const token = await signer(claims);
const verifyToken = signedTokenVerifier(db, { retiredKeyPublishSeconds: 3600 });
const deps = { replay: { firstUse: async () => true }, nonces: { current: async () => 'n', isValid: async () => true } };

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
function proof() {
  const input = `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: clientJwk })}.${b64({ jti: randomUUID(), htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(token) })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: client.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

async function verifyPair(dpop) {
  const verified = await verifyDpopProof({ headers: dpop, method: 'GET', url, accessToken: token }, deps);
  const payload = await verifyToken(token, { issuer, audience });
  if (payload?.cnf?.jkt !== verified.jkt) throw new Error('the access token did not verify');
}

async function measure(n, operation, prepare = () => undefined) {
  const inputs = Array.from({ length: n }, prepare); // proofs are made before the clock starts
  const start = process.hrtime.bigint();
  for (const input of inputs) await operation(input);
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

const n = Number(process.env.BENCH_CRYPTO_N ?? 5000);
for (const round of ['warm-up', 'measured']) {
  const pair = await measure(n, verifyPair, proof);
  const signing = await measure(n, () => signer(claims));
  if (round === 'measured') {
    console.log(`verify DPoP proof + access token: ${pair.toFixed(1)} µs`);
    console.log(`sign access token: ${signing.toFixed(1)} µs`);
  }
}
