// (a) The physical limit: a Bulk API 2.0 queryAll job for sfsync's field list, every result page's bytes piped straight
// into `COPY … FROM STDIN (FORMAT csv, HEADER true)` (docs/salesforce.md#bulk-api-20-query-results: each page has its
// own header row, so one COPY per page) into the same typed, indexed table sfsync builds (loaders/ddl.ts ensureTable),
// so the ratio (b)/(a) is sfsync's own overhead. No parsing, no transforms, plain bytes (gzip only when BENCH_GZIP=1).
// Env: the sfsync settings (SF_LOGIN_URL, SF_CLIENT_ID, SF_USERNAME, SF_PRIVATE_KEY_PATH, DATABASE_URL) and
// BENCH_OBJECT, BENCH_SCHEMA. Prints {"rows":N,"pages":P} on stdout.
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createQueryJob, deleteJob, waitForJob } from '../../extractors/bulk/queryJob.ts';
import { ensureTable } from '../../loaders/ddl.ts';
import { qualified, quoteIdent } from '../../loaders/postgres.ts';
import { openSource, report } from './benchSource.ts';

const object = process.env.BENCH_OBJECT ?? 'Account';
const schema = process.env.BENCH_SCHEMA ?? 'bench_a';
const { config, http, spec, soql } = await openSource(object);
const db = new pg.Client({ connectionString: config.databaseUrl });
await db.connect();
await ensureTable(db, schema, spec);
const columns = spec.fields.map((f) => quoteIdent(f.column)).join(', ');

const job = await createQueryJob(http, { soql, operation: 'queryAll' });
await waitForJob(http, job.id);
let rows = 0;
let pages = 0;
let locator: string | null = null;
do {
  const q = locator === null ? '' : `?locator=${encodeURIComponent(locator)}`;
  const res = await http.getStream(`jobs/query/${job.id}/results${q}`, {
    headers: { Accept: 'text/csv', 'Accept-Encoding': process.env.BENCH_GZIP === '1' ? 'gzip' : 'identity' },
  });
  const copy = db.query(
    copyFrom(
      `COPY ${qualified(schema, spec.table)} (${columns}) ` +
        `FROM STDIN (FORMAT csv, HEADER true, FORCE_NULL (${columns}))`,
    ),
  );
  await pipeline(res.data, copy);
  rows += copy.rowCount;
  pages++;
  const next = res.headers['sforce-locator'];
  locator = next === undefined || next === '' || next === 'null' ? null : next;
} while (locator !== null);
await deleteJob(http, job.id).catch(() => {});
await db.end();
report({ rows, pages });
