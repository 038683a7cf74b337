// The Subscribe stream's flow control and failure reporting, over a stand-in for the gRPC call (the wire itself is
// covered by test/integration/stream.test.ts against the emulator's Pub/Sub server).
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { PubSubError } from '../../lib/errors.ts';
import type { FetchRequest, FetchResponse, PubSubClient, SubscribeCall } from '../../extractors/pubsub/pubsubClient.ts';
import { MAX_REQUESTED, subscribe } from '../../extractors/pubsub/subscription.ts';

class FakeCall extends EventEmitter {
  written: FetchRequest[] = [];
  cancelled = false;
  write(req: FetchRequest) {
    this.written.push(req);
    return true;
  }
  cancel() {
    this.cancelled = true;
  }
}

function fake(): { client: PubSubClient; call: FakeCall } {
  const call = new FakeCall();
  const client: PubSubClient = {
    getSchema: async () => '{}',
    subscribe: () => call as unknown as SubscribeCall,
    connected: async () => {},
    close: () => {},
  };
  return { client, call };
}

const response = (events: number, pending: number): FetchResponse => ({
  events: Array.from({ length: events }, (_, i) => ({
    event: { id: `e${i}`, schema_id: 'S1', payload: Buffer.from([i]) },
    replay_id: Buffer.from([0, 0, 0, 0, 0, 0, 0, i + 1]),
  })),
  latest_replay_id: Buffer.from([0, 0, 0, 0, 0, 0, 0, 9]),
  rpc_id: 'rpc',
  pending_num_requested: pending,
});

const never = new AbortController().signal;

describe('subscribe', () => {
  it('asks for at most 100 events, from a stored replay id, and for more only when told', () => {
    const { client, call } = fake();
    const replayId = Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]);
    const sub = subscribe(client, { topic: '/data/AccountChangeEvent', start: { preset: 'CUSTOM', replayId } });
    expect(call.written).toEqual([
      { topic_name: '/data/AccountChangeEvent', replay_preset: 'CUSTOM', replay_id: replayId, num_requested: 100 },
    ]);
    sub.request(250);
    sub.request(0);
    sub.request(7);
    expect(call.written.slice(1)).toEqual([{ num_requested: MAX_REQUESTED }, { num_requested: 7 }]);
    sub.close();
    expect(call.cancelled).toBe(true);
  });

  it('hands responses over in order, keepalives included; waits no longer than asked', async () => {
    const { client, call } = fake();
    const sub = subscribe(client, { topic: '/event/A__e', start: { preset: 'LATEST' }, initial: 5 });
    expect(call.written[0]).toEqual({ topic_name: '/event/A__e', replay_preset: 'LATEST', num_requested: 5 });
    expect(await sub.next(never, 20)).toBeUndefined();
    call.emit('data', response(2, 3));
    call.emit('data', response(0, 3));
    const first = await sub.next(never);
    expect(first?.events.map((e) => e.replayId[7])).toEqual([1, 2]);
    expect(first?.pending).toBe(3);
    expect(sub.ready()?.events).toEqual([]);
    expect(sub.ready()).toBeUndefined();
    sub.close();
  });

  it('reports a stream that falls silent past the keepalive bound, and cancels it', async () => {
    const { client, call } = fake();
    const sub = subscribe(client, { topic: '/data/X', start: { preset: 'LATEST' }, keepaliveTimeoutMs: 50 });
    const err = await sub.next(never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PubSubError);
    expect((err as PubSubError).status).toBe('KEEPALIVE_TIMEOUT');
    expect(call.cancelled).toBe(true);
  });

  it('reports a failure with its gRPC status and the error-code trailer, after what had already arrived', async () => {
    const { client, call } = fake();
    const sub = subscribe(client, { topic: '/data/X', start: { preset: 'LATEST' } });
    call.emit('data', response(1, 99));
    const metadata = new grpc.Metadata();
    metadata.set('error-code', 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted');
    call.emit(
      'error',
      Object.assign(new Error('3 INVALID_ARGUMENT: bad'), {
        code: grpc.status.INVALID_ARGUMENT,
        details: 'The Replay ID validation failed. rpcId: x',
        metadata,
      }),
    );
    expect((await sub.next(never))?.events).toHaveLength(1);
    const err = (await sub.next(never).catch((e: unknown) => e)) as PubSubError;
    expect(err.status).toBe('INVALID_ARGUMENT');
    expect(err.errorCode).toBe('sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted');
    expect(err.message).toContain('The Replay ID validation failed');
    sub.close();
  });

  it('reports a stream the server ended, and an abort of the wait', async () => {
    const { client, call } = fake();
    const sub = subscribe(client, { topic: '/data/X', start: { preset: 'EARLIEST' } });
    const stop = new AbortController();
    const waiting = sub.next(stop.signal).catch((e: unknown) => e);
    stop.abort(new Error('stopped'));
    expect(((await waiting) as Error).message).toBe('stopped');
    call.emit('end');
    expect(((await sub.next(never).catch((e: unknown) => e)) as PubSubError).status).toBe('STREAM_ENDED');
    sub.close();
  });
});
