// From an error to what sfsync does about it, as one table of data. Each row names a kind of error (a Salesforce
// answer by HTTP status and errorCode, a dropped connection, a Bulk API 2.0 job's end state, a PostgreSQL SQLSTATE,
// or one of sfsync's own errors), the action taken and the exit code of a command that ends on it. The first row
// that matches decides. Every decision point asks this table (actionFor, callActionFor, exitCodeOf) instead of
// testing codes itself; README.md's error table is rendered from the rows (npm run docs:errors) and a unit test
// keeps the two equal. No runtime imports: lib/errors.ts reads this module, not the other way round.
import type { SfsyncError } from './errors.ts';

/** Done on the spot by the code that made the call (SalesforceHttp, the login, a Bulk result page), then repeated. */
export type CallAction = 'retry' | 'reauth';

/** Done by the caller with an error that reached it, the call's own retries spent. */
export type CallerAction =
  | 'halve-window'
  | 'unknown-size'
  | 'rest-fallback'
  | 'reconcile'
  | 'sequential-pages'
  | 'merge-instead'
  | 'reconnect'
  | 'resubscribe-latest'
  | 'stop-run'
  | 'fail-object'
  | 'fail-run';

export type Action = CallAction | CallerAction;

/** What each action means, in the README's words. */
export const ACTIONS: Readonly<Record<Action, string>> = {
  retry:
    'repeat the call after a backoff with jitter (a `Retry-After` header is honoured), ' +
    'up to 5 tries with at most 5 minutes of waiting between them (each try bounded by the timeouts); ' +
    'a call that creates something (a Bulk job) only on 429 and 503. Once the tries are spent, the first row below ' +
    'that matches decides',
  reauth:
    'log in again (one login shared by every object in flight) and repeat the call with the new session; ' +
    'a call does so at most 3 times and the run logs in again at most 3 times a minute, then the call fails',
  'halve-window': 'retry the cursor window as two halves, up to three times (an eighth of it), then fail the object',
  'unknown-size':
    'load without the count: the cursor windows are cut by time from the earliest cursor value, not by record ' +
    'count, and the log says so',
  'rest-fallback': 'run the same query through the REST query resource instead of Bulk API 2.0',
  reconcile: 'flag the object for an Id reconciliation, which finds the deletes getDeleted could not give',
  'sequential-pages': 'read the Bulk result pages one after the other (`Sforce-Locator`) instead of several at once',
  'merge-instead': 'load the window through a stage and a merge instead of a COPY straight into the table',
  reconnect:
    '`sfsync stream`: subscribe again after a backoff with jitter (at most 5 minutes), from the last replay id ' +
    'committed; after 10 failures in a row with no event or keepalive between them the command stops',
  'resubscribe-latest':
    '`sfsync stream`: subscribe from the newest event (LATEST), run an incremental sync of the object to cover the ' +
    'time before, then apply the events received meanwhile (a platform event topic starts from its earliest ' +
    'retained event instead: nothing can re-read lost events)',
  'stop-run':
    'start no further object or window: the run is partial; what was committed stays, ' +
    'and the next run goes on from there',
  'fail-object': 'that object fails, its rows and watermark stay as they were, the other objects go on',
  'fail-run': 'the command stops with this error',
};

/** Exit codes of the CLI (cli/main.ts). 0 is not in the table: it is the absence of an error. */
export const EXIT_CODES = {
  0: 'success',
  1: 'an object failed (the others were done), or the command failed',
  2: 'bad settings (environment, flags, config file)',
  3: 'login refused, or the private key cannot be used',
  4: 'partial run: the API budget stopped it',
} as const;

export type ExitCode = Exclude<keyof typeof EXIT_CODES, 0>;

/** The few places where an error means something it does not mean elsewhere. */
export type Stage = 'login' | 'resultPages' | 'directCopy' | 'count' | 'getDeleted';

export const STAGES: Readonly<Record<Stage, string>> = {
  login: 'from the token endpoint',
  resultPages: 'listing the result pages of a Bulk job',
  count: 'sizing a load with `SELECT COUNT()`',
  directCopy: "an initial load's COPY straight into the table",
  getDeleted: 'from getDeleted',
};

/** sfsync's own errors (lib/errors.ts), by their `kind`. */
export type LocalKind =
  | 'config'
  | 'auth'
  | 'budget'
  | 'interrupted'
  | 'database'
  | 'locked'
  | 'data'
  | 'worker'
  | 'objects-failed'
  | 'verify'
  | 'check'
  | 'push-failed';

