import { describe, expect, it } from 'vitest';
import { SalesforceApiError } from '../../lib/errors.ts';
import { backoffDelay, parseRetryAfter, retryDelay, withRetry } from '../../lib/retry.ts';
import { apiErrorOf, classifyResponse, isTransient, parseErrorBody } from '../../extractors/client/retry.ts';
import { apiPath, parseLimitInfo } from '../../extractors/client/salesforceHttp.ts';

describe('backoff math', () => {
  it('full jitter: uniform below min(max, base * 2^retry)', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(0, opts, () => 0.999)).toBe(99);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(400);
    expect(backoffDelay(10, opts, () => 0.999)).toBe(999);
    expect(backoffDelay(2, opts, () => 0)).toBe(0);
  });

  it('Retry-After wins over a shorter jittered delay', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect(retryDelay(0, 5000, opts, () => 0.5)).toBe(5000);
    expect(retryDelay(4, 10, opts, () => 0.5)).toBe(500);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', Date.parse('2025-01-01T00:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('withRetry', () => {
  const noSleep = { sleeps: [] as number[] };
  const sleep = async (ms: number) => {
    noSleep.sleeps.push(ms);
  };

  it('retries retryable failures until success, sleeping the computed delays', async () => {
    noSleep.sleeps = [];
    let calls = 0;
    const out = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Error('transient');
        return 'ok';
      },
      { attempts: 5, isRetryable: () => true, delayMs: (n) => (n + 1) * 10, sleep },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
    expect(noSleep.sleeps).toEqual([10, 20]);
  });

  it('stops after the attempt budget and throws the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error(`fail ${calls}`);
        },
        { attempts: 3, isRetryable: () => true, delayMs: () => 0, sleep },
      ),
    ).rejects.toThrow('fail 3');
    expect(calls).toBe(3);
  });

  it('never retries a non-retryable error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('fatal');
        },
        { attempts: 5, isRetryable: () => false, delayMs: () => 0, sleep },
      ),
    ).rejects.toThrow('fatal');
    expect(calls).toBe(1);
  });

  it('gives up instead of sleeping past the total time budget', async () => {
    let t = 0;
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('slow');
        },
        {
          attempts: 10,
          isRetryable: () => true,
          delayMs: () => 600,
          maxTotalMs: 1000,
          sleep: async (ms) => {
            t += ms;
          },
          now: () => t,
        },
      ),
    ).rejects.toThrow('slow');
    expect(calls).toBe(2);
  });
});

describe('classification table', () => {
  it.each([
    [401, 'INVALID_SESSION_ID', 'reauth'],
    [401, 'ERROR_HTTP_401', 'fatal'],
    [429, 'ERROR_HTTP_429', 'retry'],
    [500, 'UNKNOWN_EXCEPTION', 'retry'],
    [502, 'ERROR_HTTP_502', 'retry'],
    [503, 'SERVER_UNAVAILABLE', 'retry'],
    [504, 'ERROR_HTTP_504', 'retry'],
    [406, 'ERROR_HTTP_406', 'retry'],
    [420, 'ERROR_HTTP_420', 'retry'],
    [400, 'UNABLE_TO_LOCK_ROW', 'retry'],
    [403, 'REQUEST_LIMIT_EXCEEDED', 'fatal'],
    [503, 'REQUEST_LIMIT_EXCEEDED', 'fatal'],
    [400, 'MALFORMED_QUERY', 'fatal'],
    [400, 'INVALID_FIELD', 'fatal'],
    [400, 'INVALID_TYPE', 'fatal'],
    [404, 'NOT_FOUND', 'fatal'],
    [400, 'INVALID_QUERY_LOCATOR', 'fatal'],
    [409, 'ERROR_HTTP_409', 'fatal'],
  ] as const)('%i %s -> %s', (status, code, action) => {
    expect(classifyResponse(status, code)).toBe(action);
  });

  it('treats dropped connections as transient', () => {
    expect(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe(false);
  });
});

describe('error bodies', () => {
  it('reads [0].errorCode and message', () => {
    expect(
      parseErrorBody(400, '[{"message":"No such column","errorCode":"INVALID_FIELD"}]', 'application/json'),
    ).toEqual({ errorCode: 'INVALID_FIELD', message: 'No such column' });
  });

  it('names several errors MULTIPLE_API_ERRORS', () => {
    expect(
      parseErrorBody(400, '[{"message":"a","errorCode":"A"},{"message":"b","errorCode":"B"}]', undefined).errorCode,
    ).toBe('MULTIPLE_API_ERRORS');
  });

  it('handles HTML and empty bodies', () => {
    expect(parseErrorBody(503, '<html><body>Maintenance</body></html>', 'text/html')).toMatchObject({
      errorCode: 'ERROR_HTTP_503',
      message: expect.stringContaining('HTML'),
    });
    expect(parseErrorBody(420, '', undefined).errorCode).toBe('ERROR_HTTP_420');
  });

  it('builds a SalesforceApiError with status, code, method, url, retryability and Retry-After', () => {
    const err = apiErrorOf({
      status: 429,
      method: 'GET',
      url: '/services/data/v62.0/limits/',
      body: '',
      retryAfter: '2',
    });
    expect(err).toBeInstanceOf(SalesforceApiError);
    expect(err).toMatchObject({
      status: 429,
      errorCode: 'ERROR_HTTP_429',
      method: 'GET',
      url: '/services/data/v62.0/limits/',
      retryable: true,
      retryAfterMs: 2000,
    });
    const fatal = apiErrorOf({
      status: 403,
      method: 'GET',
      url: '/x',
      body: '[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]',
    });
    expect(fatal.retryable).toBe(false);
    expect(fatal.message).toContain('REQUEST_LIMIT_EXCEEDED');
  });
});

describe('Sforce-Limit-Info and paths', () => {
  it('parses api-usage', () => {
    expect(parseLimitInfo('api-usage=18/5000')).toEqual({ used: 18, max: 5000 });
    expect(parseLimitInfo('api-usage=10018/100000; api-bursts=1/750')).toEqual({ used: 10018, max: 100000 });
    expect(parseLimitInfo(undefined)).toBeUndefined();
    expect(parseLimitInfo('per-app-api-usage=17/250')).toBeUndefined();
    expect(parseLimitInfo('per-app-api-usage=17/250(appName=x); api-usage=25/5000')).toEqual({ used: 25, max: 5000 });
  });

  it('prefixes relative paths with the versioned base and keeps absolute ones', () => {
    expect(apiPath('62.0', 'limits/')).toBe('/services/data/v62.0/limits/');
    expect(apiPath('62.0', '/services/data/v62.0/query/01g-2000')).toBe('/services/data/v62.0/query/01g-2000');
  });
});
