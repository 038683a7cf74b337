// loaders/history.ts against a real PostgreSQL: what the history triggers version (and what not), columns added inside
// a transaction, column types following the current table's, history turned on for a table that has rows.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { alterColumnType, ensureDeletedFlag, ensureTable, MARK_COLUMN } from '../../loaders/ddl.ts';
import { ensureHistory, historyTableName, stopHistory } from '../../loaders/history.ts';
import { withTransaction } from '../../loaders/postgres.ts';
import { pgIdentifier } from '../../schemas/pgNames.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { useTestDatabase } from '../support/db.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const db = useTestDatabase();

// No IsDeleted (docs/salesforce.md#objects-without-system-fields): sfsync adds isdeleted when it first needs it.
const spec: ObjectSpec = {
  name: 'Widget__c',
  table: 'widget__c',
  label: 'Widget',
  fields: [
    fieldSpec('Id', 'id'),
    fieldSpec('Name', 'string', { length: 10 }),
    fieldSpec('Count__c', 'int'),
    fieldSpec('SystemModstamp', 'datetime'),
  ],
  cursorField: 'SystemModstamp',
  hasIsDeleted: false,
};
const T1 = '2024-01-01T00:00:00.000Z';
const T2 = '2024-02-01T00:00:00.000Z';

