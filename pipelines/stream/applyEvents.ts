// A run of decoded change events of one object into its table: one transaction under the object's lock, holding the
// rows every event produced, the records re-read for gap events, and the replay id of the last event
// (docs/salesforce.md#replay-ids): a crash before the commit replays the same events, after it none of them.
import type pg from 'pg';
import { applyChange } from '../../loaders/changeApply.ts';
import { withClient, withTransaction } from '../../loaders/postgres.ts';
import { type StreamKey, saveReplayId } from '../../loaders/streamState.ts';
import type { ObjectSpec } from '../../schemas/records.ts';
import type { DecodedChange } from '../../transforms/changeEvent.ts';
import type { RunContext } from '../runtime/runContext.ts';
import { withObjectLockWaiting } from '../runtime/objectLock.ts';
import { rereadFits, rereadRecords } from './rereadRecords.ts';

export interface StreamedEvent {
  replayId: Buffer;
  change: DecodedChange;
}

export interface Counts {
  events: number;
  rows: number;
  reread: number;
}

/**
 * docs/salesforce.md#change-event-header: GAP_OVERFLOW names no records, and a wildcard id (`001*`) stands for all of
 * them: only a read of the whole object covers such an event.
 */
export function needsSync(change: DecodedChange): boolean {
  return change.changeType === 'GAP_OVERFLOW' || change.recordIds.some((id) => id.endsWith('*'));
}

/**
 * The ids of an event that must be read again from Salesforce rather than applied from the event alone: gap events,
 * fields the event cannot give, deletes (the deleted version's LastModifiedDate and LastModifiedById, which queryAll
 * returns and a sync would load) and undeletes (rare, and an UNDELETE whose LastModifiedDate is older than the cursor
 * the delete's re-read stored does not apply: the row would stay marked deleted).
 */
export function rereadIdsOf(change: DecodedChange): string[] {
  const t = change.changeType;
  if (t.startsWith('GAP_') || t === 'DELETE' || t === 'UNDELETE') return change.recordIds;
  return change.incomplete.length > 0 ? change.recordIds : [];
}

/**
 * Applies `events` (in stream order, none needing a sync) and stores the last one's replay id, in one transaction.
 * Returns false, having written nothing, when records must be re-read but the object is too wide for a read by Id:
 * the caller syncs the object instead.
 */
export async function applyEvents(
  ctx: RunContext,
  spec: ObjectSpec,
  key: StreamKey,
  events: readonly StreamedEvent[],
): Promise<Counts | false> {
  const last = events[events.length - 1];
  if (!last) return { events: 0, rows: 0, reread: 0 };
  const target = {
    schema: ctx.config.schema,
    table: spec.table,
    cursorColumn: spec.cursorField?.toLowerCase() ?? null,
  };
  const run = async (client: pg.ClientBase): Promise<Counts | false> => {
    const reread = new Set<string>();
    let rows = 0;
    for (const { change } of events) {
      for (const id of rereadIdsOf(change)) reread.add(id);
      const applied = await applyChange(client, target, change);
      rows += applied.rows;
      // An UPDATE of a record the table does not have (or has marked deleted) carries too little to make a row of.
      for (const id of applied.absent) reread.add(id);
    }
    let counted = 0;
    if (reread.size > 0) {
      if (!rereadFits(ctx, spec)) return false;
      const newest = new Date(Math.max(...events.map((e) => e.change.commitTimestamp)));
      const r = await rereadRecords(ctx, client, spec, [...reread], newest);
      counted = r.merged + r.deleted;
    }
    await saveReplayId(client, key, spec.name, {
      replayId: last.replayId,
      lastEventAt: new Date(Math.max(...events.map((e) => e.change.commitTimestamp))),
      events: events.length,
    });
    return { events: events.length, rows: rows + counted, reread: reread.size };
  };
  return withClient(ctx.pool, (client) =>
    withObjectLockWaiting(client, ctx.config.schema, spec.name, ctx.signal, () =>
      withTransaction(client, async () => {
        const result = await run(client);
        // Nothing of a batch that cannot be applied whole is kept.
        if (result === false) throw new RollBack();
        return result;
      }).catch((err: unknown): false => {
        if (err instanceof RollBack) return false;
        throw err;
      }),
    ),
  );
}

/** Thrown only to roll back a transaction on purpose. */
class RollBack extends Error {}

/**
 * Stores a keepalive's latest replay id (docs/salesforce.md#pubsub-api-flow-control): a position at or past the last
 * event delivered, with every event up to it committed. It keeps the stored replay id inside the retention window
 * while the object is quiet, where the last event's id would expire (docs/salesforce.md#replay-ids).
 */
export async function keepUp(ctx: RunContext, spec: ObjectSpec, key: StreamKey, latestReplayId: Buffer): Promise<void> {
  await withClient(ctx.pool, (client) =>
    saveReplayId(client, key, spec.name, { replayId: latestReplayId, lastEventAt: null, events: 0 }),
  );
}

/** Stores a replay id alone: the events up to it are covered by a sync that just committed. */
export async function skipTo(ctx: RunContext, spec: ObjectSpec, key: StreamKey, event: StreamedEvent): Promise<void> {
  await withClient(ctx.pool, (client) =>
    withTransaction(client, () =>
      saveReplayId(client, key, spec.name, {
        replayId: event.replayId,
        lastEventAt: new Date(event.change.commitTimestamp),
        events: 1,
      }),
    ),
  );
}
