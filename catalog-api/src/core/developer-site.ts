// The developer documentation site (the guides of docs/, built by VitePress with
// scripts/docs-site.mjs) served under /developers/ with a Content-Security-Policy of its own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from './errors.js';

/** Where the site is served; the site must have been built for it (VitePress's `base`). */
export const DEVELOPER_SITE_PATH = '/developers';

/** Where the root build writes the site: docs/.vitepress/dist of the repository (from src/core or dist/core alike). */
export const defaultDeveloperSiteDir = fileURLToPath(new URL('../../../docs/.vitepress/dist/', import.meta.url));

/** What scripts/docs-site.mjs stamps in the output once a build is complete. */
interface BuildStamp {
  base: string;
  /** CSP sources (`'sha256-…'`) of every inline script of the pages. */
  scriptHashes: string[];
}

const HOW_TO_BUILD = 'run `npm run build` (which `npm start` and `npm test` run) or `npm run docs:build` at the repository root, then restart the server';

/** The build of the site in `root`, or why it cannot be served. */
export function readSiteBuild(root: string): { stamp: BuildStamp } | { problem: string } {
  let stamp: Partial<BuildStamp>;
  try {
    stamp = JSON.parse(readFileSync(join(root, '.build-stamp.json'), 'utf8')) as Partial<BuildStamp>;
  } catch {
    return { problem: `The developer documentation site has not been built: ${HOW_TO_BUILD}.` };
  }
  const hashes = stamp.scriptHashes;
  if (!Array.isArray(hashes) || !hashes.every((hash) => typeof hash === 'string' && /^'sha256-[A-Za-z0-9+/]+=*'$/.test(hash))) {
    return { problem: `The developer documentation site's build is incomplete: ${HOW_TO_BUILD}.` };
  }
  if (stamp.base !== `${DEVELOPER_SITE_PATH}/`) {
    return { problem: `The developer documentation site was built for ${String(stamp.base)}, not ${DEVELOPER_SITE_PATH}/ (DOCS_BASE): ${HOW_TO_BUILD} without DOCS_BASE.` };
  }
  return { stamp: { base: stamp.base, scriptHashes: hashes } };
}

/**
 * The site's CSP: its scripts from this origin, and inline only the few VitePress writes in each
 * page (the colour scheme set before the first paint…), each allowed by its hash. Style
 * attributes are allowed (the highlighted code carries its colours in them), never a <style>
 * element; search runs in the page, against this origin.
 */
export function developerSiteCsp(scriptHashes: readonly string[]): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${scriptHashes.join(' ')}`.trim(),
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Serves the built site from `root`; without a complete build, answers each request with how to build it. */
export async function registerDeveloperSite(app: FastifyInstance, options: { root: string }): Promise<void> {
  const build = readSiteBuild(options.root);
  await app.register(async (site) => {
    if ('problem' in build) {
      app.log.warn(build.problem);
      const notBuilt = async () => {
        throw new ProblemError('not_ready', build.problem);
      };
      site.get(DEVELOPER_SITE_PATH, { schema: { hide: true } }, notBuilt);
      site.get(`${DEVELOPER_SITE_PATH}/*`, { schema: { hide: true } }, notBuilt);
      return;
    }
    const csp = developerSiteCsp(build.stamp.scriptHashes);
    site.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', csp);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cross-origin-opener-policy', 'same-origin');
    });
    site.get(DEVELOPER_SITE_PATH, { schema: { hide: true } }, (_request, reply) => reply.redirect(`${DEVELOPER_SITE_PATH}/`, 301));
    await site.register(fastifyStatic, {
      root: options.root,
      prefix: `${DEVELOPER_SITE_PATH}/`,
      // The site's own files only: no dot files (the build stamp), no listing, nothing outside
      // root (@fastify/send refuses `..`, decoded or not; the tests check it).
      dotfiles: 'ignore',
      list: false,
      decorateReply: false,
      schemaHide: true,
      cacheControl: false,
      // Assets are named by their content's hash: cached for good. Pages are revalidated.
      setHeaders(response, path) {
        const asset = path.startsWith(join(options.root, 'assets'));
        response.setHeader('cache-control', asset ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  });
}
