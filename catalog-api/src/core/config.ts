// Server configuration: one typed object, read once from the environment by the process entry.
// buildApp() takes it as an argument so tests build apps with their own settings.
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';

export type Mode = 'sandbox' | 'production';

export interface AppConfig {
  /** `sandbox` seeds demo data and makes publishers usable at once; `production` does not. */
  mode: Mode;
  /** PostgreSQL URL; when absent the embedded PGlite store in `dataDir` is used. */
  databaseUrl?: string;
  /** PGlite data directory, or `memory://` for a throw-away in-memory store. */
  dataDir: string;
  /** PostgreSQL schema to use (created if missing); tests use one per run. */
  databaseSchema?: string;
  host: string;
  port: number;
  /** Public base URL of the server, used in Location headers and printed links. */
  publicUrl?: string;
  logLevel: string;
  /** Maximum request body size in bytes. */
  bodyLimit: number;
  /** Maximum nesting depth of a JSON request body. */
  jsonMaxDepth: number;
  /** Token that authorizes operator operations; operator operations are refused without one. */
  operatorToken?: string;
  /** 32-byte key that encrypts the signing keys at rest; required outside the sandbox. */
  keyEncryptionKey?: Buffer;
  /** How long a retired signing key stays published, in seconds (at least the longest token lifetime). */
  retiredKeyPublishSeconds: number;
  /**
   * Whether URLs given by outsiders (a client's jwks_uri) may point at private, loopback or
   * link-local addresses. Only for a sandbox on a developer's own machine.
   */
  outboundAllowPrivateNetworks: boolean;
  /** Deadline of one outbound fetch, in milliseconds. */
  outboundTimeoutMs: number;
  /** How long a certificate is valid, in days (three years by default); renewal is a new submission. */
  certificateValidityDays: number;
  /** Seconds between two sweeps of expired rows (codes, sessions…); 0 turns the sweep off. */
  sweepIntervalSeconds: number;
  /**
   * Delivery of subscription notifications (docs/operators.md): how often the worker looks for due
   * events besides being woken by new ones (0 turns the worker off on this instance), the
   * attempts before a subscription goes to `error`, and the exponential backoff between them.
   */
  notificationPollMs: number;
  notificationMaxAttempts: number;
  notificationRetryBaseMs: number;
  notificationRetryMaxMs: number;
  /** How long a client has to send a request's headers, in milliseconds (slow or silent connections are closed after it). */
  headersTimeoutMs: number;
  /** How long a client has to send a whole request, headers and body, in milliseconds. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open after an answer, in milliseconds. */
  keepAliveTimeoutMs: number;
  /** Most connections open at once on one instance; more are closed as they arrive. */
  maxConnections: number;
  /**
   * Whether clients may register `dpopBoundAccessTokens: false` and get Bearer access tokens
   * outside the sandbox (where they always may): for existing SMART apps, off by default.
   */
  allowBearerTokenClients: boolean;
  /**
   * The OpenID Connect provider patients sign in at (the national identity federation). Without
   * one, patient sign-in is unavailable outside the sandbox.
   */
  patientIdentityProvider?: PatientIdentityProvider;
  /**
   * The sandbox whose signed evidence (its traffic reports) submissions may carry: its issuer and
   * public keys. Without it, only this platform's own sandbox traffic is evidence.
   */
  trustedSandbox?: TrustedSandbox;
}

export interface TrustedSandbox {
  issuer: string;
  /** Its public signing keys (JWK), as its /jwks.json publishes them. */
  keys: JsonWebKey[];
}

