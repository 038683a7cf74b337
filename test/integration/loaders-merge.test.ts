import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectSpec, Row } from '../../schemas/records.ts';
import { copyCsv } from '../../loaders/copyCsv.ts';
import { copyRows } from '../support/copyRows.ts';
import { ensureTable } from '../../loaders/ddl.ts';
import { markDeletedAsOf, maxCursor, mergeStage, updateColumns } from '../../loaders/merge.ts';
import { withTransaction } from '../../loaders/postgres.ts';
import { createStage, STAGE_SCHEMA } from '../../loaders/stage.ts';
import { useTestDatabase } from '../support/db.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const db = useTestDatabase();

const field = (name: string, sfType: string) => fieldSpec(name, sfType);

const spec: ObjectSpec = {
  name: 'Contact',
  table: 'contact',
  label: 'Contact',
  fields: [
    field('Id', 'id'),
    field('Name', 'string'),
    field('IsDeleted', 'boolean'),
    field('SystemModstamp', 'datetime'),
  ],
  cursorField: 'SystemModstamp',
  hasIsDeleted: true,
};
const columns = spec.fields.map((f) => f.column);
const T1 = '2024-01-01T00:00:00.000Z';
const T2 = '2024-01-02T00:00:00.000Z';
const T3 = '2024-01-03T00:00:00.000Z';

async function* from(rows: Row[]): AsyncGenerator<Row> {
  yield* rows;
}

