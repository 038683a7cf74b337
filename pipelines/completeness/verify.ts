// verify: Salesforce's own counts against the warehouse's, and optionally a random sample compared field by field.
import type pg from 'pg';
import { oneLine } from '../../lib/errors.ts';
import { describeConfigured } from '../runtime/columnSelection.ts';
import { countRecords, restQueryFits } from '../../extractors/rest/query.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { queryCsv } from '../../transforms/restPage.ts';
import { buildCount, buildSelect, quoteSoqlString } from '../../extractors/soql.ts';
import type { FieldSpec, ObjectSpec } from '../../schemas/records.ts';
import { copyCsv } from '../../loaders/copyCsv.ts';
import { existingColumns, FILTER_COLUMN } from '../../loaders/ddl.ts';
import { filteredSpec } from '../../extractors/soqlFilter.ts';
import type { ObjectOptions } from '../../lib/config.ts';
import { qualified, quoteIdent, quoteLiteral, withClient, withTransaction } from '../../loaders/postgres.ts';
import { STAGE_SCHEMA, createStage } from '../../loaders/stage.ts';
import type { RunContext } from '../runtime/runContext.ts';

export interface VerifyRow {
  object: string;
  sfLive: number;
  sfDeleted: number;
  whLive: number;
  whDeleted: number;
  sampled: number;
  /** Sampled ids with at least one differing field, or absent from Salesforce: `id: field, field`. */
  sampleDiffs: string[];
  ok: boolean;
  problem?: string;
}

/** Sampled ids asked for per query: they go into the URL (docs/salesforce.md#soql-limits-and-errors). */
const SAMPLE_CHUNK = 50;
/** The longest id as it stands in the query (18 characters, quoted), to size the field groups for any chunk. */
const LONGEST_ID = quoteSoqlString('0'.repeat(18));

/** By Id, the object's filter aside: a sampled row is compared with its record as it is now. */
const sampleSoql = (spec: ObjectSpec, fields: readonly FieldSpec[], quotedIds: readonly string[]) =>
  `${buildSelect({ ...spec, where: undefined }, { fields: fields.map((f) => f.name) })} ` +
  `WHERE Id IN (${quotedIds.join(', ')})`;

/**
 * The sample's fields in groups, each led by Id, whose query for SAMPLE_CHUNK ids fits in a GET URI
 * (docs/salesforce.md#uri-length): one group for most objects, several for a wide one (an enterprise Account has
 * hundreds of fields), each compared on its own.
 */
export function sampleFieldGroups(http: Pick<SalesforceHttp, 'apiVersion'>, spec: ObjectSpec): FieldSpec[][] {
  const ids = Array<string>(SAMPLE_CHUNK).fill(LONGEST_ID);
  const fits = (fields: readonly FieldSpec[]) => restQueryFits(http, sampleSoql(spec, fields, ids), true);
  const id = spec.fields.filter((f) => f.name === 'Id');
  const groups: FieldSpec[][] = [];
  let group = [...id];
  for (const f of spec.fields) {
    if (f.name === 'Id') continue;
    if (group.length > id.length && !fits([...group, f])) {
      groups.push(group);
      group = [...id];
    }
    group.push(f);
  }
  groups.push(group);
  return groups;
}

async function warehouseCounts(
  client: pg.ClientBase,
  schema: string,
  table: string,
  hasFlag: boolean,
  filtered = false,
): Promise<{ live: number; deleted: number }> {
  const flag = hasFlag ? 'isdeleted IS TRUE' : 'false';
  // Rows the object's filter no longer keeps are counted by neither side (Salesforce counts with the filter).
  const kept = filtered ? ` AND NOT ${quoteIdent(FILTER_COLUMN)}` : '';
  const { rows } = await client.query<{ live: number; deleted: number }>(
    `SELECT count(*) FILTER (WHERE NOT (${flag})${kept})::float8 AS live, ` +
      `count(*) FILTER (WHERE ${flag}${kept})::float8 AS deleted FROM ${qualified(schema, table)}`,
  );
  return rows[0]!;
}

/** Field-by-field comparison in SQL, so Postgres's own equality per type decides (1.50 = 1.5, instants by value). */
function diffSql(schema: string, spec: ObjectSpec, fields: readonly FieldSpec[], stage: string): string {
  const checks = fields
    .filter((f) => f.column !== 'id')
    .map(
      (f) =>
        `CASE WHEN s.${quoteIdent(f.column)} IS DISTINCT FROM t.${quoteIdent(f.column)} ` +
        `THEN ${quoteLiteral(f.name)} END`,
    );
  const differing = checks.length > 0 ? `array_to_string(ARRAY[${checks.join(', ')}], ', ')` : "''";
  return `SELECT s.id, ${differing} AS fields
FROM ${qualified(STAGE_SCHEMA, stage)} s JOIN ${qualified(schema, spec.table)} t ON t.id = s.id`;
}