/** The upstream identity provider of patient sign-in (see docs/operators.md, "Patient sign-in"). */
export interface PatientIdentityProvider {
  /** Its issuer identifier: discovery at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** The platform's client id at the provider. */
  clientId: string;
  /** Client authentication with a secret (client_secret_basic, or client_secret_post when the provider takes only that). */
  clientSecret?: string;
  /** Client authentication with a private JWK (private_key_jwt); exactly one of clientSecret and clientKey. */
  clientKey?: JsonWebKey;
  /** Scopes asked besides `openid`. */
  scopes: string[];
  /** The claim whose value is the patient's id in the records (default `sub`). */
  patientClaim: string;
  /** When set, the claim holding the patient's INS, looked up in the patients' identifiers instead of patientClaim. */
  insClaim?: string;
  /** The provider's name as patients know it (e.g. "FranceConnect"). */
  name: string;
}

export const defaultConfig: AppConfig = {
  mode: 'production',
  dataDir: './.data',
  host: '127.0.0.1',
  port: 4010,
  logLevel: 'info',
  bodyLimit: 1024 * 1024,
  jsonMaxDepth: 32,
  retiredKeyPublishSeconds: 3600,
  outboundAllowPrivateNetworks: false,
  outboundTimeoutMs: 5000,
  sweepIntervalSeconds: 600,
  notificationPollMs: 2000,
  notificationMaxAttempts: 8,
  notificationRetryBaseMs: 1000,
  notificationRetryMaxMs: 300_000,
  certificateValidityDays: 1095,
  allowBearerTokenClients: false,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 10_000,
};

/** Whether clients may get Bearer access tokens: always in the sandbox, elsewhere where the operator allows it. */
export const bearerTokensAllowed = (config: Pick<AppConfig, 'mode' | 'allowBearerTokenClients'>): boolean =>
  config.mode === 'sandbox' || config.allowBearerTokenClients;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

const loopbackHosts = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;
const claimName = /^[A-Za-z0-9_.:/-]{1,100}$/;

/** The algorithm a private JWK signs client assertions with (its `alg`, else the usual one for its curve). */
export function clientKeyAlgorithm(jwk: JsonWebKey): string | undefined {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === 'EC') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'PS256';
  return undefined;
}

/**
 * Checks the identity provider's settings (whether they come from the environment or not); the
 * messages name the environment variables.
 */
