#!/usr/bin/env node
// The SDK's size budget: the browser build of what an app imports (createClient with authorization
// and the FHIR API, ky and oauth4webapi included), bundled for browsers, minified and gzipped, must
// stay under BUDGET bytes (fhirclient alone weighs about 26 kB). @mes/sdk/publisher, @mes/sdk/webhooks and
// @mes/sdk/certification are not in it: an app does not import them. The
// bundle is made for the browser platform, so a Node-only import (node:*, fs, crypto…) fails it.
// Prints the figure; exits 1 over budget. `--json` prints only the result.
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const BUDGET = 22_000;
const sdkDir = fileURLToPath(new URL('..', import.meta.url));

const result = await build({
  stdin: {
    // What an app imports to make calls: the client, its errors, nothing it does not use.
    contents: "import { createClient, MesError } from './dist/index.js'; export { createClient, MesError };",
    resolveDir: sdkDir,
    loader: 'js',
  },
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  treeShaking: true,
  write: false,
  logLevel: 'silent',
});
const code = result.outputFiles[0].contents;
const figures = { minifiedBytes: code.length, gzippedBytes: gzipSync(code, { level: 9 }).length, budgetBytes: BUDGET };
const ok = figures.gzippedBytes <= BUDGET;
if (process.argv.includes('--json')) console.log(JSON.stringify({ ...figures, ok }));
else {
  console.log(`@mes/sdk app client (createClient) for browsers: ${figures.minifiedBytes} B minified, ${figures.gzippedBytes} B gzipped (budget ${BUDGET} B)`);
  if (!ok) console.error(`over budget by ${figures.gzippedBytes - BUDGET} B`);
}
process.exit(ok ? 0 : 1);
