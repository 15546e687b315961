// Part of `npm run build`: the template new embedded stores start from (see
// src/core/store/pglite-template.ts), made once per PGlite version and set of migrations.
import { writePgliteTemplate } from '../dist/core/store/db.js';

const started = performance.now();
const { file, created } = await writePgliteTemplate();
if (created) console.log(`embedded store template: ${file} (${Math.round(performance.now() - started) / 1000} s)`);
