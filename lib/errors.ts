// The error taxonomy: every failure sfsync reports is one of these, and only the CLI turns one into text + exit code.
// What is done about each, and its exit code, is lib/errorActions.ts's table, found by the error's `kind`.
import { type ErrorKind, exitCodeOf as exitCodeFromTable } from './errorActions.ts';

export interface SfsyncErrorOptions {
  cause?: unknown;
}

export class SfsyncError extends Error {
  /** The table's name for this error (lib/errorActions.ts); each subclass sets its own. */
  readonly kind: ErrorKind = 'other';
  readonly code: string;

  constructor(code: string, message: string, opts: SfsyncErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
  }

  /** From the table (lib/errorActions.ts). */
  get exitCode(): number {
    return exitCodeFromTable(this);
  }
}

/** A setting is missing or invalid. The message names every problem and the variable or flag to fix. */
export class ConfigError extends SfsyncError {
  override readonly kind = 'config';
  constructor(message: string, opts: SfsyncErrorOptions = {}) {
    super('CONFIG', message, opts);
  }
}

/**
 * The token endpoint refused us, or the key/credentials cannot be used. Never retried, except a refusal the table
 * calls transient at login (`retryable`, set by extractors/client/auth.ts).
 */
export class AuthError extends SfsyncError {
  override readonly kind = 'auth';
  readonly retryable: boolean;
  constructor(code: string, message: string, opts: SfsyncErrorOptions & { retryable?: boolean } = {}) {
    super(code, message, opts);
    this.retryable = opts.retryable ?? false;
  }
}

export interface SalesforceApiErrorInit {
  status: number;
  errorCode: string;
  method: string;
  url: string;
  /** The table's answer for the call (lib/errorActions.ts callActionFor), kept with the error. */
  retryable?: boolean;
  retryAfterMs?: number;
}

/** A REST or Bulk API call failed; errorCode is Salesforce's (docs/salesforce.md#error-bodies, #error-codes). */
export class SalesforceApiError extends SfsyncError {
  override readonly kind = 'salesforce';
  readonly retryable: boolean;
  readonly status: number;
  readonly errorCode: string;
  readonly method: string;
  readonly url: string;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, init: SalesforceApiErrorInit, opts: SfsyncErrorOptions = {}) {
    super(init.errorCode, message, opts);
    this.retryable = init.retryable ?? false;
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.method = init.method;
    this.url = init.url;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** A Bulk API 2.0 job ended Failed or Aborted, or outlived the wait (state 'Timeout'); the table reads `state`. */
export class BulkJobError extends SfsyncError {
  override readonly kind = 'bulk-job';
  constructor(
    readonly jobId: string,
    readonly state: string,
    message: string,
    opts: SfsyncErrorOptions = {},
  ) {
    super('BULK_JOB_' + state.toUpperCase(), message, opts);
  }
}

/** Data from the server cannot be loaded as-is (header mismatch, malformed CSV/JSON, value rejected). */
export class DataError extends SfsyncError {
  override readonly kind = 'data';
  constructor(message: string, opts: SfsyncErrorOptions = {}) {
    super('DATA', message, opts);
  }
}

/** Another process holds the object's advisory lock. */
export class LockedError extends SfsyncError {
  override readonly kind = 'locked';
  constructor(message: string) {
    super('LOCKED', message);
  }
}

/** The daily API budget guard stopped work at a committed point: a partial run, exit code 4. */
export class BudgetError extends SfsyncError {
  override readonly kind = 'budget';
  constructor(message: string) {
    super('BUDGET', message);
  }
}

/** SIGINT or SIGTERM stopped the work (the abort reason of the run's signal). */
export class InterruptedError extends SfsyncError {
  override readonly kind = 'interrupted';
  constructor(message: string) {
    super('INTERRUPTED', message);
  }
}

/** PostgreSQL cannot be reached or migrated at the start of a command. */
export class DatabaseUnavailableError extends SfsyncError {
  override readonly kind = 'database';
  constructor(message: string, opts: SfsyncErrorOptions = {}) {
    super('DATABASE', message, opts);
  }
}

/** The embedded PostgreSQL (no DATABASE_URL) does not start. */
export class EmbeddedPostgresError extends SfsyncError {
  override readonly kind = 'database';
  constructor(message: string, opts: SfsyncErrorOptions = {}) {
    super('EMBEDDED_POSTGRES', message, opts);
  }
}

/** The thread that parses REST pages failed or stopped, or its reader was used after closing. */
export class WorkerError extends SfsyncError {
  override readonly kind = 'worker';
  constructor(message: string, opts: SfsyncErrorOptions = {}) {
    super('WORKER', message, opts);
  }
}

/** A run (sync, backfill, reconcile) is over and at least one object failed; the message names the first. */
export class ObjectsFailedError extends SfsyncError {
  override readonly kind = 'objects-failed';
  constructor(message: string) {
    super('PARTIAL', message);
  }
}

/** `sfsync verify` found the warehouse differing from Salesforce. */
export class VerifyMismatchError extends SfsyncError {
  override readonly kind = 'verify';
  constructor(message: string) {
    super('VERIFY', message);
  }
}

/** `sfsync check` found at least one setting or permission that stops a sync; the message names the checks. */
export class CheckFailedError extends SfsyncError {
  override readonly kind = 'check';
  constructor(message: string) {
    super('CHECK', message);
  }
}

/** `sfsync push` finished and Salesforce refused at least one row (each stored in sfsync.push_results). */
export class PushRowsFailedError extends SfsyncError {
  override readonly kind = 'push-failed';
  constructor(message: string) {
    super('PUSH_ROWS_FAILED', message);
  }
}

/**
 * A Pub/Sub API call or stream failed (docs/salesforce.md#pubsub-api-errors): the gRPC status name (`UNAVAILABLE`, ...,
 * or `KEEPALIVE_TIMEOUT` when the stream fell silent) and the `error-code` trailer, if any.
 */
export class PubSubError extends SfsyncError {
  override readonly kind = 'pubsub';
  constructor(
    readonly status: string,
    readonly errorCode: string | undefined,
    message: string,
    opts: SfsyncErrorOptions = {},
  ) {
    super(errorCode ?? status, message, opts);
  }
}

/** The exit code of a command that ends with `err`, from the table (lib/errorActions.ts). */
export function exitCodeOf(err: unknown): number {
  return exitCodeFromTable(err);
}

/** One line for a human: no stack, no secrets (messages are built without tokens or keys). */
export function oneLine(err: unknown): string {
  if (err instanceof Error) {
    const text = err.message || err.name;
    return text.replace(/\s*\n\s*/g, ' ').trim();
  }
  return String(err);
}
