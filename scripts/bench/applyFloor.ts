// (d0) The floor under (d): PostgreSQL alone applying as many changed Accounts as (d) did, the way sfsync applies
// them (COPY into a TEMP stage, then loaders/merge.ts's upsert, one transaction), with no Salesforce, no parsing
// and no process start. The rows are BENCH_CHANGED random rows of the loaded table, a different random set from
// (d)'s, each with a new Description and SystemModstamp; their CSV is read out before the clock starts. Runs after
// (d), on the table (d) left. Env: DATABASE_URL, BENCH_SCHEMA, BENCH_TABLE, BENCH_CHANGED.
// Prints {"rows":N,"ms":M,"copyMs":C,"mergeMs":G} on stdout.
import { Readable } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { copyCsv } from '../../loaders/copyCsv.ts';
import { MARK_COLUMN, existingColumns } from '../../loaders/ddl.ts';
import { mergeStage } from '../../loaders/merge.ts';
import { qualified, quoteIdent } from '../../loaders/postgres.ts';
import { STAGE_SCHEMA, createStage } from '../../loaders/stage.ts';
import { report } from './benchSource.ts';

const schema = process.env.BENCH_SCHEMA ?? 'bench_b';
const table = process.env.BENCH_TABLE ?? 'account';
const changed = Number(process.env.BENCH_CHANGED ?? 10_000);
const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
await db.connect();
// sfsync's own bookkeeping column is not a field: the merge sets it.
const columns = (await existingColumns(db, schema, table)).filter((c) => c !== MARK_COLUMN);
const changedValue = (c: string) =>
  c === 'description' ? `'floor change ' || id` : c === 'systemmodstamp' ? 'now()' : quoteIdent(c);
const list = columns.map((c) => `${changedValue(c)} AS ${quoteIdent(c)}`).join(', ');
const select = `SELECT ${list} FROM ${qualified(schema, table)}
  ORDER BY md5(id || 'applyFloor') LIMIT ${changed}`;
const chunks: Buffer[] = [];
for await (const chunk of db.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT csv)`))) chunks.push(chunk as Buffer);

const started = performance.now();
await db.query('BEGIN');
const stage = await createStage(db, schema, table);
const rows = await copyCsv(db, { schema: STAGE_SCHEMA, table: stage, columns, source: Readable.from(chunks) });
const copied = performance.now();
await mergeStage(db, { schema, table, stage, columns, cursorColumn: 'systemmodstamp' });
const merged = performance.now();
await db.query('COMMIT');
const ms = performance.now() - started;
await db.end();
report({ rows, ms: Math.round(ms), copyMs: Math.round(copied - started), mergeMs: Math.round(merged - copied) });
