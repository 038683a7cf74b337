// The API budget guard of `sfsync worker`, shared by every worker of the fleet through sfsync.org_budgets: the same
// checks as apiBudget.ts (docs/salesforce.md#limits), but an org's /limits reading and its stop live in PostgreSQL.
// A reading younger than a minute is used as it is (with this worker's own Sforce-Limit-Info, which is live), so
// the fleet reads /limits about once a minute per org, not once per job; once a worker finds an allowance used up to
// its share, or Salesforce answers REQUEST_LIMIT_EXCEEDED, the org's row says so and no worker starts a job or window
// for that org until a reading (at most every 15 minutes) finds room again. Other orgs' rows are not touched.
import type pg from 'pg';
import { BudgetError, type SfsyncError, oneLine } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import type { Logger } from '../../lib/log.ts';
import { getLimits, type Limits } from '../../extractors/limits.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { databaseNow, type OrgKey, readOrgBudget, saveReading, saveStop } from '../../loaders/orgBudget.ts';
import { type ApiBudget, BUDGET_LIMITS, type BudgetSettings, apiInUse, crossedLimit } from '../runtime/apiBudget.ts';

export interface SharedBudgetTiming {
  /** A reading younger than this is used without asking Salesforce. */
  readFreshMs: number;
  /** A recorded stop younger than this is trusted; an older one is checked against a new reading. */
  stopTrustMs: number;
}

export const SHARED_BUDGET_TIMING: SharedBudgetTiming = { readFreshMs: 60_000, stopTrustMs: 15 * 60_000 };

export interface SharedBudget extends ApiBudget {
  /** Resolves once a stop noted by noteFailure is written. */
  flush(): Promise<void>;
}

/** The allowances the guard checks, out of a /limits answer. */
function kept(limits: Limits): Limits {
  return Object.fromEntries(BUDGET_LIMITS.flatMap((name) => (limits[name] ? [[name, limits[name]]] : [])));
}

/** `sf` is the job's client: its calls are what "this run" spent (SFSYNC_MAX_RUN_API_SHARE applies per job). */
export function createSharedBudget(
  pool: pg.Pool,
  key: OrgKey,
  sf: SalesforceHttp,
  settings: BudgetSettings,
  log: Logger,
  timing: SharedBudgetTiming = SHARED_BUDGET_TIMING,
): SharedBudget {
  const callsAtStart = sf.calls;
  let stopped: BudgetError | undefined;
  let written: Promise<void> = Promise.resolve();
  const spent = () => ({ apiCalls: sf.calls - callsAtStart, bulkJobs: 0 });
  const stop = (err: BudgetError) => {
    stopped = err;
    written = written
      .then(() => saveStop(pool, key, err.message))
      .catch((e: unknown) => log.warn({ err: oneLine(e) }, 'cannot record the API budget stop'));
  };
  const noteFailure = (err: unknown) => {
    if (stopped || actionFor(err) !== 'stop-run') return;
    stop(
      err instanceof BudgetError
        ? err
        : new BudgetError(
            `API budget: Salesforce answered ${(err as SfsyncError).code} (the org's daily API allowance is spent)`,
          ),
    );
  };
  /** docs/salesforce.md#limits-resource: without "View Setup and Configuration", Sforce-Limit-Info only. */
  const readLimits = async (): Promise<Limits> => {
    try {
      return kept(await getLimits(sf));
    } catch (err) {
      noteFailure(err);
      if (stopped) throw stopped;
      log.warn({ err: oneLine(err) }, 'cannot read /limits; the API budget guard uses Sforce-Limit-Info only');
      return {};
    }
  };
  return {
    async check() {
      if (stopped) throw stopped;
      const row = await readOrgBudget(pool, key.schema);
      if (row?.stopped && (row.stoppedAgoMs ?? Number.POSITIVE_INFINITY) < timing.stopTrustMs) {
        stopped = new BudgetError(row.stopped);
        throw stopped;
      }
      const fresh = row?.limits && !row.stopped && row.readAgoMs !== null && row.readAgoMs < timing.readFreshMs;
      let limits: Limits;
      if (fresh) limits = row.limits!;
      else {
        // Taken before /limits is asked: a stop another worker records meanwhile is newer, and is not cleared.
        const startedAt = await databaseNow(pool);
        limits = await readLimits();
        // Clears an old stop; written again below when the allowance is still used up.
        await saveReading(pool, key, limits, startedAt);
      }
      const why = crossedLimit(limits, apiInUse(limits, sf), spent(), settings);
      if (why) {
        stop(new BudgetError(`API budget: ${why}`));
        log.warn({ ...spent() }, stopped!.message);
        await written;
        throw stopped!;
      }
    },
    noteFailure,
    spent,
    flush: () => written,
    get stopped() {
      return stopped;
    },
  };
}
