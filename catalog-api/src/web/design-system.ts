// The State's design system (DSFR, the `@gouvfr/dsfr` package) on the platform's pages, served
// by the platform itself: no CDN, nothing the pages' Content-Security-Policy would have to allow
// from elsewhere. Only what the pages use goes into their stylesheet: the core (grid, typography,
// colours, the Marianne and Spectral fonts) and the components the pages are made of, each in its
// modern-browser build (`*.main.min.css`). The fonts and icons those rules point to are served
// under a path named by the package's version, so they can be cached for good; nothing else of
// the package is reachable.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
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

/** The parts of the design system the pages use, in the order the package's own bundle has them. */
const PARTS = [
  'core/core',
  'component/link/link',
  'component/button/button',
  'component/logo/logo',
  'component/skiplink/skiplink',
  'component/navigation/navigation',
  'component/header/header',
  'component/footer/footer',
  'component/form/form',
  'component/input/input',
  'component/select/select',
  'component/checkbox/checkbox',
  'component/radio/radio',
  'component/tag/tag',
  'component/badge/badge',
  'component/card/card',
  'component/notice/notice',
  'component/alert/alert',
  'component/callout/callout',
  'component/table/table',
  'utility/icons/icons-system/icons-system',
  'utility/icons/icons-user/icons-user',
] as const;

const URL_REFERENCE = /url\((["']?)([^)"']+)\1\)/g;

/**
 * The rules of the parts, with each relative `url(…)` (a font, an icon) rewritten to where the
 * platform serves that file, and the set of files so referenced (paths relative to `dist/`):
 * exactly the files the platform serves.
 */
function composeStylesheet(): { css: string; assets: Set<string> } {
  const assets = new Set<string>();
  const css = PARTS.map((part) => {
    const text = readFileSync(join(DSFR_DIST, `${part}.main.min.css`), 'utf8').replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '');
    return text.replace(URL_REFERENCE, (whole, _quote: string, target: string) => {
      if (/^(data:|#)/.test(target)) return whole;
      const file = posix.normalize(posix.join(posix.dirname(part), target));
      if (file.startsWith('../') || !/^(fonts|icons)\//.test(file)) throw new Error(`The design system's ${part} points outside its fonts and icons: ${target}`);
      assets.add(file);
      return `url(${DSFR_ASSETS_PREFIX}${file})`;
    });
  }).join('\n');
  return { css, assets };
}

const composed = composeStylesheet();

/** The design system's rules, ready to go first in the pages' stylesheet. */
export const DSFR_STYLESHEET = composed.css;

/** The files under `dist/` the stylesheet points to (`fonts/…`, `icons/…`): the only ones served. */
export const DSFR_ASSETS: ReadonlySet<string> = composed.assets;

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
