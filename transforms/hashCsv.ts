// Bulk CSV -> the same CSV with the hashed fields' values replaced by their keyed hash (transforms/hashValue.ts), so a
// raw value never reaches PostgreSQL, not even a staging table. Only objects that hash columns pay for the parse and
// re-encode; for every other object the Bulk bytes go to COPY untouched.
import { pipeline, Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { DataError } from '../lib/errors.ts';
import type { FieldSpec } from '../schemas/records.ts';
import { hashValue, requireHashKey } from './hashValue.ts';
import { encodeCsvLine } from './restPage.ts';

/** Re-encoded lines are handed on in chunks of about this many characters. */
const CHUNK_CHARS = 256 * 1024;

/**
 * `source`: headerless CSV records in `fields` order (extractors/bulk/csvStream.ts). Returned as is when no field is
 * hashed. An empty field (quoted or not) is NULL, as COPY's FORCE_NULL loads it (loaders/copyCsv.ts), and stays NULL.
 */
export function hashCsvColumns(source: Readable, fields: readonly FieldSpec[], hashKey: string | null): Readable {
  const hashed = fields.map((f) => f.hashed === true);
  if (!hashed.includes(true)) return source;
  const key = requireHashKey(hashKey);
  const parser = parse({ relax_column_count: false });
  // A failure of the source reaches the parser, and so the loop below, as itself.
  pipeline(source, parser, () => {});
  async function* lines(): AsyncGenerator<Buffer> {
    let out = '';
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        if (record.length !== fields.length)
          throw new DataError(`A Bulk CSV record has ${record.length} values for ${fields.length} fields`);
        const row = record.map((v, i) => (v === '' ? null : hashed[i] ? hashValue(key, v) : v));
        out += encodeCsvLine(row);
        if (out.length >= CHUNK_CHARS) {
          yield Buffer.from(out, 'utf8');
          out = '';
        }
      }
    } catch (err) {
      throw readError(err);
    } finally {
      // Stopped early (COPY failed, abort): the parser and, through the pipeline, the download stop too.
      parser.destroy();
    }
    if (out.length > 0) yield Buffer.from(out, 'utf8');
  }
  return Readable.from(lines(), { objectMode: false });
}

/** csv-parse's own errors carry the record read so far: only their code and line go on, never a value. */
function readError(err: unknown): unknown {
  const e = err as { code?: unknown; lines?: unknown };
  if (typeof e?.code !== 'string' || !e.code.startsWith('CSV_')) return err;
  return new DataError(`The Bulk CSV could not be read to hash its columns (${e.code} at line ${String(e.lines)})`);
}
