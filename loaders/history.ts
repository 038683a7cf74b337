// History mode (type-2 slowly changing dimension): `<table>_history` keeps one row per version of each record, kept by
// statement-level triggers on the current table, so every write path versions its rows in its own transaction.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ConfigError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { pgIdentifier } from '../schemas/pgNames.ts';
import type { ObjectSpec } from '../schemas/records.ts';
import { MARK_COLUMN, existingColumns } from './ddl.ts';
import { qualified, quoteIdent, quoteLiteral, withTransaction } from './postgres.ts';

/**
 * `<table>_history`, one underscore (docs/salesforce.md#object-names): `__history` is taken by Salesforce's own History
 * objects (`Order__History` is the table `order__history`, beside a standard `Order`), while no table name ends in `_`
 * and every suffix Salesforce adds starts with `__`, so no object's table is ever called `<table>_history`.
 */
export function historyTableName(table: string): string {
  return pgIdentifier(table, '_history');
}

function historyIndexName(table: string): string {
  return pgIdentifier(table, '_history_idx');
}

/** The validity columns, `_`-prefixed: Salesforce names start with a letter, so no field can take them. */
export const VALIDITY_COLUMNS = ['_valid_from', '_valid_to', '_is_current', '_recorded_at'] as const;

const TRIGGERS = {
  insert: 'sfsync_history_insert',
  update: 'sfsync_history_update',
  delete: 'sfsync_history_delete',
  truncate: 'sfsync_history_truncate',
} as const;

/** What each trigger hands its function: the rows written, the rows removed, or none (TRUNCATE has no row set). */
const TRIGGER_CALLS: Record<keyof typeof TRIGGERS, string> = {
  insert: 'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sfsync.history_trigger',
  update: 'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sfsync.history_trigger',
  delete: 'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sfsync.history_close',
  truncate: 'FOR EACH STATEMENT EXECUTE FUNCTION sfsync.history_close',
};

/**
 * The SQL half, in the sfsync schema, shared by every history table. The versioning statement is built per call from
 * the catalog, so columns added inside a transaction (isdeleted for an object without IsDeleted, a back-filled field)
 * are versioned too: a trigger with a fixed column list would miss them without a word.
 *
 * history_sql: the one statement that versions the rows of `source` (the trigger's transition table, or the current
 * table when history is turned on) that differ from their current version, `_sfsync_marked` aside: it closes the
 * current version at the new one's `_valid_from` and opens the new one. `_valid_from` is the record's cursor when the
 * cursor moved (a version read from Salesforce), else $1, the time of the write (sfsync's own marks: deletes,
 * refreshed columns), and never before the previous version's. No unique index on the current version: the close and
 * the open happen in one statement, whose order of rows a unique check would trip over.
 */
