// CPU time of the calling thread, from Linux's /proc/thread-self/stat (utime + stime, in clock
// ticks of 10 ms). Node 20 has no per-thread CPU clock (process.threadCpuUsage() is Node 23+), and
// the load generator shares the process with the servers: this is how the report tells the
// client's CPU from the server's. Returns null where /proc is not there (macOS, Windows).
import { readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** CPU seconds used so far by the calling thread, or null when unknown. */
export function threadCpuSeconds() {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // The command name (field 2) may hold spaces: count fields from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** CPU seconds used so far by the whole process, every thread included. */
export function processCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
