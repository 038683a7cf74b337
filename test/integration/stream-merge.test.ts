// Streamed rows and synced rows in one table, against a real PostgreSQL: whichever way round they meet, an older
// version never overwrites a newer one (docs/salesforce.md#change-events-and-systemmodstamp).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyChange } from '../../loaders/changeApply.ts';
import { ensureTable } from '../../loaders/ddl.ts';
import { mergeStage } from '../../loaders/merge.ts';
import { withTransaction } from '../../loaders/postgres.ts';
import { createStage, STAGE_SCHEMA } from '../../loaders/stage.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import type { ChangeType, DecodedChange } from '../../transforms/changeEvent.ts';
import { useTestDatabase } from '../support/db.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const db = useTestDatabase();
const SCHEMA = 'stream_merge';
const ID = '001000000000001AAA';
const spec: ObjectSpec = {
  name: 'Account',
  table: 'account',
  label: 'Account',
  cursorField: 'SystemModstamp',
  hasIsDeleted: true,
  fields: [
    fieldSpec('Id', 'id'),
    fieldSpec('Name'),
    fieldSpec('Phone', 'phone'),
    fieldSpec('IsDeleted', 'boolean'),
    fieldSpec('SystemModstamp', 'datetime'),
  ],
};
const target = { schema: SCHEMA, table: 'account', cursorColumn: 'systemmodstamp' };
const at = (minute: number) => new Date(Date.UTC(2024, 5, 10, 12, minute)).toISOString();

function event(changeType: ChangeType, minute: number, values: Record<string, string | null> = {}): DecodedChange {
  return {
    changeType,
    entityName: 'Account',
    recordIds: [ID],
    transactionKey: `tx-${minute}`,
    sequenceNumber: 1,
    commitTimestamp: Date.parse(at(minute)),
    values: new Map(Object.entries(values)),
    diffFields: [],
    incomplete: [],
    cursor: changeType === 'DELETE' ? null : at(minute),
  };
}

let client: pg.Client;

/** A sync's merge of one version of the record (loaders/merge.ts, as commitLoad runs it). */
async function syncVersion(minute: number, name: string, phone: string | null, deleted = false): Promise<number> {
  return withTransaction(client, async () => {
    const stage = await createStage(client, SCHEMA, 'account');
    await client.query(
      `INSERT INTO ${STAGE_SCHEMA}.${stage} (id, name, phone, isdeleted, systemmodstamp) VALUES ($1, $2, $3, $4, $5)`,
      [ID, name, phone, deleted, at(minute)],
    );
    const r = await mergeStage(client, {
      schema: SCHEMA,
      table: 'account',
      stage,
      columns: spec.fields.map((f) => f.column),
      cursorColumn: 'systemmodstamp',
    });
    return r.inserted + r.updated;
  });
}

async function current(): Promise<{ name: string; phone: string | null; isdeleted: boolean; at: string }> {
  const { rows } = await client.query(
    `SELECT name, phone, isdeleted, to_char(systemmodstamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
     FROM ${SCHEMA}.account WHERE id = $1`,
    [ID],
  );
  return rows[0];
}

describe('stream and sync on one table: older never wins', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await ensureTable(client, SCHEMA, spec);
  });
  afterAll(async () => {
    await client?.end();
  });

  it('keeps the newest version whichever writer brings it', async () => {
    // A sync wrote the version of minute 20.
    expect(await syncVersion(20, 'synced v20', '111')).toBe(1);
    // An event of minute 10 (the stream lagging behind) does not roll it back.
    expect((await applyChange(client, target, event('UPDATE', 10, { name: 'event v10' }))).rows).toBe(0);
    expect(await current()).toEqual({ name: 'synced v20', phone: '111', isdeleted: false, at: at(20) });

    // An event of minute 30 sets only its fields, and its time becomes the row's cursor.
    expect((await applyChange(client, target, event('UPDATE', 30, { name: 'event v30', phone: null }))).rows).toBe(1);
    expect(await current()).toEqual({ name: 'event v30', phone: null, isdeleted: false, at: at(30) });

    // A sync that read the record before minute 30 does not overwrite the streamed row.
    expect(await syncVersion(25, 'synced v25', '222')).toBe(0);
    expect((await current()).name).toBe('event v30');
    // The same version read by a sync (same cursor) replaces it with the whole record.
    expect(await syncVersion(30, 'event v30', '333')).toBe(1);
    expect((await current()).phone).toBe('333');

    // A delete marks the row; the pre-delete version read again by a sync does not bring it back.
    expect((await applyChange(client, target, event('DELETE', 40))).rows).toBe(1);
    expect(await syncVersion(30, 'event v30', '333')).toBe(0);
    expect(await current()).toEqual({ name: 'event v30', phone: '333', isdeleted: true, at: at(30) });
    // The deleted version, read again by Id after the delete event (as a sync's queryAll would read it).
    expect(await syncVersion(40, 'event v30', '333', true)).toBe(1);
    expect(await current()).toEqual({ name: 'event v30', phone: '333', isdeleted: true, at: at(40) });
    // An older UNDELETE does not bring it back; a newer one does, with the whole record.
    expect((await applyChange(client, target, event('UNDELETE', 35, { name: 'old' }))).rows).toBe(0);
    expect((await applyChange(client, target, event('UNDELETE', 50, { name: 'back', phone: '4' }))).rows).toBe(1);
    expect(await current()).toEqual({ name: 'back', phone: '4', isdeleted: false, at: at(50) });
  });

  it('reports an UPDATE of a record the table lacks, so it is read whole instead', async () => {
    const missing = { ...event('UPDATE', 60, { name: 'x' }), recordIds: ['001000000000002AAA'] };
    expect(await applyChange(client, target, missing)).toEqual({ rows: 0, absent: ['001000000000002AAA'] });
  });

  it('reports an UPDATE of a row marked deleted too: the record came back and the row is stale', async () => {
    expect((await applyChange(client, target, event('DELETE', 70))).rows).toBe(1);
    // The UNDELETE was not applied (older than the row); the update after it finds the row still marked deleted.
    expect(await applyChange(client, target, event('UPDATE', 80, { name: 'after undelete' }))).toEqual({
      rows: 0,
      absent: [ID],
    });
    // A row that is newer than the update is not absent: the update is simply older.
    expect((await applyChange(client, target, event('UNDELETE', 90, { name: 'back' }))).rows).toBe(1);
    expect(await applyChange(client, target, event('UPDATE', 85, { name: 'older' }))).toEqual({ rows: 0, absent: [] });
  });
});
