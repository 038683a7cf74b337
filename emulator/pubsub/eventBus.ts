// The org's event bus: topics of retained events with replay ids, retention, and the schemas events are encoded with
// (docs/salesforce.md#replay-ids, #pubsub-api). Replay ids come from one org-wide counter that always skips ahead, so
// a topic's ids increase but are never contiguous.
import { createHash, randomUUID } from 'node:crypto';

export interface BusEvent {
  readonly replayId: bigint;
  /** ProducerEvent.id: the event's UUID (a platform event's correlation key). */
  readonly id: string;
  readonly schemaId: string;
  readonly payload: Buffer;
  /** Bus clock (ms) when published: retention counts from here. */
  readonly publishedAt: number;
}

export interface EventBus {
  /** Appends events to a topic (ids in order) and wakes its subscribers. */
  publish(topic: string, events: { id?: string; schemaId: string; payload: Buffer }[]): BusEvent[];
  /** Retained events of the topic after `position` (exclusive), oldest first, at most `max`. */
  read(topic: string, position: bigint, max: number): BusEvent[];
  /** Where LATEST starts: every replay id handed out so far is at or below it. */
  tip(): bigint;
  /** Where EARLIEST starts: just before the topic's oldest retained event. */
  floor(topic: string): bigint;
  /**
   * Whether a stored replay id still names a position of the topic: not from the future, and newer than every event
   * retention has purged (an older one means events were lost).
   */
  isValidPosition(topic: string, position: bigint): boolean;
  /** Calls `fn` after each publish to the topic; returns the unsubscribe. */
  onPublish(topic: string, fn: () => void): () => void;
  setRetention(ms: number): void;
  readonly retentionMs: number;
  /** Registers an Avro schema (JSON text) and returns its id: the same text always gets the same id. */
  registerSchema(json: string): string;
  schema(id: string): string | undefined;
}

interface Topic {
  events: BusEvent[];
  /** Replay id of the newest purged event (0 = none purged). */
  purgedUpTo: bigint;
  listeners: Set<() => void>;
}

/** A schema id: 22 url-safe characters, like the ids Salesforce hands out (e.g. `IeRuaY6cbI_HsV8Rv1Mc5g`). */
export function schemaIdOf(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

/** docs/salesforce.md#replay-ids: 8-byte big-endian unsigned integers on the wire. */
export function encodeReplayId(id: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(id);
  return buf;
}

/** undefined unless exactly 8 bytes (anything else is a corrupt replay id). */
export function decodeReplayId(bytes: Uint8Array | undefined): bigint | undefined {
  if (bytes?.length !== 8) return undefined;
  return Buffer.from(bytes).readBigUInt64BE();
}

export function createEventBus(opts: { retentionMs: number; clock?: () => number }): EventBus {
  const clock = opts.clock ?? Date.now;
  let retentionMs = opts.retentionMs;
  const topics = new Map<string, Topic>();
  const schemas = new Map<string, string>();
  // Starts high, as a long-lived org's would; each id skips 2 to 4 ahead (never contiguous).
  let counter = 1_000_000n;
  let step = 0;
  const nextId = () => {
    counter += BigInt(2 + (step++ % 3));
    return counter;
  };

  const topicOf = (name: string): Topic => {
    let t = topics.get(name);
    if (!t) {
      t = { events: [], purgedUpTo: 0n, listeners: new Set() };
      topics.set(name, t);
    }
    return t;
  };
  const purge = (t: Topic) => {
    const oldest = clock() - retentionMs;
    let n = 0;
    while (n < t.events.length && (t.events[n] as BusEvent).publishedAt < oldest) n++;
    if (n === 0) return;
    t.purgedUpTo = (t.events[n - 1] as BusEvent).replayId;
    t.events.splice(0, n);
  };

  return {
    publish(topic, events) {
      const t = topicOf(topic);
      purge(t);
      const at = clock();
      const out = events.map((e) => ({
        replayId: nextId(),
        id: e.id ?? randomUUID(),
        schemaId: e.schemaId,
        payload: e.payload,
        publishedAt: at,
      }));
      t.events.push(...out);
      for (const fn of [...t.listeners]) fn();
      return out;
    },
    read(topic, position, max) {
      const t = topicOf(topic);
      purge(t);
      // Events are kept in replay id order: the first one after `position` by binary search, since a subscriber
      // reads at every publish and a topic may retain hundreds of thousands of events.
      let lo = 0;
      let hi = t.events.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((t.events[mid] as BusEvent).replayId > position) hi = mid;
        else lo = mid + 1;
      }
      return t.events.slice(lo, lo + max);
    },
    tip: () => counter,
    floor(topic) {
      const t = topicOf(topic);
      purge(t);
      return t.purgedUpTo;
    },
    isValidPosition(topic, position) {
      const t = topicOf(topic);
      purge(t);
      return position > t.purgedUpTo && position <= counter;
    },
    onPublish(topic, fn) {
      const t = topicOf(topic);
      t.listeners.add(fn);
      return () => t.listeners.delete(fn);
    },
    setRetention(ms) {
      retentionMs = Math.max(0, ms);
    },
    get retentionMs() {
      return retentionMs;
    },
    registerSchema(json) {
      const id = schemaIdOf(json);
      schemas.set(id, json);
      return id;
    },
    schema: (id) => schemas.get(id),
  };
}
