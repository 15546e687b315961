// The developer documentation site: the guides of docs/ built by VitePress and served by the
// platform under /developers/ (scripts/docs-site.mjs builds it; catalog-api serves it).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defineConfig, type DefaultTheme } from 'vitepress';
import { docsDir, repositoryFiles, siteLinks } from './site-links.mjs';

/** Where the site is served: /developers/ on the platform; DOCS_BASE=/ for a host of its own. */
const base = process.env.DOCS_BASE || '/developers/';

/** The files outside docs/ that the guides link to: each has a page (repository/[file].md). */
const pages: string[] = repositoryFiles();
/** Files of docs/ that pages link to without showing them (a screenshot at phone width): copied as they are. */
const assets = new Set<string>();

const guide = (text: string, page: string): DefaultTheme.SidebarItem => ({ text, link: `/${page}` });

const sidebar: DefaultTheme.SidebarItem[] = [
  {
    text: 'App developers',
    items: [
      guide('Getting started', 'app-developers'),
      guide('The SDK', 'sdk'),
      guide('Authorization', 'authorization'),
      guide('Patient data API (FHIR)', 'patient-data-api'),
      guide('Notifications (FHIR Subscriptions)', 'notifications'),
      guide('The sandbox', 'sandbox'),
      guide('Getting certified', 'certification'),
    ],
  },
  { text: 'Reviewers', items: [guide('Reviewing apps', 'reviewers'), guide('Security profile', 'security-profile')] },
  { text: 'Operators', items: [guide('Operating the platform', 'operators'), guide('Working on the platform', 'development')] },
  { text: 'Patients', items: [guide('The patient pages', 'patients')] },
  {
    text: 'Reference',
    items: [
      guide('Error codes', 'reference/errors'),
      guide('SDK reference', 'reference/sdk/README'),
      // Served by the platform outside the site: /openapi.json keeps its path (a .json file is not
      // a page to VitePress) and target _self makes it a plain link. The API reference at /docs is
      // linked by the theme's PlatformLink component (theme/), as VitePress would put /docs under
      // the site's base.
      { text: 'OpenAPI spec (JSON)', link: '/openapi.json', target: '_self' },
    ],
  },
];

export default defineConfig({
  base,
  lang: 'en',
  title: 'Mon espace santé — developers',
  description: 'Guides and references of the developer platform of the national health record: apps, certification, operations and the patient pages.',
  srcExclude: ['**/node_modules/**'],
  // The page-to-chunk map goes in a file of its own instead of an inline script (the CSP allows
  // the few inline scripts left by their hashes).
  metaChunk: true,
  lastUpdated: false,
  // Browsers ask for an icon; without one they ask the server for /favicon.ico, which it has not.
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${base}favicon.svg` }]],
  // Light and dark follow the reader's choice, without the <style> element that would turn
  // transitions off while the scheme changes (the CSP allows no inline style element).
  appearance: { disableTransition: false },
  // Every link is checked, except those to a local server (http://localhost:4010/docs in the
  // guides is the sandbox a reader runs, not a page of the site).
  ignoreDeadLinks: 'localhostLinks',
  markdown: {
    config: (md) => siteLinks(md, { pages, assets }),
    // Shiki has no grammar for HAProxy's configuration (docs/operators.md): highlighted as an INI file, the nearest.
    languageAlias: { haproxy: 'ini' },
  },
  themeConfig: {
    nav: [
      { text: 'App developers', link: '/app-developers', activeMatch: '^/(app-developers|sdk|authorization|patient-data-api|notifications|sandbox|certification)' },
      { text: 'Reviewers', link: '/reviewers', activeMatch: '^/(reviewers|security-profile)' },
      { text: 'Operators', link: '/operators', activeMatch: '^/(operators|development)' },
      { text: 'Patients', link: '/patients' },
      {
        text: 'Reference',
        items: [
          { text: 'Error codes', link: '/reference/errors' },
          { text: 'SDK reference', link: '/reference/sdk/README' },
          { text: 'OpenAPI spec (JSON)', link: '/openapi.json', target: '_self' },
        ],
      },
      { component: 'PlatformLink', props: { text: 'API reference', href: '/docs' } },
    ],
    sidebar,
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    docFooter: { prev: false, next: false },
  },
  vite: {
    // The SDK reference is one long page (generated from the SDK's TSDoc): its chunk is large, as expected.
    build: { chunkSizeWarningLimit: 2000 },
  },
  // Files linked but not shown, next to the pages that link to them.
  buildEnd(site) {
    for (const file of assets) {
      const target = join(site.outDir, file);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(docsDir, file), target);
    }
  },
});
