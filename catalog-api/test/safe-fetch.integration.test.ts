// The outbound fetcher against real HTTPS servers on loopback: what it fetches, and everything it
// refuses (plain HTTP, credentials, private addresses, redirects, slow or oversized answers,
// certificates for another name or from nobody it trusts). Loopback is a private address, so the
// servers are reached only with allowPrivateNetworks, as in a sandbox on a developer's machine;
// the same requests without it are refused before any connection.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundError, safeGet, type OutboundPolicy } from '../src/core/outbound/safe-fetch.js';
import { startHttpsServer, type TestHttpsServer } from './https-server.js';

const NAME = 'keys.publisher.test';
let server: TestHttpsServer;
let other: TestHttpsServer;

beforeAll(async () => {
  server = await startHttpsServer([NAME], (request, response) => {
    const path = request.url ?? '';
    if (path === '/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=120' });
      return void response.end('{"keys":[]}');
    }
    if (path === '/redirect') {
      response.writeHead(302, { location: `${other.origin}/jwks.json` });
      return void response.end();
    }
    if (path === '/big-declared') {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) });
      return void response.end();
    }
    if (path === '/big-streamed') {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 64 && response.write(chunk)) sent++;
        if (sent < 64) response.once('drain', pump);
        else response.end();
      };
      return void pump();
    }
    if (path === '/stall-headers') return; // never answers
    if (path === '/stall-body') {
      response.writeHead(200, { 'content-type': 'application/json' });
      return void response.write('{"keys":'); // and never ends
    }
    response.writeHead(404);
    response.end();
  });
  other = await startHttpsServer(['other.publisher.test'], (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"keys":[]}');
  });
});

afterAll(async () => {
  await server?.close();
  await other?.close();
});

const sandboxPolicy = (overrides: Partial<OutboundPolicy> = {}): OutboundPolicy => ({
  allowPrivateNetworks: true,
  timeoutMs: 2000,
  ca: [server.ca, other.ca],
  resolve: async (hostname) => [...(await server.resolve(hostname)), ...(await other.resolve(hostname))],
  ...overrides,
});
const options = { accept: 'application/json', maxBytes: 64 * 1024 };

async function refusal(attempt: Promise<unknown>): Promise<OutboundError> {
  const outcome = await attempt.then(
    () => new Error('the fetch succeeded; it should have been refused'),
    (reason: unknown) => reason,
  );
  expect(outcome).toBeInstanceOf(OutboundError);
  return outcome as OutboundError;
}

