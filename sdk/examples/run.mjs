#!/usr/bin/env node
// Runs one example: `node sdk/examples/run.mjs <example>` bundles its TypeScript entry with esbuild
// (Node 20 runs no TypeScript) into the example's dist/, then runs it with node from the example's
// folder, with this process's environment. What an app of your own would do with its build tool.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const entries = {
  'node-backend': 'server.ts',
  'browser-spa': 'dev-server.ts',
  'device-upload': 'upload.ts',
  'cli-device-flow': 'cli.ts',
};

const name = process.argv[2];
const entry = entries[name];
if (!entry) {
  console.error(`Usage: node sdk/examples/run.mjs <${Object.keys(entries).join('|')}>`);
  process.exit(2);
}
const folder = fileURLToPath(new URL(`./${name}/`, import.meta.url));
const outfile = `${folder}dist/${entry.replace(/\.ts$/, '.mjs')}`;
// Packages stay imports (resolved from node_modules when the bundle runs): @mes/sdk is the built package.
await build({ entryPoints: [`${folder}${entry}`], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });

const child = spawn(process.execPath, [outfile, ...process.argv.slice(3)], { cwd: folder, stdio: 'inherit' });
// Ctrl-C reaches the example from the terminal itself; a SIGTERM sent to this process is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
