// Timeouts of every Salesforce call (docs/salesforce.md#timeouts). A connection can go silent without being closed
// (a NAT or proxy drops it, the server stalls mid-body): without a bound the load holds its object lock and its open
// transaction forever. Two bounds: the answer's headers must arrive within `responseMs` of sending (connect
// included), and every wait for more body bytes ends after `idleMs`. A call that times out fails with ETIMEDOUT,
// which lib/errorActions.ts retries like a dropped connection.
import type { Readable } from 'node:stream';
import { SalesforceApiError } from '../../lib/errors.ts';
import { isRetryableNetworkError } from './retry.ts';
import { shortUrl } from './uriLength.ts';

export interface HttpTimeouts {
  /** From sending a request to its response headers, connecting included (SFSYNC_HTTP_TIMEOUT_SECONDS). */
  responseMs: number;
  /** The longest wait for the next bytes of a response body (SFSYNC_IDLE_TIMEOUT_SECONDS). */
  idleMs: number;
}

/**
 * Minutes, not seconds: a REST query may think for up to two minutes before it answers or gives up with
 * QUERY_TIMEOUT (docs/salesforce.md#limits), while a body that sends nothing for two minutes is gone.
 */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { responseMs: 300_000, idleMs: 120_000 };

export const TIMEOUT_CODE = 'ETIMEDOUT';

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** A call that timed out: status 0 (no answer) with code ETIMEDOUT, retried like a dropped connection. */
export function timeoutError(method: string, url: string, what: string): SalesforceApiError {
  return new SalesforceApiError(`Salesforce ${method} ${shortUrl(url)} failed: ${TIMEOUT_CODE} (${what})`, {
    status: 0,
    errorCode: TIMEOUT_CODE,
    method,
    url,
    retryable: isRetryableNetworkError({ code: TIMEOUT_CODE }),
  });
}

export const noAnswer = (method: string, url: string, ms: number) =>
  timeoutError(method, url, `no response within ${seconds(ms)}; SFSYNC_HTTP_TIMEOUT_SECONDS`);

export const bodyStalled = (method: string, url: string, ms: number) =>
  timeoutError(method, url, `the response body sent nothing for ${seconds(ms)}; SFSYNC_IDLE_TIMEOUT_SECONDS`);

/**
 * A response body's chunks, each wait for the next one bounded by `idleMs`; a stalled body is destroyed and fails with
 * `onIdle()`. Only time spent waiting for the server counts: a consumer that reads slowly (COPY holding the stream
 * back) never trips it, since the next chunk is asked for only when it is wanted. Leaving early destroys the body.
 */
export async function* idleChunks(body: Readable, idleMs: number, onIdle: () => Error): AsyncGenerator<Buffer> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let done = false;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onIdle()), idleMs);
      });
      let r: IteratorResult<Buffer>;
      try {
        // The pending read, rejected once the body is destroyed, is handled by the race.
        r = await Promise.race([it.next(), idle]);
      } finally {
        clearTimeout(timer);
      }
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) body.destroy();
  }
}
