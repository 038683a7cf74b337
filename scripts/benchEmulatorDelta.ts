// `npx tsx scripts/benchEmulatorDelta.ts [--accounts 1000000] [--edits 10000] [--rounds 3]`
// Times what an incremental sync asks the emulator (bench (d), issue 6) with the org in this process: getDeleted over
// the last minutes, and the delta query (every Account field, `SystemModstamp >= X ORDER BY SystemModstamp, Id`)
// page by page, after `--edits` Accounts changed. Prints per-request figures; asserts nothing.
import { parseArgs } from 'node:util';
import { createEmulator } from '../emulator/index.ts';
import { describeObject } from '../extractors/describe.ts';
import { getDeleted } from '../extractors/getDeleted.ts';
import { firstPage, pagesFrom } from '../extractors/restQuery.ts';
import { buildSelect } from '../extractors/soql.ts';
import { loadConfig } from '../lib/config.ts';
import { silentLogger } from '../lib/log.ts';
import { connectSalesforce } from '../pipelines/salesforce.ts';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    edits: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
  },
});

const ms = (t0: number) => performance.now() - t0;
let t0 = performance.now();
const em = await createEmulator({ accounts: Number(args.accounts), dailyApiLimit: 10_000_000 });
console.log(`org of ${args.accounts} Accounts: ${ms(t0).toFixed(0)} ms`);
try {
  const config = loadConfig({ SF_LOGIN_URL: em.loginUrl, SF_CLIENT_ID: em.clientId, SF_USERNAME: em.username, SF_PRIVATE_KEY_PATH: em.privateKeyPath, LOG_LEVEL: 'silent' });
  const sf = await connectSalesforce(config, silentLogger(), new AbortController().signal);
  const { spec } = await describeObject(sf, 'Account');
  const since = new Date(Date.now() - 1000);
  t0 = performance.now();
  const snap = em.store.snapshot('Account');
  const edits = Math.min(Number(args.edits), snap.size);
  const step = Math.max(1, Math.floor(snap.size / edits));
  for (let i = 0, n = 0; n < edits && i < snap.size; i += step) {
    const rec = snap.at(i);
    if (!rec) continue;
    em.store.update(rec.Id, { Description: `delta bench ${n++}` });
  }
  console.log(`${edits} edits: ${ms(t0).toFixed(0)} ms`);
  const soql = buildSelect(spec, { window: { from: since.toISOString() }, orderByCursor: true });
  for (let round = 1; round <= Number(args.rounds); round++) {
    t0 = performance.now();
    const deleted = await getDeleted(sf, 'Account', new Date(since.getTime() - 10 * 60_000), new Date(Date.now() + 60_000));
    const times = [`getDeleted ${ms(t0).toFixed(0)} ms (${deleted.deleted.length})`];
    t0 = performance.now();
    const first = await firstPage(sf, soql, { all: true });
    times.push(`page 1 ${ms(t0).toFixed(0)} ms`);
    let records = 0;
    let n = 0;
    t0 = performance.now();
    for await (const page of pagesFrom(sf, first)) {
      records += page.records.length;
      if (n++ > 0) times.push(`page ${n} ${ms(t0).toFixed(0)} ms`);
      t0 = performance.now();
    }
    console.log(`round ${round}: ${records} records (totalSize ${first.totalSize}); ${times.join(', ')}`);
  }
} finally {
  await em.close();
}
