// (c) The baseline a user would otherwise write: jsforce's `bulk2.query()` record stream feeding knex batch inserts of
// 1,000 rows into a table of text columns. Same login, fields and SOQL as sfsync (./benchSource.ts).
// docs/salesforce.md#jsforce-and-multi-page-bulk-results: jsforce pipes every result page into one CSV parser, so later
// pages' header rows come out as records; they are dropped here. Env as for ./physicalCopy.ts. Prints
// {"rows":N,"batchSize":B} on stdout.
import { Connection } from 'jsforce';
import knex from 'knex';
import { fetchToken } from '../../extractors/client/auth.ts';
import { createLogger } from '../../lib/log.ts';
import { openSource, report } from './benchSource.ts';

const object = process.env.BENCH_OBJECT ?? 'Account';
const schema = process.env.BENCH_SCHEMA ?? 'bench_c';
/** PostgreSQL takes at most 65,535 bind parameters per statement. */
const MAX_PARAMS = 65_535;

const { config, spec, soql } = await openSource(object);
const sf = config.salesforce!;
const session = await fetchToken({ loginUrl: sf.loginUrl, auth: sf.auth, log: createLogger({ level: 'warn' }) });
const conn = new Connection({
  instanceUrl: session.instanceUrl,
  accessToken: session.accessToken,
  version: sf.apiVersion,
});
conn.bulk2.pollInterval = 500;
conn.bulk2.pollTimeout = 3_600_000;

const db = knex({ client: 'pg', connection: config.databaseUrl, pool: { min: 1, max: 1 } });
const names = spec.fields.map((f) => f.name);
const columns = spec.fields.map((f) => f.column);
await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
await db.schema.withSchema(schema).createTable(spec.table, (t) => {
  for (const c of columns) t.text(c);
});
const batchSize = Math.min(1000, Math.floor(MAX_PARAMS / columns.length));

const isHeader = (r: Record<string, string>) => names.every((n) => r[n] === n);
let rows = 0;
let batch: Record<string, string | null>[] = [];
const flush = async () => {
  if (batch.length === 0) return;
  await db.withSchema(schema).table(spec.table).insert(batch);
  rows += batch.length;
  batch = [];
};
const stream = await conn.bulk2.query(soql, { scanAll: true });
for await (const r of stream as AsyncIterable<Record<string, string>>) {
  if (isHeader(r)) continue;
  const row: Record<string, string | null> = {};
  for (let i = 0; i < names.length; i++) row[columns[i]!] = r[names[i]!] === '' ? null : (r[names[i]!] ?? null);
  batch.push(row);
  if (batch.length >= batchSize) await flush();
}
await flush();
await db.destroy();
report({ rows, batchSize });
