// When and how long to wait before retrying. Only idempotent calls are retried (GET, PUT, DELETE,
// HEAD, and the creates sent with an Idempotency-Key), on network errors, 408, 429 and 5xx; the
// server's Retry-After wins over the computed backoff.

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

/** Whether a call may be sent again: the idempotent methods, and a create with an Idempotency-Key. */
export function isRetryable(method: string, hasIdempotencyKey: boolean): boolean {
  return retryableMethods.includes(method.toLowerCase()) || (hasIdempotencyKey && method === 'POST');
}

/**
 * The server's Retry-After (RFC 9110 §10.2.3: seconds, or an HTTP date) in milliseconds, clamped to
 * `maxRetryAfter`; undefined when absent or unreadable, and the backoff applies.
 */
export function retryAfterDelay(headers: Headers, now: number = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(ms, 0), maxRetryAfter);
}
