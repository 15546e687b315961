// The one way the server fetches a URL that someone outside gave it (a client's jwks_uri, an app's
// privacy policy for the certification checks) or posts to one (an app's notification endpoint).
// Such a URL is hostile until proven otherwise, so the exchange is:
// - HTTPS only, certificate checked against the name in the URL, no credentials in the URL;
// - to public addresses only: the name is resolved once, every address it resolves to must be
//   public (see addresses.ts), and the connection goes to the address that was checked, so a DNS
//   answer that changes between check and connect (rebinding) cannot redirect it;
// - never redirected: a 3xx is an error, not a hop to an unchecked place;
// - bounded: one deadline for the whole exchange (DNS, connect, TLS, headers, body), a size cap
//   enforced while reading, no keep-alive, no cookies, no compression.
// A sandbox on a developer's own machine may allow private addresses (its apps run there too).
import { lookup as dnsLookup } from 'node:dns/promises';
import { request, type RequestOptions } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { nonPublicReason } from './addresses.js';

export type OutboundErrorCode =
  | 'invalid_url'
  | 'forbidden_address'
  | 'dns_failure'
  | 'timeout'
  | 'too_large'
  | 'redirect'
  | 'http_status'
  | 'tls_failure'
  | 'network_failure';

/** A fetch the policy refused or that failed; the message says why, for the person who gave the URL. */
export class OutboundError extends Error {
  override name = 'OutboundError';
  readonly code: OutboundErrorCode;

  constructor(code: OutboundErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface OutboundPolicy {
  /** Allow private, loopback and link-local targets: only for a sandbox on a developer's machine. */
  allowPrivateNetworks: boolean;
  /** Deadline of a whole fetch, in milliseconds. */
  timeoutMs: number;
  /** Certificates to trust instead of the system's (tests; a private PKI uses NODE_EXTRA_CA_CERTS). */
  ca?: string | string[] | undefined;
  /** Name resolution (all addresses of a name); DNS through the system resolver by default. */
  resolve?: ((hostname: string) => Promise<ResolvedAddress[]>) | undefined;
}

export const defaultOutboundPolicy: OutboundPolicy = { allowPrivateNetworks: false, timeoutMs: 5000 };

export interface FetchedDocument {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The address the document came from (after the policy checked it). */
  address: string;
}

export interface SafeGetOptions {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** The Accept header. */
  accept: string;
}

export interface SafePostOptions extends SafeGetOptions {
  /** The exact bytes to send. */
  body: Buffer;
  contentType: string;
  /** More headers (lower-case names); never a credential of the platform's. */
  headers?: Record<string, string>;
}

type SafeRequestOptions = SafeGetOptions & { method: 'GET' | 'POST'; body?: Buffer; contentType?: string; headers?: Record<string, string> };

const systemResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })) as ResolvedAddress[];

/** Parses and checks a URL the policy could fetch: https, a host, no credentials. */
export function outboundUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OutboundError('invalid_url', 'is not an absolute URL');
  }
  if (url.protocol !== 'https:') throw new OutboundError('invalid_url', 'must use https');
  if (url.username || url.password) throw new OutboundError('invalid_url', 'must not contain credentials');
  if (!url.hostname) throw new OutboundError('invalid_url', 'has no host');
  return url;
}

async function addressesOf(url: URL, policy: OutboundPolicy): Promise<ResolvedAddress> {
  // WHATWG URL parsing already turned every IPv4 spelling (0x7f.1, 2130706433) into dotted form.
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(literal)) {
    addresses = [{ address: literal, family: isIP(literal) as 4 | 6 }];
  } else {
    try {
      addresses = await (policy.resolve ?? systemResolve)(literal);
    } catch {
      throw new OutboundError('dns_failure', `the name ${literal} does not resolve`);
    }
    if (addresses.length === 0) throw new OutboundError('dns_failure', `the name ${literal} does not resolve`);
  }
  if (!policy.allowPrivateNetworks) {
    // Every address must be public, not just the first: a name that also resolves to a private
    // address is refused rather than left to the connection order.
    for (const { address } of addresses) {
      const reason = nonPublicReason(address);
      if (reason) throw new OutboundError('forbidden_address', `${literal} resolves to ${address}, which is not a public address (${reason})`);
    }
  }
  return addresses[0]!;
}

