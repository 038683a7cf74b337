// A FieldSpec as describe would give it, for tests and benches that build object specs by hand: the column is the
// name lowercased, the PostgreSQL type the one sfsync maps the Salesforce type to (text when it maps to none).
import { pgTypeOf } from '../../schemas/fieldTypes.ts';
import type { FieldSpec } from '../../schemas/records.ts';

export function fieldSpec(name: string, sfType = 'string', extra: Partial<FieldSpec> = {}): FieldSpec {
  return {
    name,
    column: name.toLowerCase(),
    label: name,
    sfType,
    pgType: pgTypeOf(sfType) ?? 'text',
    calculated: false,
    calculatedFormula: null,
    picklistValues: [],
    ...extra,
  };
}
