// `npm run bench:emulator -- --accounts 1000000 [--maxRecords 50000] [--gzip]`
// Starts the emulator in a child process (so its RSS is measured alone), then drives a Bulk API 2.0 queryAll of every
// Bulk-queryable Account field over HTTP, discarding the bytes, and prints startup time, RSS, MB/s and peak RSS.
// Targets: startup RSS < 400 MB, result streaming >= 60 MB/s.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SignJWT, importPKCS8 } from 'jose';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    maxRecords: { type: 'string' },
    gzip: { type: 'boolean', default: false },
    serve: { type: 'boolean', default: false },
  },
});

interface Ready {
  url: string;
  loginUrl: string;
  clientId: string;
  username: string;
  privateKeyPath: string;
  startupMs: number;
  rssMb: number;
}

const mb = (bytes: number) => bytes / 1_048_576;

/** Child mode: run the emulator, report readiness, answer `peak` with the peak RSS seen. */
async function serve(): Promise<void> {
  const { createEmulator } = await import('../../emulator/index.ts');
  const t0 = performance.now();
  const em = await createEmulator({ accounts: Number(args.accounts), bulkLatencyMs: 500, bulkMsPerRecord: 0.001 });
  const startupMs = performance.now() - t0;
  let peak = process.memoryUsage.rss();
  setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50).unref();
  const ready: Ready = {
    url: em.url,
    loginUrl: em.loginUrl,
    clientId: em.clientId,
    username: em.username,
    privateKeyPath: em.privateKeyPath,
    startupMs,
    rssMb: mb(process.memoryUsage.rss()),
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'peak')
      process.stdout.write(`${JSON.stringify({ peakRssMb: mb(Math.max(peak, process.memoryUsage.rss())) })}\n`);
  }
  await em.close();
}

const agent = new Agent({ keepAlive: true });

function call(
  url: string,
  opts: { method?: string; token?: string; body?: string; form?: boolean; gzip?: boolean } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; bytes: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body) headers['Content-Type'] = opts.form ? 'application/x-www-form-urlencoded' : 'application/json';
    if (opts.gzip) headers['Accept-Encoding'] = 'gzip';
    const req = request(url, { method: opts.method ?? 'GET', headers, agent }, (res) => {
      const keep = !String(res.headers['content-type']).startsWith('text/csv');
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keep) chunks.push(c);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function main(): Promise<void> {
  const spawned = performance.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, '--serve', '--accounts', String(args.accounts)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>() => JSON.parse(String((await lines.next()).value)) as T;
  try {
    const ready = await next<Ready>();
    const childReadyMs = performance.now() - spawned;
    console.log(`accounts: ${args.accounts}`);
    console.log(
      `startup: ${(ready.startupMs / 1000).toFixed(2)} s (createEmulator), ` +
        `${(childReadyMs / 1000).toFixed(2)} s including process start`,
    );
    console.log(`emulator RSS after start: ${ready.rssMb.toFixed(0)} MB`);

    const key = await importPKCS8(await readFile(ready.privateKeyPath, 'utf8'), 'RS256');
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ready.clientId)
      .setSubject(ready.username)
      .setAudience(ready.loginUrl)
      .setExpirationTime('3m')
      .sign(key);
    const tokenRes = await call(`${ready.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      form: true,
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: jwt,
      }).toString(),
    });
    const { access_token: token, instance_url: base } = JSON.parse(tokenRes.body.toString()) as {
      access_token: string;
      instance_url: string;
    };
    const v = `${base}/services/data/v62.0`;

    const describe = JSON.parse((await call(`${v}/sobjects/Account/describe`, { token })).body.toString()) as {
      fields: { name: string; type: string }[];
    };
    const fields = describe.fields
      .filter((f) => f.type !== 'address' && f.type !== 'location' && f.type !== 'base64')
      .map((f) => f.name);
    const created = await call(`${v}/jobs/query`, {
      method: 'POST',
      token,
      body: JSON.stringify({ operation: 'queryAll', query: `SELECT ${fields.join(', ')} FROM Account` }),
    });
    const job = JSON.parse(created.body.toString()) as { id: string };
    const jobStart = performance.now();
    let info: { state: string; numberRecordsProcessed?: number };
    do {
      await new Promise((r) => setTimeout(r, 200));
      info = JSON.parse((await call(`${v}/jobs/query/${job.id}`, { token })).body.toString());
    } while (info.state === 'UploadComplete' || info.state === 'InProgress');
    if (info.state !== 'JobComplete') throw new Error(`job ended ${info.state}`);
    console.log(
      `job: ${fields.length} fields, ${info.numberRecordsProcessed} records, ` +
        `ready after ${((performance.now() - jobStart) / 1000).toFixed(2)} s`,
    );

    const t0 = performance.now();
    let bytes = 0;
    let pages = 0;
    let locator = '';
    for (;;) {
      const q = new URLSearchParams();
      if (locator) q.set('locator', locator);
      if (args.maxRecords) q.set('maxRecords', args.maxRecords);
      const page = await call(`${v}/jobs/query/${job.id}/results?${q}`, { token, gzip: args.gzip });
      if (page.status !== 200) throw new Error(`results page ${pages} -> HTTP ${page.status}`);
      bytes += page.bytes;
      pages++;
      locator = String(page.headers['sforce-locator'] ?? 'null');
      if (locator === 'null') break;
    }
    const secs = (performance.now() - t0) / 1000;
    child.stdin.write('peak\n');
    const { peakRssMb } = await next<{ peakRssMb: number }>();
    console.log(
      `results: ${pages} pages, ${mb(bytes).toFixed(1)} MB${args.gzip ? ' (gzip on the wire)' : ''} ` +
        `in ${secs.toFixed(2)} s = ${(mb(bytes) / secs).toFixed(1)} MB/s`,
    );
    console.log(`emulator peak RSS: ${peakRssMb.toFixed(0)} MB`);
  } finally {
    child.kill('SIGTERM');
    agent.destroy();
  }
}

await (args.serve ? serve() : main());
