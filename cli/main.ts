// The command line: parse flags, load config once, run one command, turn any error into one line + exit code.
import { Argument, Command, Option } from 'commander';
import { type Env, requestedLogLevel } from '../lib/config.ts';
import { exitCodeOf, oneLine } from '../lib/errors.ts';

// The one read of the environment: every command gets it as an argument and parses it once (lib/config.ts).
const env: Record<string, string | undefined> & Env = { ...process.env };

const program = new Command('sfsync')
  .description(
    'Keep a PostgreSQL warehouse in step with a Salesforce org.\n\n' +
      'Settings come from the environment (SF_LOGIN_URL, SF_CLIENT_ID, SF_USERNAME,\n' +
      'SF_PRIVATE_KEY_PATH, DATABASE_URL, SFSYNC_SCHEMA, ...); see README.md.\n' +
      "Several orgs: the config file's `orgs` list, each with its own login,\n" +
      'schema, objects, schedule and API budget; choose one with --org\n' +
      '(README.md, Several orgs).',
  )
  .version('0.1.0')
  .showHelpAfterError('(run sfsync --help for usage)')
  .option('--verbose', 'in a terminal, show every log record (one line each), not only warnings and finished objects')
  .option('--log-file <path>', 'also append every log record as JSON to this file (SFSYNC_LOG_FILE)')
  .hook('preAction', () => {
    // The flags stand for their environment variables, so each command reads logging settings from one place.
    const { verbose, logFile } = program.opts<{ verbose?: boolean; logFile?: string }>();
    if (verbose) env.SFSYNC_VERBOSE = '1';
    if (logFile) env.SFSYNC_LOG_FILE = logFile;
  });

program
  .command('sync')
  .description(
    'load the chosen objects, then relationship pipelines: Bulk API 2.0 for initial loads, incremental SOQL for deltas',
  )
  .option('--org <name>', 'only this org of the config file (default: every org in turn, each with its own budget)')
  .option('--objects <list>', 'comma-separated sObject API names (default: config file, else a standard set)')
  .option(
    '--pipelines <list>',
    'comma-separated relationship pipelines from the config file (default: all of them, unless --objects is given); ' +
      'alone, no objects are synced',
  )
  .option('--full-refresh', 're-load every record through Bulk API 2.0, ignoring the watermark')
  .option('--formulas-only', 'only refresh formula (calculated) fields of already loaded records')
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .addOption(
    new Option(
      '--concurrency <n>',
      'objects extracting and loading at once; twice as many have Bulk jobs in flight (default 4, SFSYNC_CONCURRENCY)',
    ).argParser((v) => Number.parseInt(v, 10)),
  )
  .option(
    '--wait-for-lock',
    'when another sfsync process is loading an object, wait for it instead of skipping the object',
  )
  .action(async (opts) => {
    const { runSync } = await import('./sync.ts');
    return runSync(opts, env);
  });

program
  .command('backfill')
  .description(
    're-load the records whose cursor (SystemModstamp) or CreatedDate lies in [since, until) through Bulk API 2.0, ' +
      'one job per window; resumable, never moves the sync watermark',
  )
  .option('--org <name>', 'the org of the config file to use (required when it lists several)')
  .option('--objects <list>', 'comma-separated sObject API names (required)')
  .option(
    '--since <date>',
    'start of the range, inclusive: ISO 8601 date or date-time, UTC unless an offset is given (required)',
  )
  .option(
    '--until <date>',
    "end of the range, exclusive (default: the server's now, or the until of the unfinished backfill being resumed)",
  )
  .option('--window <size>', 'one Bulk job per window of this size: <n>mo (calendar months), <n>w, <n>d or <n>h', '1mo')
  .option('--by <field>', 'cursor: the cursor field (SystemModstamp); created: CreatedDate', 'cursor')
  .option('--enqueue', 'plan the windows and queue one job per window for `sfsync worker` (README: Worker fleet)')
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .addOption(
    new Option('--concurrency <n>', 'Bulk jobs (windows) in flight at once').argParser((v) => Number.parseInt(v, 10)),
  )
  .action(async (opts) => {
    const { runBackfill } = await import('./backfill.ts');
    return runBackfill(opts, env);
  });

