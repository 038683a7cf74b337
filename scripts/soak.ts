// Soak test (not in CI): N consecutive incremental syncs against a changing emulated org with random faults,
// then a completeness check of every table against the org. Prints the figures; exits 1 if anything is missing.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx scripts/soak.ts [--iterations 200] [--seed 1]
//     [--profile enterprise]   the emulator's enterprise org: a 600-field Account, archived activities, and the
//                              objects real orgs have that the demo org lacks, synced alongside the others
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ENTERPRISE } from '../emulator/enterprise.ts';
import { createEmulator, type Emulator, type FaultSpec, isProfileName } from '../emulator/index.ts';
import { describeObject } from '../extractors/describe.ts';
import { loadConfig } from '../lib/config.ts';
import { silentLogger } from '../lib/log.ts';
import type { RunSummary } from '../pipelines/sync/syncObject.ts';
import { compareTable } from '../test/support/compare.ts';
import { orgRecords } from '../test/support/org.ts';
import { prng } from '../test/support/prng.ts';
import { syncAll } from '../pipelines/sync/syncAll.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';

/** The objects the soak changes between runs. */
const OBJECTS = ['Account', 'Contact', 'Opportunity', 'Invoice__c'];
/** Synced and checked too with --profile enterprise (changed only by the org's own generation). */
const ENTERPRISE_OBJECTS = [
  ...ENTERPRISE.activityObjects,
  ENTERPRISE.shareObject,
  ENTERPRISE.bulkUnsupportedObject,
  ENTERPRISE.renewalObject,
  ENTERPRISE.renewalHistory,
];

const ROUTES = {
  describe: /GET .*\/describe/,
  restPage: /GET .*\/queryAll/,
  jobCreate: /POST .*\/jobs\/query$/,
  jobPoll: /GET .*\/jobs\/query\/[^/?]+$/,
  resultPage: /\/results/,
  limits: /GET .*\/limits/,
};

/**
 * Bulk job create is not retried after a 500 or a dropped connection (extractors/bulk/queryJob.ts: a repeat could
 * start a second job), so such a fault fails that object's run by design; the next run must catch up.
 */
const failsByDesign = (f: FaultSpec) =>
  f.route === ROUTES.jobCreate && (f.kind === 'reset' || (f.kind === 'status' && f.status === 500));

/** Faults a sync must survive (retried, re-minted, re-requested at the same locator). */
function transientFault(r: () => number): FaultSpec {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const route = pick(Object.values(ROUTES));
  const kinds: FaultSpec[] = [
    { route, kind: 'status', status: 503, retryAfter: r() < 0.2 ? 1 : 0 },
    { route, kind: 'status', status: 500, errorCode: 'UNKNOWN_EXCEPTION', message: 'soak' },
    { route, kind: 'status', status: 429 },
    {
      route: pick([ROUTES.describe, ROUTES.jobPoll, ROUTES.resultPage, ROUTES.limits, ROUTES.restPage]),
      kind: 'reset',
    },
    { route: pick([ROUTES.resultPage, ROUTES.restPage]), kind: 'truncate' },
    { route, kind: 'delay', ms: 50 },
    { route, kind: 'invalidSession' },
  ];
  return pick(kinds);
}

/** Faults that fail an object's run; the next run must catch up without loss. */
function fatalFault(r: () => number): FaultSpec {
  const kinds: FaultSpec[] = [
    { route: ROUTES.restPage, kind: 'queryTimeout' },
    { kind: 'bulkJobFailed', route: ROUTES.jobCreate },
    { route: ROUTES.describe, kind: 'requestLimit' },
  ];
  return kinds[Math.floor(r() * kinds.length)]!;
}