/** The class each local kind is raised as (a unit test checks that they agree). */
export const LOCAL_ERRORS: Readonly<Record<LocalKind, string>> = {
  config: 'ConfigError',
  auth: 'AuthError',
  budget: 'BudgetError',
  interrupted: 'InterruptedError',
  database: 'DatabaseUnavailableError',
  locked: 'LockedError',
  data: 'DataError',
  worker: 'WorkerError',
  'objects-failed': 'ObjectsFailedError',
  verify: 'VerifyMismatchError',
  check: 'CheckFailedError',
  'push-failed': 'PushRowsFailedError',
};

/** The `kind` of an SfsyncError: a local kind, a Salesforce answer, a Bulk job's end, a Pub/Sub failure, or 'other'. */
export type ErrorKind = LocalKind | 'salesforce' | 'bulk-job' | 'pubsub' | 'other';

/** An HTTP status, or '4xx' / '5xx' for 400-499 / 500-599. */
export type Status = number | '4xx' | '5xx';

/** What a row matches. Unset fields match anything; a row with `at` matches only at that stage. */
export type Match = (
  | { kind: 'salesforce'; status?: readonly Status[]; errorCode?: readonly string[]; message?: RegExp }
  | { kind: 'network'; code: readonly string[]; message?: RegExp }
  | { kind: 'bulk-job'; state?: readonly string[] }
  /** A Pub/Sub API failure: gRPC status name and `error-code` trailer (docs/salesforce.md#pubsub-api-errors). */
  | { kind: 'pubsub'; status?: readonly string[]; errorCode?: readonly string[] }
  /** A PostgreSQL error, or an sfsync error caused by one; each entry is a class ('22') or a code ('23505'). */
  | { kind: 'postgres'; sqlstate?: readonly string[] }
  | { kind: LocalKind }
  | { kind: 'any' }
) & { at?: Stage };

interface RowBase {
  /** Stable name of the row, for tests. */
  id: string;
  when: Match;
  /** Why this action: one clause for the README. */
  why: string;
  /** The topic of docs/salesforce.md that describes the Salesforce behaviour (its anchor). */
  see?: string;
}

export type ErrorRow = (RowBase & { action: CallAction }) | (RowBase & { action: CallerAction; exit: ExitCode });

/**
 * Bulk API 2.0 says in prose, not always by errorCode, that it cannot run a query (compound fields, some objects:
 * docs/salesforce.md#bulk-api-20-soql-restrictions).
 */
const BULK_REFUSAL_TEXT = new RegExp(
  [
    'not supported by the Bulk API',
    'compound data not supported',
    'does not support query',
    'Implementation restriction',
    'not supported in Bulk',
  ].join('|'),
  'i',
);

/**
 * The table. Order matters: the first matching row decides. Rows bound to a stage come first; then Salesforce
 * answers, where the errorCodes a retry cannot fix come before the retried statuses, and the outcomes that follow
 * spent retries (halve, reconcile) after them, so a 500 QUERY_TIMEOUT is retried first and then halved.
 * Statuses and codes: docs/salesforce.md#http-statuses, #error-codes, #retries.
 */
