// What `sfsync schedule --metrics-port` exposes: Prometheus metrics of its runs (prom-client) and a health verdict.
// The run outcomes come from the summaries of each run; watermarks and last successes from the database after each
// run, so that a restarted scheduler reports the state it inherits once its first run is over.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { LimitInfo } from '../../extractors/client/salesforceHttp.ts';
import { DEFAULT_ORG } from '../../lib/config.ts';
import { lastSuccesses, readStatus } from '../../loaders/state.ts';
import type { RunSummary } from '../sync/syncObject.ts';

export interface Health {
  ok: boolean;
  /** Why not ok, one entry per object at fault. */
  problems: string[];
}

/** Every series carries the org's label (lib/config.ts Config.org); `org` absent = DEFAULT_ORG. */
export interface ScheduleMetrics {
  readonly registry: Registry;
  /** One run's per-object outcomes. */
  recordRun(summaries: readonly RunSummary[], org?: string): void;
  /** A run that failed as a whole (login refused, database down): each of its objects failed. */
  recordRunFailure(objects: readonly string[], error: string, org?: string): void;
  /** Calls sfsync sent and the org's daily allowance as the last response reported it (Sforce-Limit-Info). */
  recordApi(callsSent: number, limit: LimitInfo | undefined, org?: string): void;
  /**
   * Watermarks, last runs and last successes of `objects` as the database has them. `latestRuns`: the database's last
   * runs replace those recorded (a scheduler whose runs are done by `sfsync worker` processes records none itself).
   */
  refreshFromDatabase(
    client: pg.ClientBase,
    schema: string,
    objects: readonly string[],
    org?: string,
    opts?: { latestRuns?: boolean },
  ): Promise<void>;
  health(now?: Date): Health;
}

const ROW_KINDS = ['fetched', 'inserted', 'updated', 'deleted'] as const;

