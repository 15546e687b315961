// The fetch the relying party hands to oauth4webapi (its `customFetch`) for every request to the
// identity provider: discovery, key set, pushed request, token, userinfo. The provider is chosen
// by the operator, so unlike core/outbound/safe-fetch.ts it may live on a private network; the
// exchange is still bounded: https with the certificate checked (plain http only to a loopback
// address, for a developer's machine), one deadline for DNS, connection, TLS, headers and body,
// a size cap enforced while reading, no redirects followed, no keep-alive, no compression.
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { OutboundError, type OutboundPolicy } from '../../core/outbound/safe-fetch.js';

export interface BoundedFetchPolicy extends Pick<OutboundPolicy, 'ca' | 'resolve'> {
  /** Deadline of a whole exchange, in milliseconds. */
  timeoutMs: number;
  /** Largest answer read, in bytes. */
  maxBytes: number;
  /** Allow plain http to loopback addresses (a provider on the developer's machine). */
  allowLoopbackHttp: boolean;
}

/** What oauth4webapi passes to its customFetch. */
export interface FetchRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

export type BoundedFetch = (url: string, options: FetchRequestOptions) => Promise<Response>;

const loopbackHost = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

function bodyOf(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  throw new OutboundError('invalid_url', 'a request body of an unsupported kind');
}

export function boundedFetch(policy: BoundedFetchPolicy): BoundedFetch {
  return async (target, options) => {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new OutboundError('invalid_url', `${target.slice(0, 200)} is not an absolute URL`);
    }
    const plain = url.protocol === 'http:';
    if (!(url.protocol === 'https:' || (plain && policy.allowLoopbackHttp && loopbackHost.test(url.hostname)))) {
      throw new OutboundError('invalid_url', `${url.origin} must use https`);
    }
    if (url.username || url.password) throw new OutboundError('invalid_url', 'a URL with credentials');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new OutboundError('timeout', `${url.origin} gave no complete answer within ${policy.timeoutMs} ms`)), policy.timeoutMs);
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await exchange(url, plain, options, policy, controller.signal);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  };
}

async function exchange(url: URL, plain: boolean, options: FetchRequestOptions, policy: BoundedFetchPolicy, signal: AbortSignal): Promise<Response> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let lookup: LookupFunction | undefined;
  if (policy.resolve && !isIP(hostname)) {
    const [first] = await policy.resolve(hostname).catch(() => []);
    if (!first) throw new OutboundError('dns_failure', `the name ${hostname} does not resolve`);
    lookup = (_name, lookupOptions, callback) => {
      if ((lookupOptions as { all?: boolean }).all) (callback as unknown as (e: null, a: (typeof first)[]) => void)(null, [first]);
      else callback(null, first.address, first.family);
    };
  }
  signal.throwIfAborted();
  const body = bodyOf(options.body);
  const requestOptions: RequestOptions & { servername?: string; ca?: string | string[] } = {
    method: options.method,
    hostname,
    port: url.port || (plain ? 80 : 443),
    path: `${url.pathname}${url.search}`,
    headers: {
      ...options.headers,
      'accept-encoding': 'identity',
      'user-agent': 'mes-platform/0.1',
      ...(body ? { 'content-length': String(body.length) } : {}),
    },
    agent: false,
    signal,
    ...(lookup ? { lookup } : {}),
    ...(!plain && !isIP(hostname) ? { servername: hostname } : {}),
    ...(!plain && policy.ca ? { ca: policy.ca } : {}),
  };
  return new Promise<Response>((resolve, reject) => {
    const fail = (error: unknown) => reject(outboundError(error, signal, url));
    const req = (plain ? httpRequest : httpsRequest)(requestOptions, (response) => {
      const status = response.statusCode ?? 0;
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxBytes) {
        response.destroy();
        return reject(new OutboundError('too_large', `${url.origin} answered ${declared} bytes; at most ${policy.maxBytes} are read`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxBytes) {
          response.destroy();
          reject(new OutboundError('too_large', `${url.origin} answered more than ${policy.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', fail);
      response.on('end', () => {
        if (size > policy.maxBytes) return;
        if (status < 200 || status > 599) return reject(new OutboundError('http_status', `${url.origin} answered status ${status}`));
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          for (const one of [value ?? []].flat()) headers.append(name, one);
        }
        // Redirects are answered as they are (oauth4webapi refuses them), never followed.
        const empty = status === 204 || status === 205 || status === 304;
        resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: response.statusMessage ?? '', headers }));
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}

function outboundError(error: unknown, signal: AbortSignal, url: URL): OutboundError {
  if (signal.aborted && signal.reason instanceof OutboundError) return signal.reason;
  if (error instanceof OutboundError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (/CERT|SSL|TLS|SELF_SIGNED|HOSTNAME|ALTNAME/i.test(code) || /certificate/i.test(String((error as Error)?.message))) {
    return new OutboundError('tls_failure', `${url.origin}: its TLS certificate is not valid for this name (${code || 'TLS error'})`);
  }
  return new OutboundError('network_failure', `${url.origin} could not be reached (${code || 'connection failed'})`);
}
