// Processes that tests start: the real process entry (dist/main.js) as operators start it, for the
// tests that need a process of its own (signals, a kill in the middle of a load, a restart on the
// same data), and any other Node program (the sandbox's `npm start`).
//
// On a loaded machine a start can take many times its usual second, so nothing here counts on a
// tight budget: a test waits for the process to say it is ready (a line of its output), within a
// generous outer limit. And no process outlives the test that started it: each is stopped when the
// test ends, passed or failed or timed out (onTestFinished), when the test file's process exits,
// and, should that process be killed outright, by the process itself, which stops when its stdin
// pipe from us closes (scripts/exit-with-parent.mjs, preloaded).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onTestFinished } from 'vitest';

/** The built process entry of the catalog API. */
export const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const exitWithParent = pathToFileURL(fileURLToPath(new URL('../../scripts/exit-with-parent.mjs', import.meta.url))).href;

/** How long a process may take to say it is ready: far more than it needs, even on a busy machine. */
export const READY_TIMEOUT_MS = 120_000;
/** How long a process may take to stop after SIGTERM before it is killed. */
export const STOP_TIMEOUT_MS = 15_000;

export interface StartedProcess {
  child: ChildProcess;
  /** Its standard output and error so far. */
  output: () => string;
  /** Its standard error alone so far. */
  stderr: () => string;
  /** Resolves with its exit code (null when a signal ended it), once all its output is read. */
  exited: Promise<number | null>;
  /**
   * The first match of `pattern` in its output. Fails when the process exits first, or after
   * `timeoutMs`: then the process is killed, so a failed start leaves nothing running.
   */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
  /** Sends `signal` (SIGTERM by default), then SIGKILL after `graceMs`; resolves with the exit code. */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<number | null>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills, synchronously, whatever is still running: the last resort, when the test process exits. */
function killAllNow(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Starts `node <script>` with only PATH and `env` in its environment. It is stopped when the
 * current test ends (when started inside a test), and in any case when the test process exits.
 */
export function startProcess(
  script: string,
  env: Record<string, string>,
  options: { args?: string[]; cwd?: string; stopWithTest?: boolean } = {},
): StartedProcess {
  if (!exitHookInstalled) {
    process.once('exit', killAllNow);
    exitHookInstalled = true;
  }
  const child = spawn(process.execPath, ['--import', exitWithParent, script, ...(options.args ?? [])], {
    env: { PATH: process.env.PATH ?? '', ...env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    // stdin stays a pipe that we never write to: its end tells the child that we are gone.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  let stderr = '';
  let ended = false;
  const listeners = new Set<() => void>();
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onOutput(chunk);
  });
  // 'close' rather than 'exit': by then all of its output has been read.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      ended = true;
      running.delete(child);
      for (const listener of listeners) listener();
      resolve(code);
    }),
  );

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = STOP_TIMEOUT_MS): Promise<number | null> => {
    if (!ended) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  };

  const waitFor = (pattern: RegExp, timeoutMs = READY_TIMEOUT_MS) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match) {
          finish();
          resolve(match);
        } else if (ended) {
          finish();
          reject(new Error(`the process exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        child.kill('SIGKILL');
        reject(new Error(`the process did not print ${pattern} within ${timeoutMs / 1000} s; it was killed. Its output:\n${output}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  if (options.stopWithTest !== false) {
    try {
      onTestFinished(async () => {
        await stop();
      });
    } catch {
      // Started outside a test (in a hook): the caller stops it, or the exit hook does.
    }
  }
  return { child, output: () => output, stderr: () => stderr, exited, waitFor, stop };
}

export interface SpawnedServer extends StartedProcess {
  /** The URL it listens on, from its "listening on" line. */
  url: string;
}

/** Starts the catalog API's process entry and waits until it listens (its migrations are applied by then). */
export async function spawnServer(env: Record<string, string>): Promise<SpawnedServer> {
  const started = startProcess(entry, env);
  const [, url] = await started.waitFor(/listening on (http:\/\/[^\s"]+)/);
  return { ...started, url: url! };
}