export function createScheduleMetrics(opts: { maxLagSeconds: number }): ScheduleMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  /** Keyed by keyOf(org, object). */
  const watermarks = new Map<string, { org: string; object: string; at: number }>();
  /** The last run's outcome per object: the health verdict's input. */
  const lastRun = new Map<string, { org: string; object: string; status: string; error?: string }>();
  const keyOf = (org: string, object: string) => `${org}\u0000${object}`;
  /** How /healthz names an object: the object alone for the one implicit org, else with its org. */
  const named = (org: string, object: string) => (org === DEFAULT_ORG ? object : `org ${org}: ${object}`);

  const runs = new Counter({
    name: 'sfsync_runs_total',
    help: 'Object runs by object and status (succeeded, failed)',
    labelNames: ['org', 'object', 'status'],
    registers: [registry],
  });
  const rows = new Counter({
    name: 'sfsync_rows_total',
    help: 'Rows by object and kind: fetched from Salesforce, inserted, updated, marked deleted',
    labelNames: ['org', 'object', 'kind'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'sfsync_run_duration_seconds',
    help: 'Duration of object runs',
    labelNames: ['org', 'object'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400],
    registers: [registry],
  });
  const apiCalls = new Counter({
    name: 'sfsync_api_calls_total',
    help: 'Salesforce API calls sent by this process (retries included)',
    labelNames: ['org'],
    registers: [registry],
  });
  const apiUsed = new Gauge({
    name: 'sfsync_api_daily_used',
    help: "The org's daily API requests in use (all clients), as of the last Salesforce response",
    labelNames: ['org'],
    registers: [registry],
  });
  const apiLeft = new Gauge({
    name: 'sfsync_api_daily_remaining',
    help: "The org's daily API requests left, as of the last Salesforce response",
    labelNames: ['org'],
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: 'sfsync_last_success_timestamp_seconds',
    help: 'When the latest successful run of the object finished (Unix time)',
    labelNames: ['org', 'object'],
    registers: [registry],
  });
  new Gauge({
    name: 'sfsync_lag_seconds',
    help: "Seconds from the object's watermark to now: changes since then are not in the warehouse yet",
    labelNames: ['org', 'object'],
    registers: [registry],
    // Computed at scrape time: the lag grows between runs.
    collect() {
      this.reset();
      const now = Date.now();
      for (const { org, object, at } of watermarks.values()) this.set({ org, object }, Math.max(0, (now - at) / 1000));
    },
  });
  new Gauge({
    name: 'sfsync_healthy',
    help: '1 when no object failed its last run and none lags more than the threshold, else 0 (see /healthz)',
    registers: [registry],
    collect() {
      this.set(health().ok ? 1 : 0);
    },
  });

  const health = (now = new Date()): Health => {
    const problems: string[] = [];
    for (const run of lastRun.values())
      if (run.status === 'failed')
        problems.push(`${named(run.org, run.object)}: last run failed${run.error ? `: ${run.error}` : ''}`);
    for (const { org, object, at } of watermarks.values()) {
      const lag = (now.getTime() - at) / 1000;
      if (lag > opts.maxLagSeconds)
        problems.push(`${named(org, object)}: lag ${Math.round(lag)} s is over ${Math.round(opts.maxLagSeconds)} s`);
    }
    return { ok: problems.length === 0, problems };
  };

  return {
    registry,
    health,
    recordRun(summaries, org = DEFAULT_ORG) {
      for (const s of summaries) {
        const object = s.object;
        runs.inc({ org, object, status: s.status });
        const counts = {
          fetched: s.rowsFetched,
          inserted: s.rowsInserted,
          updated: s.rowsUpdated,
          deleted: s.rowsDeleted,
        };
        for (const kind of ROW_KINDS) rows.inc({ org, object, kind }, counts[kind] ?? 0);
        if (!s.notStarted) duration.observe({ org, object }, s.ms / 1000);
        lastRun.set(keyOf(org, object), {
          org,
          object,
          status: s.status,
          error: s.error instanceof Error ? s.error.message : undefined,
        });
        if (s.status === 'succeeded') lastSuccess.set({ org, object }, Date.now() / 1000);
        if (s.watermark) watermarks.set(keyOf(org, object), { org, object, at: Date.parse(s.watermark) });
      }
    },
    recordRunFailure(objects, error, org = DEFAULT_ORG) {
      for (const object of objects) {
        runs.inc({ org, object, status: 'failed' });
        lastRun.set(keyOf(org, object), { org, object, status: 'failed', error });
      }
    },
    recordApi(callsSent, limit, org = DEFAULT_ORG) {
      apiCalls.inc({ org }, callsSent);
      if (limit) {
        apiUsed.set({ org }, limit.used);
        apiLeft.set({ org }, Math.max(0, limit.max - limit.used));
      }
    },
    async refreshFromDatabase(client, schema, objects, org = DEFAULT_ORG, opts = {}) {
      const wanted = new Set(objects.map((o) => o.toLowerCase()));
      const chosen = (object: string) => wanted.has(object.toLowerCase());
      for (const s of await readStatus(client, schema)) {
        if (!chosen(s.object)) continue;
        const key = keyOf(org, s.object);
        if (s.watermark) watermarks.set(key, { org, object: s.object, at: Date.parse(s.watermark.value) });
        // A run another process has in flight says nothing yet; a finished one is the object's latest word.
        if (s.lastRun && s.lastRun.status !== 'running' && (opts.latestRuns || !lastRun.has(key)))
          lastRun.set(key, { org, object: s.object, status: s.lastRun.status, error: s.lastRun.error ?? undefined });
      }
      for (const [object, at] of await lastSuccesses(client, schema))
        if (chosen(object)) lastSuccess.set({ org, object }, Date.parse(at) / 1000);
    },
  };
}

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one the system picked for 0). */
  port: number;
  close(): Promise<void>;
}

/** GET /metrics (Prometheus text format) and GET /healthz (200 "ok", else 503 with one problem per line). */
export async function serveMetrics(metrics: ScheduleMetrics, port: number, host: string): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type }).end(req.method === 'HEAD' ? undefined : body);
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    if (url.pathname === '/metrics') {
      metrics.registry.metrics().then(
        (text) => reply(200, metrics.registry.contentType, text),
        (err: Error) => reply(500, 'text/plain', `${err.message}\n`),
      );
      return;
    }
    if (url.pathname === '/healthz') {
      const h = metrics.health();
      return reply(h.ok ? 200 : 503, 'text/plain; charset=utf-8', h.ok ? 'ok\n' : `${h.problems.join('\n')}\n`);
    }
    reply(404, 'text/plain', 'not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
