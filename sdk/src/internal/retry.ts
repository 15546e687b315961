// When and how long to wait before retrying. Only idempotent calls are retried (GET, PUT, DELETE,
// HEAD, and the creates sent with an Idempotency-Key), on network errors, 408, 429 and 5xx; the
// server's Retry-After wins over the computed backoff.
import type { RetryOptions } from 'ky';
import { MesError } from '../errors.js';

export const defaultMaxRetries = 2;
/** The delay before the first retry, in milliseconds; it doubles at each retry. */
export const initialRetryDelay = 500;
export const maxRetryDelay = 8_000;
/** A longer Retry-After is clamped to this, so a call never hangs for minutes. */
export const maxRetryAfter = 60_000;

export const retryableMethods = ['get', 'put', 'delete', 'head'];
export const retryableStatuses = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

/**
 * Exponential backoff with "equal jitter": half of the delay is fixed, half random, so clients
 * that failed together spread out without any of them retrying at once.
 */
export function backoffDelay(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(initialRetryDelay * 2 ** Math.max(0, retry - 1), maxRetryDelay);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** ky's retry options for a call that may be retried `limit` times; `retryPost` for a create with an Idempotency-Key. */
export function retryOptions(limit: number, options: { retryPost?: boolean } = {}): RetryOptions {
  return {
    limit,
    methods: options.retryPost ? [...retryableMethods, 'post'] : retryableMethods,
    statusCodes: retryableStatuses,
    afterStatusCodes: retryableStatuses,
    maxRetryAfter,
    backoffLimit: maxRetryDelay,
    delay: (attempt) => backoffDelay(attempt),
    // The SDK's own errors (a grant that ended, a refused refresh) are answers, not network failures.
    shouldRetry: ({ error }) => (error instanceof MesError ? false : undefined),
  };
}
