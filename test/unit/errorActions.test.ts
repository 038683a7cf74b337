import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  type Action,
  actionFor,
  callActionFor,
  ERROR_TABLE,
  exitCodeOf,
  LOCAL_ERRORS,
  rowFor,
  type Stage,
} from '../../lib/errorActions.ts';
import {
  AuthError,
  BudgetError,
  BulkJobError,
  CheckFailedError,
  ConfigError,
  DatabaseUnavailableError,
  DataError,
  EmbeddedPostgresError,
  InterruptedError,
  LockedError,
  ObjectsFailedError,
  PubSubError,
  PushRowsFailedError,
  SalesforceApiError,
  SfsyncError,
  VerifyMismatchError,
  WorkerError,
  exitCodeOf as exitCodeOfError,
} from '../../lib/errors.ts';
import { README, readmeErrorTable, renderErrorTable } from '../../scripts/docs/errorTable.ts';

const api = (status: number, errorCode: string, message = `${errorCode} happened`) =>
  new SalesforceApiError(message, { status, errorCode, method: 'GET', url: '/services/data/v62.0/x' });
const socket = (code: string, message = 'socket hang up') => Object.assign(new Error(message), { code });
/** As pg-protocol builds it: a DatabaseError with a severity and a SQLSTATE. */
const pgError = (sqlstate: string) =>
  Object.assign(new pg.DatabaseError(`pg ${sqlstate}`, 0, 'error'), { severity: 'ERROR', code: sqlstate });
const copyRejected = (sqlstate: string) =>
  new DataError('account: PostgreSQL rejected the data', { cause: pgError(sqlstate) });

interface Case {
  /** The row that must decide. */
  row: string;
  err: unknown;
  at?: Stage;
  /** The lookup a call makes for itself (retry, re-login); otherwise the caller's, after the call's retries. */
  call?: boolean;
  action: Action | undefined;
  exit?: number;
}

