// Generic retry: exponential backoff with full jitter, a bounded number of attempts and a bounded total time.
// Pure math plus one loop; what is retryable is decided by the caller (extractors/client/retry.ts for Salesforce).

export interface BackoffOptions {
  /** Delay cap of the first retry, in ms. */
  baseMs: number;
  /** No single delay exceeds this, in ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * "Full jitter" (AWS architecture blog): a uniform delay in [0, min(max, base * 2^retry)), so concurrent
 * workers hit by the same outage do not come back in lockstep. `retry` counts from 0.
 */
export function backoffDelay(
  retry: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** A server-requested wait (Retry-After) wins over a shorter jittered delay, never the other way round. */
export function retryDelay(
  retry: number,
  retryAfterMs: number | undefined,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const jittered = backoffDelay(retry, opts, random);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
}

/**
 * Retry-After is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3). Returns ms, or undefined when
 * absent/garbled.
 */
export function parseRetryAfter(value: string | undefined | null, now: number = Date.now()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface RetryOptions {
  /** Total tries including the first (>= 1). */
  attempts: number;
  isRetryable: (err: unknown) => boolean;
  /** Delay before retry number `retry` (0-based) after `err`. */
  delayMs: (retry: number, err: unknown) => number;
  /** Give up instead of sleeping past this much total elapsed time. */
  maxTotalMs?: number;
  /**
   * Give up instead of sleeping when the waits between tries would add up to more than this: for calls whose every
   * try is bounded by its own timeouts, so a slow try does not use up the retries of the next.
   */
  maxWaitMs?: number;
  signal?: AbortSignal;
  onRetry?: (err: unknown, retry: number, delayMs: number) => void;
  sleep?: Sleep;
  now?: () => number;
}

/**
 * Runs fn until it succeeds, fails with a non-retryable error, or the attempt/time budget is spent (last error thrown).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const now = opts.now ?? Date.now;
  const wait = opts.sleep ?? sleep;
  const started = now();
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (attempt + 1 >= opts.attempts || !opts.isRetryable(err)) throw err;
      const delay = opts.delayMs(attempt, err);
      if (opts.maxTotalMs !== undefined && now() - started + delay > opts.maxTotalMs) throw err;
      if (opts.maxWaitMs !== undefined && waited + delay > opts.maxWaitMs) throw err;
      opts.onRetry?.(err, attempt, delay);
      waited += delay;
      await wait(delay, opts.signal);
    }
  }
}