async function compareSample(
  ctx: RunContext,
  client: pg.ClientBase,
  spec: ObjectSpec,
  n: number,
  hasFlag: boolean,
  filtered = false,
): Promise<{ sampled: number; diffs: string[] }> {
  const schema = ctx.config.schema;
  const conditions = [...(hasFlag ? ['isdeleted IS NOT TRUE'] : []), ...(filtered ? [`NOT ${FILTER_COLUMN}`] : [])];
  const live = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM ${qualified(schema, spec.table)} ${live} ORDER BY random() LIMIT $1`,
    [n],
  );
  const diffs: string[] = [];
  const groups = sampleFieldGroups(ctx.sf, spec);
  for (let i = 0; i < rows.length; i += SAMPLE_CHUNK) {
    const ids = rows.slice(i, i + SAMPLE_CHUNK).map((r) => r.id);
    /** Per id found in Salesforce, its differing fields across the groups. */
    const differing = new Map<string, string[]>();
    for (const fields of groups) {
      const soql = sampleSoql(spec, fields, ids.map(quoteSoqlString));
      await withTransaction(client, async () => {
        const stage = await createStage(client, schema, spec.table);
        await copyCsv(client, {
          schema: STAGE_SCHEMA,
          table: stage,
          columns: fields.map((f) => f.column),
          // Hashed fields are compared as hashes: the warehouse holds nothing else.
          source: queryCsv(ctx.sf, soql, fields, { all: true, hashKey: ctx.config.hashKey }),
          signal: ctx.signal,
        });
        const sql = diffSql(schema, spec, fields, stage);
        for (const r of (await client.query<{ id: string; fields: string }>(sql)).rows) {
          const seen = differing.get(r.id) ?? [];
          if (r.fields !== '') seen.push(r.fields);
          differing.set(r.id, seen);
        }
      });
    }
    for (const [id, fields] of differing) if (fields.length > 0) diffs.push(`${id}: ${fields.join(', ')}`);
    for (const id of ids) if (!differing.has(id)) diffs.push(`${id}: not in Salesforce`);
  }
  return { sampled: rows.length, diffs };
}

/** A row that has compared nothing yet: every count 0, not ok. */
const unverified = (object: string): VerifyRow => ({
  object,
  sfLive: 0,
  sfDeleted: 0,
  whLive: 0,
  whDeleted: 0,
  sampled: 0,
  sampleDiffs: [],
  ok: false,
});

async function verifyObject(
  ctx: RunContext,
  client: pg.ClientBase,
  obj: Pick<ObjectOptions, 'name' | 'where'>,
  sample: number,
): Promise<VerifyRow> {
  // The configured columns only, hashed ones as hashes, of the records the filter keeps: what the warehouse holds.
  const spec = filteredSpec(await describeConfigured(ctx, obj.name), obj.where);
  // Live = queryAll with IsDeleted = false, so archived Tasks and Events (queryAll only) count as the live rows they
  // are in the warehouse (docs/salesforce.md#queryall-and-deleted-records).
  const sfLive = spec.hasIsDeleted
    ? await countRecords(ctx.sf, buildCount(spec, { liveOnly: true }), { all: true })
    : await countRecords(ctx.sf, buildCount(spec));
  const sfDeleted = spec.hasIsDeleted ? (await countRecords(ctx.sf, buildCount(spec), { all: true })) - sfLive : 0;
  const columns = await existingColumns(client, ctx.config.schema, spec.table);
  const row: VerifyRow = { ...unverified(spec.name), sfLive, sfDeleted };
  if (columns.length === 0) return { ...row, problem: 'not loaded' };
  const hasFlag = columns.includes('isdeleted');
  const filtered = columns.includes(FILTER_COLUMN);
  const wh = await warehouseCounts(client, ctx.config.schema, spec.table, hasFlag, filtered);
  const s = sample > 0 ? await compareSample(ctx, client, spec, sample, hasFlag, filtered) : { sampled: 0, diffs: [] };
  // Hard-deleted records leave Salesforce's queryAll but stay in the warehouse (marked), so deleted may exceed.
  const ok = wh.live === sfLive && wh.deleted >= sfDeleted && s.diffs.length === 0;
  return { ...row, whLive: wh.live, whDeleted: wh.deleted, sampled: s.sampled, sampleDiffs: s.diffs, ok };
}

export async function verifyAll(ctx: RunContext, sample: number): Promise<VerifyRow[]> {
  return withClient(ctx.pool, async (client) => {
    const out: VerifyRow[] = [];
    for (const obj of ctx.config.objects) {
      try {
        out.push(await verifyObject(ctx, client, obj, sample));
      } catch (err) {
        out.push({ ...unverified(obj.name), problem: oneLine(err) });
      }
    }
    return out;
  });
}
