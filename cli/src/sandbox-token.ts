// The saved sandbox token: a patient-data token and its DPoP key in <configDir>/sandbox-token.json,
// readable by its owner only (0600 in a 0700 directory) and written atomically, as config.json is.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError } from './base-command.js';
import { writePrivateJson } from './credentials.js';
import { messages } from './messages.js';
import { isEcPrivateJwk, type EcPrivateJwk } from './sandbox-dpop.js';

export interface SavedSandboxToken {
  /** The API the token was obtained from (its issuer and FHIR API). */
  apiUrl: string;
  /** The app's public OAuth client the token was issued to. */
  clientId: string;
  /** The patient whose record the token opens (the child, for `<guardian>:<child>`). */
  patient: string;
  accessToken: string;
  refreshToken?: string;
  scope: string;
  /** ISO 8601. */
  expiresAt: string;
  /** The key the token is bound to (DPoP): a throw-away sandbox key, never a real one. */
  dpopPrivateJwk: EcPrivateJwk;
}

export function sandboxTokenFile(configDir: string): string {
  return join(configDir, 'sandbox-token.json');
}

export async function writeSandboxToken(configDir: string, token: SavedSandboxToken): Promise<string> {
  return writePrivateJson(configDir, sandboxTokenFile(configDir), token);
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

export async function readSandboxToken(configDir: string): Promise<SavedSandboxToken> {
  const file = sandboxTokenFile(configDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new CodedError(messages.noSandboxToken, 'no_sandbox_token');
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CodedError(messages.sandboxTokenInvalid(file), 'invalid_sandbox_token');
  }
  const token = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { apiUrl, clientId, patient, accessToken, refreshToken, scope, expiresAt, dpopPrivateJwk } = token;
  if (!isText(apiUrl) || !isText(clientId) || !isText(patient) || !isText(accessToken) || typeof scope !== 'string' || !isText(expiresAt) || !isEcPrivateJwk(dpopPrivateJwk)) {
    throw new CodedError(messages.sandboxTokenInvalid(file), 'invalid_sandbox_token');
  }
  return { apiUrl, clientId, patient, accessToken, ...(isText(refreshToken) ? { refreshToken } : {}), scope, expiresAt, dpopPrivateJwk };
}
