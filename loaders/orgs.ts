// sfsync.orgs: which org each schema holds, and the Salesforce org it was loaded from
// (docs/salesforce.md#org-identity).
import type pg from 'pg';
import { ConfigError } from '../lib/errors.ts';

export interface SchemaClaim {
  /** The config's org name (lib/config.ts Config.org). */
  org: string;
  schema: string;
  /** From the session's identity URL; undefined when the token response had none (nothing is checked then). */
  salesforceOrgId: string | undefined;
}

/** Org ids are 15 or 18 characters; the first 15 are the same id (the last 3 are a case checksum). */
const sameOrg = (a: string, b: string) => a.slice(0, 15) === b.slice(0, 15);

/**
 * Records the schema as the org's before anything is written to it; refuses (ConfigError) a schema whose records came
 * from another Salesforce org. One statement, so two processes claiming a new schema for two orgs cannot both win.
 */
export async function claimSchema(client: pg.ClientBase, claim: SchemaClaim): Promise<void> {
  const { rows } = await client.query<{ salesforce_org_id: string | null }>(
    `INSERT INTO sfsync.orgs AS o (schema, name, salesforce_org_id) VALUES ($1, $2, $3)
     ON CONFLICT (schema) DO UPDATE
       SET name = EXCLUDED.name, updated_at = now(),
           salesforce_org_id = COALESCE(o.salesforce_org_id, EXCLUDED.salesforce_org_id)
       WHERE o.salesforce_org_id IS NULL OR EXCLUDED.salesforce_org_id IS NULL
          OR left(o.salesforce_org_id, 15) = left(EXCLUDED.salesforce_org_id, 15)
     RETURNING salesforce_org_id`,
    [claim.schema, claim.org, claim.salesforceOrgId ?? null],
  );
  if (rows.length > 0) return;
  const held = await client.query<{ name: string; salesforce_org_id: string }>(
    'SELECT name, salesforce_org_id FROM sfsync.orgs WHERE schema = $1',
    [claim.schema],
  );
  const owner = held.rows[0];
  if (!owner || !claim.salesforceOrgId || sameOrg(owner.salesforce_org_id, claim.salesforceOrgId)) return;
  throw new ConfigError(
    `org ${claim.org}: schema ${claim.schema} holds Salesforce org ${owner.salesforce_org_id} ` +
      `(as org ${owner.name}), ` +
      `but the login is to org ${claim.salesforceOrgId}: give org ${claim.org} a schema of its own ` +
      '(a refreshed sandbox is a new org: see README, Several orgs)',
  );
}

export interface OrgRecord {
  schema: string;
  name: string;
  salesforceOrgId: string | null;
}

/** Every schema sfsync has written, with its org. */
export async function listOrgs(client: pg.ClientBase): Promise<OrgRecord[]> {
  const { rows } = await client.query<OrgRecord>(
    'SELECT schema, name, salesforce_org_id AS "salesforceOrgId" FROM sfsync.orgs ORDER BY name, schema',
  );
  return rows;
}
