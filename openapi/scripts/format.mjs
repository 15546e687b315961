// Rewrites the bundled spec with stable two-space formatting and a trailing newline,
// so the committed file only changes when the contract does.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../dist/openapi.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(JSON.parse(readFileSync(file, 'utf8')), null, 2)}\n`);
