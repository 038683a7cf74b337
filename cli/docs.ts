// `sfsync docs`: a data dictionary of the data schema, read from the PostgreSQL catalog (the COMMENTs ddl.ts writes
// carry each column's label, Salesforce type and small picklists), so no Salesforce login is needed.
import { writeFile } from 'node:fs/promises';
import { loadConfig, type Env } from '../lib/config.ts';
import { commandLogger } from './logger.ts';
import { withClient } from '../loaders/postgres.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import type { DataDictionary } from '../loaders/dictionary.ts';
import { readDictionary } from '../loaders/dictionary.ts';

/** Markdown table cells: a pipe would end the cell, a newline the row. */
const cell = (text: string | null) => (text ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

export function formatDictionaryMarkdown(dict: DataDictionary): string {
  const tables = dict.tables.filter((t) => t.kind === 'table');
  const views = dict.tables.filter((t) => t.kind === 'view');
  const out = [`# Data dictionary: schema \`${dict.schema}\``, ''];
  if (tables.length === 0)
    return `${[...out, `No tables in schema \`${dict.schema}\` yet. Run \`sfsync sync\`.`].join('\n')}\n`;
  out.push(`${tables.length} table${tables.length === 1 ? '' : 's'}, one per Salesforce object.`, '');
  if (views.length > 0) {
    out.push('## Views', '', '| View | Description |', '| --- | --- |');
    for (const v of views) out.push(`| \`${dict.schema}.${v.name}\` | ${cell(v.description)} |`);
    out.push('');
  }
  for (const t of tables) {
    out.push(`## \`${dict.schema}.${t.name}\``, '');
    if (t.description) out.push(cell(t.description), '');
    out.push('| Column | Type | Description |', '| --- | --- | --- |');
    for (const c of t.columns) out.push(`| \`${c.name}\` | ${c.type} | ${cell(c.description)} |`);
    out.push('');
  }
  return out.join('\n');
}

export async function runDocs(opts: { format?: 'md' | 'json'; out?: string; org?: string }, env: Env): Promise<void> {
  const config = loadConfig(env, { needSalesforce: false, org: opts.org });
  const log = commandLogger(config);
  const db = await openDatabase(config, log);
  try {
    const dict = await withClient(db.pool, (client) => readDictionary(client, config.schema));
    const text = opts.format === 'json' ? `${JSON.stringify(dict, null, 2)}\n` : formatDictionaryMarkdown(dict);
    if (!opts.out) {
      process.stdout.write(text);
      return;
    }
    await writeFile(opts.out, text);
    process.stdout.write(
      `Wrote the data dictionary of ${dict.tables.length} tables and views in schema ${config.schema} to ${opts.out}\n`,
    );
  } finally {
    await db.close();
  }
}
