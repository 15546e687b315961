#!/usr/bin/env node
// Smoke test of the README's first command on the Node.js that runs this script (CI runs it on
// Node.js 22 and 24 through the registry's `node` package: `npx -y -p node@24 node scripts/smoke-start.mjs`).
//
// 1. `npm start`, as the README says: the build, then the platform on its embedded store, here in
//    a fresh data directory and on a free port, until its synthetic patients are ready.
// 2. The SDK's quick start of docs/sdk.md, as written: the SDK packed and installed from its
//    tarball into a fresh directory, then one authorized FHIR search by a synthetic patient.
//
// Exits 0 when the quick start prints the patient's vaccinations, newest first; 1 otherwise, with
// the platform's output. Nothing outlives it: the platform is stopped however the script ends.
//
// `--api <url> --key <mes_pk_…>` skips step 1 and runs the quick start against a platform already
// started: sdk/test/quickstart.integration.test.ts does so with the sandbox it starts.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const READY_TIMEOUT_MS = 180_000;
const work = mkdtempSync(join(tmpdir(), 'mes-smoke-'));
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

const argument = (name) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const given = { url: argument('--api'), apiKey: argument('--key') };
let output = '';
let platform;

function stop() {
  try {
    if (platform) process.kill(-platform.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}
process.on('exit', () => {
  stop();
  rmSync(work, { recursive: true, force: true });
});

function fail(message) {
  console.error(platform ? `${message}\n--- npm start said:\n${output}` : message);
  process.exit(1);
}

/** Step 1: `npm start`, until its patients are ready; its API URL and demo key. */
async function npmStart() {
  // The `node` and `npm` on the PATH must be this Node.js, or the smoke test would test another one.
  const pathNode = execFileSync('node', ['--version'], { encoding: 'utf8' }).trim();
  if (pathNode !== process.version) fail(`The node on the PATH is ${pathNode}, this script runs on ${process.version}: run it through npx -p node@<major>.`);
  console.log(`Smoke test of npm start on Node.js ${process.version}`);
  platform = spawn('npm', ['start'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: join(work, 'data'), PORT: '0', SANDBOX_PATIENTS: '20', LOG_LEVEL: 'warn', npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that stopping it stops npm, the shell and the platform together.
    detached: true,
  });
  platform.stdout.on('data', (chunk) => (output += chunk));
  platform.stderr.on('data', (chunk) => (output += chunk));
  await new Promise((resolve) => {
    const timer = setTimeout(() => fail(`npm start was not ready in ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const check = () => {
      if (!/Synthetic patients ready/.test(output)) return;
      clearTimeout(timer);
      platform.stdout.off('data', check);
      resolve();
    };
    platform.stdout.on('data', check);
    platform.on('exit', (code) => fail(`npm start exited (${code}) before it was ready`));
  });
  const url = /API\s+(http:\/\/\S+)/.exec(output)?.[1];
  const apiKey = /(mes_pk_[A-Za-z0-9_-]{43})/.exec(output)?.[1];
  if (!url || !apiKey) fail('npm start did not print the API URL and the demo API key');
  console.log(`npm start ready at ${url} after ${elapsed()}`);
  return { url, apiKey };
}

const { url, apiKey } = given.url && given.apiKey ? given : await npmStart();

// The quick start, from a fresh directory with the package as it would be published.
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
npm(['pack', '--pack-destination', work, '--silent'], join(root, 'sdk'));
const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
const app = join(work, 'my-health-app');
mkdirSync(app);
npm(['init', '-y'], app);
npm(['install', '--prefer-offline', join(work, tarball)], app);
const block = /```js quickstart\.mjs\n([\s\S]*?)```/.exec(readFileSync(join(root, 'docs/sdk.md'), 'utf8'))?.[1];
if (!block) fail('docs/sdk.md has no ```js quickstart.mjs block');
writeFileSync(join(app, 'quickstart.mjs'), block);

let printed;
try {
  printed = execFileSync(process.execPath, ['quickstart.mjs'], {
    cwd: app,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, MES_API_URL: url, MES_API_KEY: apiKey },
    timeout: 60_000,
  });
} catch (error) {
  fail(`The quick start failed: ${error.stderr || error.message}`);
}
const lines = printed.trim().split('\n');
const dates = lines.map((line) => line.slice(0, 10));
if (lines.length < 2 || !lines.every((line) => /^\d{4}-\d{2}-\d{2} \S/.test(line))) fail(`The quick start printed no vaccinations:\n${printed}`);
if ([...dates].sort().reverse().join() !== dates.join()) fail(`The vaccinations are not newest first:\n${printed}`);
console.log(`The quick start read ${lines.length} vaccinations of sandbox-patient-1 through one authorized FHIR search, ${elapsed()} in all.`);
stop();
process.exit(0);