const FUNCTIONS_SQL = `
CREATE OR REPLACE FUNCTION sfsync.history_columns(tbl regclass, hist regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  c record;
BEGIN
  FOR c IN
    SELECT a.attname, format_type(a.atttypid, NULL) AS want, h.attname AS have,
           (format_type(h.atttypid, NULL), format_type(a.atttypid, NULL)) IN (
             ('integer', 'bigint'), ('integer', 'numeric'), ('bigint', 'numeric'),
             ('date', 'timestamp with time zone'), ('character varying', 'text')) AS safe
    FROM pg_attribute a
    LEFT JOIN pg_attribute h ON h.attrelid = hist AND h.attname = a.attname AND NOT h.attisdropped
    WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> '${MARK_COLUMN}'
      AND (h.attname IS NULL OR (h.atttypid <> a.atttypid AND h.atttypid <> 'text'::regtype))
    ORDER BY a.attnum
  LOOP
    IF c.have IS NULL THEN
      EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', hist, c.attname, c.want);
    ELSE
      -- The current table's column changed kind (pipelines/completeness/drift.ts): the same safe cast, else text, so
      -- no older version loses a value.
      EXECUTE format('ALTER TABLE %1$s ALTER COLUMN %2$I TYPE %3$s USING %2$I::%3$s', hist, c.attname,
                     CASE WHEN c.safe THEN c.want ELSE 'text' END);
    END IF;
  END LOOP;
END $fn$;

CREATE OR REPLACE FUNCTION sfsync.history_sql(tbl regclass, hist regclass, cursor_col text, source text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  empty boolean;
BEGIN
  EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s)', hist) INTO empty;
  IF empty THEN
    RETURN sfsync.history_first_sql(tbl, hist, cursor_col, source);
  END IF;
  RETURN sfsync.history_next_sql(tbl, hist, cursor_col, source);
END $fn$;

-- First versions (rows new to the table, an initial load, history turned on): nothing to compare with or close, so a
-- plain INSERT, which spares the join and the materialised rows of history_next_sql.
CREATE OR REPLACE FUNCTION sfsync.history_first_sql(tbl regclass, hist regclass, cursor_col text, source text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  cols text;
  from_expr text := '$1';
BEGIN
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute
    WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped AND attname <> '${MARK_COLUMN}';
  IF cursor_col <> '' THEN
    from_expr := format('coalesce(%I, $1)', cursor_col);
  END IF;
  RETURN format(
    'INSERT INTO %1$s (%2$s, _valid_from, _valid_to, _is_current, _recorded_at)
     SELECT %2$s, %3$s, ''infinity'', true, $1 FROM %4$s',
    hist, cols, from_expr, source);
END $fn$;

CREATE OR REPLACE FUNCTION sfsync.history_next_sql(tbl regclass, hist regclass, cursor_col text, source text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  cols text;
  n_cols text;
  h_cols text;
  from_expr text := '$1';
BEGIN
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
         string_agg('n.' || quote_ident(attname), ', ' ORDER BY attnum),
         string_agg('h.' || quote_ident(attname), ', ' ORDER BY attnum)
    INTO cols, n_cols, h_cols
    FROM pg_attribute
    WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped AND attname <> '${MARK_COLUMN}';
  IF cursor_col <> '' THEN
    from_expr := format('CASE WHEN n.%1$I IS DISTINCT FROM h.%1$I AND n.%1$I IS NOT NULL THEN n.%1$I ELSE $1 END',
                        cursor_col);
  END IF;
  RETURN format(
    'WITH v AS (
       SELECT %2$s, %5$s AS _from,
              CASE WHEN h.id IS NULL THEN (SELECT max(x._valid_to) FROM %3$s AS x WHERE x.id = n.id)
                   ELSE h._valid_from END AS _prev
       FROM %1$s AS n LEFT JOIN %3$s AS h ON h.id = n.id AND h._is_current
       WHERE h.id IS NULL OR ROW(%2$s) IS DISTINCT FROM ROW(%4$s)
     ), closed AS (
       UPDATE %3$s AS h SET _valid_to = greatest(v._from, v._prev), _is_current = false
       FROM v WHERE h.id = v.id AND h._is_current
     )
     INSERT INTO %3$s (%6$s, _valid_from, _valid_to, _is_current, _recorded_at)
     SELECT %6$s, greatest(_from, _prev), ''infinity'', true, $1 FROM v',
    source, n_cols, hist, h_cols, from_expr, cols);
END $fn$;

-- Index lookups by id, whatever the statistics say: right after a large load the history has none yet, and PostgreSQL
-- would otherwise hash the whole history for a page of a few thousand rows.
CREATE OR REPLACE FUNCTION sfsync.history_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_hashjoin = off SET enable_mergejoin = off AS $fn$
DECLARE
  hist regclass := to_regclass(format('%I.%I', TG_TABLE_SCHEMA, TG_ARGV[0]));
  seen boolean := false;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
    RETURN NULL;
  END IF;
  IF hist IS NULL THEN
    RAISE EXCEPTION 'history table %.% is missing: the next sfsync sync makes it again (history: false stops history)',
      TG_TABLE_SCHEMA, TG_ARGV[0];
  END IF;
  PERFORM sfsync.history_columns(TG_RELID, hist);
  IF TG_OP = 'INSERT' THEN
    -- Rows new to the table usually have no version at all (an initial load's pages): then a plain INSERT. One that
    -- has (removed by hand and back, or a version left by triggers of an older build) goes through the comparison.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM new_rows AS n JOIN %s AS h ON h.id = n.id)', hist) INTO seen;
  END IF;
  IF TG_OP = 'INSERT' AND NOT seen THEN
    EXECUTE sfsync.history_first_sql(TG_RELID, hist, TG_ARGV[1], 'new_rows') USING clock_timestamp();
  ELSE
    EXECUTE sfsync.history_sql(TG_RELID, hist, TG_ARGV[1], 'new_rows') USING clock_timestamp();
  END IF;
  RETURN NULL;
END $fn$;

-- Rows removed from the table (a hand-made DELETE or TRUNCATE; sfsync itself only marks rows deleted): their current
-- versions end, so _is_current stays true only on versions the table holds.
CREATE OR REPLACE FUNCTION sfsync.history_close() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  hist regclass := to_regclass(format('%I.%I', TG_TABLE_SCHEMA, TG_ARGV[0]));
BEGIN
  IF hist IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    EXECUTE format('UPDATE %s SET _valid_to = greatest(_valid_from, $1), _is_current = false WHERE _is_current', hist)
      USING clock_timestamp();
  ELSE
    EXECUTE format('UPDATE %s AS h SET _valid_to = greatest(h._valid_from, $1), _is_current = false
                    FROM old_rows AS o WHERE h.id = o.id AND h._is_current', hist)
      USING clock_timestamp();
  END IF;
  RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION sfsync.history_catch_up(tbl regclass, hist regclass, cursor_col text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  n bigint;
BEGIN
  PERFORM sfsync.history_columns(tbl, hist);
  -- Rows removed while history was off end their versions first (see history_close).
  EXECUTE format('UPDATE %1$s AS h SET _valid_to = greatest(h._valid_from, $1), _is_current = false
                  WHERE h._is_current AND NOT EXISTS (SELECT 1 FROM %2$s AS t WHERE t.id = h.id)', hist, tbl)
    USING clock_timestamp();
  EXECUTE sfsync.history_sql(tbl, hist, cursor_col, tbl::text) USING clock_timestamp();
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $fn$;
`;

