// HTTP face of the Pub/Sub controls: `/__admin/pubsub/...` (parts after `pubsub`), JSON in and out.
import { type Ctx, HttpError, sendEmpty, sendJson, sendText } from '../http.ts';
import type { FieldValue } from '../types.ts';
import { CHANGE_TYPES, type ChangeType } from './changeSchema.ts';
import type { PlatformFieldType } from './platformEvents.ts';
import type { PubSubControl, TransactionOp } from './service.ts';

type Coerce = (object: string | undefined, id: string | undefined, values: unknown) => Record<string, FieldValue>;

function transactionOps(body: Record<string, unknown>, coerce: Coerce): TransactionOp[] {
  if (!Array.isArray(body.operations)) throw new HttpError(400, 'INVALID_TRANSACTION', 'operations must be an array');
  return body.operations.map((raw: Record<string, unknown>) => {
    const op = String(raw.op);
    const id = typeof raw.id === 'string' ? raw.id : undefined;
    const object = typeof raw.object === 'string' ? raw.object : undefined;
    if (op === 'insert' && object) return { op, object, values: coerce(object, undefined, raw.values ?? {}) };
    if (op === 'update' && id) return { op, id, values: coerce(undefined, id, raw.values ?? {}) };
    if ((op === 'delete' || op === 'undelete' || op === 'hardDelete') && id) return { op, id };
    throw new HttpError(400, 'INVALID_TRANSACTION', `Unknown operation ${JSON.stringify(raw)}`);
  });
}

export async function handlePubSubAdmin(
  ctx: Ctx,
  pubsub: PubSubControl | undefined,
  parts: string[],
  body: Record<string, unknown>,
  coerce: Coerce,
): Promise<void> {
  if (!pubsub) throw new HttpError(404, 'NOT_FOUND', 'The Pub/Sub API is off (createEmulator({ pubsub: true }))');
  const [area, a, b] = parts;
  const m = ctx.method;
  const res = ctx.res;
  if (area === 'ca' && m === 'GET') return sendText(res, 200, pubsub.caPem, 'application/x-pem-file');
  if (area === 'info' && m === 'GET')
    return sendJson(res, 200, { endpoint: pubsub.endpoint, caPath: pubsub.caPath, cdcObjects: pubsub.cdcObjects() });
  if (area === 'cdc' && a !== undefined && (m === 'POST' || m === 'DELETE')) {
    if (m === 'POST') pubsub.enableCdc(a);
    else pubsub.disableCdc(a);
    return sendEmpty(res, 204);
  }
  if (area === 'cdc' && m === 'GET') return sendJson(res, 200, pubsub.cdcObjects());
  if (area === 'retention' && m === 'POST') {
    pubsub.setRetention(Number(body.ms));
    return sendEmpty(res, 204);
  }
  if (area === 'keepalive' && m === 'POST') {
    pubsub.setKeepalive(Number(body.ms));
    return sendEmpty(res, 204);
  }
  if (area === 'shapes' && m === 'GET') return sendJson(res, 200, pubsub.eventShapes());
  if (area === 'shapes' && m === 'POST') {
    const known = Object.keys(pubsub.eventShapes());
    const next: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(body)) {
      if (!known.includes(k) || typeof v !== 'boolean')
        throw new HttpError(400, 'INVALID_SHAPES', `shapes are ${known.join(', ')}, each true or false; not ${k}`);
      next[k] = v;
    }
    pubsub.setEventShapes(next);
    return sendJson(res, 200, pubsub.eventShapes());
  }
  if (area === 'gap' && m === 'POST') {
    const type = String(body.changeType) as ChangeType;
    if (!CHANGE_TYPES.includes(type) || !type.startsWith('GAP_'))
      throw new HttpError(400, 'INVALID_GAP', `changeType must be one of GAP_CREATE ... GAP_OVERFLOW, not ${type}`);
    const ids = Array.isArray(body.recordIds) ? body.recordIds.map(String) : [];
    pubsub.injectGap(String(body.object), type, ids);
    return sendEmpty(res, 204);
  }
  if (area === 'transaction' && m === 'POST') {
    const ops = transactionOps(body, coerce);
    const origin = typeof body.origin === 'string' ? body.origin : undefined;
    return sendJson(res, 200, { ids: pubsub.applyTransaction(ops, origin === undefined ? {} : { origin }) });
  }
  if (area === 'platformEvents' && a !== undefined && b === undefined && m === 'POST') {
    const fields = Array.isArray(body.fields) ? (body.fields as { name: string; type: PlatformFieldType }[]) : [];
    pubsub.definePlatformEvent(a, fields);
    return sendEmpty(res, 204);
  }
  if (area === 'platformEvents' && a !== undefined && b === 'publish' && m === 'POST') {
    const values = (body.values ?? {}) as Record<string, unknown>;
    return sendJson(res, 200, { replayId: pubsub.publishPlatformEvent(a, values) });
  }
  if (area === 'events' && m === 'GET') {
    const topic = ctx.url.searchParams.get('topic');
    if (!topic) throw new HttpError(400, 'MISSING_TOPIC', 'topic is required');
    return sendJson(res, 200, pubsub.events(topic));
  }
  throw new HttpError(404, 'NOT_FOUND', 'Unknown admin route');
}
