// What the rows of a pipeline's read were read under (docs/salesforce.md#relationship-pipelines), so that a change of
// it reads the pipeline in full: the conditions of its full read (the WHERE, and for a subquery the top query's as
// well), kept in object_state.filter under the read's state key as a filtered object keeps its filter
// (pipelines/sync/filterCheck.ts), and the paths it hashes, which the column comments tell (loaders/ddl.ts
// HASHED_COMMENT). Both are brought up to date once the full read that applies them has committed its last rows: a run
// that fails before leaves them as they were, and the next run reads in full again (a failed full read's next run would
// otherwise go on from the watermark it had before, which never moves back).
import type pg from 'pg';
import type { Logger } from '../../lib/log.ts';
import { columnComment, columnTypes, currentComments, isHashedComment } from '../../loaders/ddl.ts';
import { recordSchemaEvents, saveFilter } from '../../loaders/objectState.ts';
import { qualified, quoteIdent, quoteLiteral } from '../../loaders/postgres.ts';
import type { ObjectKey } from '../../loaders/state.ts';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';

/** The conditions a full read of the pipeline's read applies (extractors/soql.ts), as one text; null = none. */
export function readConditions(spec: ObjectSpec): string | null {
  const r = spec.relationship;
  const terms = [r?.where ?? null, r?.fullWhere ?? null].filter((w): w is string => w !== null);
  return terms.length > 0 ? terms.map((w) => `(${w})`).join(' AND ') : null;
}

/**
 * The fields the pipeline no longer hashes whose columns still hold hashes. Before ensureTable, which would write their
 * comment as read.
 */
export async function unhashedFields(client: pg.ClientBase, schema: string, spec: ObjectSpec): Promise<FieldSpec[]> {
  const plain = spec.fields.filter((f) => !f.hashed);
  if (plain.length === 0 || (await columnTypes(client, schema, spec.table)).size === 0) return [];
  const comments = await currentComments(client, schema, spec.table);
  return plain.filter((f) => isHashedComment(comments.get(f.column)));
}

/** The spec ensureTable is given: the columns of `unhashed` still say they hold hashes until the full read commits. */
export function keepingHashedComments(spec: ObjectSpec, unhashed: readonly FieldSpec[]): ObjectSpec {
  if (unhashed.length === 0) return spec;
  const names = new Set(unhashed.map((f) => f.name));
  return { ...spec, fields: spec.fields.map((f) => (names.has(f.name) ? { ...f, hashed: true } : f)) };
}

/**
 * After a full read, in a transaction of its own: the conditions saved when they changed, and each column no longer
 * hashed said to hold values as read, recorded as schema drift.
 */
export async function settleFullRead(
  client: pg.ClientBase,
  key: ObjectKey,
  spec: ObjectSpec,
  log: Logger,
  changes: { conditions: string | null; conditionsChanged: boolean; unhashed: readonly FieldSpec[] },
): Promise<void> {
  if (changes.conditionsChanged) await saveFilter(client, key, changes.conditions);
  if (changes.unhashed.length === 0) return;
  const table = qualified(key.schema, spec.table);
  for (const f of changes.unhashed)
    await client.query(`COMMENT ON COLUMN ${table}.${quoteIdent(f.column)} IS ${quoteLiteral(columnComment(f))}`);
  const action = 'no longer hashed; read in full, stored as read';
  const events = changes.unhashed.map((f) => ({
    field: f.name,
    kind: 'unhashed' as const,
    oldType: null,
    newType: null,
    action,
  }));
  for (const e of events) log.info(e, 'schema drift');
  await recordSchemaEvents(client, key, events);
}
