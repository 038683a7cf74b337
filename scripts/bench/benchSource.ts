import { describeObject } from '../../extractors/describe.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { buildSelect } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { type Config, loadConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { connectSalesforce } from '../../pipelines/runtime/connectSalesforce.ts';

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

/** The one line a child prints on stdout for the parent. */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