program
  .command('push')
  .description(
    'write rows of a PostgreSQL table, view or query to Salesforce through Bulk API 2.0 ingest jobs; ' +
      'results per row in sfsync.push_results',
  )
  .option('--org <name>', 'the org of the config file to use (required when it lists several)')
  .requiredOption('--object <name>', 'the sObject to write, e.g. Account')
  .option('--from <table>', 'the source table or view (columns named like the fields, case-insensitive)')
  .option('--sql <query>', 'the source query, instead of --from')
  .addOption(
    new Option('--operation <op>', 'what to do with each row')
      .choices(['insert', 'update', 'upsert', 'delete', 'hardDelete'])
      .makeOptionMandatory(),
  )
  .option('--external-id <field>', 'upsert: the External ID field that matches rows to records (or Id)')
  .option('--dry-run', 'show the field mapping, the row and job counts and a CSV sample; send nothing')
  .option('--only-failed <run>', 'send only the rows that failed in this earlier push run')
  .option('--job-size-mb <n>', 'raw CSV per Bulk job, at most 100 (the default)')
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .action(async (opts) => {
    const { runPush } = await import('./push.ts');
    return runPush(opts, env);
  });

program
  .command('stream')
  .description(
    'follow Change Data Capture events (Pub/Sub API) into the tables sync keeps, until SIGINT/SIGTERM; ' +
      'resumes from the last event applied',
  )
  .option('--org <name>', 'the org of the config file to use (required when it lists several)')
  .option('--objects <list>', 'comma-separated sObject API names, each selected for Change Data Capture in Setup')
  .option(
    '--topics <list>',
    'comma-separated platform event topics (/event/Foo__e), each into a table of its own (alone: no objects)',
  )
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .addHelpText(
    'after',
    [
      '',
      'Each object follows /data/<Object>ChangeEvent (custom Foo__c: /data/Foo__ChangeEvent) at',
      'SF_PUBSUB_ENDPOINT (default api.pubsub.salesforce.com:7443, always TLS). The replay id of the last',
      'event applied is stored with its rows in the sfsync schema, and a restart resumes after it. Without',
      'one (or past the 72-hour retention) the stream starts at the newest event and runs an incremental',
      'sync to cover the time before. Gap events re-read their records through REST; overflow events sync',
      'the object. sync and schedule may run at the same time: an older version never overwrites a newer',
      'row. A platform event topic fills a table named after the event (replay_id, published_at, one',
      'column per field), starting at the earliest retained event when it has no replay id yet.',
      'SIGINT or SIGTERM stop the stream cleanly (exit 0).',
    ].join('\n'),
  )
  .action(async (opts) => {
    const { runStream } = await import('./stream.ts');
    return runStream(opts, env);
  });

program
  .command('status')
  .description('show each object: row count, lag, last run, next run (per org when the config file lists several)')
  .option('--org <name>', 'only this org of the config file (default: every org)')
  .option('--json', 'print JSON (a stable shape for scripts)')
  .option('--wide', 'every column, with full timestamps, however wide the terminal')
  .action(async (opts) => {
    const { runStatus } = await import('./status.ts');
    return runStatus(opts, env);
  });

program
  .command('runs')
  .description('list run history, newest first (with an org column when the config file lists several orgs)')
  .option('--org <name>', 'only this org of the config file (default: every org)')
  .option('--object <name>', 'only runs of this object')
  .addOption(new Option('--limit <n>', 'how many runs').default(20).argParser((v) => Number.parseInt(v, 10)))
  .option('--json', 'print JSON')
  .option('--wide', 'every column, with full timestamps, however wide the terminal')
  .action(async (opts) => {
    const { runRuns } = await import('./runs.ts');
    return runRuns(opts, env);
  });

