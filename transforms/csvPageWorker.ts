// Worker thread entry (restCsvPages.ts): REST query pages in as bytes, COPY-ready CSV out. Parsing a page with
// exact numbers and encoding it costs about as much CPU as PostgreSQL's merge of it (scripts/bench/incremental.ts);
// here it runs beside the load's event loop instead of blocking it between the statements of the page before.
import { parentPort, workerData } from 'node:worker_threads';
import type { FieldSpec } from '../schemas/records.ts';
import { type EncodedPage, encodePage, ownBuffer } from './csvPage.ts';

export interface PageRequest {
  id: number;
  body: Uint8Array;
  url: string;
}

export type PageReply = ({ id: number } & EncodedPage) | { id: number; error: { name: string; message: string } };

// Only the names are sent (restCsvPages.ts): recordToRow reads no other member.
const { fields } = workerData as { fields: FieldSpec[] };

parentPort?.on('message', ({ id, body, url }: PageRequest) => {
  let reply: PageReply;
  try {
    reply = {
      id,
      ...encodePage(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'), url, fields),
    };
  } catch (err) {
    reply = { id, error: { name: (err as Error).name, message: (err as Error).message } };
  }
  parentPort!.postMessage(reply, 'csv' in reply ? ownBuffer(reply.csv) : []);
});
