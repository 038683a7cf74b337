// Following one object's change events (docs/salesforce.md#pubsub-api) until the signal stops it: subscribe from the
// stored replay id, apply what arrives in batches (pipelines/stream/applyEvents.ts), ask for more only after each
// commit, and recover from what the stream cannot give (gap and overflow events, an expired replay id, a dropped
// stream) as lib/errorActions.ts decides.
import type { ObjectOptions } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { describeObject } from '../../extractors/describe.ts';
import { decodePayload } from '../../extractors/pubsub/schemaCache.ts';
import type { Fetched, Subscription } from '../../extractors/pubsub/subscription.ts';
import { changeTopicOf } from '../../extractors/pubsub/topics.ts';
import { existingColumns } from '../../loaders/ddl.ts';
import { withClient } from '../../loaders/postgres.ts';
import type { StreamKey } from '../../loaders/streamState.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import { type ColumnMap, columnMapOf, decodeChange } from '../../transforms/changeEvent.ts';
import { columnOptionsOf, selectColumns } from '../runtime/columnSelection.ts';
import { syncObject } from '../sync/syncObject.ts';
import { applyEvents, keepUp, needsSync, skipTo, type StreamedEvent } from './applyEvents.ts';
import { keepSubscribed, type StreamContext } from './keepSubscribed.ts';

/**
 * A transaction's events can straddle two responses when a response used up what was asked for: the trailing
 * transaction waits this long for the rest before it is applied as it is.
 */
const TRANSACTION_WAIT_MS = 1000;
/** A transaction held back this large is applied in pieces rather than kept in memory. */
const HOLD_CAP = 1000;
/** How long after the connection is up a first request has surely reached the server. */
const SUBSCRIBE_MARGIN_MS = 2000;
/** A keepalive's latest replay id is stored at most this often (a write per keepalive buys nothing). */
const KEEP_UP_EVERY_MS = 60_000;

interface Target {
  obj: ObjectOptions;
  spec: ObjectSpec;
  compoundOf: Map<string, string>;
  key: StreamKey;
}

async function describeTarget(ctx: StreamContext, obj: ObjectOptions): Promise<Target> {
  // The columns sync keeps (config columns: include, exclude, hash), so both write the same table the same way.
  const described = await describeObject(ctx.sf, obj.name);
  const spec = selectColumns(described, columnOptionsOf(ctx, obj.name));
  const raw = described.raw;
  if (obj.where !== null)
    throw new ConfigError(
      `${obj.name}: sfsync stream cannot limit change events to a where filter; follow it with sync or schedule`,
    );
  const compoundOf = new Map(
    raw.filter((f) => typeof f.compoundFieldName === 'string').map((f) => [f.name, f.compoundFieldName as string]),
  );
  return { obj, spec, compoundOf, key: { schema: ctx.config.schema, topic: changeTopicOf(spec.name) } };
}

/** An incremental sync of the object (initial if it never ran), waiting for a `sync` that holds its lock. */
async function syncNow(ctx: StreamContext, target: Target, why: string): Promise<void> {
  ctx.log.info({ object: target.spec.name, why }, 'stream: syncing the object');
  const config = { ...ctx.config, waitForLock: true };
  const summary = await syncObject({ ...ctx, config, sf: ctx.sf.fork(), progress: undefined }, target.obj, {
    fullRefresh: false,
  });
  if (summary.status === 'failed') throw summary.error;
}

/** Decodes the events of a response with their schemas (fetched once per schema id). */
async function decodeAll(ctx: StreamContext, target: Target, fetched: Fetched): Promise<StreamedEvent[]> {
  const out: StreamedEvent[] = [];
  const maps = new Map<string, ColumnMap>();
  for (const e of fetched.events) {
    const schema = await ctx.schemas.get(e.schemaId, ctx.signal);
    let columns = maps.get(schema.id);
    if (!columns) {
      columns = columnMapOf(target.spec, schema.layout, target.compoundOf);
      maps.set(schema.id, columns);
    }
    const record = decodePayload(schema, e, target.key.topic);
    out.push({ replayId: e.replayId, change: decodeChange(record, schema.layout, columns, ctx.config.hashKey) });
  }
  return out;
}

/** Where the tail transaction (the events sharing the last one's transactionKey) starts. */
function tailStart(events: readonly StreamedEvent[]): number {
  const key = events[events.length - 1]?.change.transactionKey;
  let i = events.length;
  while (i > 0 && events[i - 1]!.change.transactionKey === key) i--;
  return i;
}

