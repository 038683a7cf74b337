// `sfsync sql "<query>"`: one query against the database sfsync uses (DATABASE_URL, else the embedded PostgreSQL),
// its result as a table, or JSON for scripts.
import pg from 'pg';
import { type Env, loadConfigs } from '../lib/config.ts';
import { DatabaseUnavailableError } from '../lib/errors.ts';
import { databaseUrlFor, describeUrl } from '../pipelines/runtime/database.ts';
import { commandLogger } from './logger.ts';
import { formatTextTable } from './textTable.ts';

/** Every value as PostgreSQL's own text (what psql shows): no rounding of numerics, no time zone shifts. */
const asText: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value };

function formatResult(result: pg.QueryResult): string {
  if (result.fields.length === 0) return `${result.command}${result.rowCount === null ? '' : ` ${result.rowCount}`}\n`;
  const header = result.fields.map((f) => f.name);
  const body = result.rows.map((row: unknown[]) => row.map((v) => (v === null ? '' : String(v))));
  const n = result.rows.length;
  return `${formatTextTable(header, body)}(${n} ${n === 1 ? 'row' : 'rows'})\n`;
}

export async function runSql(query: string, opts: { json?: boolean }, env: Env): Promise<void> {
  // The database, home and logging settings are the same for every org.
  const config = loadConfigs(env, { needSalesforce: false })[0]!;
  const db = await databaseUrlFor(config, commandLogger(config));
  try {
    // Rows as arrays for the table: two columns of the same name (a join's ids) both show.
    const client = new pg.Client({
      connectionString: db.url,
      application_name: 'sfsync sql',
      types: opts.json ? undefined : asText,
    });
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      throw new DatabaseUnavailableError(
        `cannot reach PostgreSQL at ${describeUrl(db.url)}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    try {
      const results = opts.json ? await client.query(query) : await client.query({ text: query, rowMode: 'array' });
      // Several statements in one string give one result each.
      const list = (Array.isArray(results) ? results : [results]) as pg.QueryResult[];
      if (opts.json) {
        const shape = (r: pg.QueryResult) => ({ command: r.command, rowCount: r.rowCount, rows: r.rows });
        process.stdout.write(`${JSON.stringify(list.length === 1 ? shape(list[0]!) : list.map(shape))}\n`);
      } else process.stdout.write(list.map(formatResult).join('\n'));
    } finally {
      await client.end().catch(() => {});
    }
  } finally {
    await db.close();
  }
}
