// `sfsync stream`: follow the chosen objects' Change Data Capture events into the tables `sync` keeps, until SIGINT or
// SIGTERM (which end it cleanly: exit 0, the batch in flight committed or rolled back whole).
import { loadConfig, type Env } from '../lib/config.ts';
import { withRunContext } from '../pipelines/runtime/runContext.ts';
import { withKnownObjects } from '../pipelines/runtime/objectNames.ts';
import { ConfigError } from '../lib/errors.ts';
import { platformEventOf } from '../pipelines/stream/followTopic.ts';
import { streamAll } from '../pipelines/stream/streamAll.ts';
import { commandLogger } from './logger.ts';

export interface StreamCliOptions {
  objects?: string;
  topics?: string;
  sandbox?: boolean;
  /** --org: the org of the config file's `orgs` (required when it lists several). */
  org?: string;
}

/** `--topics /event/A__e,/event/B__e`: platform event topics only (change events come through --objects). */
export function parseTopics(text: string | undefined): string[] {
  if (text === undefined) return [];
  const topics = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const bad = topics.filter((t) => !platformEventOf(t));
  if (topics.length === 0 || bad.length > 0)
    throw new ConfigError(
      `--topics: ${bad.length > 0 ? `'${bad.join("', '")}' ${bad.length === 1 ? 'is' : 'are'} not` : 'give'} ` +
        'platform event topics such as /event/Order_Shipped__e (follow objects with --objects)',
    );
  return topics;
}

export async function runStream(opts: StreamCliOptions, env: Env): Promise<void> {
  const topics = parseTopics(opts.topics);
  const loaded = loadConfig(env, { objects: opts.objects, sandbox: opts.sandbox, org: opts.org });
  // --topics alone follows only those topics, not the configured objects.
  const config = topics.length > 0 && !opts.objects ? Object.freeze({ ...loaded, objects: [] }) : loaded;
  const log = commandLogger(config);
  await withRunContext(config, log, async (ctx) => streamAll(await withKnownObjects(ctx), { topics }));
  process.stderr.write('sfsync: stream stopped\n');
}