const cases: [string, Case][] = [
  [
    'token endpoint 503',
    { row: 'login-transient', err: api(503, 'ERROR_HTTP_503'), at: 'login', call: true, action: 'retry' },
  ],
  [
    'token endpoint 429',
    { row: 'login-transient', err: api(429, 'ERROR_HTTP_429'), at: 'login', call: true, action: 'retry' },
  ],
  [
    'token endpoint 501 (any 5xx)',
    { row: 'login-transient', err: api(501, 'ERROR_HTTP_501'), at: 'login', call: true, action: 'retry' },
  ],
  [
    'token endpoint invalid_grant',
    { row: 'login-refused', err: api(400, 'invalid_grant'), at: 'login', call: true, action: undefined },
  ],
  [
    'token endpoint 406 (not retried at login)',
    { row: 'login-refused', err: api(406, 'ERROR_HTTP_406'), at: 'login', call: true, action: undefined },
  ],
  [
    'resultPages 404',
    { row: 'result-pages-missing', err: api(404, 'NOT_FOUND'), at: 'resultPages', action: 'sequential-pages' },
  ],
  [
    'resultPages reply of an unknown shape',
    {
      row: 'result-pages-unknown-shape',
      err: new DataError('no resultPages array'),
      at: 'resultPages',
      action: 'sequential-pages',
    },
  ],
  [
    'resultPages 409 is an error',
    { row: 'salesforce-other', err: api(409, 'ERROR_HTTP_409'), at: 'resultPages', action: 'fail-object', exit: 1 },
  ],
  [
    'duplicate key in a direct COPY',
    { row: 'direct-copy-duplicate', err: copyRejected('23505'), at: 'directCopy', action: 'merge-instead' },
  ],
  [
    'raw duplicate key in a direct COPY',
    { row: 'direct-copy-duplicate', err: pgError('23505'), at: 'directCopy', action: 'merge-instead' },
  ],
  [
    'another rejection in a direct COPY',
    { row: 'data', err: copyRejected('22P02'), at: 'directCopy', action: 'fail-object' },
  ],
  ['duplicate key elsewhere', { row: 'data', err: copyRejected('23505'), action: 'fail-object', exit: 1 }],
  [
    '401 INVALID_SESSION_ID',
    { row: 'session-expired', err: api(401, 'INVALID_SESSION_ID'), call: true, action: 'reauth' },
  ],
  [
    '401 INVALID_SESSION_ID after the re-login',
    { row: 'salesforce-other', err: api(401, 'INVALID_SESSION_ID'), action: 'fail-object', exit: 1 },
  ],
  [
    '403 REQUEST_LIMIT_EXCEEDED',
    { row: 'request-limit', err: api(403, 'REQUEST_LIMIT_EXCEEDED'), action: 'stop-run', exit: 4 },
  ],
  [
    '503 REQUEST_LIMIT_EXCEEDED is not retried',
    { row: 'request-limit', err: api(503, 'REQUEST_LIMIT_EXCEEDED'), call: true, action: undefined },
  ],
  ['400 INVALIDENTITY', { row: 'bulk-refused', err: api(400, 'INVALIDENTITY'), action: 'rest-fallback', exit: 1 }],
  ['400 API_ERROR', { row: 'bulk-refused', err: api(400, 'API_ERROR'), action: 'rest-fallback' }],
  ['500 API_ERROR is no refusal', { row: 'salesforce-other', err: api(500, 'API_ERROR'), action: 'fail-object' }],
  [
    '400 refusal said in prose',
    {
      row: 'bulk-refused-text',
      err: api(400, 'MALFORMED_QUERY', 'Compound data not supported in Bulk Query'),
      action: 'rest-fallback',
    },
  ],
  ['400 MALFORMED_QUERY', { row: 'not-retryable', err: api(400, 'MALFORMED_QUERY'), action: 'fail-object', exit: 1 }],
  [
    '400 MALFORMED_QUERY, as the call sees it',
    { row: 'not-retryable', err: api(400, 'MALFORMED_QUERY'), call: true, action: undefined },
  ],
  ['404 NOT_FOUND', { row: 'not-retryable', err: api(404, 'NOT_FOUND'), action: 'fail-object' }],
  [
    '400 UNABLE_TO_LOCK_ROW',
    { row: 'transient-code', err: api(400, 'UNABLE_TO_LOCK_ROW'), call: true, action: 'retry' },
  ],
  [
    '503 SERVER_UNAVAILABLE',
    { row: 'transient-code', err: api(503, 'SERVER_UNAVAILABLE'), call: true, action: 'retry' },
  ],
  ['503', { row: 'transient-status', err: api(503, 'ERROR_HTTP_503'), call: true, action: 'retry' }],
  ['420', { row: 'transient-status', err: api(420, 'ERROR_HTTP_420'), call: true, action: 'retry' }],
  [
    '503 once the tries are spent',
    { row: 'salesforce-other', err: api(503, 'ERROR_HTTP_503'), action: 'fail-object', exit: 1 },
  ],
  ['ECONNRESET', { row: 'connection-dropped', err: socket('ECONNRESET'), call: true, action: 'retry' }],
  [
    'Z_BUF_ERROR',
    { row: 'connection-dropped', err: socket('Z_BUF_ERROR', 'unexpected end of file'), call: true, action: 'retry' },
  ],
  [
    'ECONNRESET wrapped by SalesforceHttp (status 0)',
    { row: 'connection-dropped', err: api(0, 'ECONNRESET'), call: true, action: 'retry' },
  ],
  [
    'no response in time (SFSYNC_HTTP_TIMEOUT_SECONDS) or a stalled body, from SalesforceHttp',
    { row: 'timed-out', err: api(0, 'ETIMEDOUT'), call: true, action: 'retry' },
  ],
  ['ETIMEDOUT from the socket', { row: 'timed-out', err: socket('ETIMEDOUT'), call: true, action: 'retry' }],
  ['ETIMEDOUT once the tries are spent', { row: 'other', err: socket('ETIMEDOUT'), action: 'fail-object', exit: 1 }],
  ['ECONNRESET once the tries are spent', { row: 'other', err: socket('ECONNRESET'), action: 'fail-object', exit: 1 }],
  ['ENOTFOUND', { row: 'other', err: socket('ENOTFOUND'), call: true, action: undefined }],
  [
    'a body that broke off',
    { row: 'body-aborted', err: socket('ERR_BAD_RESPONSE', 'stream has been aborted'), call: true, action: 'retry' },
  ],
  [
    'another bad response',
    { row: 'other', err: socket('ERR_BAD_RESPONSE', 'Request failed'), call: true, action: undefined },
  ],
  ['400 QUERY_TIMEOUT', { row: 'query-timeout', err: api(400, 'QUERY_TIMEOUT'), action: 'halve-window', exit: 1 }],
  [
    '500 QUERY_TIMEOUT: retried first',
    { row: 'transient-status', err: api(500, 'QUERY_TIMEOUT'), call: true, action: 'retry' },
  ],
  ['500 QUERY_TIMEOUT: then halved', { row: 'query-timeout', err: api(500, 'QUERY_TIMEOUT'), action: 'halve-window' }],
  [
    'QUERY_TIMEOUT on SELECT COUNT()',
    { row: 'count-timeout', err: api(400, 'QUERY_TIMEOUT'), at: 'count', action: 'unknown-size', exit: 1 },
  ],
  [
    'QUERY_TIMEOUT on SELECT COUNT(), as the call sees it',
    { row: 'count-timeout', err: api(400, 'QUERY_TIMEOUT'), at: 'count', call: true, action: undefined },
  ],
  [
    'another error on SELECT COUNT()',
    { row: 'not-retryable', err: api(400, 'INVALID_FIELD'), at: 'count', action: 'fail-object' },
  ],
  ['414 URI too long', { row: 'uri-too-long', err: api(414, 'URI_TOO_LONG'), action: 'fail-object', exit: 1 }],
  [
    '431 headers too long, as the call sees it',
    { row: 'uri-too-long', err: api(431, 'ERROR_HTTP_431'), call: true, action: undefined },
  ],
  [
    'INVALID_REPLICATION_DATE',
    { row: 'deleted-window-refused', err: api(400, 'INVALID_REPLICATION_DATE'), action: 'reconcile' },
  ],
  [
    'EXCEEDED_ID_LIMIT',
    { row: 'deleted-window-refused', err: api(400, 'EXCEEDED_ID_LIMIT'), action: 'reconcile', exit: 1 },
  ],
  [
    'getDeleted on an object that is not replicateable (400 INVALID_TYPE)',
    { row: 'deleted-call-refused', err: api(400, 'INVALID_TYPE'), at: 'getDeleted', action: 'reconcile', exit: 1 },
  ],
  [
    'getDeleted 403 INSUFFICIENT_ACCESS',
    { row: 'deleted-call-refused', err: api(403, 'INSUFFICIENT_ACCESS'), at: 'getDeleted', action: 'reconcile' },
  ],
  [
    'getDeleted 404 NOT_FOUND',
    { row: 'deleted-call-refused', err: api(404, 'NOT_FOUND'), at: 'getDeleted', action: 'reconcile' },
  ],
  [
    'getDeleted INVALID_REPLICATION_DATE',
    { row: 'deleted-call-refused', err: api(400, 'INVALID_REPLICATION_DATE'), at: 'getDeleted', action: 'reconcile' },
  ],
  [
    'getDeleted 403 REQUEST_LIMIT_EXCEEDED still stops the run',
    { row: 'request-limit', err: api(403, 'REQUEST_LIMIT_EXCEEDED'), at: 'getDeleted', action: 'stop-run', exit: 4 },
  ],
  [
    'getDeleted 429: the call (which knows no stage) retries it',
    { row: 'transient-status', err: api(429, 'ERROR_HTTP_429'), call: true, action: 'retry' },
  ],
  [
    'getDeleted 429 once the tries are spent',
    { row: 'deleted-call-refused', err: api(429, 'ERROR_HTTP_429'), at: 'getDeleted', action: 'reconcile' },
  ],
  [
    'getDeleted 500 once the tries are spent fails the object',
    { row: 'salesforce-other', err: api(500, 'ERROR_HTTP_500'), at: 'getDeleted', action: 'fail-object', exit: 1 },
  ],
  [
    'INVALID_TYPE elsewhere than getDeleted still fails the object',
    { row: 'not-retryable', err: api(400, 'INVALID_TYPE'), action: 'fail-object', exit: 1 },
  ],
  ['409', { row: 'salesforce-other', err: api(409, 'ERROR_HTTP_409'), call: true, action: undefined }],
  [
    'Bulk job Failed',
    {
      row: 'bulk-job-failed',
      err: new BulkJobError('750x', 'Failed', 'ended Failed'),
      action: 'halve-window',
      exit: 1,
    },
  ],
  [
    'Bulk job Aborted',
    { row: 'bulk-job-other', err: new BulkJobError('750x', 'Aborted', 'ended Aborted'), action: 'fail-object' },
  ],
  [
    'Bulk job Timeout',
    {
      row: 'bulk-job-other',
      err: new BulkJobError('750x', 'Timeout', 'still InProgress'),
      action: 'fail-object',
      exit: 1,
    },
  ],
  [
    'Pub/Sub UNAUTHENTICATED',
    {
      row: 'pubsub-auth',
      err: new PubSubError('UNAUTHENTICATED', 'sfdc.platform.eventbus.grpc.service.auth.error', 'auth'),
      call: true,
      action: 'reauth',
    },
  ],
  [
    'Pub/Sub UNAUTHENTICATED after the re-logins',
    {
      row: 'pubsub-other',
      err: new PubSubError('UNAUTHENTICATED', 'sfdc.platform.eventbus.grpc.service.auth.error', 'auth'),
      action: 'fail-run',
      exit: 1,
    },
  ],
  [
    'Pub/Sub replay id expired',
    {
      row: 'pubsub-replay-invalid',
      err: new PubSubError(
        'INVALID_ARGUMENT',
        'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted',
        'x',
      ),
      action: 'resubscribe-latest',
      exit: 1,
    },
  ],
  [
    'Pub/Sub delivery allocation spent',
    {
      row: 'pubsub-delivery-limit',
      err: new PubSubError('RESOURCE_EXHAUSTED', 'sfdc.platform.eventbus.grpc.subscription.limit.exceeded', 'x'),
      action: 'stop-run',
      exit: 4,
    },
  ],
  [
    'Pub/Sub endpoint certificate not trusted',
    {
      row: 'pubsub-tls',
      err: new PubSubError('TLS_VERIFICATION', undefined, 'x'),
      action: 'stop-run',
      exit: 2,
    },
  ],
  [
    'Pub/Sub stream silent past the keepalive',
    {
      row: 'pubsub-transient',
      err: new PubSubError('KEEPALIVE_TIMEOUT', undefined, 'x'),
      action: 'reconnect',
      exit: 1,
    },
  ],
  [
    'Pub/Sub UNAVAILABLE',
    {
      row: 'pubsub-transient',
      err: new PubSubError('UNAVAILABLE', 'sfdc.platform.eventbus.grpc.service.unavailable', 'x'),
      action: 'reconnect',
      exit: 1,
    },
  ],
  [
    'Pub/Sub topic not found',
    {
      row: 'pubsub-other',
      err: new PubSubError('NOT_FOUND', 'sfdc.platform.eventbus.grpc.topic.notfound', 'x'),
      action: 'fail-run',
      exit: 1,
    },
  ],
  ['ConfigError', { row: 'config', err: new ConfigError('SF_CLIENT_ID is required'), action: 'fail-run', exit: 2 }],
  ['AuthError', { row: 'auth', err: new AuthError('invalid_grant', 'login refused'), action: 'fail-run', exit: 3 }],
  ['BudgetError', { row: 'budget', err: new BudgetError('API budget: DailyApiRequests'), action: 'stop-run', exit: 4 }],
  [
    'InterruptedError',
    { row: 'interrupted', err: new InterruptedError('interrupted by SIGINT'), action: 'fail-run', exit: 1 },
  ],
  [
    'DatabaseUnavailableError',
    {
      row: 'database',
      err: new DatabaseUnavailableError('cannot use PostgreSQL', { cause: pgError('28P01') }),
      action: 'fail-run',
      exit: 1,
    },
  ],
  [
    'EmbeddedPostgresError',
    { row: 'database', err: new EmbeddedPostgresError('cannot start'), action: 'fail-run', exit: 1 },
  ],
  [
    'LockedError',
    {
      row: 'locked',
      err: new LockedError('another sfsync process is loading Account'),
      action: 'fail-object',
      exit: 1,
    },
  ],
  ['DataError', { row: 'data', err: new DataError('header mismatch'), action: 'fail-object', exit: 1 }],
  [
    'WorkerError',
    { row: 'worker', err: new WorkerError('the REST page worker stopped'), action: 'fail-object', exit: 1 },
  ],
  [
    'ObjectsFailedError',
    { row: 'objects-failed', err: new ObjectsFailedError('Account: boom'), action: 'fail-run', exit: 1 },
  ],
  [
    'VerifyMismatchError',
    { row: 'verify', err: new VerifyMismatchError('verify found mismatches in Account'), action: 'fail-run', exit: 1 },
  ],
  ['CheckFailedError', { row: 'check', err: new CheckFailedError('login failed'), action: 'fail-run', exit: 1 }],
  [
    'PushRowsFailedError',
    { row: 'push-failed', err: new PushRowsFailedError('3 of 10 rows failed'), action: 'fail-run', exit: 1 },
  ],
  ['PostgreSQL 22P02', { row: 'postgres-data', err: pgError('22P02'), action: 'fail-object', exit: 1 }],
  ['PostgreSQL 23502', { row: 'postgres-data', err: pgError('23502'), action: 'fail-object' }],
  ['PostgreSQL 08006', { row: 'postgres-connection', err: pgError('08006'), action: 'fail-object', exit: 1 }],
  ['PostgreSQL 40P01', { row: 'postgres-other', err: pgError('40P01'), action: 'fail-object', exit: 1 }],
  ['a plain Error', { row: 'other', err: new Error('boom'), action: 'fail-object', exit: 1 }],
  ['a generic SfsyncError', { row: 'other', err: new SfsyncError('X', 'x'), action: 'fail-object', exit: 1 }],
  ['a thrown string', { row: 'other', err: 'boom', action: 'fail-object', exit: 1 }],
];

