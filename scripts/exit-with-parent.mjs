// Makes the processes that the tests and the cluster test start stop when whoever started them
// dies, even by SIGKILL (which runs no clean-up of its own): its end of their stdin pipe then
// closes. Two ways to use it; either does nothing unless stdin is such a pipe:
//
// - preloaded into a Node program (`node --import …/exit-with-parent.mjs server.js`): the program
//   gets SIGTERM (a graceful stop), and exits at once 10 s later;
// - as a wrapper of any other program (`node exit-with-parent.mjs haproxy -db -f …`): the program
//   runs as its child, gets the signals sent to the wrapper, and SIGTERM then SIGKILL when the
//   pipe closes; the wrapper exits as it does.
//
// The platform's own entry points never load it.
import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

/** Calls `onEnd` once our stdin, a pipe or socket pair from the parent, closes. */
function whenStdinCloses(onEnd) {
  let pipe = false;
  try {
    // Node's `stdio: 'pipe'` is a socket pair; a shell's pipe is a FIFO.
    const stdin = fstatSync(0);
    pipe = stdin.isSocket() || stdin.isFIFO();
  } catch {
    // No stdin at all: nothing to watch.
  }
  if (!pipe) return;
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  process.stdin.once('end', end);
  process.stdin.once('close', end);
  process.stdin.once('error', end);
  // Read (and drop) whatever comes, so that the end is seen; never keep the process alive for it.
  process.stdin.resume();
  process.stdin.unref();
}

const runAsWrapper = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;

if (!isMainThread) {
  // Preloaded into a worker thread too (workers inherit the process's --import): the process's
  // main thread watches stdin; a worker has no stdin of its own to watch.
} else if (!runAsWrapper) {
  whenStdinCloses(() => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 10_000).unref();
  });
} else {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error('usage: node scripts/exit-with-parent.mjs <command> [arguments…]');
    process.exit(64);
  }
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('error', (error) => {
    console.error(`${command}: ${error.message}`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + ({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2, SIGHUP: 1 }[signal] ?? 0)));
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']) process.on(signal, () => child.kill(signal));
  whenStdinCloses(() => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}
