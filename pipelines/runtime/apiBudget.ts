// The API budget guard: before each object and each cursor window of a large one, read the org's daily allowances and
// this run's spending; once a limit is crossed, nothing further starts. A failure with REQUEST_LIMIT_EXCEEDED closes
// the budget at once (retrying it only burns what is left: docs/salesforce.md#retries).
import type { Config } from '../../lib/config.ts';
import { BudgetError, type SfsyncError } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import type { Logger } from '../../lib/log.ts';
import { getLimits, type Limit, type Limits } from '../../extractors/limits.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';

export interface BudgetSettings {
  /** Stop when this share of the org's daily allowance is in use, by anyone (0..1). */
  maxOrgShare: number;
  /** Stop when this run alone has spent this share of the org's daily allowance (0..1). */
  maxRunShare: number;
}

/** SFSYNC_MAX_ORG_API_SHARE / SFSYNC_MAX_RUN_API_SHARE, defaults 0.8 and 0.25 (lib/config.ts). */
export function budgetSettings(config: Config): BudgetSettings {
  return { maxOrgShare: config.maxOrgApiShare, maxRunShare: config.maxRunApiShare };
}

/** docs/salesforce.md#limits-resource, #limits: the daily allowances a sync consumes. */
const API = 'DailyApiRequests';
const BULK_JOBS = 'DailyBulkV2QueryJobs';
const BULK_STORAGE = 'DailyBulkV2QueryFileStorageMB';
/** The allowances the guard reads: what a shared budget keeps (pipelines/fleet/sharedBudget.ts). */
export const BUDGET_LIMITS = [API, BULK_JOBS, BULK_STORAGE] as const;

export interface Spending {
  /** API calls this run sent (retries included), by our own count. */
  apiCalls: number;
  /** Bulk 2.0 query jobs created since the run began, per /limits. */
  bulkJobs: number;
}

export interface ApiBudget {
  /** Throws BudgetError when a limit is crossed; otherwise the object may start. Costs one call (GET /limits). */
  check(): Promise<void>;
  /** An object failed: an error the table says stops the run (REQUEST_LIMIT_EXCEEDED) means nothing else starts. */
  noteFailure(err: unknown): void;
  spent(): Spending;
  /** Set once a limit was crossed: why. */
  readonly stopped: BudgetError | undefined;
}

const used = (l: Limit) => l.max - l.remaining;
const DAILY_ALLOWANCE_SPENT = "the org's daily API allowance is spent";
const pct = (share: number) => `${Number((share * 100).toPrecision(3))}%`;

/**
 * docs/salesforce.md#sforce-limit-info-header vs docs/salesforce.md#limits-resource: Sforce-Limit-Info is live while
 * /limits may lag a few minutes, so the larger "used" of the two wins.
 */
export function apiInUse(limits: Limits, sf: Pick<SalesforceHttp, 'lastLimitInfo'>): Limit | undefined {
  const fromLimits = limits[API];
  const header = sf.lastLimitInfo;
  if (!fromLimits) return header ? { max: header.max, remaining: header.max - header.used } : undefined;
  if (!header || header.max !== fromLimits.max) return fromLimits;
  return header.used > used(fromLimits) ? { max: header.max, remaining: header.max - header.used } : fromLimits;
}

/** The first limit crossed, as a message naming it; undefined when the next object may start. */
export function crossedLimit(
  limits: Limits,
  api: Limit | undefined,
  run: { apiCalls: number; bulkJobs: number },
  s: BudgetSettings,
): string | undefined {
  for (const [name, limit] of [
    [API, api],
    [BULK_JOBS, limits[BULK_JOBS]],
    [BULK_STORAGE, limits[BULK_STORAGE]],
  ] as const) {
    if (!limit || limit.max <= 0) continue;
    if (used(limit) >= limit.max * s.maxOrgShare) {
      return (
        `${name}: ${used(limit)} of the org's ${limit.max} in use, ` +
        `at or over the ${pct(s.maxOrgShare)} allowed (SFSYNC_MAX_ORG_API_SHARE)`
      );
    }
  }
  for (const [name, spent, limit] of [
    [API, run.apiCalls, api],
    [BULK_JOBS, run.bulkJobs, limits[BULK_JOBS]],
  ] as const) {
    if (!limit || limit.max <= 0) continue;
    if (spent >= limit.max * s.maxRunShare) {
      return (
        `${name}: this run spent ${spent} of the org's ${limit.max}, ` +
        `at or over the ${pct(s.maxRunShare)} one run may use (SFSYNC_MAX_RUN_API_SHARE)`
      );
    }
  }
  return undefined;
}

/** `sf` is the run's root client: its `calls` count every object's calls. */
export function createBudget(sf: SalesforceHttp, settings: BudgetSettings, log: Logger): ApiBudget {
  const callsAtStart = sf.calls;
  let bulkJobsAtStart: number | undefined;
  let bulkJobs = 0;
  let stopped: BudgetError | undefined;
  const spent = (): Spending => ({ apiCalls: sf.calls - callsAtStart, bulkJobs });
  const noteFailure = (err: unknown) => {
    if (stopped || actionFor(err) !== 'stop-run') return;
    stopped =
      err instanceof BudgetError
        ? err
        : new BudgetError(`API budget: Salesforce answered ${(err as SfsyncError).code} (${DAILY_ALLOWANCE_SPENT})`);
  };
  /**
   * docs/salesforce.md#limits-resource: /limits needs "View Setup and Configuration"; without it the guard still has
   * Sforce-Limit-Info.
   */
  const readLimits = async (): Promise<Limits> => {
    try {
      return await getLimits(sf);
    } catch (err) {
      noteFailure(err);
      if (stopped) throw stopped;
      log.warn(
        { err: (err as Error).message },
        'cannot read /limits; the API budget guard uses Sforce-Limit-Info only',
      );
      return {};
    }
  };

  return {
    async check() {
      if (stopped) throw stopped;
      const limits = await readLimits();
      const jobs = limits[BULK_JOBS];
      if (jobs) {
        bulkJobsAtStart ??= used(jobs);
        bulkJobs = Math.max(bulkJobs, used(jobs) - bulkJobsAtStart);
      }
      const why = crossedLimit(limits, apiInUse(limits, sf), spent(), settings);
      if (why) {
        stopped = new BudgetError(`API budget: ${why}`);
        log.warn({ ...spent() }, stopped.message);
        throw stopped;
      }
    },
    noteFailure,
    spent,
    get stopped() {
      return stopped;
    },
  };
}
