// Schema drift on real PostgreSQL: a type change is cast when safe, else the column is widened to text; the live
// view over the table does not block it. A removed field's column and data stay.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { columnTypes, ensureTable } from '../../loaders/ddl.ts';
import { ensureLiveView } from '../../loaders/views.ts';
import { applyTypeChanges, diffSchema, snapshotOf } from '../../pipelines/completeness/drift.ts';
import { useTestDatabase } from '../support/db.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const db = useTestDatabase();
let client: pg.Client;

const field = (name: string, sfType: string, pgType: FieldSpec['pgType']) => fieldSpec(name, sfType, { pgType });

const spec = (fields: FieldSpec[]): ObjectSpec => ({
  name: 'Thing__c',
  table: 'thing__c',
  label: 'Thing',
  fields,
  cursorField: null,
  hasIsDeleted: true,
});

describe('schema drift on PostgreSQL', () => {
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => client?.end());

  it('casts integer to numeric, widens integer to text for a boolean, keeps a removed column and data', async () => {
    const before = spec([
      field('Id', 'id', 'text'),
      field('IsDeleted', 'boolean', 'boolean'),
      field('Count__c', 'int', 'integer'),
      field('Flag__c', 'int', 'integer'),
      field('Old__c', 'string', 'text'),
    ]);
    await ensureTable(client, 'drift', before);
    await ensureLiveView(client, 'drift', before.table);
    await client.query(
      "INSERT INTO drift.thing__c (id, isdeleted, count__c, flag__c, old__c) VALUES ('a', false, 42, 1, 'kept')",
    );

    const after = spec([
      field('Id', 'id', 'text'),
      field('IsDeleted', 'boolean', 'boolean'),
      field('Count__c', 'double', 'numeric'),
      field('Flag__c', 'boolean', 'boolean'),
    ]);
    const diff = diffSchema(snapshotOf(before), after);
    expect(diff.removed).toEqual(['Old__c']);
    expect(diff.typeChanged.map((t) => [t.field.name, t.oldType])).toEqual([
      ['Count__c', 'int'],
      ['Flag__c', 'int'],
    ]);

    const actions = await applyTypeChanges(client, 'drift', after);
    expect([...actions]).toEqual([
      ['count__c', 'cast integer -> numeric'],
      ['flag__c', 'widened integer -> text'],
    ]);
    const types = await columnTypes(client, 'drift', 'thing__c');
    expect([types.get('count__c'), types.get('flag__c'), types.get('old__c')]).toEqual(['numeric', 'text', 'text']);
    const { rows } = await client.query(
      'SELECT count__c::text AS c, flag__c AS f, old__c AS o FROM drift.thing__c_live',
    );
    expect(rows).toEqual([{ c: '42', f: '1', o: 'kept' }]);
    // A second run finds nothing left to change: text stays text.
    expect((await applyTypeChanges(client, 'drift', after)).size).toBe(0);
  });
});