program
  .command('reconcile')
  .description(
    'find records deleted in Salesforce (hard deletes, emptied Recycle Bin) by comparing Ids, and mark them deleted',
  )
  .option('--org <name>', 'the org of the config file to use (required when it lists several)')
  .option('--objects <list>', 'comma-separated sObject API names')
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .option('--enqueue', 'queue one job per object for `sfsync worker` instead of reconciling here')
  .action(async (opts) => {
    const { runReconcile } = await import('./reconcile.ts');
    return runReconcile(opts, env);
  });

program
  .command('verify')
  .description(
    "compare Salesforce's record counts (and optionally a sample of records) with the warehouse; " +
      'non-zero exit on a mismatch',
  )
  .option('--org <name>', 'the org of the config file to use (required when it lists several)')
  .option('--objects <list>', 'comma-separated sObject API names')
  .addOption(
    new Option('--sample <n>', 'also compare n records field by field')
      .default(0)
      .argParser((v) => Number.parseInt(v, 10)),
  )
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .option('--enqueue', 'queue one job per object for `sfsync worker`; a mismatch fails that job (see its log)')
  .action(async (opts) => {
    const { runVerify } = await import('./verify.ts');
    return runVerify(opts, env);
  });

program
  .command('schedule')
  .description(
    'run syncs on a cron schedule until stopped (SIGINT/SIGTERM finish the current run cleanly); ' +
      "every org's schedule when the config file lists several orgs",
  )
  .option('--org <name>', 'only this org of the config file (default: every org)')
  .option('--cron <expr>', 'cron expression; a leading seconds field is allowed (default: config file, else 0 2 * * *)')
  .option('--objects <list>', 'comma-separated sObject API names')
  .option('--tz <zone>', 'time zone of the cron expression, e.g. Europe/Paris')
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .option('--metrics-port <n>', 'serve Prometheus /metrics and /healthz on this port')
  .option('--metrics-host <addr>', 'address the metrics server listens on', '0.0.0.0')
  .option(
    '--enqueue',
    "queue each tick's jobs for `sfsync worker` processes instead of running them (README: Worker fleet)",
  )
  .option(
    '--max-lag-minutes <n>',
    '/healthz fails when an object lags more than this (default: a day plus the time between two ticks)',
  )
  .action(async (opts) => {
    const { runSchedule } = await import('./schedule.ts');
    return runSchedule(opts, env);
  });

program
  .command('worker')
  .description(
    'run the jobs `schedule --enqueue` queues (syncs, formula refreshes, pipelines, reconcile, verify, backfill ' +
      'windows) until SIGINT/SIGTERM; run as many as you like, on any machines sharing the PostgreSQL',
  )
  .option('--org <name>', "only this org's settings (default: every org of the config file)")
  .addOption(
    new Option('--concurrency <n>', 'jobs at once (default SFSYNC_CONCURRENCY, 4)').argParser((v) =>
      Number.parseInt(v, 10),
    ),
  )
  .option('--stop-grace <seconds>', 'after SIGTERM, how long running jobs may finish before they are handed back', '20')
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .action(async (opts) => {
    const { runWorker } = await import('./worker.ts');
    return runWorker(opts, env);
  });

program
  .command('docs')
  .description('write a data dictionary of the synced objects (tables, columns, types, labels)')
  .option('--org <name>', 'the org of the config file to use (required when it lists several)')
  .addOption(new Option('--format <format>', 'output format').choices(['md', 'json']).default('md'))
  .option('--out <file>', 'write to a file instead of stdout')
  .action(async (opts) => {
    const { runDocs } = await import('./docs.ts');
    return runDocs(opts, env);
  });

