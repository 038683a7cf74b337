// `npx tsx scripts/bench/emulatorCount.ts [--accounts 1000000] [--windows 6] [--edits 1000]`
// Times the window-sizing queries sfsync plans large loads with (docs/salesforce.md#select-count,
// #incremental-cursor-windows) against an in-process emulated org: queryAll `SELECT COUNT() ... WHERE SystemModstamp >=
// X AND SystemModstamp < Y` per window and the oldest-cursor probe `ORDER BY SystemModstamp ASC LIMIT 1`, from the
// cursor index ("index") and through the previous path, which builds every record in the window or sorts them all
// ("scan"). Prints figures, asserts nothing but that both paths agree.
import { parseArgs } from 'node:util';
import { planSoql } from '../../emulator/soql.ts';
import { createOrgStore } from '../../emulator/store.ts';
import type { ObjectSnapshot } from '../../emulator/types.ts';
import { isoOf } from '../../emulator/values.ts';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    windows: { type: 'string', default: '6' },
    edits: { type: 'string', default: '1000' },
  },
});

const CLOCK = new Date('2026-06-15T10:00:00.000Z');
const accounts = Number(args.accounts);
const windows = Number(args.windows);

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x: number) => `${x.toFixed(1)} ms`;

let t0 = process.hrtime.bigint();
const store = createOrgStore({ accounts, seed: 1, clockStart: CLOCK });
console.log(`org of ${accounts} Accounts: ${fmt(ms(t0))}`);
// Edits, deletes and inserts put records in the overlay, which both paths must also read.
for (let i = 0; i < Number(args.edits); i++) {
  const rec = store.snapshot('Account').at((i * 7919) % accounts);
  if (!rec) continue;
  if (i % 10 === 0) store.softDelete(rec.Id);
  else if (i % 10 === 1) store.hardDelete(rec.Id);
  else if (i % 10 === 2) store.insert('Account', { Name: `New ${i}` });
  else store.update(rec.Id, { Description: `edit ${i}` });
}
const snap = store.snapshot('Account');
/** The snapshot as before the COUNT() / ORDER BY fast paths: window candidates from the index, records built. */
const scan: ObjectSnapshot = {
  object: snap.object,
  size: snap.size,
  at: (s) => snap.at(s),
  slotState: (s) => snap.slotState(s),
  cursorCandidates: snap.cursorCandidates,
};

const from = Date.parse('2023-06-01T00:00:00.000Z');
const to = Date.parse('2026-06-16T00:00:00.000Z');
const bounds = Array.from({ length: windows + 1 }, (_, i) => isoOf(from + Math.floor(((to - from) * i) / windows)));

t0 = process.hrtime.bigint();
planSoql(store, `SELECT COUNT() FROM Account WHERE SystemModstamp >= ${bounds[0]}`).count(snap, {
  includeDeleted: true,
});
console.log(`first use (builds the SystemModstamp index): ${fmt(ms(t0))}`);

for (const [label, s] of [
  ['index', snap],
  ['scan', scan],
] as const) {
  let total = 0;
  let rows = 0;
  const counts: number[] = [];
  for (let w = 0; w < windows; w++) {
    const [lo, hi] = [bounds[w], bounds[w + 1]];
    const soql = `SELECT COUNT() FROM Account WHERE SystemModstamp >= ${lo} AND SystemModstamp < ${hi}`;
    t0 = process.hrtime.bigint();
    const n = planSoql(store, soql).count(s, { includeDeleted: true });
    total += ms(t0);
    rows += n;
    counts.push(n);
  }
  t0 = process.hrtime.bigint();
  const oldest = [
    ...planSoql(store, 'SELECT SystemModstamp FROM Account ORDER BY SystemModstamp ASC LIMIT 1').run(s, {
      includeDeleted: true,
    }),
  ];
  const orderMs = ms(t0);
  t0 = process.hrtime.bigint();
  const live = planSoql(store, 'SELECT COUNT() FROM Account').count(s, { includeDeleted: false });
  const allMs = ms(t0);
  console.log(
    `${label.padEnd(5)}  ${windows} x COUNT() windows: ${fmt(total)} ` +
      `(${fmt(total / windows)} each, ${rows} rows: ${counts.join(' ')})  ` +
      `ORDER BY LIMIT 1: ${fmt(orderMs)} (slot ${oldest[0]}, ${snap.at(oldest[0] ?? -1)?.SystemModstamp})  ` +
      `query COUNT(): ${fmt(allMs)} (${live})`,
  );
}
