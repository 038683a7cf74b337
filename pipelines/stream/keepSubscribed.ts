// One topic's subscription kept alive until the signal stops it (docs/salesforce.md#pubsub-api-errors): each new stream
// starts after the replay id stored last (docs/salesforce.md#replay-ids), and what ends a stream is looked up in
// lib/errorActions.ts: log in again, subscribe again after a backoff, start afresh when the replay id has expired, or
// give up.
import { InterruptedError, PubSubError, oneLine } from '../../lib/errors.ts';
import { actionFor, callActionFor } from '../../lib/errorActions.ts';
import type { Logger } from '../../lib/log.ts';
import { backoffDelay, sleep } from '../../lib/retry.ts';
import type { PubSubClient } from '../../extractors/pubsub/pubsubClient.ts';
import type { SchemaCache } from '../../extractors/pubsub/schemaCache.ts';
import { type ReplayStart, type Subscription, subscribe } from '../../extractors/pubsub/subscription.ts';
import { withClient } from '../../loaders/postgres.ts';
import { type StreamKey, type StreamStatus, getReplayId } from '../../loaders/streamState.ts';
import type { RunContext } from '../runtime/runContext.ts';

export interface StreamContext extends RunContext {
  pubsub: PubSubClient;
  schemas: SchemaCache;
  /** Silence on a stream longer than this ends it (default: subscription.ts DEFAULT_KEEPALIVE_TIMEOUT_MS). */
  keepaliveTimeoutMs?: number;
  /** Writes the stream's status row (sfsync.stream_state) on the stream's own session. */
  setStatus(key: StreamKey, object: string, status: StreamStatus, error?: string | null): Promise<void>;
}

/** After this many failures in a row with nothing received between them, the stream gives up (lib/errorActions.ts). */
export const MAX_RECONNECTS = 10;
/** A reconnect waits at most 5 minutes. */
const RECONNECT_BACKOFF = { baseMs: 1000, maxMs: 5 * 60_000 };

export interface SubscriptionPlan {
  key: StreamKey;
  /** The object or platform event, for the status row and the log. */
  name: string;
  /** Where a stream starts without a usable replay id. */
  fallback: 'LATEST' | 'EARLIEST';
  /** False when the stored replay id must not be used (its table is gone): start from the fallback. */
  usable?(): Promise<boolean>;
  /**
   * Reads one stream until it fails (by throwing). `fresh`: started from the fallback, not from a stored replay id.
   * `heard` is called on every response, which resets the count of failures in a row.
   */
  consume(sub: Subscription, fresh: boolean, heard: () => void): Promise<void>;
}

/** docs/salesforce.md#pubsub-api-errors: NOT_FOUND is how an object not selected for Change Data Capture shows. */
function withHint(err: unknown, plan: SubscriptionPlan): unknown {
  if (!(err instanceof PubSubError) || err.status !== 'NOT_FOUND') return err;
  const hint = plan.key.topic.startsWith('/data/')
    ? `is ${plan.name} selected for Change Data Capture (Setup → Integrations → Change Data Capture)?`
    : `does the platform event ${plan.name} exist, and may the integration user read it?`;
  return new PubSubError(err.status, err.errorCode, `${plan.key.topic} not found: ${hint} (${err.message})`, {
    cause: err,
  });
}

export async function keepSubscribed(ctx: StreamContext, plan: SubscriptionPlan, log: Logger): Promise<void> {
  let failures = 0;
  let fresh = false;
  while (!ctx.signal.aborted) {
    const stored =
      fresh || (plan.usable && !(await plan.usable()))
        ? null
        : await withClient(ctx.pool, (c) => getReplayId(c, plan.key));
    const start: ReplayStart = stored ? { preset: 'CUSTOM', replayId: stored } : { preset: plan.fallback };
    const session = ctx.tokens ? await ctx.tokens.get() : undefined;
    const sub = subscribe(ctx.pubsub, { topic: plan.key.topic, start, keepaliveTimeoutMs: ctx.keepaliveTimeoutMs });
    log.info({ from: start.preset }, 'stream: subscribed');
    fresh = false;
    try {
      await plan.consume(sub, stored === null, () => {
        failures = 0;
      });
    } catch (err) {
      if (ctx.signal.aborted) break;
      const call = callActionFor(err);
      const action = call ?? actionFor(err);
      log.warn({ err: oneLine(err), action }, 'stream: subscription ended');
      await ctx.setStatus(plan.key, plan.name, 'reconnecting', oneLine(err));
      if (++failures > MAX_RECONNECTS) throw err;
      if (action === 'reauth') {
        // A new session, then a new stream (its metadata is read from the token provider at the call).
        if (session && !(await ctx.tokens?.refresh(session.accessToken))) throw err;
      } else if (action === 'resubscribe-latest') fresh = true;
      else if (action === 'reconnect' || call === 'retry')
        await sleep(backoffDelay(failures - 1, RECONNECT_BACKOFF), ctx.signal).catch(() => {});
      else throw withHint(err, plan);
    } finally {
      sub.close();
    }
  }
  if (ctx.signal.reason instanceof InterruptedError) log.info('stream: stopped');
}
