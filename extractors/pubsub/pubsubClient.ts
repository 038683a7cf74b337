// The Pub/Sub API client (docs/salesforce.md#pubsub-api): one TLS gRPC channel to SF_PUBSUB_ENDPOINT, every call with
// the session's accesstoken / instanceurl / tenantid metadata, read from the token provider at each call so that a
// stream opened after a re-login carries the new session. Salesforce's own pubsub_api.proto defines the service.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ConfigError, PubSubError } from '../../lib/errors.ts';
import type { TokenProvider } from '../client/tokenProvider.ts';

/** Where Salesforce's proto file is: the package root of salesforce-pubsub-api-client (its exports list no path). */
function protoPath(): string {
  const main = createRequire(import.meta.url).resolve('salesforce-pubsub-api-client');
  return path.join(path.dirname(main), '..', 'pubsub_api.proto');
}

/** FetchRequest as proto-loader takes it (keepCase: the proto's own names). */
export interface FetchRequest {
  topic_name?: string;
  replay_preset?: 'LATEST' | 'EARLIEST' | 'CUSTOM';
  replay_id?: Buffer;
  num_requested: number;
}

export interface ConsumerEvent {
  event: { id: string; schema_id: string; payload: Buffer };
  replay_id: Buffer;
}

export interface FetchResponse {
  events: ConsumerEvent[];
  latest_replay_id: Buffer;
  rpc_id: string;
  pending_num_requested: number;
}

export type SubscribeCall = grpc.ClientDuplexStream<FetchRequest, FetchResponse>;

export interface PubSubClient {
  /** The Avro schema JSON of a schema id (GetSchema). */
  getSchema(schemaId: string, signal?: AbortSignal): Promise<string>;
  /** Opens a Subscribe stream; the caller writes FetchRequests and reads FetchResponses. */
  subscribe(): SubscribeCall;
  /** Resolves once the channel is connected (TLS done), so that a request written now goes out at once. */
  connected(signal: AbortSignal, timeoutMs?: number): Promise<void>;
  close(): void;
}

interface PubSubStub extends grpc.Client {
  GetSchema(
    req: { schema_id: string },
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { schema_json: string }) => void,
  ): grpc.ClientUnaryCall;
  Subscribe(opts?: grpc.CallOptions): SubscribeCall;
}

type StubClass = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => PubSubStub;
let stubClass: StubClass | undefined;

function pubSubService() {
  if (stubClass) return stubClass;
  const definition = protoLoader.loadSync(protoPath(), {
    keepCase: true,
    enums: String,
    longs: Number,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    eventbus: { v1: { PubSub: StubClass } };
  };
  stubClass = pkg.eventbus.v1.PubSub;
  return stubClass;
}

/**
 * The org id for `tenantid`: from the token response's identity URL, else the access token's prefix (a Salesforce
 * access token starts with the 15-character org id and `!`).
 */
function tenantOf(session: { accessToken: string; orgId?: string }): string {
  return session.orgId ?? session.accessToken.split('!')[0] ?? '';
}

/**
 * Node's TLS verification failures (self-signed, unknown issuer, expired, wrong host), which grpc-js reports as
 * UNAVAILABLE like an outage: no reconnect can cure them, so they get a status of their own.
 */
const TLS_VERIFICATION = /certificate|altnames|\bCERT_/i;

/** A gRPC failure as a PubSubError: status name and `error-code` trailer (docs/salesforce.md#pubsub-api-errors). */
export function pubSubErrorOf(err: unknown, what: string): PubSubError {
  const e = err as Partial<grpc.ServiceError>;
  let status = typeof e.code === 'number' ? (grpc.status[e.code] ?? String(e.code)) : 'UNKNOWN';
  if (status === 'UNAVAILABLE' && TLS_VERIFICATION.test(e.details ?? '')) status = 'TLS_VERIFICATION';
  const trailer = e.metadata?.get('error-code')[0];
  const errorCode = typeof trailer === 'string' ? trailer : trailer?.toString();
  const details = (e.details ?? e.message ?? String(err)).trim();
  return new PubSubError(status, errorCode, `${what}: ${status}${errorCode ? ` ${errorCode}` : ''}: ${details}`, {
    cause: err,
  });
}

/**
 * The CAs the channel trusts: Node's own store (what HTTPS calls trust) plus each extra PEM file. grpc-js left to
 * itself trusts only GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when that is set (many Debian images set it), ignoring
 * NODE_EXTRA_CA_CERTS, so the roots are always given explicitly. An unreadable file is a ConfigError.
 */
export function trustedRoots(extraCaFiles: readonly string[]): Buffer {
  const pems = [...tls.rootCertificates];
  for (const file of extraCaFiles) {
    try {
      pems.push(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read the CA file ${file}: ${(err as Error).message}`);
    }
  }
  return Buffer.from(pems.join('\n'));
}

export function createPubSubClient(opts: {
  endpoint: string;
  tokens: TokenProvider;
  extraCaFiles: readonly string[];
}): PubSubClient {
  const Stub = pubSubService();
  // docs/salesforce.md#pubsub-api: always TLS, verification never turned off.
  const auth = grpc.credentials.createFromMetadataGenerator((_params, done) => {
    opts.tokens.get().then(
      (session) => {
        const md = new grpc.Metadata();
        md.set('accesstoken', session.accessToken);
        md.set('instanceurl', session.instanceUrl);
        md.set('tenantid', tenantOf(session));
        done(null, md);
      },
      (err: Error) => done(err),
    );
  });
  const stub = new Stub(
    opts.endpoint,
    grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(trustedRoots(opts.extraCaFiles)), auth),
    // A response holds up to 100 events of up to 1 MB each; gRPC's default 4 MB cap would refuse it.
    { 'grpc.max_receive_message_length': 128 * 1024 * 1024 },
  );
  return {
    getSchema(schemaId, signal) {
      return new Promise((resolve, reject) => {
        const call = stub.GetSchema({ schema_id: schemaId }, { deadline: Date.now() + 60_000 }, (err, res) => {
          signal?.removeEventListener('abort', cancel);
          if (err || !res) reject(pubSubErrorOf(err, `GetSchema ${schemaId}`));
          else resolve(res.schema_json);
        });
        const cancel = () => call.cancel();
        signal?.addEventListener('abort', cancel, { once: true });
      });
    },
    subscribe: () => stub.Subscribe(),
    // In steps of a second: grpc-js keeps the process alive until a waitForReady deadline passes, so a wait the
    // caller gave up on (abort) must not hold one a minute away.
    async connected(signal, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        signal.throwIfAborted();
        const err = await new Promise<Error | undefined>((resolve) =>
          stub.waitForReady(Math.min(until, Date.now() + 1_000), (e) => resolve(e)),
        );
        if (!err) return;
        if (Date.now() >= until) throw pubSubErrorOf(Object.assign(err, { code: grpc.status.UNAVAILABLE }), 'connect');
      }
    },
    close: () => stub.close(),
  };
}
