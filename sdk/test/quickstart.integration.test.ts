// The quick start of docs/sdk.md, run as written: the sandbox as `npm start` runs it, the SDK
// packed and installed from its tarball into a fresh directory, and the doc's quickstart.mjs run
// there with node. Nothing of this repository is on that directory's module path but the package.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { READY_TIMEOUT_MS, startProcess } from '../../catalog-api/test/spawn-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'mes-quickstart-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The code block of the quick start, exactly as the guide shows it. */
function quickstartFromDocs(): string {
  const guide = readFileSync(join(root, 'docs/sdk.md'), 'utf8');
  const block = /```js quickstart\.mjs\n([\s\S]*?)```/.exec(guide)?.[1];
  if (!block) throw new Error('docs/sdk.md has no ```js quickstart.mjs block');
  return block;
}

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });

/** The sandbox as `npm start` runs it, once its patients are loaded; it stops with the test, however the test ends. */
async function startSandbox(dataDir: string) {
  const sandbox = startProcess(join(root, 'sandbox/dist/start.js'), { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', SANDBOX_PATIENTS: '20' });
  await sandbox.waitFor(/Synthetic patients ready/);
  const output = sandbox.output();
  const url = /API\s+(http:\/\/\S+)/.exec(output)![1]!;
  const key = /(mes_pk_[A-Za-z0-9_-]{43})/.exec(output)![1]!;
  return { url, key, stop: () => sandbox.stop() };
}

it('gets a patient’s vaccinations from a fresh directory, as the guide says', async () => {
  const sandbox = await startSandbox(join(work, 'data'));
  try {
    // npm install @mes/sdk, from the package as it would be published.
    npm(['pack', '--pack-destination', work, '--silent'], join(root, 'sdk'));
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))!;
    const app = join(work, 'my-health-app');
    execFileSync('mkdir', [app]);
    npm(['init', '-y'], app);
    npm(['install', '--prefer-offline', join(work, tarball)], app);
    writeFileSync(join(app, 'quickstart.mjs'), quickstartFromDocs());

    const output = execFileSync(process.execPath, ['quickstart.mjs'], {
      cwd: app,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, MES_API_URL: sandbox.url, MES_API_KEY: sandbox.key },
      timeout: 60_000,
    });
    const lines = output.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d{2}-\d{2} \S/);
    // Newest first, as asked.
    const dates = lines.map((line) => line.slice(0, 10));
    expect([...dates].sort().reverse()).toEqual(dates);
  } finally {
    await sandbox.stop();
  }
  // The sandbox's start, the packing and installing (a minute or two on a busy machine), the run.
}, READY_TIMEOUT_MS + 240_000);
