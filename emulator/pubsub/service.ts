// The emulator's Pub/Sub API as one piece: the event bus, Change Data Capture over the store, platform events, the
// TLS gRPC server, and the controls tests use (emulator.pubsub, and /__admin/pubsub/ over HTTP).
import avro from 'avsc';
import type { OAuthServer } from '../oauth.ts';
import type { FieldValue, OrgStore } from '../types.ts';
import { type ChangeCapture, type ChangeContext, type EventShapes, createChangeCapture } from './changeEvents.ts';
import type { ChangeType } from './changeSchema.ts';
import { type EventBus, createEventBus } from './eventBus.ts';
import { startPubSubServer } from './grpcServer.ts';
import { withPersonAccounts } from './personAccounts.ts';
import { type PlatformEvents, type PlatformFieldType, createPlatformEvents } from './platformEvents.ts';
import { type TlsIdentity, createTlsIdentity } from './tls.ts';

export interface PubSubOptions {
  /** gRPC port; 0 (default) = a free one. */
  port?: number;
  /** Keepalive interval of an idle Subscribe stream (docs/salesforce.md#pubsub-api-flow-control). Default 270 s. */
  keepaliveMs?: number;
  /**
   * How long a Subscribe stream owed no events (everything asked for delivered) waits for the next FetchRequest before
   * it closes (docs/salesforce.md#pubsub-api-flow-control). Default 60 s.
   */
  refetchTimeoutMs?: number;
  /** Event retention (docs/salesforce.md#replay-ids). Default 72 h. */
  retentionMs?: number;
  /** Objects selected for Change Data Capture from the start. */
  cdcObjects?: string[];
  /**
   * An org with person accounts (personAccounts.ts): Account gets Salutation, FirstName, LastName, IsPersonAccount, and
   * its change events carry Name as a business account's string or a person's name parts. Off by default.
   */
  personAccounts?: boolean;
  /**
   * Change event shapes Salesforce sends only sometimes (changeEvents.ts EventShapes; docs/salesforce.md
   * #change-event-header, #change-event-fields), all off by default: `mergeRecordIds` (one event for the records a
   * transaction changed the same way), `longTextDiffs` (long text area updates as a diff in diffFields),
   * `compoundParentBits` (a compound's own bit in changedFields beside its nested entry).
   */
  mergeRecordIds?: boolean;
  longTextDiffs?: boolean;
  compoundParentBits?: boolean;
}

/** One write of an admin transaction (HTTP: `POST /__admin/pubsub/transaction`). */
export type TransactionOp =
  | { op: 'insert'; object: string; values: Record<string, FieldValue> }
  | { op: 'update'; id: string; values: Record<string, FieldValue> }
  | { op: 'delete' | 'undelete' | 'hardDelete'; id: string };

export interface DecodedEvent {
  /** Decimal text of the 8-byte replay id. */
  replayId: string;
  id: string;
  schemaId: string;
  payload: unknown;
}

export interface PubSubControl {
  /** `host:port` of the gRPC endpoint (TLS). */
  endpoint: string;
  port: number;
  /** The server certificate, which is also the CA to trust (PEM text and file, for NODE_EXTRA_CA_CERTS). */
  caPem: string;
  caPath: string;
  /**
   * Node's root CAs plus the emulator's certificate: for GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, which grpc-js prefers over
   * NODE_EXTRA_CA_CERTS when set (as on machines that point it at the system bundle).
   */
  caBundlePath: string;
  enableCdc(object: string): void;
  disableCdc(object: string): void;
  cdcObjects(): string[];
  /** Shortens (or lengthens) retention: events older than `ms` are purged and their replay ids become invalid. */
  setRetention(ms: number): void;
  setKeepalive(ms: number): void;
  injectGap(object: string, changeType: ChangeType, recordIds?: string[]): void;
  /** Turns change event shapes on or off (PubSubOptions) for the transactions that commit from now on. */
  setEventShapes(shapes: Partial<EventShapes>): void;
  eventShapes(): EventShapes;
  /** Runs writes (through emulator.store or emulator.admin) as one Salesforce transaction. */
  transaction<T>(fn: () => T, ctx?: Partial<ChangeContext>): T;
  /** Applies `ops` in one transaction; returns the record id of each. */
  applyTransaction(ops: TransactionOp[], ctx?: Partial<ChangeContext>): string[];
  definePlatformEvent(name: string, fields: { name: string; type: PlatformFieldType }[]): void;
  /** Publishes on `/event/<name>`; returns the event's replay id (decimal text). */
  publishPlatformEvent(name: string, values: Record<string, unknown>): string;
  /** The retained events of a topic, decoded (for tests and debugging). */
  events(topic: string): DecodedEvent[];
}

