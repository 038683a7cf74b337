// `npx tsx scripts/bench/emulatorDelta.ts [--accounts 1000000] [--edits 10000] [--rounds 5] [--in-process]`
// Times what an incremental sync asks the emulator (bench (d) of scripts/bench/main.ts) after `--edits` Accounts
// changed through the admin API: getDeleted over the minutes around the edits, the COUNT() of the window, and the delta
// query sfsync sends (every describe field, `SystemModstamp >= X ORDER BY SystemModstamp, Id`, queryAll) page by page.
// The figures are the emulator's own (`ms` of GET /__admin/log). The emulator runs in its own process, as in bench (d),
// so reading the pages here costs it nothing; `--in-process` keeps it in this one, for `node --import tsx --cpu-prof`.
// Prints per-request figures; asserts nothing.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT, importPKCS8 } from 'jose';
import { makeId } from '../../emulator/ids.ts';
import { createEmulator } from '../../emulator/index.ts';
import { specOf } from '../../extractors/describe.ts';
import { buildCount, buildSelect } from '../../extractors/soql.ts';
import { startEmulator } from './emulatorHost.ts';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    edits: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
    'in-process': { type: 'boolean', default: false },
  },
});

const VERSION = '62.0';
const elapsed = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`;

interface Org {
  url: string;
  loginUrl: string;
  clientId: string;
  username: string;
  privateKeyPath: string;
  stop(): Promise<void>;
}

async function startOrg(accounts: number): Promise<Org> {
  if (args['in-process']) {
    const em = await createEmulator({ accounts, dailyApiLimit: 10_000_000 });
    return { ...em, stop: () => em.close() };
  }
  const host = await startEmulator({ accounts }, path.join(tmpdir(), `benchEmulatorDelta-${process.pid}.log`));
  return { ...host.info, stop: () => host.stop() };
}

async function login(org: Org): Promise<string> {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(org.clientId)
    .setSubject(org.username)
    .setAudience(org.loginUrl)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 180)
    .sign(await importPKCS8(await readFile(org.privateKeyPath, 'utf8'), 'RS256'));
  const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  const res = await fetch(`${org.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  if (!res.ok) throw new Error(`login failed: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function text(url: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(url, init);
  const body = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url.slice(0, 200)}: ${res.status} ${body.slice(0, 300)}`);
  return body;
}

const patch = (org: Org, id: string, values: Record<string, string>) =>
  text(`${org.url}/__admin/records/${id}`, {
    method: 'PATCH',
    body: JSON.stringify(values),
    headers: { 'Content-Type': 'application/json' },
  });

/** `edits` Accounts spread evenly over the org, their Description changed through the admin API, 32 at a time. */
async function edit(org: Org, edits: number): Promise<string[]> {
  const step = Math.max(1, Math.floor(Number(args.accounts) / edits));
  // Generated Account ids follow their slot number (emulator/ids.ts): no need to page through a million to pick some.
  const ids = Array.from({ length: Math.min(edits, Number(args.accounts)) }, (_, i) => makeId('001', i * step));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length; i = next++) await patch(org, ids[i]!, { Description: `delta bench ${i}` });
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return ids;
}

function label(p: string): string {
  if (p.includes('/deleted/')) return 'getDeleted';
  if (p.includes('COUNT()')) return 'COUNT()';
  if (p.includes('/queryAll?')) return 'page 1';
  const m = /\/query\/01g\w+-(\d+)$/.exec(p);
  return m ? `page @${m[1]}` : p.slice(0, 60);
}

let t = performance.now();
const org = await startOrg(Number(args.accounts));
console.log(
  `org of ${args.accounts} Accounts (${args['in-process'] ? 'in this process' : 'own process'}): ${elapsed(t)}`,
);
try {
  const token = await login(org);
  const get = (p: string) => text(`${org.url}${p}`, { headers: { Authorization: `Bearer ${token}` } });
  const spec = specOf(JSON.parse(await get(`/services/data/v${VERSION}/sobjects/Account/describe`)));
  // The initial load before a delta sizes its windows with COUNT(), which builds the SystemModstamp index.
  t = performance.now();
  const everything = buildCount(spec, { window: { from: new Date(Date.now() - 4 * 365 * 86_400_000).toISOString() } });
  await get(`/services/data/v${VERSION}/queryAll?q=${encodeURIComponent(everything)}`);
  console.log(`first window COUNT() (builds the cursor index, as the initial load did): ${elapsed(t)}`);
  const since = new Date(Date.now() - 1000).toISOString();
  t = performance.now();
  const edited = await edit(org, Number(args.edits));
  console.log(`${args.edits} edits over HTTP: ${elapsed(t)}`);
  const window = { from: since };
  const select = buildSelect(spec, { window, orderByCursor: true });
  const count = buildCount(spec, { window });
  console.log(`query (${select.length} chars): ${select.slice(0, 100)}...`);
  const start = encodeURIComponent(new Date(Date.parse(since) - 10 * 60_000).toISOString());
  for (let round = 1; round <= Number(args.rounds); round++) {
    // Each round follows a change (an edited Account edited again), as a sync does: no snapshot is reused.
    if (round > 1) await patch(org, edited[round % edited.length]!, { Description: `round ${round}` });
    await text(`${org.url}/__admin/log`, { method: 'DELETE' });
    t = performance.now();
    const end = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    await get(`/services/data/v${VERSION}/sobjects/Account/deleted/?start=${start}&end=${end}`);
    await get(`/services/data/v${VERSION}/queryAll?q=${encodeURIComponent(count)}`);
    let page = JSON.parse(await get(`/services/data/v${VERSION}/queryAll?q=${encodeURIComponent(select)}`)) as {
      totalSize: number;
      nextRecordsUrl?: string;
    };
    const totalSize = page.totalSize;
    while (page.nextRecordsUrl) page = JSON.parse(await get(page.nextRecordsUrl)) as typeof page;
    const wall = elapsed(t);
    const log = JSON.parse(await text(`${org.url}/__admin/log`)) as { path: string; ms: number }[];
    const times = log.filter((e) => e.path.startsWith('/services/data/')).map((e) => `${label(e.path)} ${e.ms}`);
    console.log(`round ${round} (totalSize ${totalSize}, wall ${wall}), emulator ms: ${times.join(', ')}`);
  }
} finally {
  await org.stop();
}
