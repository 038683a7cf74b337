// Cursor-window queries (docs/salesforce.md#incremental-cursor-windows) read only the slots the store's cursor index
// puts in the window: on random data, random mutations and random bounds, every answer must equal the full scan's (same
// slots, same order).
import { describe, expect, it } from 'vitest';
import { buildCursorIndex, indexRange } from '../../emulator/cursorIndex.ts';
import { generateOrg } from '../../emulator/seed.ts';
import { planSoql } from '../../emulator/soql.ts';
import { createOrgStore } from '../../emulator/store.ts';
import type { ObjectSnapshot, OrgStore } from '../../emulator/types.ts';
import { isoOf } from '../../emulator/values.ts';
import { prng } from '../support/prng.ts';

const CLOCK = new Date('2026-06-15T10:00:00.000Z');
const SEED = 20_260_615;

/** The same snapshot without its index: runPart falls back to visiting every slot. */
/**
 * Random ISO instants from 2023 to `afterClockMs` past CLOCK, and "an existing value of the field, else an instant".
 */
function randomStamps(rand: () => number, afterClockMs: number) {
  const from = Date.parse('2023-01-01T00:00:00.000Z');
  const to = CLOCK.getTime() + afterClockMs;
  const instant = () => isoOf(Math.floor(from + rand() * (to - from)));
  /** An existing value (a tie, maybe across generated and changed records) or any instant. */
  const existing = (snap: ObjectSnapshot, field: string) => {
    const v = snap.size > 0 ? snap.at(Math.floor(rand() * snap.size))?.[field] : undefined;
    return typeof v === 'string' ? v : instant();
  };
  return { instant, existing };
}

function fullScan(snap: ObjectSnapshot): ObjectSnapshot {
  return { object: snap.object, size: snap.size, at: (s) => snap.at(s), slotState: (s) => snap.slotState(s) };
}

function run(store: OrgStore, soql: string, snap: ObjectSnapshot, includeDeleted: boolean): number[] {
  return [...planSoql(store, soql).run(snap, { includeDeleted })];
}

/** Random mutations of the kinds the API offers: edits (now or at a chosen modstamp), inserts, deletes, undeletes. */
function mutate(store: OrgStore, object: string, rand: () => number, n: number, pick: () => string): void {
  const text = object === 'AccountHistory' ? 'NewValue' : 'Description';
  for (let i = 0; i < n; i++) {
    const snap = store.snapshot(object);
    const rec = snap.at(Math.floor(rand() * snap.size));
    const r = rand();
    if (r < 0.15 || !rec) {
      store.insert(
        object,
        { Contact: { LastName: `New ${i}` }, AccountHistory: { Field: 'Name', NewValue: `New ${i}` } }[object] ?? {
          Name: `New ${i}`,
        },
      );
    } else if (r < 0.55) {
      store.update(rec.Id, { [text]: `edit ${i}` }, rand() < 0.5 ? { modstamp: pick() } : {});
    } else if (r < 0.65) {
      store.update(rec.Id, { [text]: `quiet ${i}` }, { touch: false });
    } else if (r < 0.8) {
      if (rec.IsDeleted === true) store.undelete(rec.Id);
      else store.softDelete(rec.Id);
    } else {
      store.hardDelete(rec.Id);
    }
  }
}

/** The lowest slot holding this SystemModstamp (ties order by slot). */
function slotOf(snap: ObjectSnapshot, stamp: string): number {
  for (let i = 0; i < snap.size; i++) if (snap.at(i)?.SystemModstamp === stamp) return i;
  return -1;
}

