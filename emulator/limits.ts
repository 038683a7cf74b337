// The org's daily allocations and the emulator's own counters behind Sforce-Limit-Info and /limits
// (docs/salesforce.md#sforce-limit-info-header, #limits-resource, #limits).

export interface LimitCounters {
  apiUsed: number;
  apiMax: number;
  bulkQueryJobs: number;
  bulkQueryJobsMax: number;
  bulkIngestJobs: number;
  /** Bytes of Bulk query results served (DailyBulkV2QueryFileStorageMB). */
  bulkResultBytes: number;
}

export interface Limits {
  readonly counters: Readonly<LimitCounters>;
  /** Counts one authenticated call; false when the daily allocation is already spent (403 REQUEST_LIMIT_EXCEEDED). */
  tryCountCall(): boolean;
  headerValue(): string;
  setApiUsage(used: number, max?: number): void;
  countBulkQueryJob(): boolean;
  countBulkIngestJob(): void;
  addResultBytes(n: number): void;
  /** docs/salesforce.md#limits-resource: every key is {Max, Remaining}. */
  toJson(): Record<string, { Max: number; Remaining: number }>;
}

const FILE_STORAGE_MB = 976_562;

export function createLimits(opts: { dailyApiLimit: number; dailyBulkQueryJobs?: number }): Limits {
  const c: LimitCounters = {
    apiUsed: 0,
    apiMax: opts.dailyApiLimit,
    bulkQueryJobs: 0,
    bulkQueryJobsMax: opts.dailyBulkQueryJobs ?? 10_000,
    bulkIngestJobs: 0,
    bulkResultBytes: 0,
  };
  const limit = (max: number, used: number) => ({ Max: max, Remaining: Math.max(0, max - used) });
  return {
    counters: c,
    tryCountCall() {
      if (c.apiUsed >= c.apiMax) return false;
      c.apiUsed++;
      return true;
    },
    headerValue: () => `api-usage=${c.apiUsed}/${c.apiMax}`,
    setApiUsage(used, max) {
      c.apiUsed = used;
      if (max !== undefined) c.apiMax = max;
    },
    countBulkQueryJob() {
      if (c.bulkQueryJobs >= c.bulkQueryJobsMax) return false;
      c.bulkQueryJobs++;
      return true;
    },
    countBulkIngestJob() {
      c.bulkIngestJobs++;
    },
    addResultBytes(n) {
      c.bulkResultBytes += n;
    },
    toJson: () => ({
      DailyApiRequests: limit(c.apiMax, c.apiUsed),
      DailyAsyncApexExecutions: limit(250_000, 0),
      DailyBulkApiBatches: limit(15_000, c.bulkIngestJobs),
      DailyBulkV2QueryFileStorageMB: limit(FILE_STORAGE_MB, Math.ceil(c.bulkResultBytes / 1_048_576)),
      DailyBulkV2QueryJobs: limit(c.bulkQueryJobsMax, c.bulkQueryJobs),
      DailyDurableStreamingApiEvents: limit(10_000, 0),
      DailyStreamingApiEvents: limit(10_000, 0),
      DataStorageMB: limit(5, 0),
      DurableStreamingApiConcurrentClients: limit(20, 0),
      FileStorageMB: limit(20, 0),
      HourlyODataCallout: limit(1_000, 0),
      SingleEmailMessages: limit(15, 0),
    }),
  };
}