export const ERROR_TABLE: readonly ErrorRow[] = [
  {
    id: 'login-transient',
    see: 'oauth-token-endpoint',
    when: { kind: 'salesforce', at: 'login', status: ['5xx', 429] },
    action: 'retry',
    why: 'the login server is busy or down (4 tries within a minute)',
  },
  {
    id: 'login-refused',
    see: 'oauth-token-endpoint',
    when: { kind: 'salesforce', at: 'login' },
    action: 'fail-run',
    exit: 3,
    why: 'the token endpoint refused the credentials (`invalid_grant`, ...): an AuthError',
  },
  {
    id: 'result-pages-missing',
    see: 'bulk-api-20-parallel-results',
    when: { kind: 'salesforce', at: 'resultPages', status: [404] },
    action: 'sequential-pages',
    exit: 1,
    why: 'no `resultPages` resource (API before 58.0, or an org or proxy without it)',
  },
  {
    id: 'result-pages-unknown-shape',
    see: 'bulk-api-20-parallel-results',
    when: { kind: 'data', at: 'resultPages' },
    action: 'sequential-pages',
    exit: 1,
    why: 'a `resultPages` reply of a shape Salesforce does not document: nothing is guessed',
  },
  {
    id: 'count-timeout',
    see: 'select-count',
    when: { kind: 'salesforce', at: 'count', errorCode: ['QUERY_TIMEOUT'] },
    action: 'unknown-size',
    exit: 1,
    why: 'counting a very large object ran too long; the load itself can still run, in smaller pieces',
  },
  {
    id: 'direct-copy-duplicate',
    when: { kind: 'postgres', at: 'directCopy', sqlstate: ['23505'] },
    action: 'merge-instead',
    exit: 1,
    why: 'a record changed while the load ran came back in a later window',
  },
  {
    id: 'session-expired',
    see: 'oauth-session-expiry',
    when: { kind: 'salesforce', status: [401], errorCode: ['INVALID_SESSION_ID'] },
    action: 'reauth',
    why: 'the session expired or was revoked; still refused after the re-logins allowed, the object fails',
  },
  {
    id: 'request-limit',
    see: 'limits',
    when: { kind: 'salesforce', errorCode: ['REQUEST_LIMIT_EXCEEDED'] },
    action: 'stop-run',
    exit: 4,
    why: "the org's daily API allowance is spent: a retry would only burn what is left",
  },
  {
    // After request-limit (403 REQUEST_LIMIT_EXCEEDED still stops the run), before the rows that fail an object on an
    // errorCode: getDeleted refuses objects that are not replicateable (400 INVALID_TYPE), and may refuse for access or
    // other reasons. None of that is a broken sync: the deletes are found by Id reconciliation instead.
    id: 'deleted-call-refused',
    see: 'getdeleted',
    when: { kind: 'salesforce', at: 'getDeleted', status: ['4xx'] },
    action: 'reconcile',
    exit: 1,
    why: 'getDeleted cannot answer for this object or window (not replicateable, no access, a refused window)',
  },
  {
    id: 'bulk-refused',
    see: 'bulk-api-20-soql-restrictions',
    when: {
      kind: 'salesforce',
      status: [400],
      errorCode: ['INVALIDENTITY', 'INVALIDJOB', 'FEATURENOTENABLED', 'FUNCTIONALITY_NOT_ENABLED', 'API_ERROR'],
    },
    action: 'rest-fallback',
    exit: 1,
    why: 'Bulk API 2.0 refused the object or the query',
  },
  {
    id: 'bulk-refused-text',
    see: 'bulk-api-20-soql-restrictions',
    when: { kind: 'salesforce', status: [400], message: BULK_REFUSAL_TEXT },
    action: 'rest-fallback',
    exit: 1,
    why: 'Bulk API 2.0 refused the query, said in its message whatever the errorCode',
  },
  {
    id: 'not-retryable',
    see: 'retries',
    when: {
      kind: 'salesforce',
      errorCode: ['MALFORMED_QUERY', 'INVALID_FIELD', 'INVALID_TYPE', 'INVALID_QUERY_LOCATOR', 'NOT_FOUND'],
    },
    action: 'fail-object',
    exit: 1,
    why: 'a retry cannot fix it, whatever the status',
  },
  {
    id: 'uri-too-long',
    see: 'uri-length',
    when: { kind: 'salesforce', status: [414, 431] },
    action: 'fail-object',
    exit: 1,
    why:
      'the request is longer than Salesforce accepts; sfsync sends no such request (it refuses it before sending), ' +
      'as it reads wide deltas through Bulk API 2.0',
  },
  {
    id: 'transient-code',
    see: 'retries',
    when: { kind: 'salesforce', errorCode: ['SERVER_UNAVAILABLE', 'UNABLE_TO_LOCK_ROW'] },
    action: 'retry',
    why: 'transient whatever the status',
  },
  {
    id: 'transient-status',
    see: 'http-statuses',
    when: { kind: 'salesforce', status: [406, 420, 429, 500, 502, 503, 504] },
    action: 'retry',
    why: 'the statuses the reference clients (Airbyte) retry',
  },
  {
    id: 'timed-out',
    see: 'timeouts',
    when: { kind: 'network', code: ['ETIMEDOUT'] },
    action: 'retry',
    why:
      'no response within `SFSYNC_HTTP_TIMEOUT_SECONDS`, or a body that sent nothing for ' +
      '`SFSYNC_IDLE_TIMEOUT_SECONDS`: the request is sent again, a Bulk result page at the same locator',
  },
  {
    id: 'connection-dropped',
    see: 'retries',
    when: {
      kind: 'network',
      code: ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'Z_BUF_ERROR'],
    },
    action: 'retry',
    why:
      'the connection dropped or timed out (`Z_BUF_ERROR`: a gzip body cut short); a Bulk result page is ' +
      're-requested at the same locator',
  },
  {
    id: 'body-aborted',
    see: 'retries',
    when: { kind: 'network', code: ['ERR_BAD_RESPONSE'], message: /^stream has been aborted$/ },
    action: 'retry',
    why: 'a response body broke off after its headers',
  },
  {
    id: 'query-timeout',
    see: 'error-codes',
    when: { kind: 'salesforce', errorCode: ['QUERY_TIMEOUT'] },
    action: 'halve-window',
    exit: 1,
    why: 'the query ran too long: try less at once',
  },
  {
    id: 'deleted-window-refused',
    see: 'getdeleted',
    when: { kind: 'salesforce', errorCode: ['INVALID_REPLICATION_DATE', 'EXCEEDED_ID_LIMIT'] },
    action: 'reconcile',
    exit: 1,
    why: 'getDeleted cannot answer for the time since the last check (too old, too many Ids)',
  },
  {
    id: 'salesforce-other',
    when: { kind: 'salesforce' },
    action: 'fail-object',
    exit: 1,
    why: 'any other answer',
  },
  {
    id: 'bulk-job-failed',
    see: 'bulk-api-20-job-states',
    when: { kind: 'bulk-job', state: ['Failed'] },
    action: 'halve-window',
    exit: 1,
    why: 'Salesforce gave up on the job (too many internal retries or timeouts): try less at once',
  },
  {
    id: 'bulk-job-other',
    see: 'bulk-api-20-job-states',
    when: { kind: 'bulk-job' },
    action: 'fail-object',
    exit: 1,
    why: 'aborted by someone, or still running after the wait limit (then sfsync aborts it)',
  },
  {
    id: 'pubsub-auth',
    see: 'pubsub-api-errors',
    when: { kind: 'pubsub', status: ['UNAUTHENTICATED'] },
    action: 'reauth',
    why: 'the session expired or was revoked; `sfsync stream` subscribes again with the new one',
  },
  {
    id: 'pubsub-replay-invalid',
    see: 'replay-ids',
    when: {
      kind: 'pubsub',
      errorCode: [
        'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted',
        'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed',
      ],
    },
    action: 'resubscribe-latest',
    exit: 1,
    why: 'the stored replay id is past the 72-hour retention (or corrupt): the events after it are lost',
  },
  {
    id: 'pubsub-delivery-limit',
    see: 'pubsub-api-errors',
    when: { kind: 'pubsub', errorCode: ['sfdc.platform.eventbus.grpc.subscription.limit.exceeded'] },
    action: 'stop-run',
    exit: 4,
    why: "the org's event delivery allocation is spent; a later `sfsync stream` resumes from the stored replay id",
  },
  {
    id: 'pubsub-tls',
    see: 'pubsub-api',
    when: { kind: 'pubsub', status: ['TLS_VERIFICATION'] },
    action: 'stop-run',
    exit: 2,
    why:
      "the endpoint's certificate is not trusted (or names another host): give its CA in NODE_EXTRA_CA_CERTS; " +
      'verification is never turned off',
  },
  {
    id: 'pubsub-transient',
    see: 'pubsub-api-errors',
    when: {
      kind: 'pubsub',
      status: [
        'UNAVAILABLE',
        'INTERNAL',
        'UNKNOWN',
        'DEADLINE_EXCEEDED',
        'RESOURCE_EXHAUSTED',
        'ABORTED',
        'CANCELLED',
        'KEEPALIVE_TIMEOUT',
        'STREAM_ENDED',
      ],
    },
    action: 'reconnect',
    exit: 1,
    why: 'the stream broke, fell silent past the keepalive, or the service is busy or down',
  },
  {
    id: 'pubsub-other',
    see: 'pubsub-api-errors',
    when: { kind: 'pubsub' },
    action: 'fail-run',
    exit: 1,
    why: 'a topic that does not exist (the object is not selected for Change Data Capture), no permission, ...',
  },
  { id: 'config', when: { kind: 'config' }, action: 'fail-run', exit: 2, why: 'a setting is missing or invalid' },
  {
    id: 'auth',
    when: { kind: 'auth' },
    action: 'fail-run',
    exit: 3,
    why: 'login refused, or the private key cannot be used; never retried',
  },
  {
    id: 'budget',
    when: { kind: 'budget' },
    action: 'stop-run',
    exit: 4,
    why: 'the API budget guard found a daily allowance used up to its share',
  },
  {
    id: 'interrupted',
    when: { kind: 'interrupted' },
    action: 'fail-run',
    exit: 1,
    why: 'SIGINT or SIGTERM: the transactions in flight roll back',
  },
  {
    id: 'database',
    when: { kind: 'database' },
    action: 'fail-run',
    exit: 1,
    why: 'PostgreSQL cannot be reached or migrated, or the embedded one does not start',
  },
  {
    id: 'locked',
    when: { kind: 'locked' },
    action: 'fail-object',
    exit: 1,
    why: 'another sfsync process is loading the object (skipped; `--wait-for-lock` waits instead)',
  },
  {
    id: 'data',
    when: { kind: 'data' },
    action: 'fail-object',
    exit: 1,
    why: 'data that cannot be loaded as-is (header mismatch, malformed CSV or JSON, a value PostgreSQL rejects)',
  },
  {
    id: 'worker',
    when: { kind: 'worker' },
    action: 'fail-object',
    exit: 1,
    why: 'the thread that parses REST pages failed',
  },
  {
    id: 'objects-failed',
    when: { kind: 'objects-failed' },
    action: 'fail-run',
    exit: 1,
    why: 'the run is over and at least one object failed: the first is named',
  },
  {
    id: 'verify',
    when: { kind: 'verify' },
    action: 'fail-run',
    exit: 1,
    why: "`sfsync verify` found counts or records that differ from Salesforce's",
  },
  {
    id: 'check',
    when: { kind: 'check' },
    action: 'fail-run',
    exit: 1,
    why: '`sfsync check` found a setting, permission or limit that stops a sync (each FAIL line names the fix)',
  },
  {
    id: 'push-failed',
    see: 'bulk-api-20-ingest',
    when: { kind: 'push-failed' },
    action: 'fail-run',
    exit: 1,
    why: '`sfsync push` sent every row but Salesforce refused some (per row in `sfsync.push_results`)',
  },
  {
    id: 'postgres-data',
    when: { kind: 'postgres', sqlstate: ['22', '23'] },
    action: 'fail-object',
    exit: 1,
    why: 'data exception or integrity violation: the data, not the connection, is at fault',
  },
  {
    id: 'postgres-connection',
    when: { kind: 'postgres', sqlstate: ['08'] },
    action: 'fail-object',
    exit: 1,
    why: "the connection broke: the object's transaction rolled back",
  },
  {
    id: 'postgres-other',
    when: { kind: 'postgres' },
    action: 'fail-object',
    exit: 1,
    why: 'any other PostgreSQL error; the transaction rolled back',
  },
  { id: 'other', when: { kind: 'any' }, action: 'fail-object', exit: 1, why: 'anything else' },
];

