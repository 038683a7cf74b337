// Worker thread bootstrap for running from the TypeScript sources (tests, or bin/sfsync.js without a current
// bundle): registers tsx in this thread, then loads the worker entry named in workerData.entry. The bundle's
// workers (dist/*.js) start without it.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);
