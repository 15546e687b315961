// The HTTP transport, on fetch alone: authentication headers, a timeout per attempt, the retry
// policy, and every failure turned into the SDK's error hierarchy.
import { ApiError, ConnectionError, MesError, TimeoutError } from '../errors.js';
import type { OperationOutcome, Problem } from '../types.js';
import { ApiPromise, type WithResponse } from './api-promise.js';
import { sleep } from './sleep.js';
import { backoffDelay, defaultMaxRetries, isRetryable, retryableStatuses, retryAfterDelay } from './retry.js';

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
}

/** Query parameters; an array repeats the parameter (`date=ge2026-01-01&date=lt2026-07-01`). */
export type Query = Record<string, string | number | readonly (string | number)[] | undefined>;

export const defaultTimeout = 30_000;
const maxTimeout = 2_147_483_647;

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
  readonly #fetch: FetchLike;
  readonly #headers: Record<string, string>;
  readonly #maxRetries: number;
  readonly #timeout: number;

  constructor(options: TransportOptions) {
    checkInteger('timeout', options.timeout, 1, maxTimeout);
    checkInteger('maxRetries', options.maxRetries, 0, 10);
    this.baseUrl = checkBaseUrl(options.baseUrl);
    this.#maxRetries = options.maxRetries ?? defaultMaxRetries;
    this.#timeout = options.timeout ?? defaultTimeout;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#headers = {
      accept: 'application/json, application/problem+json',
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...options.headers,
    };
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
    const headers: Record<string, string> = {
      ...this.#headers,
      ...(call.mediaType ? { accept: `${mediaType}, application/problem+json` } : {}),
      ...(call.body !== undefined ? { 'content-type': mediaType } : {}),
      ...options.headers,
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    };
    const url = new URL(call.path, this.baseUrl);
    if (call.query) url.search = searchParams(call.query).toString();
    const where = `${call.method} ${url.pathname}`;
    const body = call.body !== undefined ? JSON.stringify(call.body) : undefined;
    const retryable = isRetryable(call.method, idempotencyKey !== undefined);
    const maxRetries = options.maxRetries ?? this.#maxRetries;
    const { signal } = options;
    for (let retry = 0; ; retry += 1) {
      let response: Response;
      try {
        response = await this.#attempt(url, { method: call.method, headers, ...(body !== undefined ? { body } : {}) }, options.timeout ?? this.#timeout, where, signal);
      } catch (error) {
        // Network failures of idempotent calls are retried; a timeout, the caller's abort, or an
        // error of the SDK's own (a grant that ended) is not.
        if (retryable && retry < maxRetries && isNetworkFailure(error)) {
          await sleep(backoffDelay(retry + 1), signal);
          continue;
        }
        throw toMesError(error, where, this.baseUrl);
      }
      if (!response.ok && retryable && retry < maxRetries && retryableStatuses.includes(response.status)) {
        await response.body?.cancel();
        await sleep(retryAfterDelay(response.headers) ?? backoffDelay(retry + 1), signal);
        continue;
      }
      return read<T>(response, where);
    }
  }

  /** One attempt: the caller's signal and a timeout abort it; a fetch that ignores its signal still times out. */
  async #attempt(url: URL, init: RequestInit, timeout: number, where: string, signal: AbortSignal | undefined): Promise<Response> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(`No response to ${where} in time.`);
        controller.abort(error);
        reject(error);
      }, timeout);
    });
    try {
      return await Promise.race([this.#fetch(url.href, { ...init, signal: controller.signal }), timedOut]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** The body of a response, or the ApiError of an error status. */
async function read<T>(response: Response, where: string): Promise<WithResponse<T>> {
  if (!response.ok) {
    throw ApiError.generate({
      status: response.status,
      ...(await readError(response)),
      headers: response.headers,
      fallbackMessage: response.statusText ? `HTTP ${response.status} ${response.statusText}` : undefined,
    });
  }
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

function toMesError(error: unknown, where: string, baseUrl: string): unknown {
  if (isNetworkFailure(error)) {
    const reason = describeCause(error as TypeError);
    return new ConnectionError(`Could not reach ${baseUrl} for ${where}${reason ? ` (${reason})` : ''}.`, { cause: error });
  }
  // A TimeoutError, the caller's abort reason, an error of the SDK or of the caller's fetch: as is.
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
