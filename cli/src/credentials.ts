// The saved login: `{ apiKey, apiUrl? }` in <configDir>/config.json, readable by its owner only
// (file 0600 in a 0700 directory), written atomically so a crash never leaves half a key.
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface StoredLogin {
  apiKey?: string;
  apiUrl?: string;
}

export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

export function configFile(configDir: string): string {
  return join(configDir, 'config.json');
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export async function readLogin(configDir: string): Promise<StoredLogin> {
  const file = configFile(configDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return {};
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CredentialsError(file);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CredentialsError(file);
  const { apiKey, apiUrl } = value as Record<string, unknown>;
  return {
    ...(typeof apiKey === 'string' && apiKey ? { apiKey } : {}),
    ...(typeof apiUrl === 'string' && apiUrl ? { apiUrl } : {}),
  };
}

/** True when the file exists and group or others may read or write it (not checked on Windows). */
export async function isTooOpen(configDir: string): Promise<boolean> {
  if (process.platform === 'win32') return false;
  try {
    return ((await stat(configFile(configDir))).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

export async function writeLogin(configDir: string, login: StoredLogin): Promise<string> {
  return writePrivateJson(configDir, configFile(configDir), login);
}

/**
 * Writes a secret file of the configuration directory: the directory 0700, the file 0600,
 * replaced atomically (written aside, then renamed), so no other user can read it at any moment.
 */
export async function writePrivateJson(configDir: string, file: string, value: unknown): Promise<string> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone, and the umask may have loosened a new one.
  await chmod(configDir, 0o700);
  const temporary = join(configDir, `.${basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'w' });
    await chmod(temporary, 0o600);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return file;
}

/** Removes the saved login; false when there was none. */
export async function removeLogin(configDir: string): Promise<boolean> {
  const file = configFile(configDir);
  try {
    await rm(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}