export interface PubSub {
  capture: ChangeCapture;
  /** Starts the gRPC server once the HTTP side knows its URL. */
  listen(host: string, instanceUrl: () => string): Promise<PubSubControl>;
  close(): Promise<void>;
}

const HOURS_72 = 72 * 3_600_000;

function applyOp(store: OrgStore, op: TransactionOp): string {
  switch (op.op) {
    case 'insert':
      return store.insert(op.object, op.values).Id;
    case 'update':
      return store.update(op.id, op.values).Id;
    case 'delete':
      store.softDelete(op.id);
      return op.id;
    case 'undelete':
      store.undelete(op.id);
      return op.id;
    case 'hardDelete':
      store.hardDelete(op.id);
      return op.id;
  }
}

function decodeAll(bus: EventBus, topic: string): DecodedEvent[] {
  const types = new Map<string, avro.Type>();
  return bus.read(topic, bus.floor(topic), Number.POSITIVE_INFINITY).map((e) => {
    let type = types.get(e.schemaId);
    if (!type) {
      type = avro.Type.forSchema(JSON.parse(bus.schema(e.schemaId) ?? '{}'));
      types.set(e.schemaId, type);
    }
    return { replayId: e.replayId.toString(), id: e.id, schemaId: e.schemaId, payload: type.fromBuffer(e.payload) };
  });
}

export function createPubSub(
  base: OrgStore,
  deps: { oauth: OAuthServer; orgId: string; userId: string; options: PubSubOptions },
): PubSub {
  const o = deps.options;
  const bus = createEventBus({ retentionMs: o.retentionMs ?? HOURS_72 });
  const org = o.personAccounts ? withPersonAccounts(base) : base;
  const shapes: EventShapes = {
    mergeRecordIds: o.mergeRecordIds ?? false,
    longTextDiffs: o.longTextDiffs ?? false,
    compoundParentBits: o.compoundParentBits ?? false,
  };
  const capture = createChangeCapture(org, bus, { defaultUserId: deps.userId, shapes });
  for (const object of o.cdcObjects ?? []) capture.enable(object);
  const platform: PlatformEvents = createPlatformEvents(bus);
  let keepaliveMs = o.keepaliveMs ?? 270_000;
  const refetchTimeoutMs = o.refetchTimeoutMs ?? 60_000;
  let tls: TlsIdentity | undefined;
  let closeServer: (() => Promise<void>) | undefined;
  return {
    capture,
    async listen(host, instanceUrl) {
      tls = await createTlsIdentity();
      const server = await startPubSubServer(
        {
          bus,
          capture,
          platform,
          tls,
          orgId: deps.orgId,
          instanceUrl,
          authenticate: (token, count) => {
            const s = deps.oauth.authenticateToken(token, count);
            return s && { userId: s.user.id };
          },
          keepaliveMs: () => keepaliveMs,
          refetchTimeoutMs: () => refetchTimeoutMs,
        },
        host,
        o.port ?? 0,
      );
      closeServer = server.close;
      const store = capture.store;
      return {
        endpoint: `${server.host}:${server.port}`,
        port: server.port,
        caPem: tls.certPem,
        caPath: tls.caPath,
        caBundlePath: tls.caBundlePath,
        enableCdc: (object) => capture.enable(object),
        disableCdc: (object) => capture.disable(object),
        cdcObjects: () => capture.enabled(),
        setRetention: (ms) => bus.setRetention(ms),
        setKeepalive(ms) {
          keepaliveMs = Math.max(10, ms);
        },
        injectGap: (object, changeType, recordIds) => capture.injectGap(object, changeType, recordIds),
        setEventShapes: (next) => capture.setShapes(next),
        eventShapes: () => capture.shapes(),
        transaction: (fn, ctx) => capture.transaction(fn, ctx),
        applyTransaction: (ops, ctx) => capture.transaction(() => ops.map((op) => applyOp(store, op)), ctx),
        definePlatformEvent(name, fields) {
          platform.define(name, fields);
        },
        publishPlatformEvent: (name, values) => platform.publish(name, values, deps.userId).toString(),
        events: (topic) => decodeAll(bus, topic),
      };
    },
    async close() {
      await closeServer?.();
      await tls?.dispose();
    },
  };
}
