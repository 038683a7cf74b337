import { describe, expect, it } from 'vitest';
import type { ObjectSpec } from '../../schemas/records.ts';
import { addColumnSql, columnComment, commentSql, createTableSql, cursorIndexSql } from '../../loaders/ddl.ts';
import { mergeSql } from '../../loaders/merge.ts';
import { qualified, quoteIdent, quoteLiteral } from '../../loaders/postgres.ts';
import { fieldSpec } from '../support/fieldSpec.ts';

const field = fieldSpec;

const spec: ObjectSpec = {
  name: 'Invoice__c',
  table: 'invoice__c',
  label: "Owner's Invoice",
  fields: [
    field('Id', 'id'),
    field('Order', 'string'),
    field('Paid__c', 'boolean'),
    field('Qty__c', 'int'),
    field('Big__c', 'long'),
    field('Amount__c', 'currency'),
    field('Due__c', 'date'),
    field('At__c', 'time'),
    field('SystemModstamp', 'datetime'),
  ],
  cursorField: 'SystemModstamp',
  hasIsDeleted: false,
};

describe('quoting', () => {
  it('always quotes identifiers and doubles embedded quotes', () => {
    expect(quoteIdent('id')).toBe('"id"');
    expect(quoteIdent('select')).toBe('"select"');
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(qualified('Sales Force', 'account')).toBe('"Sales Force"."account"');
  });

  it('rejects NUL, empty and over-long identifiers instead of letting PostgreSQL truncate them', () => {
    expect(() => quoteIdent('a\0b')).toThrow(/identifier/);
    expect(() => quoteIdent('')).toThrow(/identifier/);
    expect(() => quoteIdent('x'.repeat(64))).toThrow(/63 bytes/);
    expect(quoteIdent('x'.repeat(63))).toHaveLength(65);
  });

  it('quotes literals by doubling single quotes', () => {
    expect(quoteLiteral("it's \\ fine")).toBe("'it''s \\ fine'");
  });
});

describe('createTableSql', () => {
  it('maps every field to its PostgreSQL type with id as primary key', () => {
    const sql = createTableSql('salesforce', spec);
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "salesforce"."invoice__c"');
    expect(sql).toContain('"id" text PRIMARY KEY');
    expect(sql).toContain('"order" text');
    expect(sql).toContain('"paid__c" boolean');
    expect(sql).toContain('"qty__c" integer');
    expect(sql).toContain('"big__c" bigint');
    expect(sql).toContain('"amount__c" numeric');
    expect(sql).toContain('"due__c" date');
    expect(sql).toContain('"at__c" time');
    expect(sql).toContain('"systemmodstamp" timestamptz');
  });

  it('adds an id primary key when the field list lacks one', () => {
    const sql = createTableSql('s', { ...spec, fields: [field('Name', 'string')] });
    expect(sql).toMatch(
      /\(\s*"id" text PRIMARY KEY,\s*"name" text,\s*"_sfsync_marked" boolean NOT NULL DEFAULT false\s*\)/,
    );
  });

  it('builds ADD COLUMN IF NOT EXISTS and the cursor index', () => {
    expect(addColumnSql('s', 'invoice__c', field('New__c', 'percent'))).toBe(
      'ALTER TABLE "s"."invoice__c" ADD COLUMN IF NOT EXISTS "new__c" numeric',
    );
    expect(cursorIndexSql('s', spec)).toBe(
      'CREATE INDEX IF NOT EXISTS "invoice__c_systemmodstamp_idx" ON "s"."invoice__c" ("systemmodstamp")',
    );
    expect(cursorIndexSql('s', { ...spec, cursorField: null })).toBeNull();
  });
});

