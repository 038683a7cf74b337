// `sfsync stream`: every configured object followed at once over one Pub/Sub API channel, each on a session of its own
// that holds the stream's lock and its status row; the first object whose stream cannot go on stops them all.
import type { ObjectOptions } from '../../lib/config.ts';
import { ConfigError, oneLine } from '../../lib/errors.ts';
import { describeObject } from '../../extractors/describe.ts';
import { createPubSubClient } from '../../extractors/pubsub/pubsubClient.ts';
import { createSchemaCache } from '../../extractors/pubsub/schemaCache.ts';
import { changeTopicOf } from '../../extractors/pubsub/topics.ts';
import { withClient } from '../../loaders/postgres.ts';
import { setStreamStatus } from '../../loaders/streamState.ts';
import { withStreamLock } from '../runtime/objectLock.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { followObject } from './followObject.ts';
import { followTopic, platformEventOf } from './followTopic.ts';
import type { StreamContext } from './keepSubscribed.ts';

/** docs/salesforce.md#pubsub-api */
export const DEFAULT_PUBSUB_ENDPOINT = 'api.pubsub.salesforce.com:7443';

export interface StreamOptions {
  /** Platform event topics (`/event/Foo__e`) to follow besides the configured objects. */
  topics?: readonly string[];
  /** Tests shorten the keepalive bound; default subscription.ts DEFAULT_KEEPALIVE_TIMEOUT_MS. */
  keepaliveTimeoutMs?: number;
}

/** One stream to keep: a topic, what the status row calls it, and how to follow it. */
interface Follower {
  topic: string;
  name: string;
  follow(ctx: StreamContext): Promise<void>;
}

/** Returns when the run's signal stops the streams (SIGINT/SIGTERM); throws the error that ended one. */
export async function streamAll(ctx: RunContext, opts: StreamOptions = {}): Promise<void> {
  if (!ctx.tokens) throw new ConfigError('sfsync stream needs a Salesforce session');
  const pubsub = createPubSubClient({
    endpoint: ctx.config.pubsubEndpoint ?? DEFAULT_PUBSUB_ENDPOINT,
    tokens: ctx.tokens,
    extraCaFiles: ctx.config.extraCaFiles ?? [],
  });
  const schemas = createSchemaCache(pubsub);
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  // Topics are case-sensitive: an object's comes from its name as describe spells it, whatever --objects said.
  const objects = await Promise.all(
    ctx.config.objects.map(async (obj: ObjectOptions) => ({
      obj,
      name: (await describeObject(ctx.sf, obj.name)).spec.name,
    })),
  );
  const followers: Follower[] = [
    ...objects.map(({ obj, name }) => ({
      topic: changeTopicOf(name),
      name,
      follow: (c: StreamContext) => followObject(c, obj),
    })),
    ...(opts.topics ?? []).map((topic) => ({
      topic,
      name: platformEventOf(topic) ?? topic,
      follow: (c: StreamContext) => followTopic(c, topic),
    })),
  ];
  const follow = ({ topic, name, follow: run }: Follower) =>
    withClient(ctx.pool, (life) =>
      withStreamLock(life, ctx.config.schema, topic, async () => {
        let error: string | null = null;
        try {
          await run({
            ...ctx,
            signal,
            pubsub,
            schemas,
            keepaliveTimeoutMs: opts.keepaliveTimeoutMs,
            setStatus: (key, object, status, err = null) => setStreamStatus(life, key, object, status, err),
          });
        } catch (err) {
          error = oneLine(err);
          stop.abort(err);
          throw err;
        } finally {
          await setStreamStatus(life, { schema: ctx.config.schema, topic }, name, 'stopped', error).catch(() => {});
        }
      }),
    );
  try {
    if (followers.length === 0) throw new ConfigError('sfsync stream: give --objects, --topics, or both');
    const results = await Promise.allSettled(followers.map(follow));
    // The object that failed first is the one that stopped the others.
    const first = stop.signal.aborted ? stop.signal.reason : results.find((r) => r.status === 'rejected')?.reason;
    if (first !== undefined) throw first;
  } finally {
    pubsub.close();
  }
}
