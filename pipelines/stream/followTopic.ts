// Following a platform event topic (`/event/Foo__e`, docs/salesforce.md#pubsub-api) into a table of its own: each
// response's events stored with the topic's replay id in one transaction. There is nothing to re-read a lost event
// from, so without a usable replay id a stream starts at the earliest event still retained.
import { decodePayload } from '../../extractors/pubsub/schemaCache.ts';
import type { Fetched, Subscription } from '../../extractors/pubsub/subscription.ts';
import { ensureEventTable, insertEvents } from '../../loaders/eventTable.ts';
import { withClient, withTransaction } from '../../loaders/postgres.ts';
import { type StreamKey, saveReplayId } from '../../loaders/streamState.ts';
import { tableNameOf } from '../../schemas/pgNames.ts';
import { type EventColumn, eventColumnsOf, eventValues, publishedAt } from '../../transforms/platformEvent.ts';
import { keepSubscribed, type StreamContext } from './keepSubscribed.ts';

/** `/event/Foo__e` -> `Foo__e`; anything else is not a platform event topic. */
export function platformEventOf(topic: string): string | undefined {
  return /^\/event\/([A-Za-z][A-Za-z0-9_]*__e)$/.exec(topic)?.[1];
}

async function store(ctx: StreamContext, key: StreamKey, name: string, fetched: Fetched, seen: Set<string>) {
  const table = tableNameOf(name);
  const rows: { replayId: Buffer; publishedAt: Date | null; values: (string | null)[] }[] = [];
  let columns: EventColumn[] | undefined;
  for (const e of fetched.events) {
    const schema = await ctx.schemas.get(e.schemaId, ctx.signal);
    const cols = eventColumnsOf(schema.fields);
    if (!seen.has(schema.id)) {
      // A schema not met before may bring fields: the table gets their columns first.
      await withClient(ctx.pool, (c) => ensureEventTable(c, ctx.config.schema, table, cols));
      seen.add(schema.id);
    }
    if (columns && columns.map((c) => c.column).join() !== cols.map((c) => c.column).join()) {
      await flush(ctx, key, name, table, columns, rows.splice(0));
    }
    columns = cols;
    const record = decodePayload(schema, e, key.topic);
    rows.push({ replayId: e.replayId, publishedAt: publishedAt(record), values: eventValues(record, cols) });
  }
  if (columns) await flush(ctx, key, name, table, columns, rows);
}

/** One transaction: the events and the replay id of the last. */
async function flush(
  ctx: StreamContext,
  key: StreamKey,
  name: string,
  table: string,
  columns: readonly EventColumn[],
  rows: { replayId: Buffer; publishedAt: Date | null; values: (string | null)[] }[],
) {
  const last = rows[rows.length - 1];
  if (!last) return;
  const newest = Math.max(...rows.map((r) => r.publishedAt?.getTime() ?? 0));
  await withClient(ctx.pool, (client) =>
    withTransaction(client, async () => {
      const inserted = await insertEvents(client, ctx.config.schema, table, columns, rows);
      await saveReplayId(client, key, name, {
        replayId: last.replayId,
        lastEventAt: new Date(newest || Date.now()),
        events: rows.length,
      });
      ctx.log.info({ topic: key.topic, events: rows.length, inserted }, 'stream: platform events stored');
    }),
  );
}

async function consume(ctx: StreamContext, key: StreamKey, name: string, sub: Subscription, heard: () => void) {
  await ctx.setStatus(key, name, 'connected');
  const seen = new Set<string>();
  for (;;) {
    const fetched = (await sub.next(ctx.signal))!;
    heard();
    if (fetched.events.length === 0) continue;
    await store(ctx, key, name, fetched, seen);
    // Backpressure: as many again as were stored.
    sub.request(fetched.events.length);
  }
}

/** Follows one platform event topic until the signal stops it; throws what ends the stream. */
export async function followTopic(ctx: StreamContext, topic: string): Promise<void> {
  const name = platformEventOf(topic);
  if (!name) throw new Error(`${topic} is not a platform event topic`);
  const key = { schema: ctx.config.schema, topic };
  await keepSubscribed(
    ctx,
    { key, name, fallback: 'EARLIEST', consume: (sub, _fresh, heard) => consume(ctx, key, name, sub, heard) },
    ctx.log.child({ topic }),
  );
}