describe('comments', () => {
  it('describe label, API name, type, and short picklists; escape quotes', () => {
    const f = field('Stage__c', 'picklist', { label: "Buyer's stage", picklistValues: ['New', 'Won'] });
    expect(columnComment(f)).toBe("Buyer's stage (Salesforce Stage__c, type picklist). Values: New, Won");
    const sql = commentSql('s', { ...spec, fields: [f] });
    expect(sql).toContain(`COMMENT ON TABLE "s"."invoice__c" IS 'Owner''s Invoice (Salesforce Invoice__c)';`);
    expect(sql).toContain(
      `COMMENT ON COLUMN "s"."invoice__c"."stage__c" ` +
        `IS 'Buyer''s stage (Salesforce Stage__c, type picklist). Values: New, Won';`,
    );
  });

  it('given the comments in place, states only those that differ', () => {
    const f = field('Stage__c', 'picklist', { label: 'Stage' });
    const one = { ...spec, fields: [f] };
    const have = new Map([
      ['', "Owner's Invoice (Salesforce Invoice__c)"],
      ['stage__c', columnComment(f)],
      ['_sfsync_marked', commentSql('s', one).match(/"_sfsync_marked" IS '([^']*)'/)![1]!],
    ]);
    expect(commentSql('s', one, have)).toBe('');
    have.set('stage__c', 'an older label');
    expect(commentSql('s', one, have)).toBe(
      `COMMENT ON COLUMN "s"."invoice__c"."stage__c" IS 'Stage (Salesforce Stage__c, type picklist)';`,
    );
  });

  it('leaves out picklists longer than 20 values and marks formulas', () => {
    const values = Array.from({ length: 21 }, (_, i) => `v${i}`);
    const f = field('Score__c', 'double', { label: 'Score', calculated: true, picklistValues: values });
    expect(columnComment(f)).toBe('Score (Salesforce Score__c, type double, formula)');
  });
});

describe('mergeSql', () => {
  it('keeps the newest row per id; newer or (unless sfsync marked the row) equal changed versions update', () => {
    const sql = mergeSql({
      schema: 's',
      table: 't',
      stage: 'st',
      columns: ['id', 'name', 'systemmodstamp'],
      cursorColumn: 'systemmodstamp',
    });
    expect(sql).toContain(
      'SELECT DISTINCT ON (id) "id", "name", "systemmodstamp" FROM "pg_temp"."st" ' +
        'ORDER BY id, "systemmodstamp" DESC NULLS LAST, ctid DESC',
    );
    expect(sql).toContain(
      'DO UPDATE SET "name" = EXCLUDED."name", "systemmodstamp" = EXCLUDED."systemmodstamp", "_sfsync_marked" = false',
    );
    // An equal cursor may not replace a row sfsync marked itself (deleted, refreshed columns): it may be older.
    expect(sql).toContain(
      'WHERE (t."systemmodstamp" IS NULL OR EXCLUDED."systemmodstamp" > t."systemmodstamp" OR ' +
        '(EXCLUDED."systemmodstamp" = t."systemmodstamp" AND NOT t."_sfsync_marked")) AND ROW(',
    );
    expect(sql).toContain('RETURNING (xmax = 0) AS inserted');
  });

  it("lets an equal cursor replace a marked row when the stage was read after every mark (a pipeline's)", () => {
    const sql = mergeSql({
      schema: 's',
      table: 't',
      stage: 'st',
      columns: ['id', 'name', 'systemmodstamp'],
      cursorColumn: 'systemmodstamp',
      readAfterMarks: true,
    });
    expect(sql).toContain(
      'WHERE (t."systemmodstamp" IS NULL OR EXCLUDED."systemmodstamp" >= t."systemmodstamp") AND ROW(',
    );
  });

  it('without a cursor the last copied row wins', () => {
    const sql = mergeSql({ schema: 's', table: 't', stage: 'st', columns: ['id', 'name'], cursorColumn: null });
    expect(sql).toContain('ORDER BY id, ctid DESC');
    expect(sql).toContain('WHERE ROW(t."name") IS DISTINCT FROM ROW(EXCLUDED."name")');
  });
});
