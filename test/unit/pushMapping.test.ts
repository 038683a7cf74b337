import { describe, expect, it } from 'vitest';
import type { DescribeField } from '../../extractors/describe.ts';
import { ConfigError } from '../../lib/errors.ts';
import { compatible, mapColumns } from '../../pipelines/push/mapping.ts';

const field = (name: string, type: string, extra: Partial<DescribeField> = {}): DescribeField => ({
  name,
  label: name,
  type,
  createable: true,
  updateable: true,
  ...extra,
});
const FIELDS = [
  field('Id', 'id', { createable: false, updateable: false }),
  field('Name', 'string'),
  field('IsActive__c', 'boolean'),
  field('Ext__c', 'string', { externalId: true }),
  field('CreatedDate', 'datetime', { createable: false, updateable: false }),
];
const col = (name: string, pgType = 'text') => ({ name, pgType });

describe('push column mapping', () => {
  it('maps columns to fields case-insensitively and keys an upsert by its external id', () => {
    const m = mapColumns('Account', FIELDS, [col('name'), col('EXT__C')], 'upsert', 'ext__c');
    expect(m.columns.map((c) => c.field)).toEqual(['Name', 'Ext__c']);
    expect(m.keyAt).toBe(1);
    expect(mapColumns('Account', FIELDS, [col('name')], 'insert').keyAt).toBe(-1);
  });

  it('refuses unknown, read-only, mistyped and keyless mappings, naming the column', () => {
    const bad = (cols: { name: string; pgType: string }[], op: 'insert' | 'update' | 'upsert', ext?: string) => {
      try {
        mapColumns('Account', FIELDS, cols, op, ext);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad([col('nope')], 'insert')).toContain('"nope" matches no field');
    expect(bad([col('createddate', 'timestamp with time zone')], 'insert')).toContain('read-only');
    expect(bad([col('isactive__c', 'integer')], 'insert')).toContain('cannot hold Account.IsActive__c');
    expect(bad([col('name')], 'update')).toContain('needs a column for Account.Id');
    expect(bad([col('name')], 'upsert', 'Name')).toContain('not an External ID field');
    expect(bad([col('name'), col('ext__c')], 'upsert')).toContain('--external-id');
  });

  it('lets text columns carry any field and typed columns only their kind', () => {
    expect(compatible('text', 'boolean')).toBe(true);
    expect(compatible('character varying(40)', 'int')).toBe(true);
    expect(compatible('numeric', 'currency')).toBe(true);
    expect(compatible('boolean', 'double')).toBe(false);
    expect(compatible('timestamp with time zone', 'datetime')).toBe(true);
    expect(compatible('integer', 'date')).toBe(false);
  });
});
