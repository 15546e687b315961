// Server configuration: one typed object, read once from the environment by the process entry.
// buildApp() takes it as an argument so tests build apps with their own settings.

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
  /** Seconds between two sweeps of expired rows (codes, sessions…); 0 turns the sweep off. */
  sweepIntervalSeconds: number;
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
};

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
    sweepIntervalSeconds: integer(env, 'SWEEP_INTERVAL_SECONDS', overrides.sweepIntervalSeconds ?? defaultConfig.sweepIntervalSeconds, 0, 86_400),
  };
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
  return config;
}