const SFSYNC_KINDS: ReadonlySet<string> = new Set([
  ...Object.keys(LOCAL_ERRORS),
  'salesforce',
  'bulk-job',
  'pubsub',
  'other',
]);

/** What the table needs to know of an error. */
export interface ErrorFacts {
  kind: ErrorKind | 'network' | 'postgres' | 'unknown';
  status?: number;
  errorCode?: string;
  /** The network (Node, axios) error code. */
  code?: string;
  message?: string;
  /** A Bulk job's end state. */
  state?: string;
  /** The SQLSTATE of a PostgreSQL error, the error's own or its cause's. */
  sqlstate?: string;
  /** A Pub/Sub failure's gRPC status name. */
  grpcStatus?: string;
}

/** pg's DatabaseError, told apart without importing pg: a five-character SQLSTATE and a severity. */
function sqlstateOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; severity?: unknown } | null | undefined;
  return typeof e?.severity === 'string' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)
    ? e.code
    : undefined;
}

const isSfsyncError = (err: unknown): err is SfsyncError =>
  err instanceof Error &&
  typeof (err as { kind?: unknown }).kind === 'string' &&
  SFSYNC_KINDS.has((err as SfsyncError).kind);

export function factsOf(err: unknown): ErrorFacts {
  const sqlstate = sqlstateOf(err) ?? sqlstateOf((err as { cause?: unknown } | null | undefined)?.cause);
  const withSqlstate = sqlstate === undefined ? {} : { sqlstate };
  if (isSfsyncError(err)) {
    if (err.kind === 'salesforce') {
      const e = err as unknown as { status: number; errorCode: string };
      // Status 0: no HTTP answer; the errorCode is the socket error's code (salesforceHttp.ts networkError).
      if (e.status === 0) return { kind: 'network', code: e.errorCode };
      return { kind: 'salesforce', status: e.status, errorCode: e.errorCode, message: err.message };
    }
    if (err.kind === 'bulk-job') return { kind: 'bulk-job', state: (err as unknown as { state: string }).state };
    if (err.kind === 'pubsub') {
      const e = err as unknown as { status: string; errorCode: string | undefined };
      return { kind: 'pubsub', grpcStatus: e.status, ...(e.errorCode !== undefined && { errorCode: e.errorCode }) };
    }
    return { kind: err.kind, ...withSqlstate };
  }
  if (sqlstate !== undefined) return { kind: 'postgres', sqlstate };
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') return { kind: 'network', code, ...(typeof message === 'string' && { message }) };
  return { kind: 'unknown' };
}