/**
 * GETs `target` under `policy`: resolves to the 2xx-or-error answer of the server, with its body.
 * Throws OutboundError for everything the policy refuses or that fails.
 */
export async function safeGet(target: string, options: SafeGetOptions, policy: OutboundPolicy = defaultOutboundPolicy): Promise<FetchedDocument> {
  return safeRequest(target, { ...options, method: 'GET' }, policy);
}

/**
 * POSTs `options.body` to `target` under `policy`, with the same guarantees as safeGet (no
 * redirect followed, one deadline, a cap on the answer read): resolves to the server's answer,
 * whatever its status; throws OutboundError for everything the policy refuses or that fails.
 */
export async function safePost(target: string, options: SafePostOptions, policy: OutboundPolicy = defaultOutboundPolicy): Promise<FetchedDocument> {
  return safeRequest(target, { ...options, method: 'POST' }, policy);
}

async function safeRequest(target: string, options: SafeRequestOptions, policy: OutboundPolicy): Promise<FetchedDocument> {
  const url = outboundUrl(target);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new OutboundError('timeout', `no complete answer within ${policy.timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, policy.timeoutMs);
  });
  try {
    return await Promise.race([fetchPinned(url, options, policy, controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function fetchPinned(url: URL, options: SafeRequestOptions, policy: OutboundPolicy, signal: AbortSignal): Promise<FetchedDocument> {
  const pinned = await addressesOf(url, policy);
  signal.throwIfAborted();
  // The connection uses the checked address whatever the name resolves to now.
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const literal = isIP(url.hostname.replace(/^\[(.*)\]$/, '$1')) !== 0;
  const requestOptions: RequestOptions = {
    method: options.method,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || 443,
    path: `${url.pathname}${url.search}`,
    headers: {
      ...options.headers,
      accept: options.accept,
      'accept-encoding': 'identity',
      'user-agent': 'mes-platform/0.1',
      ...(options.body ? { 'content-type': options.contentType ?? 'application/octet-stream', 'content-length': String(options.body.length) } : {}),
    },
    agent: false,
    lookup,
    signal,
    // SNI carries names only; the certificate is checked against the URL's host either way.
    ...(literal ? {} : { servername: url.hostname }),
    ...(policy.ca ? { ca: policy.ca } : {}),
  };
  return new Promise<FetchedDocument>((resolve, reject) => {
    const fail = (error: unknown) => reject(toOutboundError(error, signal));
    const req = request(requestOptions, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        response.destroy();
        return reject(new OutboundError('redirect', `answered ${status} (a redirect${response.headers.location ? ` to ${String(response.headers.location).slice(0, 200)}` : ''}); redirects are not followed`));
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        response.destroy();
        return reject(new OutboundError('too_large', `is ${declared} bytes; at most ${options.maxBytes} are read`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          response.destroy();
          reject(new OutboundError('too_large', `is larger than ${options.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', fail);
      response.on('end', () => {
        if (size > options.maxBytes) return;
        resolve({ status, headers: response.headers, body: Buffer.concat(chunks), address: pinned.address });
      });
    });
    req.on('error', fail);
    req.end(options.body);
  });
}

function toOutboundError(error: unknown, signal: AbortSignal): OutboundError {
  if (signal.aborted && signal.reason instanceof OutboundError) return signal.reason;
  if (error instanceof OutboundError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (/CERT|SSL|TLS|SELF_SIGNED|ERR_TLS|HOSTNAME|ALTNAME/i.test(code) || /certificate/i.test(String((error as Error)?.message))) {
    return new OutboundError('tls_failure', `its TLS certificate is not valid for this name (${code || 'TLS error'})`);
  }
  return new OutboundError('network_failure', `could not be reached (${code || 'connection failed'})`);
}
