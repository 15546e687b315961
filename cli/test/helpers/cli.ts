// Runs `mes` commands in-process with @oclif/test's runCommand, against the built CLI (cli/dist,
// loaded through oclif.manifest.json: run `npm run build` first). Each test file runs in its own
// process, so the environment set here is private to the file.
import { execFile } from 'node:child_process';
import { Console } from 'node:console';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@oclif/test';
import { startTestServer, type TestServer } from '@mes/catalog-api';

export const cliRoot = fileURLToPath(new URL('../..', import.meta.url));

if (!existsSync(join(cliRoot, 'dist/commands')) || !existsSync(join(cliRoot, 'oclif.manifest.json'))) {
  throw new Error('The CLI tests run the built CLI: run "npm run build" at the repository root first.');
}

export type Env = Record<string, string | undefined>;

export interface CommandOutcome<T> {
  stdout: string;
  stderr: string;
  result?: T;
  error?: Error & { oclif?: { exit?: number } };
  /** What the process would exit with: oclif sets process.exitCode for --json failures. */
  exitCode: number;
}

function withEnv(env: Env): () => void {
  const saved: Env = {};
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * Runs one command. runCommand joins and re-splits its arguments on spaces, so an argument with
 * spaces must be wrapped in double quotes by the caller.
 */
export async function mes<T = unknown>(args: string[], env: Env = {}): Promise<CommandOutcome<T>> {
  const restore = withEnv(env);
  // oclif prints with console.log, which vitest intercepts; runCommand captures process.stdout.
  // A console writing straight to the process streams lets it see the output (the alternative is
  // vitest's `disableConsoleIntercept`, a setting of the shared root config).
  const vitestConsole = globalThis.console;
  globalThis.console = new Console({ stdout: process.stdout, stderr: process.stderr });
  process.exitCode = undefined;
  try {
    const outcome = await runCommand<T>(args, { root: cliRoot });
    const exitCode = outcome.error ? (outcome.error.oclif?.exit ?? 1) : Number(process.exitCode ?? 0);
    return { ...outcome, exitCode };
  } finally {
    globalThis.console = vitestConsole;
    process.exitCode = undefined;
    restore();
  }
}

/** A command's outer limit in mesProcess: far more than it needs, but it never outlives a hung test. */
const PROCESS_TIMEOUT_MS = 120_000;

/**
 * Runs the real binary (`node cli/bin/run.js`) in a child process, without blocking the test
 * server. A command still running after PROCESS_TIMEOUT_MS is killed (and fails its test).
 */
export function mesProcess(args: string[], env: Env, stdin = ''): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, NODE_ENV: 'production' };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete childEnv[name];
  return new Promise((resolve) => {
    const options = { env: childEnv, timeout: PROCESS_TIMEOUT_MS, killSignal: 'SIGKILL' as const };
    const child = execFile(process.execPath, [join(cliRoot, 'bin/run.js'), ...args], options, (error, stdout, stderr) => {
      resolve({ stdout, stderr, exitCode: error ? Number((error as { code?: unknown }).code ?? 1) : 0 });
    });
    child.stdin?.end(stdin);
  });
}

/** A fresh configuration directory (MES_CONFIG_DIR), so tests never touch the real home. */
export async function tempConfigDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mes-cli-test-'));
  return { dir: join(dir, 'config'), remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A real server on port 0 and a private config directory, wired into the environment the CLI
 * reads (MES_API_URL, MES_CONFIG_DIR; no MES_API_KEY). Close both in afterAll.
 */
export async function startCliEnvironment(): Promise<{ server: TestServer; config: Awaited<ReturnType<typeof tempConfigDir>> }> {
  const server = await startTestServer();
  const config = await tempConfigDir();
  process.env.MES_CONFIG_DIR = config.dir;
  process.env.MES_API_URL = server.url;
  delete process.env.MES_API_KEY;
  return { server, config };
}
