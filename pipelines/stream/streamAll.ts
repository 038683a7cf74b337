// `sfsync stream`: every configured object followed at once over one Pub/Sub API channel, each on a session of its own
// that holds the stream's lock and its status row; the first object whose stream cannot go on stops them all.
import type { ObjectOptions } from '../../lib/config.ts';
import { ConfigError, oneLine } from '../../lib/errors.ts';
import { createPubSubClient } from '../../extractors/pubsub/pubsubClient.ts';
import { createSchemaCache } from '../../extractors/pubsub/schemaCache.ts';
import { changeTopicOf } from '../../extractors/pubsub/topics.ts';
import { withClient } from '../../loaders/postgres.ts';
import { setStreamStatus } from '../../loaders/streamState.ts';
import { withStreamLock } from '../runtime/objectLock.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { followObject } from './followObject.ts';

/** docs/salesforce.md#pubsub-api */
export const DEFAULT_PUBSUB_ENDPOINT = 'api.pubsub.salesforce.com:7443';

export interface StreamOptions {
  /** Tests shorten the keepalive bound; default subscription.ts DEFAULT_KEEPALIVE_TIMEOUT_MS. */
  keepaliveTimeoutMs?: number;
}

/** Returns when the run's signal stops the streams (SIGINT/SIGTERM); throws the error that ended one. */
export async function streamAll(ctx: RunContext, opts: StreamOptions = {}): Promise<void> {
  if (!ctx.tokens) throw new ConfigError('sfsync stream needs a Salesforce session');
  const pubsub = createPubSubClient({
    endpoint: ctx.config.pubsubEndpoint ?? DEFAULT_PUBSUB_ENDPOINT,
    tokens: ctx.tokens,
  });
  const schemas = createSchemaCache(pubsub);
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  const follow = (obj: ObjectOptions) => {
    const topic = changeTopicOf(obj.name);
    return withClient(ctx.pool, (life) =>
      withStreamLock(life, ctx.config.schema, topic, async () => {
        let error: string | null = null;
        try {
          await followObject(
            {
              ...ctx,
              signal,
              pubsub,
              schemas,
              keepaliveTimeoutMs: opts.keepaliveTimeoutMs,
              setStatus: (key, object, status, err = null) => setStreamStatus(life, key, object, status, err),
            },
            obj,
          );
        } catch (err) {
          error = oneLine(err);
          stop.abort(err);
          throw err;
        } finally {
          await setStreamStatus(life, { schema: ctx.config.schema, topic }, obj.name, 'stopped', error).catch(() => {});
        }
      }),
    );
  };
  try {
    const results = await Promise.allSettled(ctx.config.objects.map(follow));
    // The object that failed first is the one that stopped the others.
    const first = stop.signal.aborted ? stop.signal.reason : results.find((r) => r.status === 'rejected')?.reason;
    if (first !== undefined) throw first;
  } finally {
    pubsub.close();
  }
}
