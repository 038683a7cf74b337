// The error taxonomy: every failure sfsync reports is one of these, and only the CLI turns one into text + exit code.

export interface SfsyncErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

export class SfsyncError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly exitCode: number = 1;

  constructor(code: string, message: string, opts: SfsyncErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

/** A setting is missing or invalid. The message names every problem and the variable or flag to fix. */
export class ConfigError extends SfsyncError {
  override readonly exitCode = 2;
  constructor(message: string, opts: SfsyncErrorOptions = {}) {
    super('CONFIG', message, opts);
  }
}

/** The token endpoint refused us, or the key/credentials cannot be used. Never retried. */
export class AuthError extends SfsyncError {
  override readonly exitCode = 3;
  constructor(code: string, message: string, opts: SfsyncErrorOptions = {}) {
    super(code, message, opts);
  }
}

export interface SalesforceApiErrorInit {
  status: number;
  errorCode: string;
  method: string;
  url: string;
  retryable?: boolean;
  retryAfterMs?: number;
}

/** A REST or Bulk API call failed; errorCode is Salesforce's (salesforce-api.md §2.3, §2.5). */
export class SalesforceApiError extends SfsyncError {
  readonly status: number;
  readonly errorCode: string;
  readonly method: string;
  readonly url: string;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, init: SalesforceApiErrorInit, opts: SfsyncErrorOptions = {}) {
    super(init.errorCode, message, { ...opts, retryable: init.retryable ?? false });
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.method = init.method;
    this.url = init.url;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** A Bulk API 2.0 job ended Failed or Aborted. */
export class BulkJobError extends SfsyncError {
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
  constructor(message: string, opts: SfsyncErrorOptions = {}) {
    super('DATA', message, opts);
  }
}

/** Another process holds the object's advisory lock. */
export class LockedError extends SfsyncError {
  constructor(message: string) {
    super('LOCKED', message);
  }
}

/** The daily API budget guard stopped work at a committed point: a partial run, exit code 4. */
export class BudgetError extends SfsyncError {
  override readonly exitCode = 4;
  constructor(message: string) {
    super('BUDGET', message);
  }
}

export function exitCodeOf(err: unknown): number {
  return err instanceof SfsyncError ? err.exitCode : 1;
}

/** One line for a human: no stack, no secrets (messages are built without tokens or keys). */
export function oneLine(err: unknown): string {
  if (err instanceof Error) {
    const text = err.message || err.name;
    return text.replace(/\s*\n\s*/g, ' ').trim();
  }
  return String(err);
}
