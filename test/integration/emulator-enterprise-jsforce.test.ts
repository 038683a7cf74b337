// jsforce (a client written for real Salesforce, v3.10.16) against the enterprise profile: the json field, archived
// activities through queryAll (REST scanAll and Bulk 2.0 queryAll), and the 414 for an over-long query URI.
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE, type Emulator, createEmulator } from '../../emulator/index.ts';
import type { SfRecord } from '../../emulator/types.ts';
import { assertion } from '../support/emulatorClient.ts';

let em: Emulator;
let conn: Connection;

beforeAll(async () => {
  // 800 Accounts: 400 Tasks and Events, so Bulk results fit one page (jsforce 3.10.16 reads one page only).
  em = await createEmulator({ profile: 'enterprise', accounts: 800, seed: 21 });
  conn = new Connection({ loginUrl: em.loginUrl, version: '62.0' });
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await assertion(em) });
  conn.bulk2.pollInterval = 20;
  conn.bulk2.pollTimeout = 60_000;
});
afterAll(async () => {
  await em?.close();
});

function stored(object: string): SfRecord[] {
  const snap = em.store.snapshot(object);
  return Array.from({ length: snap.size }, (_, i) => snap.at(i)).filter((r): r is SfRecord => r !== undefined);
}

const visible = (r: SfRecord) => r.IsDeleted !== true && r.IsArchived !== true;

describe('jsforce against the enterprise profile', () => {
  it('describes the json field and reads it as nested JSON (REST) and as JSON text (Bulk)', async () => {
    const d = await conn.describe('Account');
    expect(d.fields.length).toBeGreaterThanOrEqual(600);
    expect(d.fields.find((f) => f.name === ENTERPRISE.jsonField)?.type).toBe('json');
    const expected = new Map(stored('Account').map((r) => [r.Id, r[ENTERPRISE.jsonField] as string | null]));
    const res = await conn.query<Record<string, unknown>>(`SELECT Id, ${ENTERPRISE.jsonField} FROM Account`, {
      autoFetch: true,
      maxFetch: 100_000,
    });
    expect(res.records.length).toBe(stored('Account').filter(visible).length);
    let nested = 0;
    for (const r of res.records) {
      const text = expected.get(r.Id as string) ?? null;
      expect(r[ENTERPRISE.jsonField]).toEqual(text === null ? null : JSON.parse(text));
      if (r[ENTERPRISE.jsonField] !== null && typeof r[ENTERPRISE.jsonField] === 'object') nested++;
    }
    expect(nested).toBeGreaterThan(100);
    const stream = await conn.bulk2.query(`SELECT Id, ${ENTERPRISE.jsonField} FROM Account`);
    const rows: Record<string, string>[] = [];
    for await (const r of stream as AsyncIterable<Record<string, string>>) rows.push(r);
    expect(rows.length).toBe(res.records.length);
    for (const r of rows) expect(r[ENTERPRISE.jsonField]).toBe(expected.get(r.Id as string) ?? '');
  });

  it('gets archived Tasks and Events from queryAll (scanAll) only, over REST and Bulk 2.0', async () => {
    for (const object of ENTERPRISE.activityObjects) {
      const archived = new Set(
        stored(object)
          .filter((r) => r.IsArchived === true)
          .map((r) => r.Id),
      );
      expect(archived.size, object).toBeGreaterThan(10);
      const soql = `SELECT Id, IsArchived FROM ${object}`;
      const live = await conn.query<{ Id: string; IsArchived: boolean }>(soql, { autoFetch: true, maxFetch: 1e6 });
      expect(live.records.some((r) => r.IsArchived)).toBe(false);
      expect(live.totalSize).toBe(stored(object).filter(visible).length);
      const all = await conn.query<{ Id: string; IsArchived: boolean }>(soql, {
        scanAll: true,
        autoFetch: true,
        maxFetch: 1e6,
      });
      expect(new Set(all.records.filter((r) => r.IsArchived).map((r) => r.Id))).toEqual(archived);
      const readBulk = async (scanAll: boolean) => {
        const rows: Record<string, string>[] = [];
        for await (const r of (await conn.bulk2.query(soql, { scanAll })) as AsyncIterable<Record<string, string>>)
          rows.push(r);
        return rows;
      };
      expect((await readBulk(false)).filter((r) => r.IsArchived === 'true')).toEqual([]);
      const bulkAll = await readBulk(true);
      expect(new Set(bulkAll.filter((r) => r.IsArchived === 'true').map((r) => r.Id))).toEqual(archived);
    }
  });

  it('fails a query whose URI passes 16,384 bytes with HTTP 414', async () => {
    const fields = (em.store.object('Account')?.fields ?? [])
      .filter((f) => f.type !== 'address' && f.type !== 'location')
      .map((f) => f.name);
    const err = await conn.query(`SELECT ${fields.join(', ')} FROM Account`).then(
      () => undefined,
      (e: { errorCode?: string; message?: string }) => e,
    );
    expect(err?.errorCode).toBe('ERROR_HTTP_414');
    expect(err?.message).toContain('URI Too Long');
    // The connection stays usable.
    expect((await conn.query('SELECT Id FROM Account LIMIT 1')).records.length).toBe(1);
  });
});