export function checkPatientIdentityProvider(provider: PatientIdentityProvider, config: Pick<AppConfig, 'outboundAllowPrivateNetworks'>): void {
  let issuer: URL;
  try {
    issuer = new URL(provider.issuer);
  } catch {
    throw new ConfigError(`PATIENT_OIDC_ISSUER must be an absolute URL, got "${provider.issuer}"`);
  }
  if (issuer.username || issuer.password || issuer.search || issuer.hash) {
    throw new ConfigError('PATIENT_OIDC_ISSUER must be the issuer identifier alone: no credentials, query or fragment');
  }
  const loopbackHttp = issuer.protocol === 'http:' && loopbackHosts.test(issuer.hostname);
  if (issuer.protocol !== 'https:' && !(loopbackHttp && config.outboundAllowPrivateNetworks)) {
    throw new ConfigError(
      'PATIENT_OIDC_ISSUER must be an https URL (plain http only for a loopback address, with OUTBOUND_ALLOW_PRIVATE_NETWORKS=true on a developer machine)',
    );
  }
  if (!provider.clientId || provider.clientId.length > 255) throw new ConfigError('PATIENT_OIDC_CLIENT_ID is required with PATIENT_OIDC_ISSUER (at most 255 characters)');
  if ((provider.clientSecret === undefined) === (provider.clientKey === undefined)) {
    throw new ConfigError('Set exactly one of PATIENT_OIDC_CLIENT_SECRET (client_secret_basic) and PATIENT_OIDC_CLIENT_KEY (private_key_jwt)');
  }
  if (provider.clientSecret !== undefined && provider.clientSecret.length < 16) {
    throw new ConfigError('PATIENT_OIDC_CLIENT_SECRET must be at least 16 characters');
  }
  if (provider.clientKey !== undefined) {
    const key = provider.clientKey;
    if (!['EC', 'RSA', 'OKP'].includes(key.kty ?? '') || typeof key.d !== 'string') {
      throw new ConfigError('PATIENT_OIDC_CLIENT_KEY must be a private JWK (kty EC, RSA or OKP, with its "d")');
    }
    const alg = clientKeyAlgorithm(key);
    if (!alg || !/^(ES(256|384|512)|PS(256|384|512)|RS(256|384|512)|EdDSA|Ed25519)$/.test(alg)) {
      throw new ConfigError('PATIENT_OIDC_CLIENT_KEY: set its "alg" to an asymmetric signing algorithm (ES256, PS256, EdDSA…)');
    }
    // Node takes a "d" that does not match the public members; the provider checks assertions
    // against the public part registered there, so the pair must agree: a probe signature tells.
    let usable = false;
    try {
      const privateKey = createPrivateKey({ key: key as never, format: 'jwk' });
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = key;
      const publicKey = createPublicKey({ key: publicPart as never, format: 'jwk' });
      const digest = key.kty === 'OKP' ? null : 'sha256';
      const probe = Buffer.from('mes patient sign-in key check');
      usable = verify(digest, probe, publicKey, sign(digest, probe, privateKey));
    } catch {
      usable = false;
    }
    if (!usable) throw new ConfigError('PATIENT_OIDC_CLIENT_KEY is not a usable private key (its private and public members must be one key pair)');
  }
  for (const scope of provider.scopes) {
    if (!scopeToken.test(scope)) throw new ConfigError(`PATIENT_OIDC_SCOPE: "${scope}" is not a scope`);
  }
  for (const [variable, claim] of [
    ['PATIENT_OIDC_PATIENT_CLAIM', provider.patientClaim],
    ['PATIENT_OIDC_INS_CLAIM', provider.insClaim],
  ] as const) {
    if (claim !== undefined && !claimName.test(claim)) throw new ConfigError(`${variable} must be a claim name, got "${claim}"`);
  }
  if (!provider.name || provider.name.length > 80) throw new ConfigError('PATIENT_OIDC_NAME must be 1 to 80 characters');
}

function patientIdentityProviderFromEnv(env: NodeJS.ProcessEnv): PatientIdentityProvider | undefined {
  const issuer = env.PATIENT_OIDC_ISSUER;
  if (!issuer) {
    const stray = Object.keys(env).find((name) => name.startsWith('PATIENT_OIDC_') && env[name]);
    if (stray) throw new ConfigError(`${stray} is set but PATIENT_OIDC_ISSUER is not`);
    return undefined;
  }
  let clientKey: JsonWebKey | undefined;
  if (env.PATIENT_OIDC_CLIENT_KEY) {
    try {
      clientKey = JSON.parse(env.PATIENT_OIDC_CLIENT_KEY) as JsonWebKey;
    } catch {
      throw new ConfigError('PATIENT_OIDC_CLIENT_KEY must be a private JWK, as JSON');
    }
    if (typeof clientKey !== 'object' || clientKey === null || Array.isArray(clientKey)) throw new ConfigError('PATIENT_OIDC_CLIENT_KEY must be a private JWK, as JSON');
  }
  return {
    issuer,
    clientId: env.PATIENT_OIDC_CLIENT_ID ?? '',
    ...(env.PATIENT_OIDC_CLIENT_SECRET ? { clientSecret: env.PATIENT_OIDC_CLIENT_SECRET } : {}),
    ...(clientKey ? { clientKey } : {}),
    scopes: [...new Set((env.PATIENT_OIDC_SCOPE ?? '').split(/\s+/).filter((scope) => scope && scope !== 'openid'))],
    patientClaim: env.PATIENT_OIDC_PATIENT_CLAIM || 'sub',
    ...(env.PATIENT_OIDC_INS_CLAIM ? { insClaim: env.PATIENT_OIDC_INS_CLAIM } : {}),
    name: env.PATIENT_OIDC_NAME || 'FranceConnect',
  };
}