program
  .command('dbt-sources')
  .description(
    'write a dbt sources file for the synced schema: tables, _live views, columns and their labels, and freshness ' +
      "from sfsync's runs (dbt 1.10.3 or later)",
  )
  .option('--org <name>', 'the org of the config file to use (required when it lists several)')
  .option('--out <file>', 'write to this file, only when its content changed (default: stdout)')
  .option('--force', 'replace an --out file that sfsync did not write, or that was edited since')
  .option('--name <source>', 'the source name models use in {{ source(...) }} (default: the schema name)')
  .option('--warn-after <age>', 'freshness: warn when the last successful sync is older than this (m, h or d)', '26h')
  .option('--error-after <age>', 'freshness: error when the last successful sync is older than this', '50h')
  .option(
    '--loaded-at-field <column>',
    'freshness from this column of each table instead (e.g. systemmodstamp; any dbt version, see the README)',
  )
  .action(async (opts) => {
    const { runDbtSources } = await import('./dbtSources.ts');
    return runDbtSources(opts, env);
  });

program
  .command('init')
  .description(
    'write a private key, a self-signed certificate, a config file and the SF_* settings to fill in; print app steps',
  )
  .option('--dir <dir>', 'where to write the files', '.')
  .option('--sandbox', 'log in at https://test.salesforce.com')
  .option('--login-url <url>', 'log in at this URL (e.g. your My Domain URL)')
  .action(async (opts) => {
    const { runInit } = await import('./init.ts');
    return runInit(opts);
  });

program
  .command('check')
  .description('check the login, API version, database, objects and API budget: one PASS/WARN/FAIL line each')
  .option('--org <name>', 'the org of the config file to use (required when it lists several)')
  .option('--json', 'print the checks as JSON')
  .option('--objects <list>', 'comma-separated sObject API names (default: config file, else a standard set)')
  .option('--sandbox', 'log in at https://test.salesforce.com (when SF_LOGIN_URL is not set)')
  .action(async (opts) => {
    const { runCheck } = await import('./check.ts');
    return runCheck(opts, env);
  });

program
  .command('migrate')
  .description("create or upgrade sfsync's own schema (also done automatically on first use)")
  .action(async () => {
    const { runMigrate } = await import('./migrate.ts');
    return runMigrate(env);
  });

program
  .command('emulator')
  .description('run the local Salesforce emulator (for trying sfsync without an org)')
  .option('--port <n>', 'port to listen on (0 = any free port)', '0')
  .option('--accounts <n>', 'size of the synthetic org in Accounts', '1000')
  .option('--seed <n>', 'seed of the synthetic data', '1')
  .option(
    '--profile <name>',
    'org profile: demo, or enterprise (600+ Account fields, archived activities, ...)',
    'demo',
  )
  .option('--cdc <objects>', 'also serve the Pub/Sub API, with Change Data Capture on these objects (comma-separated)')
  .action(async (opts) => {
    const { runEmulator } = await import('./emulator.ts');
    return runEmulator(opts);
  });

program
  .command('demo')
  .description('start the emulator and an embedded PostgreSQL, run an initial load and an incremental sync')
  .option('--accounts <n>', 'size of the synthetic org in Accounts', '2000')
  .action(async (opts) => {
    const { runDemo } = await import('./demo.ts');
    return runDemo(opts, env);
  });

program
  .command('db')
  .description(
    'the embedded PostgreSQL (used when DATABASE_URL is not set): start keeps it running in the background, ' +
      'stop stops it, status shows it, url prints its connection URL (for psql)',
  )
  .addArgument(new Argument('<action>', 'what to do').choices(['start', 'stop', 'status', 'url']))
  .option('--json', 'status: print JSON')
  .action(async (action, opts) => {
    const { runDb } = await import('./db.ts');
    return runDb(action, opts, env);
  });

program
  .command('sql')
  .description('run a query against the database (DATABASE_URL, else the embedded PostgreSQL) and print the result')
  .argument('<query>', 'SQL text, e.g. "select count(*) from sfsync_demo.account"')
  .option('--json', 'print JSON: {command, rowCount, rows}')
  .action(async (query, opts) => {
    const { runSql } = await import('./sql.ts');
    return runSql(query, opts, env);
  });

try {
  await program.parseAsync();
} catch (err) {
  if (['debug', 'trace'].includes(requestedLogLevel(env) ?? '')) console.error(err);
  process.stderr.write(`sfsync: ${oneLine(err)}\n`);
  process.exitCode = exitCodeOf(err);
}
