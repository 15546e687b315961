#!/usr/bin/env node
// Writes catalog-api/assets/design-system.css: the rules of the State design system (DSFR, the
// `@gouvfr/dsfr` package) that the platform's pages use, and nothing else. The pages use a dozen
// of its components; its full stylesheet is some 430 kB, which a patient's phone would download
// for nothing. So: the core and the components the pages are made of (each in its modern-browser
// build), their font and icon addresses rewritten to where the platform serves them
// (/assets/dsfr/<version>/…), then PurgeCSS keeps only the rules whose classes, elements and
// attributes the pages' sources name (catalog-api/src/web and the device page). A page that starts
// using a new class of the design system needs `npm run generate`; `npm run check:generated`
// fails until the file is regenerated and committed.
//
// `node catalog-api/scripts/design-system.mjs` writes the file; with `--check` it only says
// whether the file is up to date.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PurgeCSS } from 'purgecss';

const here = dirname(fileURLToPath(import.meta.url));
const catalogApi = join(here, '..');
const require = createRequire(join(catalogApi, 'package.json'));
const packageFile = require.resolve('@gouvfr/dsfr/package.json');
const dist = join(dirname(packageFile), 'dist');
const { version } = JSON.parse(readFileSync(packageFile, 'utf8'));
const output = join(catalogApi, 'assets', 'design-system.css');

/** Must match DSFR_ASSETS_PREFIX in src/web/design-system.ts (the version in the path). */
const prefix = `/assets/dsfr/${version}/`;

/** The parts of the design system the pages use, in the order of the package's own bundle. */
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
];

const URL_REFERENCE = /url\((["']?)([^)"']+)\1\)/g;

function composed() {
  return PARTS.map((part) => {
    const text = readFileSync(join(dist, `${part}.main.min.css`), 'utf8').replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '');
    return text.replace(URL_REFERENCE, (whole, _quote, target) => {
      if (/^(data:|#)/.test(target)) return whole;
      const file = posix.normalize(posix.join(posix.dirname(part), target));
      if (file.startsWith('../') || !/^(fonts|icons)\//.test(file)) throw new Error(`The design system's ${part} points outside its fonts and icons: ${target}`);
      return `url(${prefix}${file})`;
    });
  }).join('\n');
}

const [result] = await new PurgeCSS().purge({
  content: [join(catalogApi, 'src/web/**/*.ts'), join(catalogApi, 'src/modules/oauth/pages.ts')],
  css: [{ raw: composed() }],
  // The root and the page's own elements are always there. Custom properties no kept rule uses
  // (the dark theme's, the colours of unused components) go; keyframes and font faces stay (a
  // browser only fetches the fonts a page uses).
  safelist: { standard: ['html', 'body', ':root'] },
  variables: true,
});

const licence = `/*! DSFR v${version} | SPDX-License-Identifier: Etalab-2.0 | restricted use (see terms and conditions) — the rules the platform's pages use, written by catalog-api/scripts/design-system.mjs: do not edit */\n`;
const css = licence + result.css.replace(/\/\*![\s\S]*?\*\//g, '').trim() + '\n';

if (process.argv.includes('--check')) {
  const current = (() => {
    try {
      return readFileSync(output, 'utf8');
    } catch {
      return '';
    }
  })();
  if (current !== css) {
    console.error('catalog-api/assets/design-system.css is stale: run `npm run generate` and commit it.');
    process.exit(1);
  }
} else {
  writeFileSync(output, css);
  console.log(`design system: ${Math.round(css.length / 1024)} kB of rules kept (catalog-api/assets/design-system.css)`);
}
