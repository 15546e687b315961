// Requests sent with node:http rather than fetch: the fuzzer needs the path exactly as written
// (bad escapes included), header lines repeated as given, and bodies of arbitrary bytes, which
// fetch would normalize or refuse.
import { Agent, request } from 'node:http';
import type { Answer } from './checks.js';

export interface WireRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** Header values; an array is sent as repeated lines. */
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export async function send(baseUrl: string, wire: WireRequest, timeoutMs = 60_000): Promise<Answer> {
  try {
    return await attempt(baseUrl, wire, timeoutMs);
  } catch (error) {
    // A kept-alive socket the server had just closed (after a 413, say): the request never
    // reached it, so sending it again on a new connection is safe (Node's documented pattern).
    if ((error as { reusedSocket?: boolean }).reusedSocket) return attempt(baseUrl, wire, timeoutMs);
    throw error;
  }
}

function attempt(baseUrl: string, wire: WireRequest, timeoutMs: number): Promise<Answer> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: wire.method,
        path: wire.path,
        headers: { ...wire.headers, ...(wire.body ? { 'content-length': String(wire.body.length) } : {}) },
        timeout: timeoutMs,
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks) }));
        incoming.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      const reset = error.code === 'ECONNRESET' || error.message === 'socket hang up';
      reject(Object.assign(error, { reusedSocket: outgoing.reusedSocket && reset }));
    });
    outgoing.end(wire.body);
  });
}

export function closeConnections(): void {
  agent.destroy();
}
