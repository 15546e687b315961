// The processes the cluster test starts (the instances, HAProxy), and their end in every case: each
// runs in a process group of its own, recorded in a state file; all are stopped at the end of the
// run, when it fails, on Ctrl-C or SIGTERM, and (SIGKILL) when this process exits. They also stop
// by themselves when this process dies outright (scripts/exit-with-parent.mjs, preloaded into the
// instances, wrapping HAProxy), and the next run ends whatever might still be left (sweepLeftovers).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const running = new Map(); // pid → { name, child, exited }
let stateFile;
let stateExtra = {};

function writeState() {
  if (!stateFile) return;
  const processes = [...running.entries()].map(([pid, { name, command }]) => ({ pid, name, command }));
  writeFileSync(stateFile, JSON.stringify({ runner: process.pid, ...stateExtra, processes }, null, 2));
}

/** Where this run records its processes (and `extra`, e.g. its schema) for the next run to clean up after a hard kill. */
export function recordStateIn(file, extra = {}) {
  stateFile = file;
  stateExtra = extra;
  mkdirSync(dirname(file), { recursive: true });
  writeState();
}

export function forgetState() {
  if (stateFile) rmSync(stateFile, { force: true });
  stateFile = undefined;
}

const commandLineOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null;
  }
};

/**
 * Ends what an earlier run, killed before it could clean up, left running: the processes its state
 * file names, when their command line is still the recorded one (a reused pid is left alone).
 * Returns the earlier state (its schema is for the caller to drop), or null.
 */
export function sweepLeftovers(file) {
  if (!existsSync(file)) return null;
  let state;
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    rmSync(file, { force: true });
    return null;
  }
  if (state.runner && state.runner !== process.pid && commandLineOf(state.runner) !== null && commandLineOf(state.runner).includes('cluster/run.mjs')) {
    throw new Error(`another cluster test (pid ${state.runner}) is running; wait for it, or stop it`);
  }
  for (const { pid, command } of state.processes ?? []) {
    if (commandLineOf(pid) === command) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }
  rmSync(file, { force: true });
  return state;
}

/**
 * Starts `command args` in a process group of its own, its output to `logFile`. `stdin` stays a
 * pipe that nothing writes to: a Node child preloading exit-with-parent.mjs stops when it closes.
 */
export function startProcess(name, command, args, { env, logFile }) {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      running.delete(child.pid);
      writeState();
      resolve(exitInfo);
    });
  });
  child.once('error', (error) => log.write(`\n[cluster] could not start ${name}: ${error.message}\n`));
  if (child.pid) {
    running.set(child.pid, { name, child, command: [command, ...args].join(' ') });
    // The recorded command line is what /proc shows, to recognise the process later.
    const shown = commandLineOf(child.pid);
    if (shown) running.get(child.pid).command = shown;
    writeState();
  }
  return {
    name,
    child,
    pid: child.pid,
    exited,
    exitInfo: () => exitInfo,
    logFile,
    /** Sends `signal` to the whole process group. */
    signal(signal) {
      if (exitInfo) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    },
    /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
    async stop(graceMs = 10_000) {
      if (exitInfo) return exitInfo;
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}

/** Stops every process still running: SIGTERM to each group, SIGKILL to those still there after `graceMs`. */
export async function stopAll(graceMs = 10_000) {
  const all = [...running.entries()];
  await Promise.all(
    all.map(
      ([pid, { child }]) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = (signal) => {
            try {
              process.kill(-pid, signal);
            } catch {
              // Gone.
            }
          };
          const timer = setTimeout(() => kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          kill('SIGTERM');
        }),
    ),
  );
}

/** The last resort, synchronous: SIGKILL to every group still running (from an 'exit' handler). */
export function killAllNow() {
  for (const pid of running.keys()) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
}