describe('safeGet', () => {
  it('fetches a document over HTTPS from the address the name resolved to', async () => {
    const before = server.requests.length;
    const fetched = await safeGet(`${server.origin}/jwks.json`, options, sandboxPolicy());
    expect(fetched).toMatchObject({ status: 200, address: '127.0.0.1' });
    expect(fetched.headers['cache-control']).toBe('max-age=120');
    expect(fetched.body.toString()).toBe('{"keys":[]}');
    const request = server.requests[before]!;
    expect(request).toMatchObject({ method: 'GET', path: '/jwks.json' });
    expect(request.headers).toMatchObject({ host: `${NAME}:${server.port}`, accept: 'application/json', 'accept-encoding': 'identity' });
    expect(request.headers.cookie).toBeUndefined();
  });

  it('resolves the name once and connects to the address it checked (no DNS rebinding)', async () => {
    const answers = [
      [{ address: '127.0.0.1', family: 4 as const }],
      [{ address: '169.254.169.254', family: 4 as const }],
    ];
    let lookups = 0;
    const fetched = await safeGet(`${server.origin}/jwks.json`, options, sandboxPolicy({ resolve: async () => answers[lookups++]! }));
    expect(fetched.address).toBe('127.0.0.1');
    expect(lookups).toBe(1);
  });

  it.each([
    ['http://keys.publisher.test/jwks.json', /must use https/],
    ['ftp://keys.publisher.test/jwks.json', /must use https/],
    ['https://user:secret@keys.publisher.test/jwks.json', /must not contain credentials/],
    ['/jwks.json', /not an absolute URL/],
    ['not a url', /not an absolute URL/],
  ])('refuses the URL %s before any connection', async (url, reason) => {
    const before = server.requests.length;
    const error = await refusal(safeGet(url, options, sandboxPolicy()));
    expect(error.code).toBe('invalid_url');
    expect(error.message).toMatch(reason);
    expect(server.requests.length).toBe(before);
  });

  describe('outside a sandbox (private networks not allowed)', () => {
    const production = (resolve: OutboundPolicy['resolve']) => sandboxPolicy({ allowPrivateNetworks: false, resolve });

    it.each([
      ['a name resolving to loopback', `https://${NAME}/jwks.json`, ['127.0.0.1'], /127\.0\.0\.1, which is not a public address \(loopback\)/],
      ['a name resolving to the metadata service', `https://${NAME}/`, ['169.254.169.254'], /link-local/],
      ['a name resolving to a private network', `https://${NAME}/`, ['10.0.0.8'], /private network/],
      ['a name with one public and one private address', `https://${NAME}/`, ['93.184.215.14', '192.168.0.10'], /192\.168\.0\.10/],
      ['a name resolving to IPv6 loopback', `https://${NAME}/`, ['::1'], /loopback/],
      ['a name resolving to an IPv4-mapped loopback', `https://${NAME}/`, ['::ffff:127.0.0.1'], /loopback/],
      ['an IPv4 literal', 'https://127.0.0.1/jwks.json', [], /loopback/],
      ['an IPv4 literal in hexadecimal', 'https://0x7f.0.0.1/jwks.json', [], /loopback/],
      ['an IPv4 literal as one number', 'https://2130706433/jwks.json', [], /loopback/],
      ['an IPv6 literal', 'https://[::1]/jwks.json', [], /loopback/],
      ['an IPv4-mapped IPv6 literal', 'https://[::ffff:169.254.169.254]/', [], /link-local/],
      ['a unique-local IPv6 literal', 'https://[fd00::1]/', [], /unique local/],
    ])('refuses %s', async (_case, url, addresses, reason) => {
      const before = server.requests.length;
      const error = await refusal(safeGet(url, options, production(async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))));
      expect(error.code).toBe('forbidden_address');
      expect(error.message).toMatch(reason);
      expect(server.requests.length).toBe(before);
    });

    it('refuses a name that does not resolve', async () => {
      const error = await refusal(safeGet('https://nowhere.publisher.test/jwks.json', options, production(async () => [])));
      expect(error).toMatchObject({ code: 'dns_failure', message: expect.stringMatching(/does not resolve/) });
    });
  });

  it('does not follow redirects', async () => {
    const before = other.requests.length;
    const error = await refusal(safeGet(`${server.origin}/redirect`, options, sandboxPolicy()));
    expect(error).toMatchObject({ code: 'redirect', message: expect.stringMatching(/302.*redirects are not followed/) });
    expect(other.requests.length).toBe(before);
  });

  it('refuses a body larger than the cap, declared or streamed', async () => {
    const declared = await refusal(safeGet(`${server.origin}/big-declared`, options, sandboxPolicy()));
    expect(declared).toMatchObject({ code: 'too_large', message: expect.stringMatching(/2097152 bytes/) });
    const streamed = await refusal(safeGet(`${server.origin}/big-streamed`, options, sandboxPolicy()));
    expect(streamed).toMatchObject({ code: 'too_large', message: expect.stringMatching(/larger than 65536 bytes/) });
  });

  it('gives up at the deadline when the server never answers, or stops half-way', async () => {
    const policy = sandboxPolicy({ timeoutMs: 300 });
    const started = Date.now();
    const headers = await refusal(safeGet(`${server.origin}/stall-headers`, options, policy));
    const body = await refusal(safeGet(`${server.origin}/stall-body`, options, policy));
    expect(headers).toMatchObject({ code: 'timeout', message: expect.stringMatching(/within 300 ms/) });
    expect(body.code).toBe('timeout');
    // Both deadlines held: the two attempts took about 600 ms, nowhere near a socket's default timeout.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a certificate it does not trust, or one made for another name', async () => {
    const untrusted = await refusal(safeGet(`${server.origin}/jwks.json`, options, sandboxPolicy({ ca: other.ca })));
    expect(untrusted.code).toBe('tls_failure');
    // other.publisher.test resolving to the server of keys.publisher.test: its certificate does not name it.
    const wrongName = await refusal(
      safeGet(`https://other.publisher.test:${server.port}/jwks.json`, options, sandboxPolicy({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] })),
    );
    expect(wrongName.code).toBe('tls_failure');
  });

  it('refuses a server that does not speak TLS', async () => {
    const plain = createHttpServer((_request, response) => response.end('{"keys":[]}'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = plain.address() as AddressInfo;
      const error = await refusal(safeGet(`https://${NAME}:${port}/jwks.json`, options, sandboxPolicy()));
      expect(['tls_failure', 'network_failure']).toContain(error.code);
    } finally {
      plain.close();
    }
  });

  it('reports a closed port as unreachable', async () => {
    const closed = await startHttpsServer([NAME], () => {});
    const port = closed.port;
    await closed.close();
    const error = await refusal(safeGet(`https://${NAME}:${port}/jwks.json`, options, sandboxPolicy()));
    expect(error).toMatchObject({ code: 'network_failure', message: expect.stringMatching(/ECONNREFUSED/) });
  });
});
