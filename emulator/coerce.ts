// Text from a client (Bulk ingest CSV cell, REST JSON body, admin API) -> the value the org stores for a field, by
// its describe type (types.ts FieldValue conventions; ingest formats: docs/salesforce.md#bulk-api-20-ingest).
import type { FieldDef, FieldValue } from './types.ts';
import { parseDecimal } from './values.ts';

/**
 * A value the org refuses; becomes `CODE:message:field --` in failedResults (docs/salesforce.md#bulk-api-20-ingest).
 */
export class FieldValueError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Text from a client (CSV cell or JSON) -> the stored value for this field (types.ts conventions; input formats:
 * docs/salesforce.md#bulk-api-20-ingest).
 */
export function coerceText(f: FieldDef, text: string): FieldValue {
  const bad = (what: string): never => {
    throw new FieldValueError('INVALID_FIELD', `'${text}' is not a valid value for the type ${what}`, f.name);
  };
  switch (f.type) {
    case 'boolean': {
      const t = text.toLowerCase();
      if (t === 'true' || t === '1' || t === 'yes') return true;
      if (t === 'false' || t === '0' || t === 'no') return false;
      return bad('xsd:boolean');
    }
    case 'int':
    case 'long':
      return /^[-+]?\d+$/.test(text) ? text.replace(/^\+/, '') : bad('xsd:int');
    case 'double':
    case 'currency':
    case 'percent':
      if (!NUMBER.test(text)) return bad('xsd:double');
      checkRange(f, text);
      return text.replace(/^\+/, '');
    case 'date':
      return DATE.test(text) && !Number.isNaN(Date.parse(text)) ? text : bad('xsd:date');
    case 'datetime': {
      const t = Date.parse(text);
      return DATETIME.test(text) && !Number.isNaN(t) ? new Date(t).toISOString() : bad('xsd:dateTime');
    }
    case 'json':
      try {
        JSON.parse(text);
        return text;
      } catch {
        return bad('json');
      }
    default:
      if (f.length && text.length > f.length) {
        throw new FieldValueError(
          'STRING_TOO_LONG',
          `${f.label}: data value too large: ${text.slice(0, 40)} (max length=${f.length})`,
          f.name,
        );
      }
      return text;
  }
}

/**
 * docs/salesforce.md#field-sizes: a number with more integer digits than precision - scale is refused; more decimals
 * than the scale are kept as sent.
 */
function checkRange(f: FieldDef, text: string): void {
  const d = parseDecimal(text);
  // describe.ts reports 18 for a number field defined without a precision.
  const precision = f.precision ?? 18;
  if (!d || d.digits === '') return;
  if (d.digits.length + d.exponent > precision - (f.scale ?? 0))
    throw new FieldValueError(
      'NUMBER_OUTSIDE_VALID_RANGE',
      `${f.label}: value outside of valid range on numeric field: ${text}`,
      f.name,
    );
}

/**
 * A value from a JSON request body (REST sObject create/update, the admin API) -> the stored value: null and booleans
 * as they are, a json field's value as its JSON text, anything else through coerceText.
 */
export function coerceJson(f: FieldDef, value: unknown): FieldValue {
  if (value === null || typeof value === 'boolean') return value;
  if (f.type === 'json' && typeof value !== 'string') return JSON.stringify(value);
  return coerceText(f, String(value));
}