describe('emulator cursor index', () => {
  it('computes the same instants as the generated records', () => {
    const anchor = Date.parse('2026-06-15T00:00:00.000Z');
    const org = generateOrg({ accounts: 500, seed: 3 }, anchor);
    const rand = prng(SEED);
    for (const gen of org.generators.values()) {
      for (let k = 0; k < 200 && gen.count > 0; k++) {
        const slot = Math.floor(rand() * gen.count);
        const rec = gen.record(slot);
        for (const f of gen.cursorFields) expect(isoOf(gen.cursorMs(slot, f))).toBe(rec[f]);
      }
    }
  });

  it('sorts keys (ties, skew, empty) and finds inclusive ranges', () => {
    const rand = prng(SEED + 1);
    for (const count of [0, 1, 2, 7, 1000]) {
      const keys = Array.from({ length: count }, () =>
        rand() < 0.1 ? 1e12 + Math.floor(rand() * 3) : 1e12 + Math.floor(rand() * 1e6) * (rand() < 0.01 ? 1e4 : 1),
      );
      const index = buildCursorIndex(count, (s) => keys[s]!);
      expect([...index.keys]).toEqual([...keys].sort((a, b) => a - b));
      expect([...index.slots].map((s) => keys[s])).toEqual([...index.keys]);
      for (let k = 0; k < 50; k++) {
        const a = keys[Math.floor(rand() * count)] ?? 0;
        const b = keys[Math.floor(rand() * count)] ?? 0;
        const [start, end] = indexRange(index, Math.min(a, b), Math.max(a, b));
        const want = keys.filter((x) => x >= Math.min(a, b) && x <= Math.max(a, b)).length;
        expect(end - start).toBe(want);
      }
    }
  });

  it.each([1, 2, 3])('answers window queries exactly as a full scan (round %i)', (round) => {
    const rand = prng(SEED + 10 * round);
    const store = createOrgStore({ accounts: 1500, seed: round, clockStart: CLOCK });
    const span = [Date.parse('2023-01-01T00:00:00.000Z'), CLOCK.getTime() + 60_000];
    const instant = () =>
      isoOf(Math.floor(span[0]! + rand() * (span[1]! - span[0]!)) - (rand() < 0.5 ? Math.floor(rand() * 1000) : 0));
    // A bound is sometimes an existing value (ties at the edge), sometimes any instant, with or without millis.
    const boundFor = (snap: ObjectSnapshot, field: string) => {
      const rec = snap.at(Math.floor(rand() * snap.size));
      const v = rand() < 0.5 && rec ? String(rec[field]) : instant();
      return rand() < 0.3 ? v.replace(/\.\d{3}Z$/, 'Z') : v;
    };
    const before: { snap: ObjectSnapshot; soql: string; all: boolean; want: number[] }[] = [];
    for (let phase = 0; phase < 3; phase++) {
      for (const object of ['Account', 'Contact', 'AccountHistory']) {
        const snap = store.snapshot(object);
        const fields =
          object === 'AccountHistory' ? ['CreatedDate'] : ['SystemModstamp', 'LastModifiedDate', 'CreatedDate'];
        for (let q = 0; q < 25; q++) {
          const f = fields[Math.floor(rand() * fields.length)]!;
          const g = fields[Math.floor(rand() * fields.length)]!;
          const ops = ['>=', '>', '<', '<=', '='];
          const terms = [`${f} ${ops[Math.floor(rand() * 2)]} ${boundFor(snap, f)}`];
          if (rand() < 0.6) terms.push(`${f} ${ops[2 + Math.floor(rand() * 2)]} ${boundFor(snap, f)}`);
          if (rand() < 0.3) terms.push(`${g} ${ops[Math.floor(rand() * ops.length)]} ${boundFor(snap, g)}`);
          if (rand() < 0.2) terms.push('IsDeleted = false');
          if (rand() < 0.2) terms.push(`(Id != null OR ${g} < ${boundFor(snap, g)})`);
          if (rand() < 0.1) terms.push(`${g} = LAST_N_DAYS:${Math.floor(rand() * 900)}`);
          const order = rand() < 0.4 ? ` ORDER BY ${f}${rand() < 0.5 ? ' DESC' : ''}, Id` : '';
          const limit = rand() < 0.2 ? ` LIMIT ${1 + Math.floor(rand() * 50)}` : '';
          const offset = limit && rand() < 0.5 ? ` OFFSET ${Math.floor(rand() * 20)}` : '';
          const select = rand() < 0.2 ? 'COUNT()' : 'Id';
          const soql =
            `SELECT ${select} FROM ${object} WHERE ${terms.join(' AND ')}` +
            `${select === 'Id' ? `${order}${limit}${offset}` : ''}`;
          const all = rand() < 0.5;
          const want = run(store, soql, fullScan(snap), all);
          expect(run(store, soql, snap, all), soql).toEqual(want);
          if (q % 5 === 0) before.push({ snap, soql, all, want });
        }
        mutate(store, object, rand, 120, instant);
      }
    }
    // Snapshots taken before later mutations still answer as they did.
    for (const b of before) expect(run(store, b.soql, b.snap, b.all), b.soql).toEqual(b.want);
  });

  it.each([
    [1, 400, 40],
    [2, 400, 4],
    [3, 40, 3],
    [4, 0, 40],
  ])(
    'answers COUNT() and ORDER BY cursor LIMIT k from the index exactly as a full scan (round %i)',
    (round, accounts, deletedEvery) => {
      const rand = prng(SEED + 500 + round);
      const store = createOrgStore({ accounts, seed: round, deletedEvery, clockStart: CLOCK });
      const { instant, existing } = randomStamps(rand, 60_000);
      const edgeFor = (snap: ObjectSnapshot, field: string) => {
        const v = rand() < 0.6 ? existing(snap, field) : instant();
        return rand() < 0.2 ? v.replace(/\.\d{3}Z$/, 'Z') : v;
      };
      // Edits land on existing values (ties with generated records), at UTC midnights of recent days (the edges of
      // relative date literals), or anywhere.
      const midnight = () =>
        isoOf((Math.floor(CLOCK.getTime() / 86_400_000) + 1 - Math.floor(rand() * 6)) * 86_400_000);
      const pick = (snap: ObjectSnapshot) => () =>
        rand() < 0.4 ? existing(snap, 'SystemModstamp') : rand() < 0.5 ? midnight() : instant();
      const relative = () =>
        [
          'TODAY',
          'YESTERDAY',
          `LAST_N_DAYS:${Math.floor(rand() * 1200)}`,
          `N_DAYS_AGO:${Math.floor(rand() * 5)}`,
          `LAST_N_DAYS:${Math.floor(rand() * 5)}`,
        ][Math.floor(rand() * 5)]!;
      const windowTerms = (snap: ObjectSnapshot, f: string): string[] => {
        const r = rand();
        if (r < 0.15) return [];
        if (r < 0.35) return [`${f} ${['=', '>', '>=', '<', '<='][Math.floor(rand() * 5)]} ${relative()}`];
        if (r < 0.45) {
          // Empty windows: a half-open window of one instant, or bounds the wrong way round.
          const v = edgeFor(snap, f);
          return rand() < 0.5 ? [`${f} >= ${v}`, `${f} < ${v}`] : [`${f} > ${v}`, `${f} <= ${v}`];
        }
        const lo = edgeFor(snap, f);
        const hi = edgeFor(snap, f);
        const terms = [`${f} ${['>=', '>', '='][Math.floor(rand() * 3)]} ${lo}`];
        if (rand() < 0.7) terms.push(`${f} ${['<', '<='][Math.floor(rand() * 2)]} ${hi}`);
        // Repeated bounds: the narrower (exclusive) one must win.
        if (rand() < 0.3)
          terms.push(
            `${f} ${['>=', '>', '<', '<=', '='][Math.floor(rand() * 5)]} ` +
              `${[lo, hi, relative(), edgeFor(snap, f)][Math.floor(rand() * 4)]}`,
          );
        return rand() < 0.2 ? [`(${terms.join(' AND ')})`] : terms;
      };
      const before: { snap: ObjectSnapshot; soql: string; all: boolean; want: number[] | number }[] = [];
      for (let phase = 0; phase < 4; phase++) {
        for (const object of ['Account', 'Contact', 'AccountHistory']) {
          const snap = store.snapshot(object);
          const fields =
            object === 'AccountHistory' ? ['CreatedDate'] : ['SystemModstamp', 'LastModifiedDate', 'CreatedDate'];
          for (let q = 0; q < 30; q++) {
            const f = fields[Math.floor(rand() * fields.length)]!;
            const terms = windowTerms(snap, f);
            const where = terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '';
            const all = rand() < 0.5;
            let reads = 0;
            const countedAt = (slot: number) => {
              reads++;
              return snap.at(slot);
            };
            const counting: ObjectSnapshot = { ...snap, at: countedAt };
            if (q % 2 === 0) {
              const tail =
                rand() < 0.15
                  ? ` LIMIT ${Math.floor(rand() * 30)}${rand() < 0.5 ? ` OFFSET ${Math.floor(rand() * 30)}` : ''}`
                  : '';
              const soql = `SELECT COUNT() FROM ${object}${where}${tail}`;
              const plan = planSoql(store, soql);
              const want = plan.count(fullScan(snap), { includeDeleted: all });
              expect(want, soql).toBe(run(store, soql, fullScan(snap), all).length);
              expect(plan.count(counting, { includeDeleted: all }), `${soql} (${all})`).toBe(want);
              expect(reads, soql).toBe(0);
              if (q % 6 === 0) before.push({ snap, soql, all, want });
            } else {
              const dir = ['', ' ASC', ' DESC'][Math.floor(rand() * 3)]!;
              const nulls = rand() < 0.3 ? ` NULLS ${rand() < 0.5 ? 'FIRST' : 'LAST'}` : '';
              const tie = rand() < 0.3 ? `, Id${rand() < 0.5 ? ' DESC' : ''}` : '';
              const limit = [1, 1, 2, 5, 50, 3000][Math.floor(rand() * 6)]!;
              const offset = rand() < 0.2 ? ` OFFSET ${Math.floor(rand() * 40)}` : '';
              const soql = `SELECT Id FROM ${object}${where} ORDER BY ${f}${dir}${nulls}${tie} LIMIT ${limit}${offset}`;
              const want = run(store, soql, fullScan(snap), all);
              expect(run(store, soql, counting, all), `${soql} (${all})`).toEqual(want);
              expect(reads, soql).toBe(0);
              if (q % 6 === 1) before.push({ snap, soql, all, want });
            }
          }
          mutate(store, object, rand, 60, pick(snap));
          // A cursor field cleared by hand: nulls must sort first or last exactly as the full scan sorts them.
          const victim = store.snapshot(object).at(Math.floor(rand() * Math.max(1, snap.size)));
          if (victim && object !== 'AccountHistory' && rand() < 0.7)
            store.update(victim.Id, { [fields[Math.floor(rand() * 2)]!]: null }, { touch: false });
        }
      }
      // Snapshots taken before later mutations still answer as they did.
      for (const b of before) {
        const got =
          typeof b.want === 'number'
            ? planSoql(store, b.soql).count(b.snap, { includeDeleted: b.all })
            : run(store, b.soql, b.snap, b.all);
        expect(got, b.soql).toEqual(b.want);
      }
    },
  );

  it.each([
    [1, 500, 40],
    [2, 500, 3],
    [3, 30, 2],
    [4, 0, 40],
  ])(
    'answers an unlimited ORDER BY cursor [, Id] (the delta query) from the index exactly as a full scan (round %i)',
    (round, accounts, deletedEvery) => {
      const rand = prng(SEED + 700 + round);
      const store = createOrgStore({ accounts, seed: round, deletedEvery, clockStart: CLOCK });
      const { instant, existing } = randomStamps(rand, 3_600_000);
      // Changed records tie with generated ones, carry non-canonical text (no millis), or land after the seed.
      const stamp = (snap: ObjectSnapshot) => () => {
        const v = rand() < 0.4 ? existing(snap, 'SystemModstamp') : instant();
        return rand() < 0.15 ? v.replace(/\.\d{3}Z$/, 'Z') : v;
      };
      const before: { snap: ObjectSnapshot; soql: string; all: boolean; want: number[] }[] = [];
      for (let phase = 0; phase < 4; phase++) {
        for (const object of ['Account', 'Contact', 'AccountHistory']) {
          const snap = store.snapshot(object);
          const fields =
            object === 'AccountHistory' ? ['CreatedDate'] : ['SystemModstamp', 'LastModifiedDate', 'CreatedDate'];
          for (let q = 0; q < 25; q++) {
            const f = fields[Math.floor(rand() * fields.length)]!;
            const terms: string[] = [];
            if (rand() < 0.7)
              terms.push(
                `${f} ${['>=', '>'][Math.floor(rand() * 2)]} ${rand() < 0.3 ? CLOCK.toISOString() : existing(snap, f)}`,
              );
            if (rand() < 0.3) terms.push(`${f} ${['<', '<='][Math.floor(rand() * 2)]} ${existing(snap, f)}`);
            const where = terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '';
            const dir = ['', ' ASC', ' DESC'][Math.floor(rand() * 3)]!;
            const nulls = rand() < 0.3 ? ` NULLS ${rand() < 0.5 ? 'FIRST' : 'LAST'}` : '';
            const tie = rand() < 0.7 ? `, Id${rand() < 0.3 ? ' DESC' : ''}` : '';
            const offset = rand() < 0.15 ? ` OFFSET ${Math.floor(rand() * 40)}` : '';
            const soql = `SELECT Id FROM ${object}${where} ORDER BY ${f}${dir}${nulls}${tie}${offset}`;
            const all = rand() < 0.6;
            let reads = 0;
            const counting: ObjectSnapshot = {
              ...snap,
              at: (slot) => {
                reads++;
                return snap.at(slot);
              },
            };
            const want = run(store, soql, fullScan(snap), all);
            expect(run(store, soql, counting, all), `${soql} (${all})`).toEqual(want);
            expect(reads, soql).toBe(0);
            if (q % 5 === 0) before.push({ snap, soql, all, want });
          }
          mutate(store, object, rand, 80, stamp(snap));
          const victim = store.snapshot(object).at(Math.floor(rand() * Math.max(1, snap.size)));
          if (victim && object !== 'AccountHistory' && rand() < 0.7)
            store.update(victim.Id, { [fields[Math.floor(rand() * 2)]!]: null }, { touch: false });
        }
      }
      for (const b of before) expect(run(store, b.soql, b.snap, b.all), b.soql).toEqual(b.want);
      // The whole object in cursor order, which the slow path answered by reading every record.
      const snap = store.snapshot('Contact');
      let reads = 0;
      const counting: ObjectSnapshot = {
        ...snap,
        at: (slot) => {
          reads++;
          return snap.at(slot);
        },
      };
      const soql = 'SELECT Id FROM Contact ORDER BY SystemModstamp';
      expect(run(store, soql, counting, true)).toEqual(run(store, soql, fullScan(snap), true));
      expect(reads).toBe(0);
    },
  );

  it('keeps the slow path for anything else: other fields, OR, NOT, two cursor fields, relationship order', () => {
    const store = createOrgStore({ accounts: 300, seed: 4, clockStart: CLOCK });
    const snap = store.snapshot('Contact');
    const mid = String(snap.at(7)?.SystemModstamp);
    for (const soql of [
      `SELECT COUNT() FROM Contact WHERE SystemModstamp >= ${mid} AND IsDeleted = false`,
      `SELECT COUNT() FROM Contact WHERE SystemModstamp >= ${mid} OR SystemModstamp < ${mid}`,
      `SELECT COUNT() FROM Contact WHERE NOT SystemModstamp >= ${mid}`,
      `SELECT COUNT() FROM Contact WHERE SystemModstamp >= ${mid} AND CreatedDate < ${mid}`,
      `SELECT COUNT() FROM Contact WHERE SystemModstamp != ${mid}`,
      `SELECT Id FROM Contact WHERE CreatedDate >= ${mid} ORDER BY SystemModstamp LIMIT 3`,
      'SELECT Id FROM Contact ORDER BY Account.SystemModstamp LIMIT 3',
      'SELECT Id FROM Contact ORDER BY SystemModstamp, Name LIMIT 3',
    ]) {
      let reads = 0;
      const countedAt = (slot: number) => {
        reads++;
        return snap.at(slot);
      };
      const counting: ObjectSnapshot = { ...snap, at: countedAt };
      const plan = planSoql(store, soql);
      if (plan.isCount)
        expect(plan.count(counting, { includeDeleted: true }), soql).toBe(
          plan.count(fullScan(snap), { includeDeleted: true }),
        );
      else expect(run(store, soql, counting, true), soql).toEqual(run(store, soql, fullScan(snap), true));
      expect(reads, soql).toBeGreaterThan(0);
    }
  });

  it('lists seeded deletions in the delete log as their records say, before and after changes', () => {
    const store = createOrgStore({ accounts: 3000, seed: 9, clockStart: CLOCK, deletedEvery: 7 });
    const rand = prng(SEED + 99);
    const expected = (object: string, seededOnly: Set<string>) => {
      const snap = store.snapshot(object);
      const out: { id: string; deletedDate: string }[] = [];
      for (let i = 0; i < snap.size; i++) {
        const r = snap.at(i);
        if (r && seededOnly.has(r.Id)) out.push({ id: r.Id, deletedDate: String(r.SystemModstamp ?? r.CreatedDate) });
      }
      return out.sort((a, b) => (a.deletedDate < b.deletedDate ? -1 : a.deletedDate > b.deletedDate ? 1 : 0));
    };
    for (const object of ['Account', 'AccountHistory']) {
      const seeded = new Set(store.deletedLog(object).map((d) => d.id));
      expect(seeded.size).toBeGreaterThan(50);
      expect(store.deletedLog(object)).toEqual(expected(object, seeded));
      const original = store.snapshot(object);
      mutate(store, object, rand, 200, () => CLOCK.toISOString());
      const log = store.deletedLog(object);
      const dates = new Map(log.map((d) => [d.id, d.deletedDate]));
      for (let i = 0; i < original.size; i++) {
        const r = original.at(i);
        if (r && seeded.has(r.Id) && JSON.stringify(store.get(r.Id)) === JSON.stringify(r))
          expect(dates.get(r.Id)).toBe(String(r.SystemModstamp ?? r.CreatedDate));
      }
      expect(log.map((d) => d.deletedDate)).toEqual(log.map((d) => d.deletedDate).sort());
    }
  });

  it('lists a window of the delete log (from the index) exactly as a filter over the whole log', () => {
    const store = createOrgStore({ accounts: 2500, seed: 10, clockStart: CLOCK, deletedEvery: 5 });
    const rand = prng(SEED + 98);
    const { instant } = randomStamps(rand, 60_000);
    for (let phase = 0; phase < 3; phase++) {
      for (const object of ['Account', 'AccountHistory']) {
        const log = store.deletedLog(object);
        const dates = log.map((d) => d.deletedDate);
        for (let k = 0; k < 40; k++) {
          // Bounds on entries (ties at the edge) or anywhere; either may be open; sometimes reversed.
          const bound = () =>
            rand() < 0.5 && dates.length > 0 ? dates[Math.floor(rand() * dates.length)]! : instant();
          const from = rand() < 0.15 ? undefined : bound();
          const to = rand() < 0.15 ? undefined : bound();
          const limit = rand() < 0.3 ? Math.floor(rand() * 5) : undefined;
          const want = log.filter(
            (d) => (from === undefined || d.deletedDate >= from) && (to === undefined || d.deletedDate < to),
          );
          expect(store.deletedLog(object, { from, to, limit }), `${object} [${from}, ${to}) ${limit}`).toEqual(
            limit === undefined ? want : want.slice(0, limit),
          );
        }
        mutate(store, object, rand, 150, instant);
      }
    }
  });

  it('reads only the window: a narrow window over many records visits few slots', () => {
    const store = createOrgStore({ accounts: 20_000, seed: 5, clockStart: CLOCK });
    const snap = store.snapshot('Account');
    let reads = 0;
    const at = (s: number) => {
      reads++;
      return snap.at(s);
    };
    const counting: ObjectSnapshot = { ...snap, at, cursorCandidates: snap.cursorCandidates };
    const stamps = Array.from({ length: snap.size }, (_, i) => String(snap.at(i)?.SystemModstamp)).sort();
    const from = stamps[stamps.length - 200]!;
    const slots = run(store, `SELECT Id FROM Account WHERE SystemModstamp >= ${from}`, counting, true);
    expect(slots.length).toBeGreaterThanOrEqual(200);
    expect(reads).toBeLessThan(400);
    // COUNT() of a half-open window and the oldest-cursor probe build no record at all.
    reads = 0;
    const to = stamps[stamps.length - 100]!;
    const count = planSoql(
      store,
      `SELECT COUNT() FROM Account WHERE SystemModstamp >= ${from} AND SystemModstamp < ${to}`,
    ).count(counting, { includeDeleted: true });
    expect(count).toBe(stamps.filter((v) => v >= from && v < to).length);
    expect(
      run(store, 'SELECT SystemModstamp FROM Account ORDER BY SystemModstamp ASC LIMIT 1', counting, true),
    ).toEqual([stamps.indexOf(stamps[0]!) >= 0 ? slotOf(snap, stamps[0]!) : -1]);
    expect(reads).toBe(0);
  });
});
