// The HTTP transport, on ky: the timeout of each attempt, the retries with backoff and
// Retry-After, and the hooks for what is the platform's own (the Idempotency-Key of a create).
// DPoP is the `fetch` ky calls (auth/dpop-fetch.ts), so every attempt carries a fresh proof.
// Failures become the SDK's error hierarchy here, outside ky, so ky never retries a mapped error.
import ky, { HTTPError, TimeoutError as KyTimeoutError, type KyInstance } from 'ky';
import { ApiError, ConnectionError, MesError, TimeoutError } from '../errors.js';
import type { OperationOutcome, Problem } from '../types.js';
import { ApiPromise, type WithResponse } from './api-promise.js';
/** A `fetch` implementation: the global one by default, or any standard-compatible function. */
export type FetchLike = (input: Request | URL | string, init?: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** Base URL of the API, e.g. `https://api.sandbox.example` or `http://localhost:4010`. */
  baseUrl: string;
  /** A publisher API key (`mes_pk_…`), sent as `Authorization: Bearer`. Not needed for the catalogue. */
  apiKey?: string | undefined;
  /** A `fetch` implementation; defaults to the global `fetch`. */
  fetch?: FetchLike | undefined;
  /** Milliseconds to wait for each attempt's response (default 30 000). */
  timeout?: number | undefined;
  /** Retries of idempotent calls on network errors, 408, 429 and 5xx (default 2; 0 disables). */
  maxRetries?: number | undefined;
  /** Headers sent with every request. */
  headers?: Record<string, string> | undefined;
}

/** Options that every method accepts as its last argument, overriding the client's for one call. */
export interface RequestOptions {
  /** Aborts the call (including its retries); the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Milliseconds to wait for each attempt's response. */
  timeout?: number;
  /** How many times an idempotent call (GET, PUT, DELETE, HEAD, and the creates that carry an `Idempotency-Key`) may be retried. */
  maxRetries?: number;
  /**
   * The `Idempotency-Key` of a create (apps, clients, API keys); by default a new random UUID per
   * call, the same for all its retries. Pass your own to make a create safe across restarts of
   * your process: the server answers the first answer again instead of creating twice.
   */
  idempotencyKey?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Call {
  method: HttpMethod;
  /** Relative to the base URL, without a leading slash; built with `path`. */
  path: string;
  query?: Query | undefined;
  body?: unknown;
  /** The media type of the body and of the answer (default `application/json`; the FHIR API's is `application/fhir+json`). */
  mediaType?: string | undefined;
  /** A create the server runs once per `Idempotency-Key`: sent with a key, and retried like an idempotent call. */
  idempotent?: boolean;
  /** Headers the call itself needs (`If-Match`); the caller's own come after them. */
  headers?: Record<string, string>;
}

/** Query parameters; an array repeats the parameter (`date=ge2026-01-01&date=lt2026-07-01`). */
export type Query = Record<string, string | number | readonly (string | number)[] | undefined>;

export const defaultTimeout = 30_000;
const maxTimeout = 2_147_483_647;
export const defaultMaxRetries = 2;
/** The delay before the first retry, in milliseconds; it doubles at each retry. */
export const initialRetryDelay = 500;
export const maxRetryDelay = 8_000;
/** A longer Retry-After is clamped to this, so a call never hangs for minutes. */
export const maxRetryAfter = 60_000;
const retryableStatuses = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];
/** The idempotent methods, retried by default; a create is retried only with an Idempotency-Key. */
const idempotentMethods = ['get', 'put', 'delete', 'head'];

/**
 * ky's `retry.delay`: exponential backoff with "equal jitter". Half of the delay is fixed, half
 * random, so clients that failed together spread out without any of them retrying at once.
 */
export function backoffDelay(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(initialRetryDelay * 2 ** Math.max(0, retry - 1), maxRetryDelay);
  return ceiling / 2 + random() * (ceiling / 2);
}

function checkInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
    throw new MesError(`${name} must be an integer between ${min} and ${max}, got ${String(value)}.`);
  }
}

function checkBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new MesError(`baseUrl must be an absolute http(s) URL, got ${JSON.stringify(baseUrl)}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new MesError(`baseUrl must use http or https, got ${url.protocol}`);
  }
  // A trailing slash keeps a base path such as /v1 when request paths are resolved against it.
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

export class Transport {
  readonly baseUrl: string;
  readonly #ky: KyInstance;

  constructor(options: TransportOptions) {
    checkInteger('timeout', options.timeout, 1, maxTimeout);
    checkInteger('maxRetries', options.maxRetries, 0, 10);
    this.baseUrl = checkBaseUrl(options.baseUrl);
    const baseFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#ky = ky.create({
      prefixUrl: this.baseUrl,
      fetch: baseFetch,
      timeout: options.timeout ?? defaultTimeout,
      headers: {
        accept: 'application/json, application/problem+json',
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        ...options.headers,
      },
      retry: {
        limit: options.maxRetries ?? defaultMaxRetries,
        methods: idempotentMethods,
        statusCodes: retryableStatuses,
        afterStatusCodes: retryableStatuses,
        maxRetryAfter,
        delay: backoffDelay,
        // An error status or a network failure follows the rules above; a timeout, the caller's
        // abort, or an error of the SDK's own (a grant that ended) is never retried.
        shouldRetry: ({ error }) => (error instanceof HTTPError || isNetworkFailure(error) ? undefined : false),
      },
    });
  }

  /** Sends a call; await it for the body, or `.withResponse()` for the body with the raw response. */
  request<T>(call: Call | (() => Call), options: RequestOptions = {}): ApiPromise<T> {
    // A bad argument (an id that would change the path…) rejects like any failure, never throws.
    return new ApiPromise((async () => this.#send<T>(typeof call === 'function' ? call() : call, options))());
  }

  async #send<T>(call: Call, options: RequestOptions): Promise<WithResponse<T>> {
    checkInteger('timeout', options.timeout, 1, maxTimeout);
    checkInteger('maxRetries', options.maxRetries, 0, 10);
    // One key for the call and all its retries: the server runs the create once.
    const idempotencyKey = call.idempotent ? checkIdempotencyKey(options.idempotencyKey) ?? globalThis.crypto.randomUUID() : undefined;
    const mediaType = call.mediaType ?? 'application/json';
    const where = `${call.method} ${new URL(call.path, this.baseUrl).pathname}`;
    let response: Response;
    try {
      response = await this.#ky(call.path, {
        method: call.method,
        headers: {
          ...(call.mediaType ? { accept: `${mediaType}, application/problem+json` } : {}),
          ...(call.body !== undefined ? { 'content-type': mediaType } : {}),
          ...call.headers,
          ...options.headers,
        },
        ...(call.query ? { searchParams: searchParams(call.query) } : {}),
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
        retry: {
          ...(options.maxRetries !== undefined ? { limit: options.maxRetries } : {}),
          // A create that carries an Idempotency-Key is retried like an idempotent call.
          ...(idempotencyKey ? { methods: [...idempotentMethods, 'post'] } : {}),
        },
        hooks: {
          beforeRequest: idempotencyKey ? [(request) => void request.headers.set('idempotency-key', idempotencyKey)] : [],
        },
      });
    } catch (error) {
      throw await toMesError(error, where, this.baseUrl);
    }
    return read<T>(response, where);
  }
}

/** The body of a successful response. */
async function read<T>(response: Response, where: string): Promise<WithResponse<T>> {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  if (response.status === 204) return { data: undefined as T, response, requestId };
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ConnectionError(`The connection broke while reading the response of ${where}.`, { cause: error });
  }
  if (text === '') return { data: undefined as T, response, requestId };
  try {
    return { data: JSON.parse(text) as T, response, requestId };
  } catch (error) {
    throw new MesError(`The response of ${where} is not valid JSON.`, { cause: error });
  }
}


function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key !== undefined && !/^[\x21-\x7E]{1,255}$/.test(key)) {
    throw new MesError('idempotencyKey must be 1 to 255 visible ASCII characters (a UUID is right).');
  }
  return key;
}

function searchParams(query: Query): URLSearchParams {
  const result = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) result.append(key, String(one));
  }
  return result;
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.code === 'string' || typeof candidate.title === 'string';
}

function isOperationOutcome(value: unknown): value is OperationOutcome {
  const candidate = value as { resourceType?: unknown; issue?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null && candidate.resourceType === 'OperationOutcome' && Array.isArray(candidate.issue) && candidate.issue.length > 0;
}

async function readError(response: Response): Promise<{ problem?: Problem; operationOutcome?: OperationOutcome }> {
  try {
    const value: unknown = JSON.parse(await response.text());
    if (isOperationOutcome(value)) return { operationOutcome: value };
    return isProblem(value) ? { problem: value } : {};
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): the error is built from the status alone.
    return {};
  }
}

/** fetch rejects with a TypeError when the network fails (refused, reset, DNS, TLS). */
function isNetworkFailure(error: unknown): boolean {
  return error instanceof TypeError;
}

async function toMesError(error: unknown, where: string, baseUrl: string): Promise<unknown> {
  if (error instanceof HTTPError) {
    const { response } = error;
    return ApiError.generate({
      status: response.status,
      ...(await readError(response)),
      headers: response.headers,
      fallbackMessage: response.statusText ? `HTTP ${response.status} ${response.statusText}` : undefined,
    });
  }
  if (error instanceof KyTimeoutError) return new TimeoutError(`No response to ${where} in time.`, { cause: error });
  if (isNetworkFailure(error)) {
    const reason = describeCause(error as TypeError);
    return new ConnectionError(`Could not reach ${baseUrl} for ${where}${reason ? ` (${reason})` : ''}.`, { cause: error });
  }
  // The caller's abort reason, an error of the SDK or of the caller's fetch: as is.
  return error;
}

function describeCause(error: TypeError): string | undefined {
  const cause = (error as { cause?: unknown }).cause;
  if (cause && typeof cause === 'object') {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return error.message || undefined;
}