/** Applies events in stream order: runs without a sync in one transaction each, a sync where an event needs one. */
async function applyInOrder(ctx: StreamContext, target: Target, events: readonly StreamedEvent[]): Promise<void> {
  let from = 0;
  while (from < events.length) {
    let to = from;
    while (to < events.length && !needsSync(events[to]!.change)) to++;
    if (to > from) {
      const run = events.slice(from, to);
      const counts = await applyEvents(ctx, target.spec, target.key, run);
      if (counts === false) {
        // Too wide to read by Id: a sync covers the records instead, then the run is stored as applied.
        await syncNow(ctx, target, 'records to re-read, but the object is too wide for a read by Id');
        await skipTo(ctx, target.spec, target.key, run[run.length - 1]!);
      } else ctx.log.info({ object: target.spec.name, ...counts }, 'stream: events applied');
    }
    if (to < events.length) {
      const overflow = events[to]!;
      // The sync commits before the replay id passes the event: a crash in between syncs again on restart.
      await syncNow(ctx, target, `${overflow.change.changeType} event`);
      await skipTo(ctx, target.spec, target.key, overflow);
      to++;
    }
    from = to;
  }
}

/**
 * One subscription's life: catch up first when there is no usable replay id, then apply responses until the stream
 * fails (thrown) or the signal stops it.
 */
async function consume(ctx: StreamContext, target: Target, sub: Subscription, catchUp: boolean, heard: () => void) {
  if (catchUp) {
    await ctx.setStatus(target.key, target.spec.name, 'catching-up');
    // The sync must read after the server has set the stream's start (LATEST): a change committed between the sync's
    // read and that start would be in neither. The first response proves it; a margin after the connection is up
    // stands in for it (a keepalive may be minutes away).
    // The subscription's own failure (an untrusted certificate, a refused session) ends the wait at once, with the
    // call's detailed error, instead of after the connection wait runs out.
    const decided = new AbortController();
    const signal = AbortSignal.any([ctx.signal, decided.signal]);
    const failed = sub.settle(signal);
    const connected = ctx.pubsub.connected(signal);
    for (const p of [failed, connected]) p.catch(() => {});
    try {
      await Promise.race([connected, failed]);
    } finally {
      decided.abort();
    }
    await sub.settle(ctx.signal, SUBSCRIBE_MARGIN_MS);
    await syncNow(ctx, target, 'no usable replay id: covering the time before the subscription');
  }
  await ctx.setStatus(target.key, target.spec.name, 'connected');
  let held: StreamedEvent[] = [];
  let keptUpAt = Number.NEGATIVE_INFINITY;
  for (;;) {
    const fetched = await sub.next(ctx.signal, held.length > 0 ? TRANSACTION_WAIT_MS : undefined);
    if (fetched) heard();
    const incoming: Fetched[] = fetched ? [fetched] : [];
    for (let more = sub.ready(); more; more = sub.ready()) incoming.push(more);
    let received = 0;
    let events = held;
    for (const f of incoming) {
      received += f.events.length;
      events = events.concat(await decodeAll(ctx, target, f));
    }
    // Everything asked for arrived: the last transaction may go on in the next response, so it waits for it (a
    // wait that ran out, with nothing owed, applies it as it is).
    const owed = incoming.length > 0 ? incoming[incoming.length - 1]!.pending : 1;
    const split = owed === 0 && events.length < HOLD_CAP ? tailStart(events) : events.length;
    held = events.slice(split);
    await applyInOrder(ctx, target, events.slice(0, split));
    // A keepalive last, nothing held back: every event before it is committed, so its latest replay id (at or past
    // them) can be stored. A keepalive followed by events is left alone: those events store their own.
    const last = incoming[incoming.length - 1];
    if (last?.events.length === 0 && held.length === 0 && last.latestReplayId.length > 0) {
      if (Date.now() - keptUpAt >= KEEP_UP_EVERY_MS) {
        keptUpAt = Date.now();
        await keepUp(ctx, target.spec, target.key, last.latestReplayId);
      }
    }
    // Backpressure: as many again as were taken off the stream, once they are committed (or held).
    sub.request(received);
  }
}

/** Follows one object until the signal stops it; throws what lib/errorActions.ts says ends the stream. */
export async function followObject(ctx: StreamContext, obj: ObjectOptions): Promise<void> {
  const target = await describeTarget(ctx, obj);
  const log = ctx.log.child({ object: target.spec.name, topic: target.key.topic });
  // A field added since the table was last synced has no column yet, and the first event naming it would fail the
  // stream on every restart: a sync adds the column (and its values) before the stream resumes.
  const have = await withClient(ctx.pool, (c) => existingColumns(c, ctx.config.schema, target.spec.table));
  if (have.length > 0 && target.spec.fields.some((f) => !have.includes(f.column)))
    await syncNow(ctx, target, 'columns the table does not have yet');
  await keepSubscribed(
    ctx,
    {
      key: target.key,
      name: target.spec.name,
      fallback: 'LATEST',
      // A replay id without its table (dropped since) is no place to resume from: the catch-up sync makes it again.
      usable: async () =>
        (await withClient(ctx.pool, (c) => existingColumns(c, ctx.config.schema, target.spec.table))).length > 0,
      consume: (sub, fresh, heard) => consume(ctx, target, sub, fresh, heard),
    },
    log,
  );
}
