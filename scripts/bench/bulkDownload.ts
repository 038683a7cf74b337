// `npx tsx scripts/bench/bulkDownload.ts --accounts 1000000 [--parallel 1,3] [--rounds 2] [--maxRecords N]`
// Sequential (the Sforce-Locator walk, docs/salesforce.md#bulk-api-20-query-results) vs parallel (resultPages,
// #bulk-api-20-parallel-results) Bulk result downloads through sfsync's own bulkCsvStream, in one run against one
// emulator child (its own process, so its CPU and memory are its own). One queryAll job of every Bulk-queryable Account
// field; each mode streams it whole, discarding the bytes. Modes alternate over rounds so neither always runs on a warm
// emulator. Prints MB/s, the client's and the emulator's peak RSS per download.
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fetchToken } from '../../extractors/client/auth.ts';
import { bulkCsvStream } from '../../extractors/bulk/csvStream.ts';
import { createQueryJob, deleteJob, waitForJob } from '../../extractors/bulk/queryJob.ts';
import { describeObject } from '../../extractors/describe.ts';
import { createSalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import { buildSelect } from '../../extractors/soql.ts';
import { createTokenProvider } from '../../extractors/client/tokenProvider.ts';
import { createLogger } from '../../lib/log.ts';
import { startEmulator } from './emulatorHost.ts';
import { peakRssMb } from './measureChild.ts';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    parallel: { type: 'string', default: '1,3' },
    rounds: { type: 'string', default: '2' },
    maxRecords: { type: 'string' },
  },
});

const mb = (bytes: number) => bytes / 1_048_576;
const say = (msg: string) => process.stderr.write(`[bench-download] ${msg}\n`);

/** Linux: writing 5 to clear_refs resets VmHWM, so each download's emulator peak is its own (best effort). */
async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => {});
}

async function main(): Promise<void> {
  const log = createLogger({ level: 'warn' });
  const em = await startEmulator(
    { accounts: Number(args.accounts) },
    path.join(tmpdir(), `sfsync-bench-download-${process.pid}.log`),
  );
  try {
    const { info } = em;
    const pid = em.pid;
    const auth = {
      flow: 'jwt' as const,
      clientId: info.clientId,
      username: info.username,
      privateKeyPem: await readFile(info.privateKeyPath, 'utf8'),
    };
    const tokens = createTokenProvider({
      loginUrl: info.loginUrl,
      auth,
      log,
      mint: () => fetchToken({ loginUrl: info.loginUrl, auth, log }),
    });
    const http = createSalesforceHttp({ tokens, apiVersion: '62.0', log });
    const { spec } = await describeObject(http, 'Account');
    const job = await createQueryJob(http, { soql: buildSelect(spec), operation: 'queryAll' });
    await waitForJob(http, job.id);
    say(`job ${job.id}: ${spec.fields.length} fields of ${args.accounts} Accounts ready`);
    const widths = args.parallel.split(',').map(Number);
    const maxRecords = args.maxRecords ? Number(args.maxRecords) : undefined;
    const results = new Map<number, { mbps: number[]; clientPeak: number; emulatorPeak: number }>();
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const width of round % 2 === 0 ? widths : [...widths].reverse()) {
        await resetPeak(pid);
        // The client's own VmHWM too: a sampler would report memory an earlier download left allocated.
        global.gc?.();
        await resetPeak(process.pid);
        const started = performance.now();
        const stream = bulkCsvStream(http, job.id, {
          expectedHeader: spec.fields.map((f) => f.name),
          parallel: width,
          maxRecords,
          gzip: false,
        });
        let bytes = 0;
        for await (const chunk of stream) bytes += (chunk as Buffer).length;
        const secs = (performance.now() - started) / 1000;
        const clientPeak = ((await peakRssMb(process.pid)) ?? Number.NaN) * 1_048_576;
        const emulatorPeak = (await peakRssMb(pid)) ?? Number.NaN;
        const r = results.get(width) ?? { mbps: [], clientPeak: 0, emulatorPeak: 0 };
        r.mbps.push(mb(bytes) / secs);
        r.clientPeak = Math.max(r.clientPeak, mb(clientPeak));
        r.emulatorPeak = Math.max(r.emulatorPeak, emulatorPeak);
        results.set(width, r);
        say(
          `round ${round + 1}, parallel ${width}: ${stream.pages}/${stream.pagesTotal ?? '?'} pages, ` +
            `${stream.records} records, ${mb(bytes).toFixed(1)} MB in ${secs.toFixed(2)} s = ` +
            `${(mb(bytes) / secs).toFixed(1)} MB/s; client peak RSS ${mb(clientPeak).toFixed(0)} MB, ` +
            `emulator peak RSS ${emulatorPeak.toFixed(0)} MB`,
        );
      }
    }
    await deleteJob(http, job.id).catch(() => {});
    console.log(`accounts: ${args.accounts}, page size: ${maxRecords ?? 'server default'}`);
    for (const [width, r] of results) {
      const best = Math.max(...r.mbps);
      const mean = r.mbps.reduce((a, b) => a + b, 0) / r.mbps.length;
      console.log(
        `${width === 1 ? 'sequential (locator walk)' : `parallel ${width} (resultPages)`}: ` +
          `mean ${mean.toFixed(1)} MB/s, best ${best.toFixed(1)} MB/s over ${r.mbps.length} runs; ` +
          `client peak RSS ${r.clientPeak.toFixed(0)} MB, emulator peak RSS ${r.emulatorPeak.toFixed(0)} MB`,
      );
    }
  } finally {
    await em.stop();
  }
}

await main();
