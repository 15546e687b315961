// The State's design system (DSFR, the `@gouvfr/dsfr` package) on the platform's pages, served
// by the platform itself: no CDN, nothing the pages' Content-Security-Policy would have to allow
// from elsewhere. The pages' stylesheet starts with the rules of it they use
// (assets/design-system.css, written by scripts/design-system.mjs: the core and a dozen
// components, kept to the classes the pages' sources name); the fonts and icons those rules point
// to are served under a path named by the package's version, so they can be cached for good, and
// nothing else of the package is reachable.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);
const packageFile = require.resolve('@gouvfr/dsfr/package.json');

/** The package's `dist/` directory: where the served fonts and icons are read from. */
export const DSFR_DIST = join(dirname(packageFile), 'dist');

/** The package's version, in the assets' path (a new version is a new path). */
export const DSFR_VERSION = (JSON.parse(readFileSync(packageFile, 'utf8')) as { version: string }).version;

/** Where the fonts and icons are served; the stylesheet's rules point there. */
export const DSFR_ASSETS_PREFIX = `/assets/dsfr/${DSFR_VERSION}/`;

/** The design system's rules the pages use (from src/web or dist/web alike). */
export const DSFR_STYLESHEET = readFileSync(new URL('../../assets/design-system.css', import.meta.url), 'utf8');

/** The files under `dist/` the stylesheet points to (`fonts/…`, `icons/…`): the only ones served. */
export const DSFR_ASSETS: ReadonlySet<string> = new Set(
  [...DSFR_STYLESHEET.matchAll(/url\(([^)]+)\)/g)].flatMap(([, target]) => {
    if (!target!.startsWith('/')) return [];
    if (!target!.startsWith(DSFR_ASSETS_PREFIX)) {
      throw new Error(`assets/design-system.css points to ${target}, not under ${DSFR_ASSETS_PREFIX}: run \`npm run generate\` (the design system's version changed?)`);
    }
    return [target!.slice(DSFR_ASSETS_PREFIX.length)];
  }),
);

/**
 * Serves the fonts and icons the stylesheet points to, and only those (any other path of the
 * package answers 404 as any unknown path does): cached for a year (the path names the version),
 * never run as a document (an SVG opened on its own gets a CSP that allows nothing).
 */
export async function registerDesignSystemAssets(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: DSFR_DIST,
    prefix: DSFR_ASSETS_PREFIX,
    allowedPath: (pathName) => DSFR_ASSETS.has(pathName.replace(/^\//, '')),
    dotfiles: 'deny',
    list: false,
    index: false,
    decorateReply: false,
    schemaHide: true,
    cacheControl: false,
    setHeaders(response) {
      response.setHeader('cache-control', 'public, max-age=31536000, immutable');
      response.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
      response.setHeader('x-content-type-options', 'nosniff');
      response.setHeader('cross-origin-resource-policy', 'same-origin');
    },
  });
}
