// The limit: a minimal server doing exactly the work of the benchmark's headline requests, with
// the same guarantees and the same answers as the platform, on the platform's own tables. It is
// the yardstick the platform is measured against (bench/README.md, "The yardstick"). It is written
// against the store's schema (catalog-api/migrations) and the HTTP contract only, never against
// the platform's modules: fastify, `pg` and node:crypto.
//
//   GET  /fhir/Observation?category=…[&_count=n]  DPoP-bound token, search, access history entry
//   GET  /fhir/Observation/{id}                     the same, for a read
//   POST /oauth/token  grant_type=refresh_token     DPoP (with nonce), private_key_jwt or public client
//   GET  /catalog/apps?limit=n                      the public catalogue's first page
//
// Each request is one prepared statement in the common case (its CTEs record the proof's jti,
// check the grant and the token, run the query and append the hash-chained history entry); keys
// are imported once and kept as KeyObjects. The rare paths (a refusal after the proof was
// recorded, a client key not seen before, a rotated refresh token presented again, the signing
// keys re-read every 30 s as the platform does) take a statement more.
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  algorithmFits,
  b64urlJson,
  dpopNonces,
  es256Signer,
  htuOf,
  jwkThumbprint,
  keyCache,
  openSecret,
  sameString,
  sha256b64url,
  verifyJws,
} from './crypto.mjs';
import * as sql from './statements.mjs';

const requireFromCatalogApi = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'catalog-api', 'package.json'));
const { default: Fastify } = await import(pathToFileURL(requireFromCatalogApi.resolve('fastify')).href);
const { default: pg } = await import(pathToFileURL(requireFromCatalogApi.resolve('pg')).href);

/** The `pg` module the limit (and the platform) use: the bench counts statements on its Client. */
export { pg };

const ACCESS_TOKEN_LIFETIME_SECONDS = 300;
const DPOP_MAX_AGE_SECONDS = 300;
const DPOP_MAX_FUTURE_SECONDS = 60;
const DPOP_ALGORITHMS = ['ES256', 'PS256', 'EdDSA', 'Ed25519'];
const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'RS384', 'PS256', 'EdDSA', 'Ed25519'];
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'r', 't', 'k'];
const PUBLIC_MEMBERS = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
const KEY_CACHE_MS = 30_000;
const GENESIS_HASH = '0'.repeat(64);
const CHALLENGE_ALGS = 'ES256 PS256 EdDSA';
const WITHDRAWALS = new Set(['withdrawn by the patient', 'patient opposed to access by apps']);
const GRANT_ENDED = {
  consent_withdrawn: 'the patient withdrew consent to this app',
  grant_expired: 'the access the patient granted has reached its end date',
  grant_revoked: 'the grant was revoked',
  app_suspended: "the app's certification is suspended",
  app_not_certified: 'the app is not certified',
  client_deleted: 'the OAuth client was deleted',
};
/** Observation's token search parameters the limit serves (the headline search uses category). */
const TOKEN_PARAMETERS = ['category'];

class Refusal extends Error {
  constructor(status, code, description, headers = {}, extra = {}) {
    super(description);
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.extra = extra;
  }
}

const quoted = (value) => value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
function challenge(code, description, { scope, grantEnded } = {}) {
  const parts = [`algs="${CHALLENGE_ALGS}"`, `error="${code}"`, `error_description="${quoted(description)}"`];
  if (scope) parts.push(`scope="${quoted(scope)}"`);
  if (grantEnded) parts.push(`grant_ended="${quoted(grantEnded)}"`);
  return `DPoP ${parts.join(', ')}`;
}
const resourceRefusal = (code, description, options = {}) =>
  new Refusal(code === 'insufficient_scope' ? 403 : 401, code, description, { 'www-authenticate': challenge(code, description, options), ...(options.nonce ? { 'dpop-nonce': options.nonce } : {}) });
const oauthRefusal = (status, code, description, headers = {}, extra = {}) => new Refusal(status, code, description, headers, extra);

/** Why a grant's tokens no longer work (the platform's `grantEnded`), or null while they do. */
function grantEnded(row, mode) {
  if (!row.grant_exists || !row.client_exists) return 'client_deleted';
  if (row.revoked) return row.revoked_reason !== null && WITHDRAWALS.has(row.revoked_reason) ? 'consent_withdrawn' : 'grant_revoked';
  if (row.expired) return 'grant_expired';
  const status = row.certification_status;
  const allowed = mode === 'sandbox' ? status !== 'suspended' && status !== 'revoked' : status === 'certified';
  if (allowed) return null;
  return status === 'suspended' ? 'app_suspended' : 'app_not_certified';
}

