// A real HTTPS server on a free loopback port with a certificate made for the test (self-signed,
// for the names given), standing in for a publisher's host. The outbound fetcher is told to trust
// the certificate and to resolve those names to the loopback address: DNS and the public PKI are
// the edge of the machine, everything else (TLS, HTTP, the fetcher's checks) runs for real.
import { webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export interface TestHttpsServer {
  /** `https://<name>:<port>`, for the first name. */
  origin: string;
  port: number;
  /** The certificate, in PEM, to trust. */
  ca: string;
  /** Resolves the certificate's names to 127.0.0.1 and every other name to nothing. */
  resolve: (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;
  /** Requests received, in order (method and path). */
  requests: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

const pem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END ${label}-----\n`;

/** A self-signed ECDSA P-256 certificate valid for `names` (and no other). */
export async function selfSignedCertificate(names: string[]): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Date.now().toString(16),
    name: `CN=${names[0]}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  return { cert: certificate.toString('pem'), key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

export async function startHttpsServer(
  names: string[],
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<TestHttpsServer> {
  const { cert, key } = await selfSignedCertificate(names);
  const requests: TestHttpsServer['requests'] = [];
  const server: Server = createServer({ cert, key }, (request, response) => {
    requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers });
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://${names[0]}:${port}`,
    port,
    ca: cert,
    requests,
    resolve: async (hostname) => (names.includes(hostname) ? [{ address: '127.0.0.1', family: 4 }] : []),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
