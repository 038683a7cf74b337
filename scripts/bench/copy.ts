// Loader throughput: COPY of Bulk-style CSV bytes straight into the target vs the REST row path (encode + COPY)
// vs staging + merge. Usage: DATABASE_URL=postgres://… npx tsx scripts/bench/copy.ts [rows=200000]
import { Readable } from 'node:stream';
import pg from 'pg';
import type { FieldSpec, ObjectSpec, Row } from '../../schemas/records.ts';
import { copyCsv } from '../../loaders/copyCsv.ts';
import { copyRows } from '../../test/support/copyRows.ts';
import { ensureTable } from '../../loaders/ddl.ts';
import { mergeStage } from '../../loaders/merge.ts';
import { withTransaction } from '../../loaders/postgres.ts';
import { createStage, STAGE_SCHEMA } from '../../loaders/stage.ts';
import { fieldSpec } from '../../test/support/fieldSpec.ts';

const SHAPE: [string, string][] = [
  ['Id', 'id'],
  ['Name', 'string'],
  ['Type', 'picklist'],
  ['Industry', 'picklist'],
  ['AnnualRevenue', 'currency'],
  ['NumberOfEmployees', 'int'],
  ['Phone', 'phone'],
  ['Website', 'url'],
  ['BillingStreet', 'textarea'],
  ['BillingCity', 'string'],
  ['BillingPostalCode', 'string'],
  ['BillingCountry', 'string'],
  ['Rating', 'picklist'],
  ['Description', 'textarea'],
  ['OwnerId', 'reference'],
  ['ParentId', 'reference'],
  ['IsDeleted', 'boolean'],
  ['CreatedDate', 'datetime'],
  ['LastModifiedDate', 'datetime'],
  ['SystemModstamp', 'datetime'],
];

const fields: FieldSpec[] = SHAPE.map(([name, sfType]) => fieldSpec(name, sfType));
const spec: ObjectSpec = {
  name: 'Account',
  table: 'account',
  label: 'Account',
  fields,
  cursorField: 'SystemModstamp',
  hasIsDeleted: true,
};
const columns = fields.map((f) => f.column);

function row(i: number): Row {
  const id = '001' + i.toString(36).padStart(12, '0');
  const at = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
  return [
    id,
    `Account "${i}", Inc.`,
    'Customer',
    'Energy',
    String(i * 1.5),
    String(i % 5000),
    '+1 555 0100',
    'https://example.com',
    `${i} Main St\nSuite ${i % 100}`,
    'Springfield',
    '12345',
    'US',
    'Hot',
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit.',
    '005000000000001',
    null,
    'false',
    at,
    at,
    at,
  ];
}

async function* rows(n: number): AsyncGenerator<Row> {
  for (let i = 0; i < n; i++) yield row(i);
}

/** Bulk CSV as Salesforce sends it (docs/salesforce.md#bulk-api-20-csv-format): every value quoted, NULL as "". */
async function* bulkCsv(n: number): AsyncGenerator<Buffer> {
  let chunk = '';
  for (let i = 0; i < n; i++) {
    chunk +=
      row(i)
        .map((v) => '"' + (v ?? '').replaceAll('"', '""') + '"')
        .join(',') + '\n';
    if (chunk.length > 65536) {
      yield Buffer.from(chunk);
      chunk = '';
    }
  }
  if (chunk) yield Buffer.from(chunk);
}

async function timed(label: string, n: number, fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(40)} ${n} rows  ${s.toFixed(2)} s  ${Math.round(n / s)} rows/s`);
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL to a scratch database');
  const n = Number(process.argv[2] ?? 200_000);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS sfsync_bench CASCADE');
    await ensureTable(client, 'sfsync_bench', spec);
    const target = { schema: 'sfsync_bench', table: 'account', columns };
    // The generator's own cost, so the COPY numbers can be read net of it.
    await timed('generate Bulk CSV only', n, async () => {
      for await (const _ of bulkCsv(n));
    });
    await timed('(a) Bulk CSV bytes -> COPY target', n, () =>
      withTransaction(client, () => copyCsv(client, { ...target, source: Readable.from(bulkCsv(n)) })),
    );
    await client.query('TRUNCATE sfsync_bench.account');
    await timed('(b) rows -> encodeCsv -> COPY target', n, () =>
      withTransaction(client, () => copyRows(client, { ...target, rows: rows(n) })),
    );
    await timed('(c) rows -> stage -> merge (unchanged)', n, () =>
      withTransaction(client, async () => {
        const stage = await createStage(client, 'sfsync_bench', 'account');
        await copyRows(client, { schema: STAGE_SCHEMA, table: stage, columns, rows: rows(n) });
        return mergeStage(client, {
          schema: 'sfsync_bench',
          table: 'account',
          stage,
          columns,
          cursorColumn: 'systemmodstamp',
        });
      }),
    );
  } finally {
    await client.query('DROP SCHEMA IF EXISTS sfsync_bench CASCADE').catch(() => {});
    await client.end();
  }
}

await main();