const statusIn = (statuses: readonly Status[], status: number | undefined) =>
  status !== undefined &&
  statuses.some((s) =>
    s === '5xx' ? status >= 500 && status <= 599 : s === '4xx' ? status >= 400 && status <= 499 : s === status,
  );
const oneOf = (values: readonly string[] | undefined, value: string | undefined) =>
  values === undefined || (value !== undefined && values.includes(value));
/** A row that reads the message never matches facts without one (a call classified by status and errorCode). */
const says = (pattern: RegExp | undefined, message: string | undefined) =>
  pattern === undefined || (message !== undefined && pattern.test(message));

export function matches(m: Match, f: ErrorFacts, at: Stage | undefined): boolean {
  if (m.at !== undefined && m.at !== at) return false;
  switch (m.kind) {
    case 'salesforce':
      return (
        f.kind === 'salesforce' &&
        (m.status === undefined || statusIn(m.status, f.status)) &&
        oneOf(m.errorCode, f.errorCode) &&
        says(m.message, f.message)
      );
    case 'network':
      return f.kind === 'network' && oneOf(m.code, f.code) && says(m.message, f.message);
    case 'bulk-job':
      return f.kind === 'bulk-job' && oneOf(m.state, f.state);
    case 'pubsub':
      return f.kind === 'pubsub' && oneOf(m.status, f.grpcStatus) && oneOf(m.errorCode, f.errorCode);
    case 'postgres': {
      const { sqlstate } = f;
      return sqlstate !== undefined && (m.sqlstate === undefined || m.sqlstate.some((s) => sqlstate.startsWith(s)));
    }
    case 'any':
      return true;
    default:
      return f.kind === m.kind;
  }
}

