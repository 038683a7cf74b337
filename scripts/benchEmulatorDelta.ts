// `npx tsx scripts/benchEmulatorDelta.ts [--accounts 1000000] [--edits 10000] [--rounds 3]`
// Times what an incremental sync asks the emulator (bench (d), issue 6) after `--edits` Accounts changed through the
// admin API: getDeleted over the minutes around the edits, the COUNT() of the window, and the delta query sfsync
// sends (every describe field, `SystemModstamp >= X ORDER BY SystemModstamp, Id`, queryAll) page by page. The figures
// are the emulator's own (`ms` of GET /__admin/log); the client only reads the text, so it costs the server little.
// Prints per-request figures; asserts nothing.
import { parseArgs } from 'node:util';
import { SignJWT, importPKCS8 } from 'jose';
import { buildCount, buildSelect } from '../extractors/soql.ts';
import { specOf } from '../extractors/describe.ts';
import { type Emulator, type RequestLogEntry, createEmulator } from '../emulator/index.ts';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    edits: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
  },
});

const VERSION = '62.0';
const elapsed = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`;

async function login(em: Emulator): Promise<string> {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(em.clientId)
    .setSubject(em.username)
    .setAudience(em.loginUrl)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 180)
    .sign(await importPKCS8(em.privateKeyPem, 'RS256'));
  const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  const res = await fetch(`${em.loginUrl}/services/oauth2/token`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  if (!res.ok) throw new Error(`login failed: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function text(url: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(url, init);
  const body = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${body.slice(0, 300)}`);
  return body;
}

/** `edits` Accounts spread over the org, their Description changed through PATCH /__admin/records/<id>, 32 at a time. */
async function edit(em: Emulator, edits: number): Promise<string[]> {
  const snap = em.store.snapshot('Account');
  const step = Math.max(1, Math.floor(snap.size / edits));
  const ids: string[] = [];
  for (let slot = 0; ids.length < edits && slot < snap.size; slot += step) {
    const rec = snap.at(slot);
    if (rec) ids.push(rec.Id);
  }
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      await text(`${em.url}/__admin/records/${ids[i]}`, { method: 'PATCH', body: JSON.stringify({ Description: `delta bench ${i}` }), headers: { 'Content-Type': 'application/json' } });
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return ids;
}

function label(path: string): string {
  if (path.includes('/deleted/')) return 'getDeleted';
  if (path.includes('COUNT()')) return 'COUNT()';
  if (path.includes('/queryAll?')) return 'page 1';
  const m = /\/query\/01g\w+-(\d+)$/.exec(path);
  return m ? `page @${m[1]}` : path.slice(0, 60);
}

const t0 = performance.now();
const em = await createEmulator({ accounts: Number(args.accounts), dailyApiLimit: 10_000_000 });
console.log(`org of ${args.accounts} Accounts: ${elapsed(t0)}`);
try {
  const token = await login(em);
  const get = (path: string) => text(`${em.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const spec = specOf(JSON.parse(await get(`/services/data/v${VERSION}/sobjects/Account/describe`)));
  const since = new Date(Date.now() - 1000).toISOString();
  let t = performance.now();
  const edited = await edit(em, Number(args.edits));
  console.log(`${args.edits} edits over HTTP: ${elapsed(t)}`);
  const window = { from: since };
  const select = buildSelect(spec, { window, orderByCursor: true });
  const count = buildCount(spec, { window });
  console.log(`query (${select.length} chars): ${select.slice(0, 120)}...`);
  const start = encodeURIComponent(new Date(Date.parse(since) - 10 * 60_000).toISOString());
  const end = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
  for (let round = 1; round <= Number(args.rounds); round++) {
    // Each round starts after a change (one edited Account again), as a sync does: nothing computed for the previous
    // snapshot is reused.
    if (round > 1 && edited[0]) await text(`${em.url}/__admin/records/${edited[0]}`, { method: 'PATCH', body: JSON.stringify({ Description: `round ${round}` }), headers: { 'Content-Type': 'application/json' } });
    await text(`${em.url}/__admin/log`, { method: 'DELETE' });
    t = performance.now();
    await get(`/services/data/v${VERSION}/sobjects/Account/deleted/?start=${start}&end=${end}`);
    await get(`/services/data/v${VERSION}/queryAll?q=${encodeURIComponent(count)}`);
    let page = JSON.parse(await get(`/services/data/v${VERSION}/queryAll?q=${encodeURIComponent(select)}`)) as { totalSize: number; nextRecordsUrl?: string };
    const totalSize = page.totalSize;
    while (page.nextRecordsUrl) page = JSON.parse(await get(page.nextRecordsUrl)) as typeof page;
    const wall = elapsed(t);
    const log = JSON.parse(await text(`${em.url}/__admin/log`)) as RequestLogEntry[];
    const times = log.filter((e) => e.path.startsWith('/services/data/')).map((e) => `${label(e.path)} ${e.ms}`);
    console.log(`round ${round} (totalSize ${totalSize}, wall ${wall}), emulator ms: ${times.join(', ')}`);
  }
} finally {
  await em.close();
}
