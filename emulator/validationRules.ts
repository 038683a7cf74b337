// Validation rules an admin sets on an object: a record that meets the rule's error condition is refused with
// FIELD_CUSTOM_VALIDATION_EXCEPTION and the rule's message, shown at its error field or at the top of the page
// (https://help.salesforce.com/s/articleView?id=sf.fields_defining_field_validation_rules.htm). Bulk ingest checks
// them for every inserted, updated or upserted row (docs/salesforce.md#bulk-api-20-ingest).
import type { FieldValue, SfRecord } from './types.ts';

/** A JSON-expressible error condition: `field op value` (null never meets a comparison, as a blank field). */
export interface RuleCondition {
  field: string;
  op: 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'isNull' | 'notNull' | 'matches';
  /** Compared as a number when both sides are numbers; `matches` takes a regular expression source. */
  value?: string | number | boolean | null;
}

export interface ValidationRuleSpec {
  name: string;
  /** The error message (the rule's "Error Message"). */
  message: string;
  /** Where the error shows (sf__Error's fields part); none: at the top of the page. */
  errorField?: string;
  /** In-process rules: true when the record is invalid (the error condition formula). */
  predicate?: (rec: SfRecord) => boolean;
  /** Over HTTP: the error condition as data. */
  condition?: RuleCondition;
}

export interface ValidationRule {
  object: string;
  name: string;
  message: string;
  errorField?: string;
  condition?: RuleCondition;
  violates: (rec: SfRecord) => boolean;
}

const numberOf = (v: FieldValue | undefined): number | undefined => {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
};

export function conditionPredicate(c: RuleCondition): (rec: SfRecord) => boolean {
  const read = (rec: SfRecord) => {
    const hit = Object.keys(rec).find((k) => k.toLowerCase() === c.field.toLowerCase());
    return hit === undefined ? null : (rec[hit] ?? null);
  };
  if (c.op === 'isNull') return (rec) => read(rec) === null || read(rec) === '';
  if (c.op === 'notNull') return (rec) => !(read(rec) === null || read(rec) === '');
  if (c.op === 'matches') {
    const re = new RegExp(String(c.value ?? ''));
    return (rec) => {
      const v = read(rec);
      return v !== null && re.test(String(v));
    };
  }
  const compare = (v: FieldValue): number | undefined => {
    const a = numberOf(v);
    const b = numberOf(c.value as FieldValue);
    if (a !== undefined && b !== undefined) return a - b;
    if (typeof c.value === 'boolean' || typeof v === 'boolean') return v === c.value ? 0 : undefined;
    const s = String(v);
    const t = String(c.value);
    return s < t ? -1 : s > t ? 1 : 0;
  };
  return (rec) => {
    const v = read(rec);
    if (v === null) return false;
    const d = compare(v);
    if (d === undefined) return c.op === 'ne';
    switch (c.op) {
      case 'lt':
        return d < 0;
      case 'le':
        return d <= 0;
      case 'gt':
        return d > 0;
      case 'ge':
        return d >= 0;
      case 'eq':
        return d === 0;
      default:
        return d !== 0;
    }
  };
}

export function createValidationRules() {
  let rules: ValidationRule[] = [];
  return {
    /** Adds the rule, or replaces the object's rule of that name. */
    set(object: string, spec: ValidationRuleSpec): void {
      const violates = spec.predicate ?? (spec.condition ? conditionPredicate(spec.condition) : undefined);
      if (!violates) throw new Error(`Validation rule ${spec.name} needs a predicate or a condition`);
      const same = (r: ValidationRule) =>
        r.object.toLowerCase() === object.toLowerCase() && r.name.toLowerCase() === spec.name.toLowerCase();
      rules = [
        ...rules.filter((r) => !same(r)),
        {
          object,
          name: spec.name,
          message: spec.message,
          errorField: spec.errorField,
          condition: spec.condition,
          violates,
        },
      ];
    },
    /** Removes one rule, every rule of an object, or (no arguments) every rule. */
    clear(object?: string, name?: string): void {
      rules = rules.filter(
        (r) =>
          !(
            (object === undefined || r.object.toLowerCase() === object.toLowerCase()) &&
            (name === undefined || r.name.toLowerCase() === name.toLowerCase())
          ),
      );
    },
    list(): Omit<ValidationRule, 'violates'>[] {
      return rules.map(({ violates: _v, ...rest }) => rest);
    },
    /** The object's active rules, in the order they were set. */
    of(object: string): ValidationRule[] {
      return rules.filter((r) => r.object.toLowerCase() === object.toLowerCase());
    },
  };
}

export type ValidationRules = ReturnType<typeof createValidationRules>;