describe('history tables', () => {
  let client: pg.Client;
  const versions = async (id: string) =>
    (
      await client.query(
        `SELECT name, count__c, ${spec.cursorField!.toLowerCase()} AS cursor, _valid_from, _valid_to, _is_current
         FROM sf.widget__c_history WHERE id = $1 ORDER BY _valid_from, _recorded_at`,
        [id],
      )
    ).rows;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE SCHEMA IF NOT EXISTS sfsync');
  });
  afterAll(async () => client?.end());
  beforeEach(async () => {
    await client.query('DROP SCHEMA IF EXISTS sf CASCADE');
    await ensureTable(client, 'sf', spec);
  });

  it('versions what changed, by cursor or by the time of the write, and nothing else', async () => {
    await ensureHistory(client, 'sf', spec);
    await client.query(`INSERT INTO sf.widget__c (id, name, count__c, systemmodstamp) VALUES ('a', 'A', 1, $1)`, [T1]);
    // Re-read, unchanged (an overlap window): an upsert that writes nothing new, and a mark alone: no version.
    await client.query(
      `INSERT INTO sf.widget__c (id, name, count__c, systemmodstamp) VALUES ('a', 'A', 1, $1)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, systemmodstamp = EXCLUDED.systemmodstamp`,
      [T1],
    );
    await client.query(`UPDATE sf.widget__c SET ${MARK_COLUMN} = true`);
    expect(await versions('a')).toHaveLength(1);
    // A version read from Salesforce (the cursor moved) begins at its cursor.
    await client.query(`UPDATE sf.widget__c SET count__c = NULL, systemmodstamp = $1`, [T2]);
    // A column sfsync refreshed (the cursor did not move) begins when it was written.
    const before = new Date();
    await client.query(`UPDATE sf.widget__c SET name = 'A2'`);
    const rows = await versions('a');
    expect(rows.map((r) => [r.name, r.count__c, r._is_current])).toEqual([
      ['A', 1, false],
      ['A', null, false],
      ['A2', null, true],
    ]);
    expect(rows.map((r) => r._valid_from.toISOString()).slice(0, 2)).toEqual([T1, T2]);
    expect(rows[2]._valid_from.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(rows.map((r) => r._valid_to)).toEqual([rows[1]._valid_from, rows[2]._valid_from, Infinity]);
  });

  it('versions a column added in the transaction that writes it (isdeleted, no IsDeleted)', async () => {
    await ensureHistory(client, 'sf', spec);
    await client.query(`INSERT INTO sf.widget__c (id, name, systemmodstamp) VALUES ('a', 'A', $1), ('b', 'B', $1)`, [
      T1,
    ]);
    await withTransaction(client, async () => {
      expect(await ensureDeletedFlag(client, 'sf', 'widget__c')).toBe(true);
      await client.query(`UPDATE sf.widget__c SET isdeleted = true, ${MARK_COLUMN} = true WHERE id = 'a'`);
    });
    const { rows } = await client.query(
      `SELECT id, isdeleted, _is_current FROM sf.widget__c_history ORDER BY id, _valid_from, _recorded_at`,
    );
    expect(rows).toEqual([
      { id: 'a', isdeleted: null, _is_current: false },
      { id: 'a', isdeleted: true, _is_current: true },
      { id: 'b', isdeleted: null, _is_current: true },
    ]);
  });

  it('follows the current table: a changed column type, a widened one (no change), a new column', async () => {
    await ensureHistory(client, 'sf', spec);
    await client.query(`INSERT INTO sf.widget__c (id, name, count__c, systemmodstamp) VALUES ('a', 'A', 7, $1)`, [T1]);
    await alterColumnType(client, 'sf', 'widget__c', 'count__c', 'numeric');
    await alterColumnType(client, 'sf', 'widget__c', 'name', 'varchar(20)');
    await ensureTable(client, 'sf', { ...spec, fields: [...spec.fields, fieldSpec('Extra__c', 'date')] });
    await ensureHistory(client, 'sf', spec);
    const { rows } = await client.query(
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
       WHERE attrelid = 'sf.widget__c_history'::regclass AND attname IN ('name', 'count__c', 'extra__c')
       ORDER BY attnum`,
    );
    expect(rows).toEqual([
      { name: 'name', type: 'character varying' },
      { name: 'count__c', type: 'numeric' },
      { name: 'extra__c', type: 'date' },
    ]);
    await client.query(`UPDATE sf.widget__c SET count__c = 7.5, name = 'A much longer'`);
    expect((await versions('a')).map((r) => [r.name, r.count__c])).toEqual([
      ['A', '7'],
      ['A much longer', '7.5'],
    ]);
  });

  it('on for a table with rows, opens a version per row; off, keeps the table; on again, catches up', async () => {
    await client.query(`INSERT INTO sf.widget__c (id, name, systemmodstamp) VALUES ('a', 'A', $1), ('b', 'B', NULL)`, [
      T1,
    ]);
    const started = new Date();
    expect(await ensureHistory(client, 'sf', spec)).toEqual({ table: 'widget__c_history', created: true, opened: 2 });
    expect((await versions('a')).map((r) => r._valid_from.toISOString())).toEqual([T1]);
    expect((await versions('b'))[0]._valid_from.getTime()).toBeGreaterThanOrEqual(started.getTime() - 1000);
    expect(await ensureHistory(client, 'sf', spec)).toEqual({ table: 'widget__c_history', created: false, opened: 0 });

    expect(await stopHistory(client, 'sf', 'widget__c')).toBe('widget__c_history');
    expect(await stopHistory(client, 'sf', 'widget__c')).toBeNull();
    await client.query(`UPDATE sf.widget__c SET name = 'A2', systemmodstamp = $1 WHERE id = 'a'`, [T2]);
    expect(await versions('a')).toHaveLength(1);
    expect(await ensureHistory(client, 'sf', spec)).toEqual({ table: 'widget__c_history', created: false, opened: 1 });
    expect((await versions('a')).map((r) => [r.name, r._valid_from.toISOString()])).toEqual([
      ['A', T1],
      ['A2', T2],
    ]);
  });

  it('ends the versions of rows removed by hand (DELETE, TRUNCATE, while off); one re-added starts anew', async () => {
    const insert = (id: string, name: string, at: string) =>
      client.query(`INSERT INTO sf.widget__c (id, name, count__c, systemmodstamp) VALUES ($1, $2, 1, $3)`, [
        id,
        name,
        at,
      ]);
    const current = async () =>
      (await client.query('SELECT id, name FROM sf.widget__c_history WHERE _is_current ORDER BY id')).rows;
    await ensureHistory(client, 'sf', spec);
    await insert('a', 'A', T1);
    await insert('b', 'B', T1);
    await client.query("DELETE FROM sf.widget__c WHERE id = 'a'");
    expect(await current()).toEqual([{ id: 'b', name: 'B' }]);
    // Added again: one current version, the earlier one ended; the new one begins where it ended, not at its older
    // cursor, so no instant has two versions.
    await insert('a', 'A again', T2);
    const again = await versions('a');
    expect(again.map((r) => [r.name, r._is_current, r._valid_to === Infinity])).toEqual([
      ['A', false, false],
      ['A again', true, true],
    ]);
    expect(again[1]._valid_from.getTime()).toBe(again[0]._valid_to.getTime());
    // A removal the triggers did not see (disabled, or a build without the DELETE trigger): added again, the version
    // left current is closed by the new one, never kept beside it.
    await client.query('ALTER TABLE sf.widget__c DISABLE TRIGGER sfsync_history_delete');
    await client.query("DELETE FROM sf.widget__c WHERE id = 'b'");
    await client.query('ALTER TABLE sf.widget__c ENABLE TRIGGER sfsync_history_delete');
    await insert('b', 'B again', T2);
    expect((await versions('b')).map((r) => [r.name, r._is_current])).toEqual([
      ['B', false],
      ['B again', true],
    ]);
    await client.query('TRUNCATE sf.widget__c');
    expect(await current()).toEqual([]);
    // Removed while history was off: turned on again, the removed row's version ends, the rest are caught up.
    await insert('c', 'C', T1);
    await insert('d', 'D', T1);
    await stopHistory(client, 'sf', 'widget__c');
    await client.query("DELETE FROM sf.widget__c WHERE id = 'c'");
    await client.query("UPDATE sf.widget__c SET name = 'D2' WHERE id = 'd'");
    await ensureHistory(client, 'sf', spec);
    expect(await current()).toEqual([{ id: 'd', name: 'D2' }]);
    const { rows } = await client.query(
      'SELECT id, count(*) FILTER (WHERE _is_current)::int AS n FROM sf.widget__c_history GROUP BY id ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 'a', n: 0 },
      { id: 'b', n: 0 },
      { id: 'c', n: 0 },
      { id: 'd', n: 1 },
    ]);
  });

  it('refuses a table of that name that is not a history table', async () => {
    await client.query('CREATE TABLE sf.widget__c_history (id text, note text)');
    await expect(ensureHistory(client, 'sf', spec)).rejects.toThrow(ConfigError);
  });

  it('names the table `<table>_history`, shortened past 63 bytes with the suffix kept', () => {
    expect(historyTableName('order')).toBe('order_history');
    const long = `ns__${'x'.repeat(50)}__c`;
    expect(historyTableName(long)).toBe(pgIdentifier(long, '_history'));
    expect(historyTableName(long)).toMatch(/^ns__x+_[0-9a-f]{8}_history$/);
    expect(Buffer.byteLength(historyTableName(long))).toBe(63);
  });
});
