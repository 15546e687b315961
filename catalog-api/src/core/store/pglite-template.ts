// A new embedded store starts from a template: PGlite's data directory with every migration
// applied, dumped once and loaded into each new store. Creating a store from nothing runs initdb
// in WebAssembly and then the migrations (5 to 7 s on a 2-core machine); loading the template
// takes about half a second. The template is made by `npm run build` (scripts/pglite-template.mjs),
// kept under catalog-api/.cache, and named by a digest of PGlite's version, of the way it is made
// and of every migration: a changed migration or another PGlite simply finds no template, and the
// store is made from nothing as before. The migrations still run at boot, and find everything applied.
import { createHash } from 'node:crypto';
import { existsSync, openAsBlob, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMigrations, type Migration } from './migrate.js';

export const templateDir = fileURLToPath(new URL('../../../.cache/', import.meta.url));

let version: string | undefined;
/** The installed PGlite's version: the format of its data directory. */
function pgliteVersion(): string {
  if (version) return version;
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === '@electric-sql/pglite' && manifest.version) return (version = manifest.version);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('the installed @electric-sql/pglite has no package.json');
    dir = parent;
  }
}

/**
 * How the template is made (db.ts, writePgliteTemplate): part of its name, so that a template made
 * another way is not used. 2: WAL segments of 1 MB, and a checkpoint before the dump.
 */
export const TEMPLATE_RECIPE = 2;

/** Where the template of these migrations on the installed PGlite is (or would be). */
export function pgliteTemplateFile(migrations: readonly Migration[] = loadMigrations()): string {
  const digest = createHash('sha256').update(`pglite ${pgliteVersion()}\nrecipe ${TEMPLATE_RECIPE}\n`);
  for (const migration of migrations) digest.update(`${migration.version} ${migration.checksum}\n`);
  return join(templateDir, `pglite-${digest.digest('hex').slice(0, 24)}.tar`);
}

/**
 * The template of the current migrations, when it was made; null otherwise. A Blob backed by the
 * file, which PGlite reads once (a Blob made from the file's bytes would copy them twice more: a
 * third of a store's start). The file is never replaced once in place (writePgliteTemplate).
 */
export async function readPgliteTemplate(): Promise<Blob | null> {
  const file = pgliteTemplateFile();
  return existsSync(file) ? openAsBlob(file) : null;
}
