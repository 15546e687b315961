// `oclif manifest` lists commands in the order the file system returns them, which varies from
// one machine to another; sorting them keeps the committed manifest stable.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../oclif.manifest.json', import.meta.url);
const manifest = JSON.parse(readFileSync(file, 'utf8'));
manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
