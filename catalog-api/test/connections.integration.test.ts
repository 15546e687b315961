// Connections are held to deliberate limits: a client that never sends its headers, sends them a
// byte at a time, never finishes its body, or stays idle after an answer is disconnected in
// bounded time, and too many connections at once are turned away, while the server keeps
// answering everyone else. Raw sockets, with the limits made short for the test.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useServer } from './helpers.js';

const limits = { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000, maxConnections: 8 };
const server = useServer(limits);

interface Watched {
  socket: Socket;
  /** Everything the server sent. */
  received: () => string;
  /** Resolves with the milliseconds from opening to the server's close. */
  closed: Promise<number>;
}

function open(): Promise<Watched> {
  const { hostname, port } = new URL(server().url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let data = '';
    let onClose: (ms: number) => void = () => {};
    const closed = new Promise<number>((done) => (onClose = done));
    const socket = connect(Number(port), hostname, () => resolve({ socket, received: () => data, closed }));
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('close', () => onClose(Date.now() - started));
    socket.on('error', reject);
  });
}

const host = () => `Host: ${new URL(server().url).host}\r\n`;
const stillAnswering = async () => expect((await fetch(`${server().url}/healthz`)).status).toBe(200);
/**
 * The outer limit of a close that the limit `ms` asks for: the timers are checked every second,
 * and a loaded machine may be late; Node's defaults would keep such connections for minutes.
 */
const within = (ms: number) => 2 * ms + 4000;

describe('slow and idle connections', () => {
  it('closes a connection that sends nothing', async () => {
    const silent = await open();
    await stillAnswering();
    expect(await silent.closed).toBeLessThan(within(limits.headersTimeoutMs));
  });

  it('closes a connection that sends its headers a byte at a time (slowloris), with 408', async () => {
    const slow = await open();
    const request = `GET /healthz HTTP/1.1\r\n${host()}X-Padding: ${'x'.repeat(200)}\r\n`;
    let i = 0;
    const drip = setInterval(() => {
      if (slow.socket.writable && i < request.length) slow.socket.write(request[i++]!);
    }, 50);
    try {
      await stillAnswering();
      expect(await slow.closed).toBeLessThan(within(limits.headersTimeoutMs));
    } finally {
      clearInterval(drip);
    }
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection that never finishes its body', async () => {
    const stalled = await open();
    stalled.socket.write(`POST /publishers HTTP/1.1\r\n${host()}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`);
    await stillAnswering();
    expect(await stalled.closed).toBeLessThan(within(limits.requestTimeoutMs));
  });

  it('closes a keep-alive connection left idle after an answer', async () => {
    const idle = await open();
    idle.socket.write(`GET /healthz HTTP/1.1\r\n${host()}\r\n`);
    await expect.poll(() => idle.received()).toMatch(/^HTTP\/1\.1 200/);
    const answeredAt = Date.now();
    await idle.closed;
    expect(Date.now() - answeredAt).toBeLessThan(within(limits.keepAliveTimeoutMs));
  });
});

describe('connection limits', () => {
  it('turns away connections beyond the limit, and takes them again once some close', async () => {
    const held = await Promise.all(Array.from({ length: limits.maxConnections }, () => open()));
    const extra = await open();
    // Node accepts the connection, then destroys it at once.
    expect(await extra.closed).toBeLessThan(within(0));
    for (const watched of held) watched.socket.destroy();
    await Promise.all(held.map((watched) => watched.closed));
    await stillAnswering();
  });
});
