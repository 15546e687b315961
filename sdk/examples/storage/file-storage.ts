// A TokenStorage in one JSON file, for a Node backend or a device: the SDK's tokens, DPoP keys and
// authorizations in progress survive a restart. One process owns the file (it is read once, then
// kept in memory); every change rewrites it atomically (a temporary file, then a rename), mode 0600.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TokenStorage } from '@mes/sdk';

export function fileStorage(path: string): TokenStorage {
  let values: Promise<Record<string, unknown>> | undefined;
  // Writes run one after the other, each with everything set so far: the last one wins, whole.
  let writes: Promise<void> = Promise.resolve();

  const load = () =>
    (values ??= readFile(path, 'utf8').then(
      (text): Record<string, unknown> => JSON.parse(text),
      (error: NodeJS.ErrnoException): Record<string, unknown> => {
        if (error.code === 'ENOENT') return {};
        throw error;
      },
    ));

  const save = (all: Record<string, unknown>) => {
    const text = `${JSON.stringify(all)}\n`;
    const write = writes.then(async () => {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const temporary = `${path}.${randomUUID()}.tmp`;
      try {
        // 0600 from the start: the file holds refresh tokens and private DPoP keys.
        const file = await open(temporary, 'wx', 0o600);
        try {
          await file.writeFile(text);
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    });
    writes = write.catch(() => undefined);
    return write;
  };

  return {
    // Values go through JSON, as they would through the file: DPoP keys are stored as JWK.
    keepsObjects: false,
    async get(key) {
      return (await load())[key];
    },
    async set(key, value) {
      const all = await load();
      all[key] = JSON.parse(JSON.stringify(value));
      await save(all);
    },
    async delete(key) {
      const all = await load();
      if (!(key in all)) return;
      delete all[key];
      await save(all);
    },
  };
}
