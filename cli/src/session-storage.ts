// The command line's signed-in session (`mes login`, device flow): the SDK's tokens and their DPoP
// key in <configDir>/session.json, readable by its owner only and replaced atomically, as
// config.json is. The DPoP private key is stored as JWK: the file is as secret as a password.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenStorage } from '@mes/sdk/publisher';
import { CredentialsError, writePrivateJson } from './credentials.js';

/** The command line's OAuth client: built into the platform, public, device flow only. */
export const CLI_CLIENT_ID = 'mes-cli';

/** Every platform scope; the approver's role narrows it (publishers manage apps, reviewers review). */
export const CLI_SCOPE = 'platform/apps.read platform/apps.write platform/certification.review offline_access';

export function sessionFile(configDir: string): string {
  return join(configDir, 'session.json');
}

async function readAll(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new CredentialsError(file);
}

/** The SDK's storage for the session, in session.json. */
export function fileSessionStorage(configDir: string): TokenStorage {
  const file = sessionFile(configDir);
  const update = async (change: (values: Record<string, unknown>) => void) => {
    const values = await readAll(file);
    change(values);
    await writePrivateJson(configDir, file, values);
  };
  return {
    keepsObjects: false,
    get: async (key) => (await readAll(file))[key],
    set: (key, value) => update((values) => void (values[key] = value)),
    delete: (key) => update((values) => void delete values[key]),
  };
}

/** True when a signed-in session is saved (it may have ended on the server since). */
export async function hasSession(configDir: string): Promise<boolean> {
  return Object.keys(await readAll(sessionFile(configDir))).some((key) => key.endsWith(':session'));
}

export async function removeSession(configDir: string): Promise<boolean> {
  const file = sessionFile(configDir);
  const existed = Object.keys(await readAll(file)).length > 0;
  await rm(file, { force: true });
  return existed;
}
