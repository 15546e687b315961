// The quick start of docs/sdk.md, run as written: the sandbox as `npm start` runs it, the SDK
// packed and installed from its tarball into a fresh directory, and the doc's quickstart.mjs run
// there with node (scripts/smoke-start.mjs, which checks what it prints). Nothing of this
// repository is on that directory's module path but the package.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { READY_TIMEOUT_MS, startProcess } from '../../catalog-api/test/spawn-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'mes-quickstart-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const run = promisify(execFile);

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
    // The smoke test CI runs after `npm start` on each Node.js version, here against this sandbox:
    // the SDK packed and installed into a fresh directory, and the guide's quickstart.mjs run there.
    const { stdout } = await run(process.execPath, [join(root, 'scripts/smoke-start.mjs'), '--api', sandbox.url, '--key', sandbox.key], {
      cwd: root,
      encoding: 'utf8',
      env: process.env,
      timeout: 240_000,
    });
    const read = /read (\d+) vaccinations of sandbox-patient-1/.exec(stdout);
    expect(read, stdout).not.toBeNull();
    expect(Number(read![1])).toBeGreaterThan(1);
  } finally {
    await sandbox.stop();
  }
  // The sandbox's start, the packing and installing (a minute or two on a busy machine), the run.
}, READY_TIMEOUT_MS + 240_000);
