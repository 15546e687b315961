// HAProxy for the cluster test: started in the foreground with cluster/haproxy.cfg (the example
// configuration of docs/operators.md), and asked through its admin socket what state each server
// is in (`show stat`), which is how the test times the failover.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startProcess } from './processes.mjs';

export const configFile = fileURLToPath(new URL('../haproxy.cfg', import.meta.url));
const exitWithParent = fileURLToPath(new URL('../../scripts/exit-with-parent.mjs', import.meta.url));

/**
 * The HAProxy to run: $HAPROXY, else `haproxy` on the PATH, else Debian's /usr/sbin/haproxy (not on
 * the PATH of users other than root). Null when there is none.
 */
export function findHaproxy() {
  for (const candidate of [process.env.HAPROXY, 'haproxy', '/usr/sbin/haproxy'].filter(Boolean)) {
    try {
      const version = execFileSync(candidate, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
      return { command: candidate, version };
    } catch {
      // Not this one.
    }
  }
  return null;
}

/** The environment cluster/haproxy.cfg reads. */
export function balancerEnv({ bind, socket, instances }) {
  const env = { PATH: process.env.PATH, MES_LB_BIND: bind, MES_LB_SOCKET: socket };
  instances.forEach((address, index) => (env[`MES_INSTANCE_${index + 1}`] = address));
  return env;
}

export function startBalancer({ haproxy, bind, socket, instances, logFile }) {
  const env = balancerEnv({ bind, socket, instances });
  execFileSync(haproxy, ['-c', '-q', '-f', configFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // -db: in the foreground, under scripts/exit-with-parent.mjs (HAProxy stops should this process
  // be killed outright), both in a process group of their own.
  return startProcess('haproxy', process.execPath, [exitWithParent, haproxy, '-db', '-f', configFile], { env, logFile });
}

/** One command on the admin socket; its answer. */
export function adminCommand(socket, command, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const connection = connect(socket);
    let answer = '';
    const timer = setTimeout(() => {
      connection.destroy();
      reject(new Error(`HAProxy's socket did not answer "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    connection.on('connect', () => connection.write(`${command}\n`));
    connection.on('data', (chunk) => (answer += chunk.toString()));
    connection.on('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    connection.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Each server of the `instances` backend: its status (UP, DOWN, "UP 1/2"…) and counters. */
export async function serverStates(socket) {
  const csv = await adminCommand(socket, 'show stat');
  const [header, ...rows] = csv.trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const states = {};
  for (const row of rows) {
    const values = row.split(',');
    const record = Object.fromEntries(columns.map((column, index) => [column, values[index]]));
    if (record.pxname === 'instances' && record.svname !== 'BACKEND') {
      states[record.svname] = {
        status: record.status,
        // Requests HAProxy sent again (retries) and to another server (redispatches).
        retries: Number(record.wretr || 0),
        redispatches: Number(record.wredis || 0),
        connectionErrors: Number(record.econ || 0),
        responseErrors: Number(record.eresp || 0),
        sessions: Number(record.stot || 0),
        current: Number(record.scur || 0),
        weight: Number(record.weight || 0),
      };
    }
  }
  return states;
}

/** Resolves when `predicate(states)` holds, polling every `intervalMs`; fails after `timeoutMs`. */
export async function waitForStates(socket, predicate, { timeoutMs = 60_000, intervalMs = 50, what = 'the servers to reach the expected state' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await serverStates(socket);
      if (predicate(last)) return last;
    } catch (error) {
      last = error.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Sets a server's administrative state: `drain` (no new requests, those in flight finish), `ready`, `maint`. */
export async function setServerState(socket, server, state) {
  const answer = await adminCommand(socket, `set server instances/${server} state ${state}`);
  if (answer.trim()) throw new Error(`HAProxy refused "set server instances/${server} state ${state}": ${answer.trim()}`);
}
