// The Pub/Sub API over gRPC with TLS (docs/salesforce.md#pubsub-api): GetTopic, GetSchema, Subscribe with pull flow
// control and keepalives (#pubsub-api-flow-control), replay presets (#replay-ids), Publish for platform events, and
// Salesforce's errors (#pubsub-api-errors). The service definition is Salesforce's own pubsub_api.proto, as shipped
// in the salesforce-pubsub-api-client package.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ChangeCapture } from './changeEvents.ts';
import { type BusEvent, type EventBus, decodeReplayId, encodeReplayId } from './eventBus.ts';
import type { PlatformEvents } from './platformEvents.ts';
import type { TlsIdentity } from './tls.ts';

export interface PubSubServerDeps {
  bus: EventBus;
  capture: ChangeCapture;
  platform: PlatformEvents;
  tls: TlsIdentity;
  orgId: string;
  instanceUrl: () => string;
  /** The user of a live session for this access token (count false: a re-check that spends nothing). */
  authenticate(token: string, count: boolean): { userId: string } | undefined;
  keepaliveMs: () => number;
  /** How long a stream owed no events waits for a FetchRequest before it closes. */
  refetchTimeoutMs: () => number;
}

export interface PubSubServer {
  /** Host part of the endpoint (`localhost` for 127.0.0.1). */
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Most events a stream may be owed, across all its FetchRequests (docs/salesforce.md#pubsub-api-flow-control). */
const MAX_PENDING = 100;

const ERR = {
  auth: 'sfdc.platform.eventbus.grpc.service.auth.error',
  replayCorrupted: 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted',
  replayMissing: 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed',
  requested: 'sfdc.platform.eventbus.grpc.subscription.fetch.requested.events.invalid',
  topic: 'sfdc.platform.eventbus.grpc.topic.notfound',
  schema: 'sfdc.platform.eventbus.grpc.schema.notfound',
} as const;

interface FetchRequest {
  topicName: string;
  replayPreset: 'LATEST' | 'EARLIEST' | 'CUSTOM';
  replayId: Buffer;
  numRequested: number;
}

interface GrpcError {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

/** An error as Salesforce sends it: the rpcId after the message, the cause in the `error-code` trailer. */
function failure(code: grpc.status, errorCode: string, message: string, rpcId: string): GrpcError {
  const metadata = new grpc.Metadata();
  metadata.set('error-code', errorCode);
  metadata.set('rpc-id', rpcId);
  return { code, details: `${message} rpcId: ${rpcId}`, metadata };
}

const authFailure = (rpcId: string) =>
  failure(
    grpc.status.UNAUTHENTICATED,
    ERR.auth,
    'An authentication exception occurred. Provide valid authentication via metadata headers.',
    rpcId,
  );

function loadService(): grpc.ServiceDefinition {
  const require = createRequire(import.meta.url);
  // The package exports only its client module; the proto sits next to its dist/ folder.
  const proto = join(dirname(require.resolve('salesforce-pubsub-api-client')), '..', 'pubsub_api.proto');
  const def = protoLoader.loadSync(proto, { keepCase: false, enums: String, defaults: true, longs: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    eventbus: { v1: { PubSub: { service: grpc.ServiceDefinition } } };
  };
  return pkg.eventbus.v1.PubSub.service;
}

function consumerEvent(e: BusEvent) {
  return {
    event: { id: e.id, schemaId: e.schemaId, payload: e.payload, headers: [] },
    replayId: encodeReplayId(e.replayId),
  };
}

export async function startPubSubServer(deps: PubSubServerDeps, host: string, port: number): Promise<PubSubServer> {
  const first = (md: grpc.Metadata, key: string) => {
    const v = md.get(key)[0];
    return v === undefined ? '' : String(v);
  };
  const hostOf = (url: string) => {
    try {
      return new URL(url).host.toLowerCase();
    } catch {
      return undefined;
    }
  };
  /**
   * docs/salesforce.md#pubsub-api: token, instance URL and org id must all name this org's live session. Only the
   * instance URL's host counts: real ones are all https, the emulator's http, and clients may insist on https.
   */
  const userOf = (md: grpc.Metadata, count: boolean) => {
    const tenant = first(md, 'tenantid');
    if (tenant.slice(0, 15) !== deps.orgId.slice(0, 15) || (tenant.length !== 15 && tenant.length !== 18)) return;
    if (hostOf(first(md, 'instanceurl')) !== hostOf(deps.instanceUrl())) return;
    return deps.authenticate(first(md, 'accesstoken'), count);
  };
  const topicNotFound = (topic: string, rpcId: string) =>
    failure(
      grpc.status.NOT_FOUND,
      ERR.topic,
      `The topic information for org ${deps.orgId} and topic ${topic} not found. ` +
        'Ensure the topic name is correct and that the topic exists.',
      rpcId,
    );
  /** Schema id and publishability of a topic this org serves, else undefined. */
  const topicInfo = (topic: string) => {
    const change = deps.capture.topicSchema(topic);
    if (change) return { schemaId: change.schemaId, canPublish: false };
    const platform = deps.platform.byTopic(topic);
    return platform && { schemaId: platform.schemaId, canPublish: true };
  };

  const getTopic: grpc.handleUnaryCall<{ topicName: string }, unknown> = (call, callback) => {
    const rpcId = randomUUID();
    if (!userOf(call.metadata, true)) return callback(authFailure(rpcId));
    const info = topicInfo(call.request.topicName);
    if (!info) return callback(topicNotFound(call.request.topicName, rpcId));
    callback(null, {
      topicName: call.request.topicName,
      tenantGuid: deps.orgId,
      canPublish: info.canPublish,
      canSubscribe: true,
      schemaId: info.schemaId,
      rpcId,
    });
  };

  const getSchema: grpc.handleUnaryCall<{ schemaId: string }, unknown> = (call, callback) => {
    const rpcId = randomUUID();
    if (!userOf(call.metadata, true)) return callback(authFailure(rpcId));
    const json = deps.bus.schema(call.request.schemaId);
    if (json === undefined)
      return callback(
        failure(grpc.status.NOT_FOUND, ERR.schema, `The schema ${call.request.schemaId} was not found.`, rpcId),
      );
    callback(null, { schemaJson: json, schemaId: call.request.schemaId, rpcId });
  };

  const publish: grpc.handleUnaryCall<
    { topicName: string; events: { id: string; schemaId: string; payload: Buffer }[] },
    unknown
  > = (call, callback) => {
    const rpcId = randomUUID();
    const user = userOf(call.metadata, true);
    if (!user) return callback(authFailure(rpcId));
    const { topicName, events } = call.request;
    const def = deps.platform.byTopic(topicName);
    if (!def) return callback(topicNotFound(topicName, rpcId));
    const results = events.map((e) => {
      const correlationKey = e.id || randomUUID();
      if (e.schemaId !== def.schemaId)
        return { error: { code: 'PUBLISH', msg: `Unknown schema id ${e.schemaId} for ${topicName}` }, correlationKey };
      try {
        const replayId = deps.platform.publishEncoded(def, e.payload, correlationKey, user.userId);
        return { replayId: encodeReplayId(replayId), correlationKey };
      } catch (err) {
        return { error: { code: 'PUBLISH', msg: (err as Error).message }, correlationKey };
      }
    });
    callback(null, { results, schemaId: def.schemaId, rpcId });
  };

  /** Open Subscribe streams, ended cleanly (status OK) when the emulator closes. */
  const open = new Set<() => void>();
  const subscribe: grpc.handleBidiStreamingCall<FetchRequest, unknown> = (call) => {
    const rpcId = randomUUID();
    let topic: string | undefined;
    /** Replay id of the last event delivered (or where the subscription started). */
    let position = 0n;
    let pending = 0;
    let ended = false;
    let lastSent = Date.now();
    /** Since when the stream has been owed events and sent nothing: the keepalive clock. */
    let owedSince = Date.now();
    let unlisten: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const shutdown = () => {
      stop();
      call.end();
    };
    const stop = () => {
      ended = true;
      open.delete(shutdown);
      unlisten?.();
      if (timer) clearTimeout(timer);
    };
    open.add(shutdown);
    const fail = (err: GrpcError) => {
      if (ended) return;
      stop();
      call.emit('error', err);
    };
    const respond = (events: BusEvent[]) => {
      lastSent = owedSince = Date.now();
      call.write({
        events: events.map(consumerEvent),
        latestReplayId: encodeReplayId(position),
        rpcId,
        pendingNumRequested: pending,
      });
    };
    // Never more than requested: each response carries at most what is still owed.
    const pump = () => {
      if (ended || topic === undefined || pending <= 0) return;
      const events = deps.bus.read(topic, position, pending);
      if (events.length === 0) return;
      pending -= events.length;
      position = (events[events.length - 1] as BusEvent).replayId;
      respond(events);
      schedule();
    };
    // docs/salesforce.md#pubsub-api-flow-control: while events are owed, never silent for longer than the keepalive
    // interval; owed none, no keepalives, and without a FetchRequest within the refetch timeout of the last response
    // the stream closes. Called whenever what is owed or the last response changes.
    const schedule = () => {
      if (timer) clearTimeout(timer);
      if (ended) return;
      const due = pending > 0 ? owedSince + deps.keepaliveMs() : lastSent + deps.refetchTimeoutMs();
      timer = setTimeout(
        () => {
          if (ended) return;
          if (pending === 0) return shutdown();
          if (!userOf(call.metadata, false)) return fail(authFailure(rpcId));
          // The Subscribe RPC reference: a keepalive's latest replay id may be a position past the last event
          // delivered, the event bus being shared. Nothing of the topic left to deliver: the bus's newest position.
          if (topic !== undefined && deps.bus.read(topic, position, 1).length === 0) position = deps.bus.tip();
          respond([]);
          schedule();
        },
        Math.max(1, due - Date.now()),
      );
      timer.unref();
    };
    const start = (req: FetchRequest): boolean => {
      const name = req.topicName;
      if (!topicInfo(name)) {
        fail(topicNotFound(name, rpcId));
        return false;
      }
      if (req.replayPreset === 'CUSTOM') {
        if (req.replayId.length === 0) {
          fail(failure(grpc.status.INVALID_ARGUMENT, ERR.replayMissing, 'A CUSTOM replay needs a replay ID.', rpcId));
          return false;
        }
        const id = decodeReplayId(req.replayId);
        if (id === undefined || !deps.bus.isValidPosition(name, id)) {
          fail(
            failure(
              grpc.status.INVALID_ARGUMENT,
              ERR.replayCorrupted,
              'The Replay ID validation failed. Ensure that the Replay ID is valid.',
              rpcId,
            ),
          );
          return false;
        }
        position = id;
      } else position = req.replayPreset === 'EARLIEST' ? deps.bus.floor(name) : deps.bus.tip();
      topic = name;
      unlisten = deps.bus.onPublish(name, () => setImmediate(pump));
      return true;
    };

    call.on('data', (req: FetchRequest) => {
      if (ended) return;
      if (!userOf(call.metadata, topic === undefined)) return fail(authFailure(rpcId));
      // docs/salesforce.md#replay-ids: the replay preset and id count on the first request only.
      if (topic === undefined && !start(req)) return;
      if (req.topicName && req.topicName !== topic)
        return fail(
          failure(grpc.status.INVALID_ARGUMENT, ERR.topic, 'The topic cannot change within a subscription.', rpcId),
        );
      if (req.numRequested <= 0)
        return fail(
          failure(
            grpc.status.INVALID_ARGUMENT,
            ERR.requested,
            'The number of requested events must be positive.',
            rpcId,
          ),
        );
      // The keepalive clock starts again when a stream owed nothing is asked for more.
      if (pending === 0) owedSince = Date.now();
      pending = Math.min(pending + req.numRequested, MAX_PENDING);
      schedule();
      pump();
    });
    call.on('end', () => {
      stop();
      call.end();
    });
    call.on('cancelled', stop);
    call.on('error', stop);
  };

  const server = new grpc.Server();
  server.addService(loadService(), {
    GetTopic: getTopic,
    GetSchema: getSchema,
    Publish: publish,
    Subscribe: subscribe,
  });
  const creds = grpc.ServerCredentials.createSsl(
    null,
    [{ private_key: Buffer.from(deps.tls.keyPem), cert_chain: Buffer.from(deps.tls.certPem) }],
    false,
  );
  // On loopback the endpoint is named `localhost`, as the certificate is: TLS clients warn about an IP address as
  // the server name (RFC 6066).
  const name = host === '127.0.0.1' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${name}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    host: name,
    port: bound,
    async close() {
      for (const end of [...open]) end();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