/** Marks the installed functions' version: a different build replaces them. */
const FUNCTIONS_VERSION = `sfsync history ${createHash('sha256').update(FUNCTIONS_SQL).digest('hex').slice(0, 12)}`;

/** Installs or replaces the functions; serialised, since two objects turning history on at once would race. */
async function ensureFunctions(client: pg.ClientBase): Promise<void> {
  const installed = async () => {
    const { rows } = await client.query<{ version: string | null }>(
      "SELECT obj_description(to_regprocedure('sfsync.history_trigger()'), 'pg_proc') AS version",
    );
    return rows[0]?.version === FUNCTIONS_VERSION;
  };
  if (await installed()) return;
  await withTransaction(client, async () => {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('sfsync:history functions', 0))");
    if (await installed()) return;
    await client.query(FUNCTIONS_SQL);
    await client.query(`COMMENT ON FUNCTION sfsync.history_trigger() IS ${quoteLiteral(FUNCTIONS_VERSION)}`);
  });
}

/** The history triggers on a table: name -> arguments. */
async function historyTriggers(client: pg.ClientBase, schema: string, table: string): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ name: string; args: Buffer }>(
    'SELECT tgname AS name, tgargs AS args FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = ANY($2)',
    [qualified(schema, table), Object.values(TRIGGERS)],
  );
  return new Map(rows.map((r) => [r.name, r.args.toString('utf8').split('\0').slice(0, -1)]));
}

/**
 * Columns as the current table's, without sizes (varchar(40) -> character varying, numeric(18,2) -> numeric): a column
 * widened later needs no change here, and no older version is ever cut to a narrower size.
 */
async function createTableSql(client: pg.ClientBase, schema: string, spec: ObjectSpec): Promise<string> {
  const { rows } = await client.query<{ name: string; type: string }>(
    'SELECT attname AS name, format_type(atttypid, NULL) AS type FROM pg_attribute ' +
      'WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attname <> $2 ORDER BY attnum',
    [qualified(schema, spec.table), MARK_COLUMN],
  );
  const data = rows.map((r) => `${quoteIdent(r.name)} ${r.type}`);
  const validity = [
    '_valid_from timestamptz NOT NULL',
    "_valid_to timestamptz NOT NULL DEFAULT 'infinity'",
    '_is_current boolean NOT NULL',
    '_recorded_at timestamptz NOT NULL',
  ];
  const columns = [...data, ...validity].join(',\n  ');
  return `CREATE TABLE ${qualified(schema, historyTableName(spec.table))} (\n  ${columns}\n)`;
}

function commentsSql(schema: string, spec: ObjectSpec): string {
  const hist = qualified(schema, historyTableName(spec.table));
  const cursor = spec.cursorField ?? 'cursor';
  const comments: [string, string][] = [
    [
      `TABLE ${hist}`,
      `Versions of ${schema}.${spec.table} (Salesforce ${spec.name}), one row each, valid from _valid_from until ` +
        '_valid_to (sfsync history)',
    ],
    [
      `COLUMN ${hist}._valid_from`,
      `sfsync: when this version began: its ${cursor} when read from Salesforce, else when sfsync wrote it (a ` +
        'delete it found, refreshed columns)',
    ],
    [`COLUMN ${hist}._valid_to`, "sfsync: when the next version began; 'infinity' while this one is current"],
    [`COLUMN ${hist}._is_current`, 'sfsync: true on the version the current table holds'],
    [`COLUMN ${hist}._recorded_at`, 'sfsync: when sfsync wrote this version'],
  ];
  return comments.map(([target, text]) => `COMMENT ON ${target} IS ${quoteLiteral(text)};`).join('\n');
}

export interface HistoryResult {
  table: string;
  created: boolean;
  /** Versions opened for rows already in the table (history turned on, or on again). */
  opened: number;
}

/**
 * Creates `<table>_history` and the triggers, or brings them in line with the current table (new columns, changed
 * types). A table that already has rows gets one version per row that its history lacks, in the transaction that
 * creates the triggers. Call it after ensureTable and applyTypeChanges, inside the object lock, outside a transaction.
 */
