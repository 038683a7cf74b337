// `sfsync stream`: follow the chosen objects' Change Data Capture events into the tables `sync` keeps, until SIGINT or
// SIGTERM (which end it cleanly: exit 0, the batch in flight committed or rolled back whole).
import { loadConfig, type Env } from '../lib/config.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { withKnownObjects } from '../pipelines/runtime/objectNames.ts';
import { streamAll } from '../pipelines/stream/streamAll.ts';
import { commandLogger } from './logger.ts';

export interface StreamCliOptions {
  objects?: string;
  sandbox?: boolean;
}

export async function runStream(opts: StreamCliOptions, env: Env): Promise<void> {
  const config = loadConfig(env, { objects: opts.objects, sandbox: opts.sandbox });
  const log = commandLogger(config);
  await withRunContext(config, log, async (ctx) => streamAll(await withKnownObjects(ctx)));
  process.stderr.write('sfsync: stream stopped\n');
}
