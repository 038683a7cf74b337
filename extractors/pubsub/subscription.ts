// One Subscribe stream (docs/salesforce.md#pubsub-api-flow-control): the first FetchRequest names the topic and where
// to start; afterwards events come only as far as they are asked for, and the caller asks for more only once it has
// committed what it got (backpressure). A stream silent past the keepalive bound is cancelled and reported.
import { PubSubError } from '../../lib/errors.ts';
import { type FetchResponse, type PubSubClient, type SubscribeCall, pubSubErrorOf } from './pubsubClient.ts';

/** docs/salesforce.md#pubsub-api-flow-control: at most 100 events owed, across all FetchRequests. */
export const MAX_REQUESTED = 100;

/** The server sends a keepalive within 270 s; silence past this means the stream is dead. */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 300_000;

export type ReplayStart = { preset: 'LATEST' } | { preset: 'EARLIEST' } | { preset: 'CUSTOM'; replayId: Buffer };

export interface ReceivedEvent {
  replayId: Buffer;
  schemaId: string;
  payload: Buffer;
}

/** One FetchResponse: events, or none (a keepalive). */
export interface Fetched {
  events: ReceivedEvent[];
  latestReplayId: Buffer;
  /** What the server still owes of the requests so far. */
  pending: number;
}

export interface Subscription {
  readonly topic: string;
  /**
   * The next response; undefined when `waitMs` passed first (nothing is consumed then). Throws PubSubError when the
   * stream fails, ends or falls silent.
   */
  next(signal: AbortSignal, waitMs?: number): Promise<Fetched | undefined>;
  /** A response that has already arrived, without waiting; undefined if none. */
  ready(): Fetched | undefined;
  /**
   * Waits until a response has arrived (left for next) or `waitMs` passed: proof, or a safe margin, that the server
   * has set the subscription's start. Without `waitMs`, until a response arrives; throws when the call fails.
   */
  settle(signal: AbortSignal, waitMs?: number): Promise<void>;
  /** Asks for `n` more events (capped at MAX_REQUESTED). */
  request(n: number): void;
  close(): void;
}

export interface SubscribeOptions {
  topic: string;
  start: ReplayStart;
  /** Events asked for in the first request; default MAX_REQUESTED. */
  initial?: number;
  keepaliveTimeoutMs?: number;
}

function fetchedOf(res: FetchResponse): Fetched {
  return {
    events: (res.events ?? []).map((e) => ({
      replayId: e.replay_id,
      schemaId: e.event.schema_id,
      payload: e.event.payload,
    })),
    latestReplayId: res.latest_replay_id,
    pending: res.pending_num_requested ?? 0,
  };
}

export function subscribe(client: PubSubClient, opts: SubscribeOptions): Subscription {
  const call: SubscribeCall = client.subscribe();
  const queue: Fetched[] = [];
  let failure: PubSubError | undefined;
  // Everyone waiting (next, settle): more than one may wait at once.
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const w of [...wakers]) w();
  };
  const timeoutMs = opts.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const fail = (err: PubSubError) => {
    failure ??= err;
    clearTimeout(timer);
    wake();
  };
  const armTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      fail(new PubSubError('KEEPALIVE_TIMEOUT', undefined, `${opts.topic}: nothing received for ${timeoutMs} ms`));
      call.cancel();
    }, timeoutMs);
    timer.unref();
  };
  call.on('data', (res: FetchResponse) => {
    armTimer();
    queue.push(fetchedOf(res));
    wake();
  });
  call.on('error', (err) => fail(pubSubErrorOf(err, `Subscribe ${opts.topic}`)));
  call.on('end', () =>
    fail(new PubSubError('STREAM_ENDED', undefined, `Subscribe ${opts.topic}: the server ended it`)),
  );
  const start = opts.start;
  call.write({
    topic_name: opts.topic,
    replay_preset: start.preset,
    ...(start.preset === 'CUSTOM' && { replay_id: start.replayId }),
    num_requested: Math.min(opts.initial ?? MAX_REQUESTED, MAX_REQUESTED),
  });
  armTimer();
  /** True once a response is queued; false when `waitMs` passed first. */
  const wait = async (signal: AbortSignal, waitMs: number | undefined): Promise<boolean> => {
    const deadline = waitMs === undefined ? undefined : Date.now() + waitMs;
    for (;;) {
      if (queue.length > 0) return true;
      if (failure) throw failure;
      signal.throwIfAborted();
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) return false;
      await new Promise<void>((resolve) => {
        const clock = left === undefined ? undefined : setTimeout(() => done(), left);
        const done = () => {
          clearTimeout(clock);
          wakers.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        wakers.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  };
  return {
    topic: opts.topic,
    async next(signal, waitMs) {
      return (await wait(signal, waitMs)) ? queue.shift() : undefined;
    },
    async settle(signal, waitMs) {
      await wait(signal, waitMs);
    },
    ready: () => queue.shift(),
    request(n) {
      if (failure || n <= 0) return;
      call.write({ num_requested: Math.min(n, MAX_REQUESTED) });
    },
    close() {
      clearTimeout(timer);
      failure ??= new PubSubError('CANCELLED', undefined, `Subscribe ${opts.topic}: closed`);
      call.cancel();
      call.removeAllListeners('data');
      // A cancelled call still emits its CANCELLED error: nobody listens for it any more.
      call.on('error', () => {});
    },
  };
}