const isCallAction = (a: Action): a is CallAction => a === 'retry' || a === 'reauth';

/** The deciding row; `afterCall` skips retry/re-login rows (the call already did them). */
export function rowFor(err: unknown, at?: Stage, afterCall = true): ErrorRow {
  return rowForFacts(factsOf(err), at, afterCall);
}

function rowForFacts(f: ErrorFacts, at: Stage | undefined, afterCall: boolean): ErrorRow {
  const row = ERROR_TABLE.find((r) => !(afterCall && isCallAction(r.action)) && matches(r.when, f, at));
  // The table ends with a row matching anything.
  if (!row) throw new Error(`lib/errorActions.ts: no row for ${JSON.stringify(f)}`);
  return row;
}

function callerRow(f: ErrorFacts, at: Stage | undefined): Extract<ErrorRow, { exit: ExitCode }> {
  return rowForFacts(f, at, true) as Extract<ErrorRow, { exit: ExitCode }>;
}

/**
 * What the code that made a call does at once with its failure: retry it, log in again and repeat it, or nothing
 * (pass the error on to its caller).
 */
export function callActionFor(err: unknown, at?: Stage): CallAction | undefined {
  return callActionOf(factsOf(err), at);
}

/** callActionFor for an HTTP answer known by status and errorCode only. */
export function callActionForResponse(status: number, errorCode: string, at?: Stage): CallAction | undefined {
  return callActionOf({ kind: 'salesforce', status, errorCode }, at);
}

function callActionOf(f: ErrorFacts, at: Stage | undefined): CallAction | undefined {
  const { action } = rowForFacts(f, at, false);
  return isCallAction(action) ? action : undefined;
}

/** What a caller does with an error that reached it (the call's own retries, if any, spent), at `at`. */
export function actionFor(err: unknown, at?: Stage): CallerAction {
  return callerRow(factsOf(err), at).action;
}

/** The exit code of a command that ends with `err`. */
export function exitCodeOf(err: unknown): ExitCode {
  return callerRow(factsOf(err), undefined).exit;
}