export async function ensureHistory(client: pg.ClientBase, schema: string, spec: ObjectSpec): Promise<HistoryResult> {
  await ensureFunctions(client);
  const hist = historyTableName(spec.table);
  const cursor = spec.cursorField?.toLowerCase() ?? '';
  const have = await existingColumns(client, schema, hist);
  if (have.length > 0 && !VALIDITY_COLUMNS.every((c) => have.includes(c)))
    throw new ConfigError(
      `${schema}.${hist} exists but is not an sfsync history table; rename it, or set history: false for ${spec.name}`,
    );
  const args = [hist, cursor];
  const triggers = await historyTriggers(client, schema, spec.table);
  const armed = Object.values(TRIGGERS).every((t) => triggers.get(t)?.join('\0') === args.join('\0'));
  const tbl = qualified(schema, spec.table);
  const histRef = qualified(schema, hist);
  if (have.length > 0 && armed) {
    // Takes no lock on the history table unless a column is added or changes type.
    await client.query('SELECT sfsync.history_columns($1::regclass, $2::regclass)', [tbl, histRef]);
    return { table: hist, created: false, opened: 0 };
  }
  return withTransaction(client, async () => {
    if (have.length === 0) {
      await client.query(await createTableSql(client, schema, spec));
      await client.query(`CREATE INDEX ${quoteIdent(historyIndexName(spec.table))} ON ${histRef} (id, _valid_from)`);
      await client.query(commentsSql(schema, spec));
    }
    const argList = args.map(quoteLiteral).join(', ');
    for (const [event, name] of Object.entries(TRIGGERS)) {
      await client.query(`DROP TRIGGER IF EXISTS ${quoteIdent(name)} ON ${tbl}`);
      // COPY and INSERT ... ON CONFLICT fire these too; ON CONFLICT's updated rows reach the UPDATE one.
      await client.query(
        `CREATE TRIGGER ${quoteIdent(name)} AFTER ${event.toUpperCase()} ON ${tbl} ` +
          `${TRIGGER_CALLS[event as keyof typeof TRIGGERS]}(${argList})`,
      );
    }
    const { rows } = await client.query<{ opened: string }>(
      'SELECT sfsync.history_catch_up($1::regclass, $2::regclass, $3) AS opened',
      [tbl, histRef, cursor],
    );
    return { table: hist, created: have.length === 0, opened: Number(rows[0]!.opened) };
  });
}

/**
 * History turned off: drops the triggers, keeps the history table (turned on again, it gets a version for each row
 * that changed meanwhile). Returns the history table's name when there were triggers to drop.
 */
export async function stopHistory(client: pg.ClientBase, schema: string, table: string): Promise<string | null> {
  const triggers = await historyTriggers(client, schema, table);
  if (triggers.size === 0) return null;
  await withTransaction(client, async () => {
    for (const name of triggers.keys())
      await client.query(`DROP TRIGGER ${quoteIdent(name)} ON ${qualified(schema, table)}`);
  });
  return historyTableName(table);
}

/**
 * The object's `history` setting, applied before its load: history kept (created, or caught up when turned on again),
 * or its triggers dropped when turned off. Only sync turns it off: a backfill or formula refresh run from elsewhere
 * (without the config file) must not stop it.
 */
export async function applyHistorySetting(
  client: pg.ClientBase,
  schema: string,
  spec: ObjectSpec,
  on: boolean,
  log: Logger,
): Promise<void> {
  if (!on) {
    const kept = await stopHistory(client, schema, spec.table);
    if (kept) log.info({ table: kept }, 'history turned off: triggers dropped, history table kept');
    return;
  }
  const r = await ensureHistory(client, schema, spec);
  // Versions of every row at once: statistics now, so the triggers' next lookups use the index (analyzeLoaded).
  if (r.opened > 0) await client.query(`ANALYZE ${qualified(schema, r.table)}`);
  if (r.created) log.info({ table: r.table, opened: r.opened }, 'history table created');
  else if (r.opened > 0)
    log.info({ table: r.table, opened: r.opened }, 'history resumed: rows changed meanwhile versioned');
}

/**
 * After a full read (initial or full refresh): fresh statistics for the table and its history table. Without them
 * PostgreSQL plans the history trigger's lookup of the current versions as a scan of the whole history until
 * autovacuum gets to it: 1,000 changes then cost seconds per million versions instead of milliseconds.
 */
export async function analyzeLoaded(client: pg.ClientBase, schema: string, table: string, history: boolean) {
  const tables = [table, ...(history ? [historyTableName(table)] : [])];
  for (const t of tables) await client.query(`ANALYZE ${qualified(schema, t)}`);
}
