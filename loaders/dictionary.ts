// readDictionary: the data schema's tables, views and columns with their COMMENTs, from the PostgreSQL catalog.
import type pg from 'pg';

export interface DictionaryColumn {
  name: string;
  type: string;
  description: string | null;
}

export interface DictionaryRelation {
  name: string;
  kind: 'table' | 'view';
  description: string | null;
  columns: DictionaryColumn[];
}

export interface DataDictionary {
  schema: string;
  tables: DictionaryRelation[];
}

/** Ordinary and partitioned tables, and views, of one schema; columns in table order. */
export async function readDictionary(client: pg.ClientBase, schema: string): Promise<DataDictionary> {
  const { rows } = await client.query<{
    relation: string;
    kind: string;
    relDescription: string | null;
    column: string;
    type: string;
    description: string | null;
  }>(
    `SELECT c.relname AS relation, c.relkind AS kind, obj_description(c.oid, 'pg_class') AS "relDescription",
            a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            col_description(c.oid, a.attnum) AS description
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v')
     ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const byName = new Map<string, DictionaryRelation>();
  for (const r of rows) {
    let rel = byName.get(r.relation);
    if (!rel) {
      rel = { name: r.relation, kind: r.kind === 'v' ? 'view' : 'table', description: r.relDescription, columns: [] };
      byName.set(r.relation, rel);
    }
    rel.columns.push({ name: r.column, type: r.type, description: r.description });
  }
  return { schema, tables: [...byName.values()] };
}
