// Rows into a table through sfsync's own COPY (loaders/copyCsv.ts) and CSV encoding (transforms/restPage.ts): how
// tests and benches put prepared rows where a load would.
import { Readable } from 'node:stream';
import type pg from 'pg';
import { type CopyTarget, copyCsv } from '../../loaders/copyCsv.ts';
import type { Row } from '../../schemas/records.ts';
import { encodeCsvLine } from '../../transforms/restPage.ts';

export function copyRows(
  client: pg.ClientBase,
  target: CopyTarget & { rows: AsyncIterable<Row> | Iterable<Row> },
): Promise<number> {
  const lines = (async function* () {
    for await (const row of target.rows) yield encodeCsvLine(row);
  })();
  return copyCsv(client, { ...target, source: Readable.from(lines, { objectMode: false }) });
}