/** Reads the configuration from environment variables (documented in docs/operators.md). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AppConfig> = {}): AppConfig {
  const mode = env.MES_MODE ?? overrides.mode ?? defaultConfig.mode;
  if (mode !== 'sandbox' && mode !== 'production') {
    throw new ConfigError(`MES_MODE must be "sandbox" or "production", got "${mode}"`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL');
  }
  const config: AppConfig = {
    ...defaultConfig,
    ...overrides,
    mode,
    dataDir: env.DATA_DIR || overrides.dataDir || defaultConfig.dataDir,
    host: env.HOST || overrides.host || defaultConfig.host,
    port: integer(env, 'PORT', overrides.port ?? defaultConfig.port, 0, 65535),
    logLevel: env.LOG_LEVEL || overrides.logLevel || defaultConfig.logLevel,
    bodyLimit: integer(env, 'BODY_LIMIT', overrides.bodyLimit ?? defaultConfig.bodyLimit, 1024, 64 * 1024 * 1024),
    jsonMaxDepth: integer(env, 'JSON_MAX_DEPTH', overrides.jsonMaxDepth ?? defaultConfig.jsonMaxDepth, 2, 256),
    retiredKeyPublishSeconds: integer(
      env,
      'RETIRED_KEY_PUBLISH_SECONDS',
      overrides.retiredKeyPublishSeconds ?? defaultConfig.retiredKeyPublishSeconds,
      600,
      30 * 24 * 3600,
    ),
    outboundAllowPrivateNetworks: boolean(
      env,
      'OUTBOUND_ALLOW_PRIVATE_NETWORKS',
      overrides.outboundAllowPrivateNetworks ?? defaultConfig.outboundAllowPrivateNetworks,
    ),
    outboundTimeoutMs: integer(env, 'OUTBOUND_TIMEOUT_MS', overrides.outboundTimeoutMs ?? defaultConfig.outboundTimeoutMs, 100, 60_000),
    certificateValidityDays: integer(
      env,
      'CERTIFICATE_VALIDITY_DAYS',
      overrides.certificateValidityDays ?? defaultConfig.certificateValidityDays,
      1,
      3650,
    ),
    sweepIntervalSeconds: integer(env, 'SWEEP_INTERVAL_SECONDS', overrides.sweepIntervalSeconds ?? defaultConfig.sweepIntervalSeconds, 0, 86_400),
    notificationPollMs: integer(env, 'NOTIFICATION_POLL_MS', overrides.notificationPollMs ?? defaultConfig.notificationPollMs, 0, 600_000),
    notificationMaxAttempts: integer(env, 'NOTIFICATION_MAX_ATTEMPTS', overrides.notificationMaxAttempts ?? defaultConfig.notificationMaxAttempts, 1, 50),
    notificationRetryBaseMs: integer(env, 'NOTIFICATION_RETRY_BASE_MS', overrides.notificationRetryBaseMs ?? defaultConfig.notificationRetryBaseMs, 10, 600_000),
    notificationRetryMaxMs: integer(env, 'NOTIFICATION_RETRY_MAX_MS', overrides.notificationRetryMaxMs ?? defaultConfig.notificationRetryMaxMs, 10, 3_600_000),
    allowBearerTokenClients: boolean(env, 'ALLOW_BEARER_TOKEN_CLIENTS', overrides.allowBearerTokenClients ?? defaultConfig.allowBearerTokenClients),
    headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_MS', overrides.headersTimeoutMs ?? defaultConfig.headersTimeoutMs, 500, 120_000),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', overrides.requestTimeoutMs ?? defaultConfig.requestTimeoutMs, 1_000, 600_000),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', overrides.keepAliveTimeoutMs ?? defaultConfig.keepAliveTimeoutMs, 500, 600_000),
    maxConnections: integer(env, 'MAX_CONNECTIONS', overrides.maxConnections ?? defaultConfig.maxConnections, 1, 1_000_000),
  };
  // Node refuses a request timeout shorter than the headers' (the headers are part of the request).
  if (config.requestTimeoutMs < config.headersTimeoutMs) {
    throw new ConfigError(`REQUEST_TIMEOUT_MS (${config.requestTimeoutMs}) must be at least HEADERS_TIMEOUT_MS (${config.headersTimeoutMs})`);
  }
  if (databaseUrl) config.databaseUrl = databaseUrl;
  if (env.DATABASE_SCHEMA) config.databaseSchema = env.DATABASE_SCHEMA;
  if (env.PUBLIC_URL) config.publicUrl = env.PUBLIC_URL.replace(/\/+$/, '');
  if (env.KEY_ENCRYPTION_KEY) {
    const key = Buffer.from(env.KEY_ENCRYPTION_KEY, 'base64');
    if (key.length !== 32) throw new ConfigError('KEY_ENCRYPTION_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
    config.keyEncryptionKey = key;
  }
  if (config.mode === 'production' && !config.publicUrl) {
    throw new ConfigError('PUBLIC_URL is required outside the sandbox: it is the OAuth issuer, which must not come from the Host header');
  }
  if (config.mode === 'production' && config.outboundAllowPrivateNetworks) {
    throw new ConfigError('OUTBOUND_ALLOW_PRIVATE_NETWORKS is for a sandbox on a developer machine; outside the sandbox, fetched URLs must be public');
  }
  if (config.mode === 'production' && !config.keyEncryptionKey) {
    throw new ConfigError('KEY_ENCRYPTION_KEY is required outside the sandbox: the signing keys are encrypted with it');
  }
  if (env.OPERATOR_TOKEN) {
    if (env.OPERATOR_TOKEN.length < 32) throw new ConfigError('OPERATOR_TOKEN must be at least 32 characters');
    config.operatorToken = env.OPERATOR_TOKEN;
  }
  const trustedSandbox = trustedSandboxFromEnv(env);
  if (trustedSandbox) config.trustedSandbox = trustedSandbox;
  const identityProvider = patientIdentityProviderFromEnv(env);
  if (identityProvider) config.patientIdentityProvider = identityProvider;
  if (config.patientIdentityProvider) checkPatientIdentityProvider(config.patientIdentityProvider, config);
  return config;
}

/** SANDBOX_EVIDENCE_ISSUER and SANDBOX_EVIDENCE_JWKS, together or not at all. */
function trustedSandboxFromEnv(env: NodeJS.ProcessEnv): TrustedSandbox | undefined {
  const issuer = env.SANDBOX_EVIDENCE_ISSUER;
  const jwks = env.SANDBOX_EVIDENCE_JWKS;
  if (!issuer && !jwks) return undefined;
  if (!issuer || !jwks) throw new ConfigError('SANDBOX_EVIDENCE_ISSUER and SANDBOX_EVIDENCE_JWKS go together: the sandbox trusted for evidence, and its public keys');
  let keys: unknown;
  try {
    keys = (JSON.parse(jwks) as { keys?: unknown }).keys;
  } catch {
    throw new ConfigError('SANDBOX_EVIDENCE_JWKS must be the JSON of the sandbox\'s key set ({"keys":[…]}, its /jwks.json)');
  }
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'object' || key === null || 'd' in key)) {
    throw new ConfigError('SANDBOX_EVIDENCE_JWKS must hold the sandbox\'s public keys (no private member)');
  }
  // Evidence is signed ES256: the set as the sandbox's /jwks.json publishes it also lists the RSA
  // key of its ID tokens, which is left out rather than refused.
  const evidenceKeys = (keys as JsonWebKey[]).filter((key) => key.kty === 'EC');
  if (evidenceKeys.length === 0) throw new ConfigError('SANDBOX_EVIDENCE_JWKS must hold the sandbox\'s public EC keys (its evidence is signed ES256)');
  return { issuer: issuer.replace(/\/+$/, ''), keys: evidenceKeys };
}
