// `sfsync dbt-sources`: a dbt sources file for the data schema, from the PostgreSQL catalog and sfsync.runs (no
// Salesforce login). Run again after each sync: with --out the file is rewritten only when its content changed, and
// never over a file sfsync did not write (or that was edited since) unless --force says so.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Env, loadConfig } from '../lib/config.ts';
import { ConfigError } from '../lib/errors.ts';
import { withClient } from '../loaders/postgres.ts';
import { readSourceCatalog } from '../loaders/sourceCatalog.ts';
import { openDatabase } from '../pipelines/runtime/database.ts';
import {
  DEFAULT_ERROR_AFTER,
  DEFAULT_WARN_AFTER,
  type FreshnessAfter,
  formatDbtSources,
  isUneditedSfsyncFile,
  parseFreshnessAfter,
} from './dbtSourcesYaml.ts';
import { commandLogger } from './logger.ts';

export interface DbtSourcesFlags {
  /** --org: the org of the config file's `orgs` (required when it lists several). */
  org?: string;
  out?: string;
  force?: boolean;
  name?: string;
  warnAfter?: string;
  errorAfter?: string;
  loadedAtField?: string;
}

const MINUTES = { minute: 1, hour: 60, day: 1440 } as const;
const minutesOf = (a: FreshnessAfter) => a.count * MINUTES[a.period];

/** The file as it is, or undefined when there is none. */
async function currentText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read --out ${file}: ${(err as Error).message}`);
  }
}

/** Through a file beside it and a rename: a reader (or a crash) never sees half a file. */
async function writeWhole(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true }).catch(() => {});
    throw new ConfigError(`cannot write --out ${file}: ${(err as Error).message}`);
  }
}

export async function runDbtSources(flags: DbtSourcesFlags, env: Env): Promise<void> {
  const config = loadConfig(env, { needSalesforce: false, org: flags.org });
  const sourceName = flags.name ?? config.schema;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(sourceName))
    throw new ConfigError(`--name must be a name such as salesforce (letters, digits, _), got ${sourceName}`);
  const warnAfter = flags.warnAfter ? parseFreshnessAfter(flags.warnAfter, '--warn-after') : DEFAULT_WARN_AFTER;
  const errorAfter = flags.errorAfter ? parseFreshnessAfter(flags.errorAfter, '--error-after') : DEFAULT_ERROR_AFTER;
  if (minutesOf(errorAfter) < minutesOf(warnAfter))
    throw new ConfigError('--error-after must be at least --warn-after: a table would fail before it warned');
  // Checked before the database is opened: refusing the file is the answer whatever the schema holds.
  const existing = flags.out === undefined ? undefined : await currentText(flags.out);
  if (existing !== undefined && !flags.force && !isUneditedSfsyncFile(existing))
    throw new ConfigError(
      `${flags.out} was not written by sfsync dbt-sources, or was edited since: pass --force to replace it`,
    );

  const log = commandLogger(config);
  const db = await openDatabase(config, log);
  let catalog: Awaited<ReturnType<typeof readSourceCatalog>>;
  try {
    catalog = await withClient(db.pool, (client) => readSourceCatalog(client, config.schema));
  } finally {
    await db.close();
  }
  if (!catalog.relations.some((r) => r.kind === 'table'))
    throw new ConfigError(
      `schema ${config.schema} has no tables yet: run sfsync sync first (SFSYNC_SCHEMA names the schema it loads)`,
    );
  const loadedAtField = flags.loadedAtField?.toLowerCase();
  if (loadedAtField !== undefined && !catalog.relations.some((r) => r.columns.some((c) => c.name === loadedAtField)))
    throw new ConfigError(`--loaded-at-field: no table of schema ${config.schema} has a column ${loadedAtField}`);
  const text = formatDbtSources(catalog, { sourceName, warnAfter, errorAfter, loadedAtField });
  if (flags.out === undefined) {
    process.stdout.write(text);
    return;
  }
  const views = catalog.relations.filter((r) => r.kind === 'view').length;
  const tables = catalog.relations.length - views;
  const what = `source ${sourceName}: ${tables} tables and ${views} views of schema ${config.schema}`;
  if (existing === text) {
    process.stdout.write(`${flags.out} unchanged (${what}): not written\n`);
    return;
  }
  await writeWhole(flags.out, text);
  process.stdout.write(`${existing === undefined ? 'Wrote' : 'Updated'} ${flags.out} (${what})\n`);
}
