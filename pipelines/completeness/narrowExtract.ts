// A narrow extract (Id + a few fields) COPYed into a table: Bulk API 2.0 when it accepts the query, else REST.
// Used by reconciliation (Id only), formula refreshes and drift back-fills (Id + the refreshed fields).
import type pg from 'pg';
import { DataError, oneLine } from '../../lib/errors.ts';
import { actionFor } from '../../lib/errorActions.ts';
import { bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import { createQueryJob, deleteJob, waitForJob } from '../../extractors/bulk/queryJob.ts';
import { queryCsv } from '../../transforms/restPage.ts';
import { hashCsvColumns } from '../../transforms/hashCsv.ts';
import { buildSelect } from '../../extractors/soql.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { copyCsv } from '../../loaders/copyCsv.ts';
import type { RunContext } from '../runtime/runContext.ts';

export interface NarrowExtract {
  /** Bulk job ids used (for runs.bulk_job_ids). */
  readonly bulkJobIds: string[];
  readonly via: 'bulk' | 'rest';
  /** Streams every record into `target` (columns = the fields' columns, in order); returns the rows copied. */
  copyInto(client: pg.ClientBase, target: { schema: string; table: string }): Promise<number>;
  /**
   * Deletes the Bulk job (docs/salesforce.md#bulk-api-20-abort-and-delete: results count against storage); never
   * throws.
   */
  close(): Promise<void>;
}

/** Only `fieldNames` of `spec` (Id first); the sub-spec REST rows are converted with. */
export function narrowSpec(spec: ObjectSpec, fieldNames: readonly string[]): ObjectSpec {
  const wanted = new Set(['Id', ...fieldNames]);
  return {
    ...spec,
    fields: spec.fields
      .filter((f) => wanted.has(f.name))
      .sort((a, b) => (a.name === 'Id' ? -1 : b.name === 'Id' ? 1 : 0)),
  };
}

/**
 * Runs the query up to the point where rows can be read, OUTSIDE any transaction (a Bulk job can take minutes);
 * the caller then opens its transaction and calls copyInto.
 */
export async function openNarrowExtract(
  ctx: RunContext,
  spec: ObjectSpec,
  operation: 'query' | 'queryAll',
  opts: { liveOnly?: boolean; unmatched?: boolean } = {},
): Promise<NarrowExtract> {
  const soql = buildSelect(spec, { liveOnly: opts.liveOnly, unmatched: opts.unmatched });
  const columns = spec.fields.map((f) => f.column);
  let jobId: string;
  try {
    jobId = (await createQueryJob(ctx.sf, { soql, operation })).id;
  } catch (err) {
    if (actionFor(err) !== 'rest-fallback') throw err;
    ctx.log.warn({ object: spec.name, err: oneLine(err) }, 'Bulk API refused the query; reading it through REST');
    return restExtract(ctx, spec, soql, operation, columns);
  }
  try {
    await waitForJob(ctx.sf, jobId, { signal: ctx.signal });
  } catch (err) {
    await deleteJob(ctx.sf, jobId).catch(() => {});
    throw err;
  }
  return {
    bulkJobIds: [jobId],
    via: 'bulk',
    copyInto: async (client, target) => {
      const stream = bulkCsvStream(ctx.sf, jobId, {
        expectedHeader: spec.fields.map((f) => f.name),
        signal: ctx.signal,
      });
      const source = hashCsvColumns(stream, spec.fields, ctx.config.hashKey);
      const copied = await copyCsv(client, { ...target, columns, source, signal: ctx.signal });
      // docs/salesforce.md#bulk-api-20-query-results: a short read must not pass for a complete one (reconciliation
      // would mark the rest deleted).
      if (copied !== stream.records)
        throw new DataError(`${spec.name}: Bulk API announced ${stream.records} records but ${copied} arrived`);
      return copied;
    },
    close: () => deleteJob(ctx.sf, jobId).catch(() => {}),
  };
}

function restExtract(
  ctx: RunContext,
  spec: ObjectSpec,
  soql: string,
  operation: 'query' | 'queryAll',
  columns: string[],
): NarrowExtract {
  return {
    bulkJobIds: [],
    via: 'rest',
    copyInto: (client, target) =>
      copyCsv(client, {
        ...target,
        columns,
        source: queryCsv(ctx.sf, soql, spec.fields, { all: operation === 'queryAll', hashKey: ctx.config.hashKey }),
        signal: ctx.signal,
      }),
    close: async () => {},
  };
}