describe('staging and merge', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await ensureTable(client, 'sf', spec);
  });
  afterAll(async () => client?.end());
  beforeEach(async () => {
    await client.query('TRUNCATE sf.contact');
  });

  /** BEGIN -> createStage -> copy -> merge -> COMMIT, as the pipeline does it. */
  async function load(rows: Row[], cursorColumn: string | null = 'systemmodstamp') {
    return withTransaction(client, async () => {
      const stage = await createStage(client, 'sf', 'contact');
      await copyRows(client, { schema: STAGE_SCHEMA, table: stage, columns, rows: from(rows) });
      return mergeStage(client, { schema: 'sf', table: 'contact', stage, columns, cursorColumn });
    });
  }

  async function names(): Promise<Record<string, string | null>> {
    const { rows } = await client.query('SELECT id, name FROM sf.contact ORDER BY id');
    return Object.fromEntries(rows.map((r) => [r.id, r.name]));
  }

  it('inserts new ids and updates changed ones, reporting each', async () => {
    expect(
      await load([
        ['c1', 'Ann', 'false', T1],
        ['c2', 'Bob', 'false', T1],
      ]),
    ).toEqual({ inserted: 2, updated: 0 });
    expect(
      await load([
        ['c2', 'Bobby', 'false', T2],
        ['c3', 'Cy', 'false', T2],
      ]),
    ).toEqual({ inserted: 1, updated: 1 });
    expect(await names()).toEqual({ c1: 'Ann', c2: 'Bobby', c3: 'Cy' });
  });

  it('never lets an older version overwrite a newer one', async () => {
    await load([['c1', 'new', 'false', T2]]);
    expect(await load([['c1', 'old', 'false', T1]])).toEqual({ inserted: 0, updated: 0 });
    expect(await load([['c1', 'no cursor', 'false', null]])).toEqual({ inserted: 0, updated: 0 });
    expect(await names()).toEqual({ c1: 'new' });
    expect(await load([['c1', 'same instant, new value', 'false', T2]])).toEqual({ inserted: 0, updated: 1 });
    expect(await names()).toEqual({ c1: 'same instant, new value' });
  });

  it('re-reading unchanged records (the overlap window) changes nothing', async () => {
    const rows: Row[] = [
      ['c1', 'Ann', 'false', T1],
      ['c2', null, 'false', T1],
    ];
    await load(rows);
    expect(await load(rows)).toEqual({ inserted: 0, updated: 0 });
  });

  it('lets only a strictly newer version undo what sfsync marked itself (a deletion, refreshed columns)', async () => {
    await load([
      ['c1', 'a', 'false', T2],
      ['c2', 'b', 'false', T2],
    ]);
    const target = { schema: 'sf', table: 'contact', cursorColumn: 'systemmodstamp' };
    // c1: hard-deleted, found by getDeleted. c2: a formula-like column refreshed without a cursor change.
    expect(await markDeletedAsOf(client, target, [{ id: 'c1', deletedDate: T3 }])).toBe(1);
    await withTransaction(client, async () => {
      const stage = await createStage(client, 'sf', 'contact');
      await copyCsv(client, {
        schema: STAGE_SCHEMA,
        table: stage,
        columns: ['id', 'name'],
        source: Readable.from(['"c2","fresh"\n']),
      });
      return updateColumns(client, { schema: 'sf', table: 'contact', stage, columns: ['id', 'name'] });
    });
    // A backfill's snapshot read before those marks: equal cursors, the old state.
    expect(
      await load([
        ['c1', 'a', 'false', T2],
        ['c2', 'b', 'false', T2],
      ]),
    ).toEqual({ inserted: 0, updated: 0 });
    const state = async () =>
      (await client.query('SELECT id, name, isdeleted, _sfsync_marked FROM sf.contact ORDER BY id')).rows.map((r) => [
        r.id,
        r.name,
        r.isdeleted,
        r._sfsync_marked,
      ]);
    expect(await state()).toEqual([
      ['c1', 'a', true, true],
      ['c2', 'fresh', false, true],
    ]);
    // A newer version (an undelete, an edit) replaces the row and clears the mark.
    expect(await load([['c1', 'back', 'false', T3]])).toEqual({ inserted: 0, updated: 1 });
    expect((await state())[0]).toEqual(['c1', 'back', false, false]);
  });

  it("lets the same cursor undo a mark when the stage was read after every mark (a pipeline's)", async () => {
    await load([
      ['c1', 'a', 'false', T2],
      ['c2', 'b', 'false', T2],
    ]);
    // Reconciliation: c1 no longer matched the pipeline's WHERE (its parent changed), or was gone.
    const target = { schema: 'sf', table: 'contact', cursorColumn: 'systemmodstamp' };
    expect(await markDeletedAsOf(client, target, [{ id: 'c1', deletedDate: T3 }])).toBe(1);
    const merge = (rows: Row[], readAfterMarks: boolean) =>
      withTransaction(client, async () => {
        const stage = await createStage(client, 'sf', 'contact');
        await copyRows(client, { schema: STAGE_SCHEMA, table: stage, columns, rows: from(rows) });
        const cursorColumn = 'systemmodstamp';
        return mergeStage(client, { schema: 'sf', table: 'contact', stage, columns, cursorColumn, readAfterMarks });
      });
    // Its parent changed back: the row's own cursor is as it was.
    const same: Row[] = [
      ['c1', 'a', 'false', T2],
      ['c2', 'b', 'false', T2],
    ];
    expect(await merge(same, false)).toEqual({ inserted: 0, updated: 0 });
    expect(await merge(same, true)).toEqual({ inserted: 0, updated: 1 });
    const { rows } = await client.query('SELECT id, isdeleted, _sfsync_marked FROM sf.contact ORDER BY id');
    expect(rows.map((r) => [r.id, r.isdeleted, r._sfsync_marked])).toEqual([
      ['c1', false, false],
      ['c2', false, false],
    ]);
    // An older version still never replaces a newer one.
    expect(await merge([['c2', 'old', 'false', T1]], true)).toEqual({ inserted: 0, updated: 0 });
  });

  it('keeps the newest of several versions of one id in a single stage', async () => {
    const result = await load([
      ['c1', 'v2', 'false', T2],
      ['c1', 'v3', 'false', T3],
      ['c1', 'v1', 'false', T1],
    ]);
    expect(result).toEqual({ inserted: 1, updated: 0 });
    expect(await names()).toEqual({ c1: 'v3' });
  });

  it('without a cursor the last copied version wins and always updates', async () => {
    await load([['c1', 'a', 'false', T2]], null);
    expect(
      await load(
        [
          ['c1', 'b', 'false', T1],
          ['c1', 'c', 'false', T1],
        ],
        null,
      ),
    ).toEqual({ inserted: 0, updated: 1 });
    expect(await names()).toEqual({ c1: 'c' });
  });

  it('drops the stage on commit and on rollback', async () => {
    await load([['c1', 'a', 'false', T1]]);
    await expect(client.query('SELECT 1 FROM pg_temp.sfsync_stage_contact')).rejects.toThrow(/does not exist/);
    let staged: unknown[] | undefined;
    await expect(
      withTransaction(client, async () => {
        await createStage(client, 'sf', 'contact');
        staged = (await client.query('SELECT 1 FROM pg_temp.sfsync_stage_contact')).rows;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // The stage existed inside the transaction: the rollback is what removed it.
    expect(staged).toEqual([]);
    await expect(client.query('SELECT 1 FROM pg_temp.sfsync_stage_contact')).rejects.toThrow(/does not exist/);
  });

  it('marks deletions, updates only chosen columns, and reads the max cursor as ISO', async () => {
    await load([
      ['c1', 'a', 'false', T1],
      ['c2', 'b', 'false', T3],
    ]);
    const target = { schema: 'sf', table: 'contact', cursorColumn: 'systemmodstamp' };
    // c2 was changed after its deletion (an undelete read in the same run): it stays live.
    const deleted = [
      { id: 'c1', deletedDate: T2 },
      { id: 'c2', deletedDate: T2 },
      { id: 'missing', deletedDate: T2 },
    ];
    expect(await markDeletedAsOf(client, target, deleted)).toBe(1);
    expect(await markDeletedAsOf(client, target, [{ id: 'c1', deletedDate: T3 }])).toBe(0);
    const changed = await withTransaction(client, async () => {
      const stage = await createStage(client, 'sf', 'contact');
      await copyCsv(client, {
        schema: STAGE_SCHEMA,
        table: stage,
        columns: ['id', 'name'],
        source: Readable.from(['"c2","B"\n"c9","ghost"\n']),
      });
      return updateColumns(client, { schema: 'sf', table: 'contact', stage, columns: ['id', 'name'] });
    });
    expect(changed).toBe(1);
    const { rows } = await client.query('SELECT id, name, isdeleted, systemmodstamp FROM sf.contact ORDER BY id');
    expect(rows.map((r) => [r.id, r.name, r.isdeleted])).toEqual([
      ['c1', 'a', true],
      ['c2', 'B', false],
    ]);
    expect(rows[1].systemmodstamp.toISOString()).toBe(T3);
    expect(await maxCursor(client, 'sf', 'contact', 'systemmodstamp')).toBe(T3);
    await client.query('TRUNCATE sf.contact');
    expect(await maxCursor(client, 'sf', 'contact', 'systemmodstamp')).toBeNull();
  });
});