describe('the error table (lib/errorActions.ts)', () => {
  it.each(cases)('%s', (_what, c) => {
    expect(rowFor(c.err, c.at, !c.call).id).toBe(c.row);
    if (c.call) expect(callActionFor(c.err, c.at)).toBe(c.action);
    else expect(actionFor(c.err, c.at)).toBe(c.action);
    if (c.exit !== undefined) {
      expect(exitCodeOf(c.err)).toBe(c.exit);
      expect(exitCodeOfError(c.err)).toBe(c.exit);
    }
  });

  it('has a case for every row, and every case names a row (a removed or added row fails here)', () => {
    const ids = ERROR_TABLE.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...new Set(cases.map(([, c]) => c.row))].sort()).toEqual([...ids].sort());
  });

  it('ends with a row that matches anything, so every error has an action and an exit code', () => {
    const last = ERROR_TABLE[ERROR_TABLE.length - 1]!;
    expect(last.when).toEqual({ kind: 'any' });
    expect('exit' in last).toBe(true);
  });

  it("names each local kind's class as lib/errors.ts raises it", () => {
    const samples = [
      new ConfigError('x'),
      new AuthError('x', 'x'),
      new BudgetError('x'),
      new InterruptedError('x'),
      new DatabaseUnavailableError('x'),
      new LockedError('x'),
      new DataError('x'),
      new WorkerError('x'),
      new ObjectsFailedError('x'),
      new VerifyMismatchError('x'),
      new CheckFailedError('x'),
      new PushRowsFailedError('x'),
    ];
    expect(Object.fromEntries(samples.map((e) => [e.kind, e.name]))).toEqual(LOCAL_ERRORS);
    expect(new EmbeddedPostgresError('x').kind).toBe('database');
  });

  it('keeps the codes the loose strings had', () => {
    expect(new ObjectsFailedError('x').code).toBe('PARTIAL');
    expect(new VerifyMismatchError('x').code).toBe('VERIFY');
    expect(new WorkerError('x').code).toBe('WORKER');
    expect(new DatabaseUnavailableError('x').code).toBe('DATABASE');
    expect(new EmbeddedPostgresError('x').code).toBe('EMBEDDED_POSTGRES');
    expect(new InterruptedError('x').code).toBe('INTERRUPTED');
  });

  it('gives each error its exit code from the table', () => {
    expect(new ConfigError('x').exitCode).toBe(2);
    expect(new AuthError('x', 'x').exitCode).toBe(3);
    expect(new BudgetError('x').exitCode).toBe(4);
    expect(new ObjectsFailedError('x').exitCode).toBe(1);
  });

  it('is what README.md shows between the error-table markers (npm run docs:errors rewrites it)', () => {
    expect(readmeErrorTable(readFileSync(README, 'utf8'))).toBe(renderErrorTable());
  });
});
