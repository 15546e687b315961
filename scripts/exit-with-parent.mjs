// Preloaded (`node --import`) into the servers that the tests and the cluster test start: when the
// process that started this one dies, even by SIGKILL (which runs no clean-up of its own), its end
// of our stdin pipe closes, and this process stops as on SIGTERM (gracefully), or at once 10 s
// later. It does nothing unless stdin is a pipe; the platform's own entry points never load it.
import { fstatSync } from 'node:fs';

function stop() {
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(1), 10_000).unref();
}

let pipe = false;
try {
  // Node's `stdio: 'pipe'` is a socket pair; a shell's pipe is a FIFO.
  const stdin = fstatSync(0);
  pipe = stdin.isSocket() || stdin.isFIFO();
} catch {
  // No stdin at all: nothing to watch.
}
if (pipe) {
  process.stdin.once('end', stop);
  process.stdin.once('error', stop);
  // Read (and drop) whatever comes, so that the end is seen; never keep the process alive for it.
  process.stdin.resume();
  process.stdin.unref();
}
