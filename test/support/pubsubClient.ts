// A deliberately plain gRPC client for the emulator's Pub/Sub API (grpc-js and Salesforce's pubsub_api.proto, no
// Salesforce library): TLS trusting the emulator's certificate, the three auth metadata headers, and helpers that
// collect Subscribe responses (docs/salesforce.md#pubsub-api).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import avro from 'avsc';
import type { Emulator } from '../../emulator/index.ts';

export interface FetchResponse {
  events: { event: { id: string; schemaId: string; payload: Buffer }; replayId: Buffer }[];
  latestReplayId: Buffer;
  rpcId: string;
  pendingNumRequested: number;
}

export interface FetchRequest {
  topicName?: string;
  replayPreset?: 'LATEST' | 'EARLIEST' | 'CUSTOM';
  replayId?: Buffer;
  numRequested: number;
}

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;

interface PubSubStub extends grpc.Client {
  GetTopic: Unary<{ topicName: string }, { topicName: string; schemaId: string; canPublish: boolean; rpcId: string }>;
  GetSchema: Unary<{ schemaId: string }, { schemaJson: string; schemaId: string }>;
  Subscribe(): grpc.ClientDuplexStream<FetchRequest, FetchResponse>;
}

/** One Subscribe stream: what it received so far, and a way to wait for more. */
export interface Subscription {
  responses: FetchResponse[];
  error: grpc.ServiceError | undefined;
  /** How the call ended (OK included) and when; undefined while it is open. */
  status: (grpc.StatusObject & { at: number }) | undefined;
  /** When each response arrived (Date.now()), in the order of `responses`. */
  receivedAt: number[];
  request(req: FetchRequest): void;
  /** Resolves once `pred` holds for what was received (or rejects after `ms`). */
  until(pred: (s: Subscription) => boolean, ms?: number): Promise<void>;
  events(): FetchResponse['events'];
  close(): void;
}

function stubClass() {
  const require = createRequire(import.meta.url);
  const proto = join(dirname(require.resolve('salesforce-pubsub-api-client')), '..', 'pubsub_api.proto');
  const def = protoLoader.loadSync(proto, { keepCase: false, enums: String, defaults: true, longs: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    eventbus: { v1: { PubSub: new (address: string, creds: grpc.ChannelCredentials) => PubSubStub } };
  };
  return pkg.eventbus.v1.PubSub;
}

export function replayIdOf(bytes: Buffer): bigint {
  return bytes.readBigUInt64BE();
}

export function pubsubClient(em: Emulator, token: string, metadata: Record<string, string> = {}) {
  const pubsub = em.pubsub;
  if (!pubsub) throw new Error('createEmulator({ pubsub }) first');
  const auth = grpc.credentials.createFromMetadataGenerator((_params, cb) => {
    const md = new grpc.Metadata();
    const values = { accesstoken: token, instanceurl: em.url, tenantid: em.orgId, ...metadata };
    for (const [k, v] of Object.entries(values)) md.set(k, v);
    cb(null, md);
  });
  const creds = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(pubsub.caPem)), auth);
  const Stub = stubClass();
  const stub = new Stub(pubsub.endpoint, creds);
  const unary =
    <Req, Res>(fn: Unary<Req, Res>) =>
    (req: Req) =>
      new Promise<Res>((resolve, reject) => fn.call(stub, req, (err, res) => (err ? reject(err) : resolve(res))));
  const types = new Map<string, avro.Type>();
  const getSchema = unary(stub.GetSchema);
  return {
    getTopic: unary(stub.GetTopic),
    getSchema,
    /** The Avro value of an event, decoded with the schema GetSchema returns for its id. */
    async decode(e: FetchResponse['events'][number]): Promise<Record<string, unknown>> {
      let type = types.get(e.event.schemaId);
      if (!type) {
        type = avro.Type.forSchema(JSON.parse((await getSchema({ schemaId: e.event.schemaId })).schemaJson));
        types.set(e.event.schemaId, type);
      }
      return type.fromBuffer(e.event.payload) as Record<string, unknown>;
    },
    subscribe(first: FetchRequest): Subscription {
      const call = stub.Subscribe();
      const waiters = new Set<() => void>();
      const sub: Subscription = {
        responses: [],
        error: undefined,
        status: undefined,
        receivedAt: [],
        request: (req) => call.write(req),
        events: () => sub.responses.flatMap((r) => r.events),
        until(pred, ms = 5_000) {
          return new Promise((resolve, reject) => {
            const check = () => {
              if (!pred(sub)) return;
              waiters.delete(check);
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              reject(new Error(`timed out: ${sub.responses.length} responses, error ${sub.error?.message}`));
            }, ms);
            waiters.add(check);
            check();
          });
        },
        close: () => call.cancel(),
      };
      const wake = () => {
        for (const w of [...waiters]) w();
      };
      call.on('data', (r: FetchResponse) => {
        sub.responses.push(r);
        sub.receivedAt.push(Date.now());
        wake();
      });
      call.on('status', (status: grpc.StatusObject) => {
        sub.status = { ...status, at: Date.now() };
        wake();
      });
      call.on('error', (err: grpc.ServiceError) => {
        sub.error = err;
        wake();
      });
      call.write(first);
      return sub;
    },
    close: () => stub.close(),
  };
}
