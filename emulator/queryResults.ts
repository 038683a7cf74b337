// Running a planned query into what REST cursors and Bulk query jobs keep: a compact slot list, and SOQL failures as
// the HTTP errors both APIs answer with (docs/salesforce.md#rest-query-paging).
import { HttpError } from './http.ts';
import { type ObjectSnapshot, type QueryPlan, SoqlError } from './types.ts';

/** Runs a plan into a compact slot list (4 bytes a row); an index-ordered answer already is one. */
export function collectSlots(
  plan: QueryPlan,
  snapshot: ObjectSnapshot,
  includeDeleted: boolean,
): { slots: Int32Array; count: number } {
  const result = plan.run(snapshot, { includeDeleted });
  if (result instanceof Int32Array) return { slots: result, count: result.length };
  let slots = new Int32Array(1024);
  let count = 0;
  for (const slot of result) {
    if (count === slots.length) {
      const grown = new Int32Array(slots.length * 2);
      grown.set(slots);
      slots = grown;
    }
    slots[count++] = slot;
  }
  return { slots, count };
}

export function soqlFailure(err: unknown): never {
  if (err instanceof SoqlError) throw new HttpError(400, err.errorCode, err.message);
  throw err;
}