/**
 * What a token's scopes allow on one type and interaction (SMART v2 `patient/<Type|*>.<cruds>`,
 * v1 `.read`/`.write`/`.*`, granular `?name=value&…`): null when denied, 'all' when unrestricted,
 * else the filters (each a list of `name=value` tokens the resource must all have).
 */
export function scopeAccess(scope, type, letter) {
  const filters = [];
  for (const word of scope.split(' ')) {
    const match = /^patient\/([A-Za-z]+|\*)\.([a-z*]+)(?:\?(.*))?$/.exec(word);
    if (!match) continue;
    const [, scopeType, permissions, query] = match;
    if (scopeType !== '*' && scopeType !== type) continue;
    const letters = permissions === 'read' ? 'rs' : permissions === 'write' ? 'cud' : permissions === '*' ? 'cruds' : permissions;
    if (!letters.includes(letter)) continue;
    if (!query) return 'all';
    filters.push([...new URLSearchParams(query)].map(([name, value]) => `${name}=${value}`));
  }
  return filters.length ? filters : null;
}

/**
 * Starts the limit server. `issuer` is the platform's (PUBLIC_URL in production): the limit is one
 * more instance of the same authorization server and FHIR API, as a load balancer would place it.
 */
export async function startLimit({
  databaseUrl,
  schema,
  issuer,
  mode = 'production',
  keyEncryptionKey,
  retiredKeyPublishSeconds = 3600,
  applicationName = 'mes-limit',
  poolSize = 10,
  host = '127.0.0.1',
  port = 0,
}) {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    application_name: applicationName,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  pool.on('error', () => {});
  const query = (statement, values) => pool.query({ name: statement.name, text: statement.text, values });
  const fhirBase = `${issuer}/fhir`;
  const certified = mode === 'sandbox' ? sql.sandboxCertification : sql.productionCertification;
  const statements = {
    search: sql.fhirSearch(certified),
    read: sql.fhirRead(certified),
    refresh: sql.tokenRefresh({ withProof: true }),
    refreshKeysChanged: sql.tokenRefresh({ withProof: false }),
  };

  // The DPoP nonce secret the platform created (server_secrets), read once.
  const [secretRow] = (await pool.query('SELECT value FROM server_secrets WHERE name = $1', ['dpop_nonce_secret'])).rows;
  if (!secretRow) throw new Error('no dpop_nonce_secret in the store: start the platform on it first');
  const nonces = dpopNonces(Buffer.from(secretRow.value, 'base64url'));

  // The platform's published keys and its active ES256 key, re-read every 30 s (as the platform does),
  // and at most once a second when a token names a kid not seen yet.
  let published = { at: 0, keys: new Map() };
  async function verificationKey(kid) {
    const age = Date.now() - published.at;
    if (age > KEY_CACHE_MS || (kid !== undefined && !published.keys.has(kid) && age > 1000)) {
      const { rows } = await query(sql.publishedKeys, [retiredKeyPublishSeconds]);
      const keys = new Map();
      for (const { public_jwk: jwk } of rows) if (jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg ?? 'ES256') === 'ES256') keys.set(jwk.kid, importKey(`platform:${jwk.kid}`, jwk));
      published = { at: Date.now(), keys };
    }
    return kid === undefined ? [...published.keys.values()] : published.keys.has(kid) ? [published.keys.get(kid)] : [];
  }
  let signing = { at: 0, kid: '', sign: null };
  async function signer() {
    if (Date.now() - signing.at > KEY_CACHE_MS) {
      const { rows } = await query(sql.activeSigningKey, ['ES256']);
      if (!rows[0]) throw new Error('no active ES256 signing key');
      signing = { at: Date.now(), kid: rows[0].kid, sign: es256Signer(JSON.parse(openSecret(rows[0].private_jwk, keyEncryptionKey))) };
    }
    return signing;
  }
  const importKey = keyCache();
  // Clients' registered keys as last read from the store: the statement checks they are still those.
  const clientKeys = new Map();
  const jwksOf = (text) => ({ text, keys: JSON.parse(text).keys });

  // -------------------------------------------------------------------------------------------
  // DPoP proofs (RFC 9449 §4.3), as the platform checks them; the jti is recorded by the statement.

  function verifyProof(headerValue, method, url, { accessToken, requireNonce }) {
    const invalid = (description) => new Refusal(0, 'invalid_dpop_proof', description);
    if (headerValue === undefined || headerValue.trim() === '') throw invalid('missing DPoP header');
    const proof = headerValue.trim();
    if (/[,\s]/.test(proof)) throw invalid('more than one DPoP header');
    if (proof.length > 8192) throw invalid('DPoP proof is too large');
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(proof)) throw invalid('DPoP proof is not a compact JWS (three base64url parts)');
    const parts = proof.split('.');
    let header;
    try {
      header = b64urlJson(parts[0]);
    } catch {
      throw invalid('DPoP proof header is not base64url-encoded JSON');
    }
    if (typeof header?.typ !== 'string' || !['dpop+jwt', 'application/dpop+jwt'].includes(header.typ.toLowerCase())) throw invalid('DPoP proof header "typ" must be "dpop+jwt"');
    const { alg, jwk } = header;
    if (!DPOP_ALGORITHMS.includes(alg)) throw invalid(`DPoP proof alg ${String(alg)} is not allowed`);
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('DPoP proof header "jwk" must be a JSON object');
    for (const member of PRIVATE_MEMBERS) if (member in jwk) throw invalid(`DPoP proof jwk must be a public key, it holds the private member "${member}"`);
    if (!algorithmFits(alg, jwk)) throw invalid(`DPoP proof alg ${alg} does not fit its jwk`);
    const isEd = (a) => a === 'EdDSA' || a === 'Ed25519';
    if (jwk.alg !== undefined && jwk.alg !== alg && !(isEd(alg) && isEd(jwk.alg))) throw invalid(`DPoP proof jwk is for alg ${String(jwk.alg)}, not ${alg}`);
    if (jwk.use !== undefined && jwk.use !== 'sig') throw invalid('DPoP proof jwk "use" must be "sig" when present');
    const reduced = {};
    for (const member of PUBLIC_MEMBERS[jwk.kty]) {
      if (typeof jwk[member] !== 'string' || jwk[member] === '') throw invalid(`DPoP proof jwk lacks "${member}"`);
      reduced[member] = jwk[member];
    }
    if (jwk.kty === 'RSA' && Buffer.from(reduced.n, 'base64url').length < 256) throw invalid('DPoP proof RSA key must have at least 2048 bits');
    let key;
    try {
      key = importKey(`dpop:${parts[0]}`, reduced);
    } catch {
      throw invalid('DPoP proof jwk is not a valid public key');
    }
    if (!verifyJws(alg, key, parts)) throw invalid('DPoP proof signature does not verify with the key in its jwk header');
    let payload;
    try {
      payload = b64urlJson(parts[1]);
    } catch {
      throw invalid('DPoP proof payload is not JSON');
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalid('DPoP proof payload is not a JSON object');
    const { jti, htm, htu, iat, ath, nonce } = payload;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw invalid('DPoP proof "jti" must be a string of 1 to 256 characters');
    if (htm !== method) throw invalid(`DPoP proof "htm" does not match the request method ${method}`);
    if (typeof htu !== 'string') throw invalid('DPoP proof has no "htu"');
    if (htu !== url) {
      let same = false;
      try {
        same = htuOf(htu) === htuOf(url);
      } catch {
        throw invalid('DPoP proof "htu" is not an absolute http(s) URL');
      }
      if (!same) throw invalid('DPoP proof "htu" does not match the request URL');
    }
    const now = Date.now() / 1000;
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('DPoP proof "iat" must be a number');
    if (now - iat > DPOP_MAX_AGE_SECONDS) throw invalid(`DPoP proof "iat" is more than ${DPOP_MAX_AGE_SECONDS} seconds in the past`);
    if (iat - now >= DPOP_MAX_FUTURE_SECONDS) throw invalid(`DPoP proof "iat" is ${DPOP_MAX_FUTURE_SECONDS} seconds or more in the future`);
    if (accessToken !== undefined) {
      if (typeof ath !== 'string' || !sameString(ath, sha256b64url(accessToken))) throw invalid('DPoP proof "ath" does not match the access token');
    }
    if (nonce !== undefined) {
      if (!nonces.isValid(nonce)) throw new Refusal(0, 'use_dpop_nonce', 'DPoP proof nonce is not valid or has expired; retry with the one in DPoP-Nonce', {}, { nonce: nonces.current() });
    } else if (requireNonce) {
      throw new Refusal(0, 'use_dpop_nonce', 'DPoP proof must carry a nonce; retry with the one in DPoP-Nonce', {}, { nonce: nonces.current() });
    }
    const jkt = jwkThumbprint(reduced);
    return { jti, jkt, rememberUntil: new Date((now + DPOP_MAX_AGE_SECONDS + DPOP_MAX_FUTURE_SECONDS) * 1000) };
  }

  // -------------------------------------------------------------------------------------------
  // Access tokens: an ES256 at+jwt of the platform for `<issuer>/fhir`, bound to the proof's key.

  async function verifyAccessToken(token) {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    let header;
    let payload;
    try {
      header = b64urlJson(parts[0]);
      payload = b64urlJson(parts[1]);
    } catch {
      return null;
    }
    if (header.alg !== 'ES256' || typeof header.typ !== 'string' || !['at+jwt', 'application/at+jwt'].includes(header.typ.toLowerCase()) || header.crit !== undefined) return null;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
    let verified = false;
    for (const key of await verificationKey(typeof header.kid === 'string' ? header.kid : undefined)) if ((verified = verifyJws('ES256', key, parts))) break;
    if (!verified) return null;
    const now = Math.floor(Date.now() / 1000);
    const { iss, aud, exp, iat, nbf, jti, sub, cnf } = payload;
    if (iss !== issuer || !(aud === fhirBase || (Array.isArray(aud) && aud.includes(fhirBase)))) return null;
    if (typeof exp !== 'number' || exp <= now || typeof sub !== 'string' || typeof jti !== 'string') return null;
    if ((iat !== undefined && typeof iat !== 'number') || (nbf !== undefined && (typeof nbf !== 'number' || nbf > now))) return null;
    if (cnf !== undefined && typeof cnf?.jkt !== 'string') return null;
    if (typeof payload.grant_id !== 'string' || typeof payload.patient !== 'string' || typeof payload.scope !== 'string') return null;
    return payload;
  }

  /** The checks of a FHIR request before its statement: proof, token, key binding, scope. */
  async function checkFhirRequest(request, letter) {
    const authorization = request.headers.authorization;
    const match = authorization === undefined ? null : /^(\S+)\s+(\S+)$/.exec(authorization.trim());
    if (!match) throw resourceRefusal('invalid_token', 'no access token: send Authorization: DPoP <token> with a DPoP proof');
    if (match[1].toLowerCase() !== 'dpop') throw resourceRefusal('invalid_token', 'the Authorization scheme must be DPoP');
    const token = match[2];
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw resourceRefusal('invalid_token', 'the access token is malformed');
    let proof;
    try {
      proof = verifyProof(request.headers.dpop, request.method, `${issuer}${request.url}`, { accessToken: token });
    } catch (error) {
      if (error instanceof Refusal && error.status === 0) throw resourceRefusal(error.code, error.message, error.extra);
      throw error;
    }
    const payload = await verifyAccessToken(token);
    // From here on the proof has passed: the platform has recorded its jti, so a refusal records it too.
    const refuse = async (refusal) => {
      await query(sql.recordJti, ['dpop', proof.jti, proof.rememberUntil]);
      return refusal;
    };
    if (!payload) throw await refuse(resourceRefusal('invalid_token', 'the access token is not active (expired, revoked, ended, or not issued for this API)'));
    if (!payload.cnf) throw await refuse(resourceRefusal('invalid_token', 'this is a Bearer token, bound to no key: send it as Authorization: Bearer <token>'));
    if (payload.cnf.jkt !== proof.jkt) throw await refuse(resourceRefusal('invalid_token', 'invalid DPoP key binding: the proof key is not the key the token is bound to'));
    const allowed = scopeAccess(payload.scope, 'Observation', letter);
    if (!allowed) {
      const needed = `patient/Observation.${letter}`;
      throw await refuse(resourceRefusal('insufficient_scope', `needs ${needed}`, { scope: needed }));
    }
    return { proof, payload, filters: allowed === 'all' ? null : JSON.stringify(allowed) };
  }

  /** After the statement: the refusals the grant's state calls for (the statement wrote nothing then). */
  function checkState(row, payload) {
    if (!row.fresh) throw resourceRefusal('invalid_dpop_proof', 'DPoP proof "jti" was already used: every request needs a new proof');
    const ended = grantEnded(row, mode);
    if (ended) throw resourceRefusal('invalid_token', GRANT_ENDED[ended], { grantEnded: ended });
    if (row.g_patient !== payload.patient || row.token_revoked || (row.not_before && payload.iat * 1000 < row.not_before.getTime())) {
      throw resourceRefusal('invalid_token', 'the access token is not active (expired, revoked, ended, or not issued for this API)');
    }
    if (!row.may_act) {
      const description = 'the guardianship behind this grant has ended';
      throw new Refusal(403, 'forbidden', description, { 'www-authenticate': challenge('invalid_token', description, { grantEnded: 'grant_revoked' }) });
    }
  }

  const toResource = (row) => {
    const { resourceType, ...rest } = row.content;
    return { resourceType, id: row.id, meta: { versionId: String(row.version_id), lastUpdated: row.last_updated.toISOString() }, ...rest };
  };

  // -------------------------------------------------------------------------------------------

  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const form = {};
    for (const [name, value] of new URLSearchParams(body)) {
      if (name in form) return done(new Refusal(400, 'invalid_request', `${name} is sent more than once`));
      form[name] = value;
    }
    done(null, form);
  });
  const fhirJson = 'application/fhir+json; charset=utf-8';
  const fhirError = (reply, error) => {
    if (!(error instanceof Refusal)) throw error;
    const code = error.status === 403 ? 'forbidden' : error.status === 400 ? 'invalid' : 'login';
    reply.code(error.status).headers(error.headers).type(fhirJson);
    return JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: error.message }] });
  };

  app.get('/fhir/Observation', async (request, reply) => {
    try {
      const { proof, payload, filters } = await checkFhirRequest(request, 's');
      const q = request.query;
      for (const name of Object.keys(q)) {
        if (name !== '_count' && !TOKEN_PARAMETERS.includes(name)) throw new Refusal(400, 'not-supported', `${name}: the limit serves the benchmark's search only`);
      }
      const count = q._count === undefined ? 20 : Number(q._count);
      if (!Number.isInteger(count) || count < 1 || count > 100) throw new Refusal(400, 'invalid', '_count: 1 to 100');
      const parameters = [];
      const tokens = [];
      for (const name of TOKEN_PARAMETERS) {
        if (q[name] === undefined) continue;
        const alternatives = [...new Set(String(q[name]).split(','))];
        tokens.push(...alternatives.map((value) => `${name}=${value}`));
        parameters.push([name, alternatives.join(',')]);
      }
      if (count !== 20) parameters.push(['_count', String(count)]);
      const occurredAt = new Date().toISOString();
      const { rows } = await query(statements.search, [
        proof.jti, proof.rememberUntil, payload.grant_id, payload.jti, payload.patient, payload.iat ?? 0, occurredAt, GENESIS_HASH, payload.client_id, filters,
        tokens.length ? tokens : null, count + 1, count,
      ]);
      checkState(rows[0], payload);
      const page = rows[0].id === null ? [] : rows;
      const more = page.length > count;
      if (more) page.length = count;
      const url = `${fhirBase}/Observation`;
      const link = (extra) => {
        const params = new URLSearchParams([...parameters, ...extra]).toString();
        return params ? `${url}?${params}` : url;
      };
      const links = [{ relation: 'self', url: link([]) }];
      if (more) {
        const fingerprint = sha256b64url(
          JSON.stringify({ resourceType: 'Observation', patientId: payload.patient, sort: '-date', count, parameters: parameters.filter(([name]) => name !== '_count') }),
        ).slice(0, 22);
        const last = page[page.length - 1];
        const cursor = Buffer.from(JSON.stringify({ f: fingerprint, v: last.resource_date.toISOString(), i: last.id })).toString('base64url');
        links.push({ relation: 'next', url: link([['_cursor', cursor]]) });
      }
      const bundle = { resourceType: 'Bundle', type: 'searchset', link: links };
      if (page.length) bundle.entry = page.map((row) => ({ fullUrl: `${url}/${row.id}`, resource: toResource(row), search: { mode: 'match' } }));
      reply.header('cache-control', 'no-store').type(fhirJson);
      return JSON.stringify(bundle);
    } catch (error) {
      return fhirError(reply, error);
    }
  });

  app.get('/fhir/Observation/:id', async (request, reply) => {
    try {
      const { proof, payload, filters } = await checkFhirRequest(request, 'r');
      const { rows } = await query(statements.read, [
        proof.jti, proof.rememberUntil, payload.grant_id, payload.jti, payload.patient, payload.iat ?? 0, new Date().toISOString(), GENESIS_HASH, payload.client_id, filters,
        request.params.id,
      ]);
      checkState(rows[0], payload);
      const row = rows[0];
      if (row.id === null) throw new Refusal(404, 'not-found', 'no Observation with this id that this token may read');
      const etag = `W/"${row.version_id}"`;
      reply.headers({ 'cache-control': 'no-store', etag, 'last-modified': row.last_updated.toUTCString() });
      const ifNoneMatch = request.headers['if-none-match'];
      const ifModifiedSince = request.headers['if-modified-since'];
      const unchanged =
        ifNoneMatch !== undefined
          ? ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag.slice(2))
          : ifModifiedSince !== undefined && Math.floor(row.last_updated.getTime() / 1000) * 1000 <= Date.parse(ifModifiedSince);
      if (unchanged) return reply.code(304).send();
      reply.type(fhirJson);
      return JSON.stringify(toResource(row));
    } catch (error) {
      return fhirError(reply, error);
    }
  });

  // -------------------------------------------------------------------------------------------
  // The token endpoint, refresh_token grant.

  /** A client assertion's signature and claims, with the client's keys as last read (null: not read yet). */
  function checkAssertion(assertion, parts, header, claims, keys) {
    if (!keys) return false;
    const candidates = header.kid !== undefined ? keys.keys.filter((jwk) => jwk.kid === header.kid) : keys.keys.filter((jwk) => algorithmFits(header.alg, jwk));
    if (header.kid !== undefined && candidates.length === 0) throw oauthRefusal(401, 'invalid_client', 'no key of this client has this kid');
    for (const jwk of candidates) {
      if (!algorithmFits(header.alg, jwk) || (jwk.alg !== undefined && jwk.alg !== (header.alg === 'Ed25519' ? 'EdDSA' : header.alg))) continue;
      const { kty, crv, x, y, n, e } = jwk;
      if (verifyJws(header.alg, importKey(`client:${JSON.stringify(jwk)}`, JSON.parse(JSON.stringify({ kty, crv, x, y, n, e }))), parts)) return true;
    }
    throw oauthRefusal(401, 'invalid_client', 'client_assertion signature does not verify with the registered key');
  }

  function assertionClaims(claims, clientId) {
    const now = Date.now() / 1000;
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((value) => value === issuer || value === `${issuer}/oauth/token`)) throw oauthRefusal(401, 'invalid_client', 'client_assertion aud must be the issuer identifier');
    const { exp, iat, nbf, jti } = claims;
    if (typeof exp !== 'number' || exp <= now) throw oauthRefusal(401, 'invalid_client', 'client_assertion has expired (exp is past)');
    for (const value of [iat, nbf]) if (value !== undefined && (typeof value !== 'number' || value - now > 10)) throw oauthRefusal(401, 'invalid_client', 'client_assertion iat or nbf is in the future');
    if (exp - (iat ?? now) > 300) throw oauthRefusal(401, 'invalid_client', 'client_assertion lives too long');
    if (typeof jti !== 'string' || jti === '' || jti.length > 256) throw oauthRefusal(401, 'invalid_client', 'client_assertion must have a jti claim');
    return { jti: `${clientId}:${jti}`, until: new Date(exp * 1000) };
  }

  async function refresh(request, form) {
    let proof;
    try {
      proof = verifyProof(request.headers.dpop, 'POST', `${issuer}/oauth/token`, { requireNonce: true });
    } catch (error) {
      if (error instanceof Refusal && error.status === 0) throw oauthRefusal(400, error.code, error.message, error.extra.nonce ? { 'dpop-nonce': error.extra.nonce } : {});
      throw error;
    }
    if (request.headers.authorization !== undefined || form.client_secret !== undefined) throw oauthRefusal(400, 'invalid_request', 'client authentication is private_key_jwt or none');
    let clientId = form.client_id;
    let assertion = null;
    if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE) throw oauthRefusal(400, 'invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
      const parts = form.client_assertion.split('.');
      let header;
      let claims;
      try {
        if (parts.length !== 3) throw new Error('not a JWS');
        header = b64urlJson(parts[0]);
        claims = b64urlJson(parts[1]);
      } catch {
        throw oauthRefusal(401, 'invalid_client', 'client_assertion is not a signed JWT');
      }
      if (!ASSERTION_ALGORITHMS.includes(header.alg)) throw oauthRefusal(401, 'invalid_client', 'client_assertion alg is not accepted');
      if (typeof claims.sub !== 'string' || claims.sub === '' || claims.iss !== claims.sub) throw oauthRefusal(401, 'invalid_client', 'client_assertion iss and sub must both be the client_id');
      if (clientId !== undefined && clientId !== claims.sub) throw oauthRefusal(400, 'invalid_request', 'client_id does not match the client_assertion');
      clientId = claims.sub;
      assertion = { parts, header, claims, verified: checkAssertion(form.client_assertion, parts, header, claims, clientKeys.get(clientId)) };
      if (assertion.verified) Object.assign(assertion, assertionClaims(claims, clientId));
    } else if (form.client_assertion_type !== undefined) {
      throw oauthRefusal(400, 'invalid_request', 'client_assertion_type was sent without client_assertion');
    }
    if (!clientId) throw oauthRefusal(401, 'invalid_client', 'no client authentication');
    if (form.grant_type !== 'refresh_token') throw oauthRefusal(400, 'unsupported_grant_type', 'the limit serves grant_type=refresh_token only');
    if (!form.refresh_token) throw oauthRefusal(400, 'invalid_request', 'refresh_token is required');

    const tokenHash = sha256b64url(form.refresh_token);
    const run = (statement, keysText, withProof) =>
      query(statement, [
        ...(withProof ? [proof.jti, proof.rememberUntil] : []),
        clientId, assertion?.verified ? assertion.jti : null, assertion?.verified ? assertion.until : null, keysText, tokenHash, assertion === null,
      ]);
    let [row] = (await run(statements.refresh, assertion?.verified ? clientKeys.get(clientId).text : null, true)).rows;
    if (!row.dpop_fresh) throw oauthRefusal(400, 'invalid_dpop_proof', 'DPoP proof "jti" was already used: every request needs a new proof');
    if (row.client_type === null) throw oauthRefusal(401, 'invalid_client', 'unknown client: no client is registered with this client_id');
    if (assertion === null) {
      if (row.client_type !== 'public') throw oauthRefusal(401, 'invalid_client', 'this client is confidential: it must authenticate with private_key_jwt');
    } else {
      if (row.client_type !== 'confidential' || row.jwks === null) throw oauthRefusal(401, 'invalid_client', 'this client has no registered keys to verify a client_assertion');
      if (!row.assertion_fresh) {
        if (assertion.verified && clientKeys.get(clientId)?.text === row.jwks) throw oauthRefusal(401, 'invalid_client', 'client_assertion was already used (same jti): every assertion is single-use');
        // Keys not read yet, or changed since: verify with the current ones, then record the assertion.
        const keys = jwksOf(row.jwks);
        clientKeys.set(clientId, keys);
        checkAssertion(form.client_assertion, assertion.parts, assertion.header, assertion.claims, keys);
        Object.assign(assertion, { verified: true }, assertionClaims(assertion.claims, clientId));
        [row] = (await run(statements.refreshKeysChanged, keys.text, false)).rows;
        if (!row.assertion_fresh) throw oauthRefusal(401, 'invalid_client', 'client_assertion was already used (same jti): every assertion is single-use');
      }
    }
    const status = row.certification_status;
    if (!(mode === 'sandbox' ? status !== 'suspended' && status !== 'revoked' : status === 'certified')) {
      throw oauthRefusal(400, 'unauthorized_client', `${row.app_name} may not obtain tokens now`);
    }
    if (row.grant_id === null) throw oauthRefusal(400, 'invalid_grant', 'the refresh token is unknown');
    if (row.token_client_id !== clientId) throw oauthRefusal(400, 'invalid_grant', 'the refresh token was issued to another client');
    if (row.jkt !== proof.jkt) throw oauthRefusal(400, 'invalid_grant', 'the refresh token is bound to another DPoP key');
    if (row.rotated) {
      await query(sql.revokeGrant, [row.grant_id, 'rotated refresh token reused']);
      throw oauthRefusal(400, 'invalid_grant', 'the refresh token was already exchanged; the grant is revoked', {}, { grant_ended: grantEnded({ ...row, certification_status: row.grant_certification_status, revoked: true, revoked_reason: row.revoked_reason ?? 'rotated refresh token reused' }, mode) ?? 'grant_revoked' });
    }
    const grantRow = { ...row, certification_status: row.grant_certification_status };
    const ended = grantEnded(grantRow, mode);
    if (ended) throw oauthRefusal(400, 'invalid_grant', `the grant is no longer active: ${GRANT_ENDED[ended]}`, {}, { grant_ended: ended });
    if (row.token_revoked) throw oauthRefusal(400, 'invalid_grant', 'the refresh token is revoked');
    let scope = row.scope;
    if (form.scope !== undefined) {
      const granted = new Set(row.scope.split(' '));
      if (!form.scope.split(' ').every((word) => granted.has(word))) throw oauthRefusal(400, 'invalid_scope', 'a refresh may narrow the scope of the grant, never widen it');
      scope = form.scope;
    }
    let newRefreshToken = null;
    if (row.client_type === 'public') {
      // Rotation: the old token marked, a new one stored (the platform does both in its transaction).
      newRefreshToken = randomUUID() + randomUUID();
      await query(sql.rotateRefreshToken, [tokenHash, sha256b64url(newRefreshToken), row.grant_id, clientId, proof.jkt, row.scope]);
    }
    const { kid, sign } = await signer();
    const iat = Math.floor(Date.now() / 1000);
    const accessToken = sign(
      { alg: 'ES256', typ: 'at+jwt', kid },
      { client_id: clientId, scope, cnf: { jkt: proof.jkt }, patient: row.patient_id, grant_id: row.grant_id, iss: issuer, sub: row.actor_id, aud: fhirBase, iat, exp: iat + ACCESS_TOKEN_LIFETIME_SECONDS, jti: randomUUID() },
    );
    return {
      access_token: accessToken,
      token_type: 'DPoP',
      expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
      scope,
      patient: row.patient_id,
      ...(newRefreshToken ? { refresh_token: newRefreshToken } : {}),
    };
  }

  app.post('/oauth/token', async (request, reply) => {
    reply.header('cache-control', 'no-store').type('application/json; charset=utf-8');
    try {
      const body = await refresh(request, request.body ?? {});
      reply.headers({ pragma: 'no-cache', 'dpop-nonce': nonces.current() });
      return JSON.stringify(body);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      reply.code(error.status).headers(error.headers);
      return JSON.stringify({ error: error.code, error_description: error.message, ...error.extra });
    }
  });

  // -------------------------------------------------------------------------------------------
  // The public catalogue's first page.

  app.get('/catalog/apps', async (request, reply) => {
    const q = request.query;
    const limit = q.limit === undefined ? 20 : Number(q.limit);
    if (Object.keys(q).some((name) => name !== 'limit') || !Number.isInteger(limit) || limit < 1 || limit > 100) {
      reply.code(400).type('application/problem+json');
      return JSON.stringify({ title: 'the limit serves the first page of the catalogue, limit 1 to 100, only' });
    }
    const { rows } = await query(sql.catalogList, [limit + 1]);
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map((row) => ({
      id: row.id,
      name: row.name,
      shortDescription: row.short_description,
      longDescription: row.long_description,
      category: row.category,
      websiteUrl: row.website_url,
      logoUrl: row.logo_url,
      scopes: row.scopes,
      privacyPolicyUrl: row.privacy_policy_url,
      termsUrl: row.terms_url,
      supportContact: row.support_contact,
      certificationStatus: 'certified',
      publisher: { id: row.publisher_id, name: row.publisher_name ?? '' },
      certifiedAt: (row.certified_at ?? row.updated_at).toISOString(),
      certificateReference: row.certificate_reference ?? '',
    }));
    const last = rows[rows.length - 1];
    // Read and serialized for every request (no cache: the plainest way to be never stale), with
    // the entity tag and the caching the contract gives the page.
    const bytes = Buffer.from(JSON.stringify({ items, nextCursor: more && last ? Buffer.from(JSON.stringify([last.sort_key, last.id])).toString('base64url') : null }));
    const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 32)}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=60');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(bytes);
  });

  await app.listen({ host, port });
  const { port: bound } = app.server.address();
  return {
    url: `http://${host}:${bound}`,
    pool,
    applicationName,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}
