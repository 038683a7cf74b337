// Worker thread entry (restCsvPages.ts): REST query pages in as bytes, COPY-ready CSV out. Parsing a page with
// exact numbers and encoding it costs about as much CPU as PostgreSQL's merge of it (scripts/benchIncremental.ts);
// here it runs beside the load's event loop instead of blocking it between the statements of the page before.
import { parentPort, workerData } from 'node:worker_threads';
import { parseQueryPage } from '../extractors/restQuery.ts';
import type { FieldSpec } from '../extractors/types.ts';
import { csvTextOf, ownBuffer } from './csvPage.ts';

export interface PageRequest {
  id: number;
  body: Uint8Array;
  url: string;
}

export type PageReply =
  | { id: number; totalSize: number; done: boolean; nextRecordsUrl?: string; records: number; csv: Uint8Array }
  | { id: number; error: { name: string; message: string } };

const { fields } = workerData as { fields: FieldSpec[] };

parentPort?.on('message', ({ id, body, url }: PageRequest) => {
  let reply: PageReply;
  try {
    const page = parseQueryPage(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'), url);
    const csv = Buffer.from(csvTextOf(page, fields), 'utf8');
    reply = { id, totalSize: page.totalSize, done: page.done, nextRecordsUrl: page.nextRecordsUrl, records: page.records.length, csv };
  } catch (err) {
    reply = { id, error: { name: (err as Error).name, message: (err as Error).message } };
  }
  parentPort!.postMessage(reply, 'csv' in reply ? ownBuffer(reply.csv) : []);
});
