// What the (a) and (c) children share with sfsync: the same login settings (env, lib/config.ts), the same field list
// (sfsync's describe -> ObjectSpec) and the same SOQL, so all three read identical bytes from the emulator.
import type pg from 'pg';
import { describeObject } from '../../extractors/describe.ts';
import type { SalesforceHttp } from '../../extractors/salesforceHttp.ts';
import { buildSelect } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../extractors/types.ts';
import { type Config, loadConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { qualified, quoteIdent } from '../../loaders/postgres.ts';
import { connectSalesforce } from '../../pipelines/salesforce.ts';

export interface BenchSource {
  config: Readonly<Config>;
  http: SalesforceHttp;
  spec: ObjectSpec;
  soql: string;
}

export async function openSource(object: string): Promise<BenchSource> {
  const config = loadConfig(process.env, { objects: object });
  const log = createLogger({ level: 'warn' });
  const http = await connectSalesforce(config, log, new AbortController().signal);
  const { spec } = await describeObject(http, object);
  return { config, http, spec, soql: buildSelect(spec) };
}

/** A plain table of text columns (no keys, no types): nothing for PostgreSQL to check but the CSV itself. */
export async function createTextTable(client: pg.ClientBase, schema: string, table: string, columns: readonly string[]): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  await client.query(`CREATE TABLE ${qualified(schema, table)} (${columns.map((c) => `${quoteIdent(c)} text`).join(', ')})`);
}

/** The one line a child prints on stdout for the parent. */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