/** A few inserts, updates, soft deletes and undeletes (no hard deletes: the completeness tests cover getDeleted). */
function changeOrg(em: Emulator, r: () => number, i: number): number {
  let changes = 0;
  for (const object of OBJECTS) {
    const live = orgRecords(em.store, object, { includeDeleted: false });
    const n = Math.floor(r() * 4);
    for (let k = 0; k < n && live.length > 0; k++) {
      const rec = live[Math.floor(r() * live.length)]!;
      const roll = r();
      if (roll < 0.6) em.store.update(rec.Id, object === 'Account' ? { Name: `Soak ${i}.${k}` } : {});
      else if (roll < 0.75) em.store.softDelete(rec.Id);
      else if (object === 'Account') em.store.insert('Account', { Name: `Soak new ${i}.${k}` });
      else em.store.update(rec.Id, {});
      changes++;
    }
  }
  const deleted = orgRecords(em.store, 'Account').filter((x) => x.IsDeleted === true);
  if (deleted.length > 0 && r() < 0.2) {
    em.store.undelete(deleted[Math.floor(r() * deleted.length)]!.Id);
    changes++;
  }
  return changes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      accounts: { type: 'string', default: '200' },
      'window-rows': { type: 'string', default: '80' },
      profile: { type: 'string', default: 'demo' },
    },
  });
  const profile = values.profile ?? 'demo';
  if (!isProfileName(profile)) throw new Error(`--profile must be demo or enterprise (got '${profile}')`);
  const synced = profile === 'enterprise' ? [...OBJECTS, ...ENTERPRISE_OBJECTS] : OBJECTS;
  const databaseUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('set DATABASE_URL (a PostgreSQL the soak may write a fresh schema into)');
  const iterations = Number(values.iterations);
  const seed = Number(values.seed);
  const r = prng(seed);
  const schema = `soak_${Date.now().toString(36)}`;
  const em = await createEmulator({ accounts: Number(values.accounts), seed, dailyApiLimit: 10_000_000, profile });
  em.admin.setBulkLatency({ defaultMaxRecords: 100 });
  const env = (bulkThreshold: number) => ({
    SF_LOGIN_URL: em.loginUrl,
    SF_CLIENT_ID: em.clientId,
    SF_USERNAME: em.username,
    SF_PRIVATE_KEY_PATH: em.privateKeyPath,
    DATABASE_URL: databaseUrl,
    SFSYNC_SCHEMA: schema,
    SFSYNC_BULK_THRESHOLD: String(bulkThreshold),
    // Small cursor windows, so initial loads and Bulk deltas run as several jobs with faults between them.
    SFSYNC_WINDOW_ROWS: values['window-rows'],
    LOG_LEVEL: 'silent',
  });
  const sync = (bulkThreshold = 50_000, expire = false): Promise<RunSummary[]> =>
    withRunContext(loadConfig(env(bulkThreshold), { objects: synced.join(',') }), silentLogger(), (ctx) => {
      if (expire) em.admin.expireAllSessions();
      return syncAll(ctx, false);
    });

  const started = Date.now();
  const figures = {
    runs: 0,
    objectRuns: 0,
    objectFailures: 0,
    unexpectedFailures: 0,
    faultsInjected: 0,
    faultsPlayed: 0,
    fatalInjected: 0,
    sessionExpiries: 0,
    changes: 0,
    bulkRuns: 0,
    restRuns: 0,
    apiCalls: 0,
  };
  const initial = await sync();
  if (initial.some((s) => s.status !== 'succeeded'))
    throw new Error(`initial load failed: ${initial.map((s) => String(s.error)).join('; ')}`);
  for (let i = 1; i <= iterations; i++) {
    figures.changes += changeOrg(em, r, i);
    const transient = Math.floor(r() * 3);
    let fatal = false;
    for (let k = 0; k < transient; k++) {
      const f = transientFault(r);
      fatal ||= failsByDesign(f);
      em.admin.addFault(f);
    }
    const injectFatal = r() < 0.08;
    fatal ||= injectFatal;
    if (injectFatal) em.admin.addFault(fatalFault(r));
    const expire = r() < 0.05;
    const added = transient + (injectFatal ? 1 : 0);
    figures.faultsInjected += added;
    figures.fatalInjected += fatal ? 1 : 0;
    figures.sessionExpiries += expire ? 1 : 0;
    const calls = em.admin.counters().apiCalls;
    const summaries = await sync(r() < 0.15 ? 3 : 50_000, expire);
    figures.apiCalls += em.admin.counters().apiCalls - calls;
    figures.faultsPlayed += added - em.admin.faults().length;
    em.admin.clearFaults();
    em.admin.clearRequestLog();
    figures.runs++;
    for (const s of summaries) {
      figures.objectRuns++;
      if (s.via === 'bulk') figures.bulkRuns++;
      if (s.via === 'rest') figures.restRuns++;
      if (s.status === 'failed') {
        figures.objectFailures++;
        if (!fatal) {
          figures.unexpectedFailures++;
          console.error(`run ${i}: ${s.object} failed without a fatal fault: ${String(s.error)}`);
        }
      }
    }
    if (i % 20 === 0)
      console.error(
        `soak: ${i}/${iterations} runs, ${figures.objectFailures} object failures, ` +
          `${Math.round((Date.now() - started) / 1000)} s`,
      );
  }
  const final = await sync();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let incomplete = 0;
  const check: string[] = [];
  try {
    for (const object of synced) {
      const { spec } = await withRunContext(loadConfig(env(50_000), { objects: object }), silentLogger(), (ctx) =>
        describeObject(ctx.sf, object),
      );
      const records = orgRecords(em.store, object);
      const res = await compareTable(client, schema, spec, records);
      const bad = res.missing.length + res.extra.length + res.mismatches.length;
      incomplete += bad;
      check.push(
        `${object}: ${res.compared}/${records.length} rows equal, ${res.missing.length} missing, ` +
          `${res.extra.length} extra, ${res.mismatches.length} mismatched values`,
      );
      for (const m of res.mismatches.slice(0, 3))
        check.push(`  ${m.id}.${m.field}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`);
    }
    await client.query(`DROP SCHEMA "${schema}" CASCADE`);
    await client.query('DELETE FROM sfsync.runs WHERE target_schema = $1', [schema]);
    await client.query('DELETE FROM sfsync.watermarks WHERE target_schema = $1', [schema]);
  } finally {
    await client.end();
    await em.close();
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(
    JSON.stringify(
      {
        seed,
        profile,
        iterations,
        ...figures,
        finalRunFailed: final.filter((s) => s.status === 'failed').length,
        seconds,
        msPerRun: Math.round((seconds * 1000) / iterations),
      },
      null,
      2,
    ),
  );
  console.log(check.join('\n'));
  const ok = incomplete === 0 && figures.unexpectedFailures === 0 && final.every((s) => s.status === 'succeeded');
  console.log(ok ? 'soak: PASS (complete, nothing lost or duplicated)' : 'soak: FAIL');
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  console.error(`soak: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
