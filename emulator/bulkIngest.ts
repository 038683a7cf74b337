// Bulk API 2.0 ingest jobs (docs/salesforce.md#bulk-api-20-ingest): Open -> exactly one PUT of CSV -> UploadComplete ->
// rows applied to the store one by one (failures do not stop the job) -> JobComplete, with
// successful/failed/unprocessed result files.
import { parse } from 'csv-parse/sync';
import {
  type BulkDeps,
  DELIMITERS,
  type JobState,
  LINE_ENDINGS,
  isTerminal,
  jobFormat,
  jobJson,
  newJobId,
  quoteCsv,
  stateCode,
} from './bulkJobs.ts';
import { FieldValueError, coerceText } from './coerce.ts';
import { type Ctx, HttpError, readBody, readJson, restDateTime, sendEmpty, sendText } from './http.ts';
import type { FieldDef, FieldValue, ObjectDef, OrgStore, SfRecord } from './types.ts';

type Operation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';
const OPERATIONS = new Set<string>(['insert', 'update', 'upsert', 'delete', 'hardDelete']);

interface IngestJob {
  id: string;
  operation: Operation;
  object: ObjectDef;
  externalIdFieldName?: string;
  createdById: string;
  createdDate: string;
  systemModstamp: string;
  state: JobState;
  apiVersion: string;
  columnDelimiter: string;
  lineEnding: string;
  uploads: Buffer[];
  failure?: { message?: string };
  errorMessage?: string;
  header: string[];
  successful: string[];
  failed: string[];
  unprocessed: string[];
  processed: number;
  failedCount: number;
  totalProcessingTime: number;
}

class RowError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fields = '',
  ) {
    super(message);
  }
}

export function createBulkIngest(deps: BulkDeps & { maxUploadBytes: number }) {
  const jobs = new Map<string, IngestJob>();
  const { store } = deps;

  const touch = (job: IngestJob, state: JobState) => {
    job.state = state;
    job.systemModstamp = restDateTime(store.now());
  };

  const info = (job: IngestJob, full: boolean) => {
    const base: Record<string, unknown> = {
      id: job.id,
      operation: job.operation,
      object: job.object.name,
      createdById: job.createdById,
      createdDate: job.createdDate,
      systemModstamp: job.systemModstamp,
      state: job.state,
      ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: job.apiVersion,
      ...(full ? { jobType: 'V2Ingest' } : {}),
      contentUrl: `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches`,
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
    };
    if (full) {
      Object.assign(base, {
        numberRecordsProcessed: job.processed,
        numberRecordsFailed: job.failedCount,
        retries: 0,
        totalProcessingTime: job.totalProcessingTime,
        apiActiveProcessingTime: job.totalProcessingTime,
        apexProcessingTime: 0,
      });
      if (job.errorMessage !== undefined) base.errorMessage = job.errorMessage;
    }
    return base;
  };

  const row = (job: IngestJob, cells: string[]) => cells.map(quoteCsv).join(DELIMITERS[job.columnDelimiter]!);

  const fieldOf = (def: ObjectDef, name: string): FieldDef => {
    const f = def.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f) throw new RowError('INVALID_FIELD', `No such column '${name}' on entity '${def.name}'`, name);
    return f;
  };

  /**
   * docs/salesforce.md#bulk-api-20-ingest: `#N/A` sets null; an empty cell leaves the field unchanged (on insert:
   * unset).
   */
  const valuesOf = (job: IngestJob, header: FieldDef[], cells: string[], forCreate: boolean) => {
    const values: Record<string, FieldValue> = {};
    header.forEach((f, i) => {
      const cell = cells[i] ?? '';
      if (f.name === 'Id' || cell === '') return;
      if ((forCreate ? f.createable : f.updateable) === false || f.calculated) {
        throw new RowError(
          'INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to create/update fields: ${f.name}. Please check the security settings of this field ` +
            'and verify that it is read/write for your profile or permission set.',
          f.name,
        );
      }
      values[f.name] = cell === '#N/A' ? null : coerceText(f, cell);
    });
    if (forCreate) {
      const owner = job.object.fields.find((f) => f.name === 'OwnerId');
      if (owner && values.OwnerId == null) values.OwnerId = job.createdById;
      const missing = job.object.fields.filter(
        (f) =>
          !f.nillable &&
          f.createable !== false &&
          !f.defaultedOnCreate &&
          !f.calculated &&
          f.type !== 'boolean' &&
          f.type !== 'id' &&
          f.type !== 'reference' &&
          values[f.name] == null,
      );
      if (missing.length)
        throw new RowError(
          'REQUIRED_FIELD_MISSING',
          `Required fields are missing: [${missing.map((f) => f.name).join(', ')}]`,
          missing.map((f) => f.name).join(','),
        );
    }
    return values;
  };

  const liveRecord = (job: IngestJob, id: string): SfRecord => {
    const rec = id ? store.get(id) : undefined;
    if (!rec?.Id.startsWith(job.object.keyPrefix))
      throw new RowError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
    if (rec.IsDeleted === true) throw new RowError('ENTITY_IS_DELETED', 'entity is deleted');
    return rec;
  };

  /** External id value -> record ids, built once per upsert job over the live records. */
  const externalIndex = (job: IngestJob, field: string): Map<string, string[]> => {
    const index = new Map<string, string[]>();
    const snap = store.snapshot(job.object.name);
    for (let i = 0; i < snap.size; i++) {
      const rec = snap.at(i);
      const v = rec?.[field];
      if (!rec || rec.IsDeleted === true || v === null || v === undefined) continue;
      const key = String(v);
      index.set(key, [...(index.get(key) ?? []), rec.Id]);
    }
    return index;
  };

  const applyRows = (job: IngestJob, rows: string[][]) => {
    const [names = [], ...data] = rows;
    job.header = names;
    let header: FieldDef[];
    try {
      header = names.map((n) => fieldOf(job.object, n));
    } catch (err) {
      job.errorMessage = `InvalidBatch : Field name not found : ${(err as RowError).fields}`;
      job.unprocessed = data.map((cells) => row(job, cells));
      return;
    }
    const idAt = header.findIndex((f) => f.name === 'Id');
    const extField = job.operation === 'upsert' ? fieldOf(job.object, job.externalIdFieldName ?? 'Id') : undefined;
    const extAt = extField ? header.findIndex((f) => f.name === extField.name) : -1;
    const index = extField && extField.name !== 'Id' ? externalIndex(job, extField.name) : undefined;
    for (const cells of data) {
      job.processed++;
      try {
        const { id, created } = applyRow(job, header, cells, idAt, extField, extAt, index);
        job.successful.push(row(job, [id, String(created), ...cells]));
      } catch (err) {
        const e =
          err instanceof RowError || err instanceof FieldValueError
            ? err
            : new RowError('UNKNOWN_EXCEPTION', (err as Error).message);
        const fields = e instanceof FieldValueError ? e.field : e.fields;
        job.failedCount++;
        const id = idAt >= 0 ? (cells[idAt] ?? '') : '';
        job.failed.push(row(job, [id, `${e.code}:${e.message}:${fields} --`, ...cells]));
      }
    }
  };

  const applyRow = (
    job: IngestJob,
    header: FieldDef[],
    cells: string[],
    idAt: number,
    extField: FieldDef | undefined,
    extAt: number,
    index: Map<string, string[]> | undefined,
  ) => {
    const idCell = idAt >= 0 ? (cells[idAt] ?? '') : '';
    switch (job.operation) {
      case 'insert':
        return { id: store.insert(job.object.name, valuesOf(job, header, cells, true)).Id, created: true };
      case 'update':
        liveRecord(job, idCell);
        return { id: store.update(idCell, valuesOf(job, header, cells, false)).Id, created: false };
      case 'delete':
      case 'hardDelete': {
        const rec = liveRecord(job, idCell);
        if (job.operation === 'delete' && job.object.undeletable) store.softDelete(rec.Id);
        else store.hardDelete(rec.Id);
        return { id: rec.Id, created: false };
      }
      case 'upsert': {
        const key = extAt >= 0 ? (cells[extAt] ?? '') : '';
        if (!extField || extField.name === 'Id') {
          if (key === '' || key === '#N/A')
            return { id: store.insert(job.object.name, valuesOf(job, header, cells, true)).Id, created: true };
          liveRecord(job, key);
          return { id: store.update(key, valuesOf(job, header, cells, false)).Id, created: false };
        }
        if (key === '' || key === '#N/A')
          throw new RowError(
            'REQUIRED_FIELD_MISSING',
            `Required fields are missing: [${extField.name}]`,
            extField.name,
          );
        const matches = index?.get(key) ?? [];
        if (matches.length > 1)
          throw new RowError(
            'DUPLICATE_EXTERNAL_ID',
            `${extField.label}: more than one record found for external id field: [${matches.join(', ')}]`,
            extField.name,
          );
        const existing = matches[0];
        if (existing) return { id: store.update(existing, valuesOf(job, header, cells, false)).Id, created: false };
        const id = store.insert(job.object.name, valuesOf(job, header, cells, true)).Id;
        index?.set(key, [id]);
        return { id, created: true };
      }
    }
  };

  const parseUpload = (job: IngestJob): string[][] => {
    const data = job.uploads[0] ?? Buffer.alloc(0);
    return parse(data, {
      delimiter: DELIMITERS[job.columnDelimiter],
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as string[][];
  };

  const abortRows = (job: IngestJob) => {
    try {
      const [names = [], ...data] = parseUpload(job);
      job.header = names;
      job.unprocessed = data.map((cells) => row(job, cells));
    } catch {
      // an unparseable upload has no rows to list
    }
  };

  const process = (job: IngestJob) => {
    if (job.state !== 'UploadComplete') return;
    touch(job, 'InProgress');
    const started = deps.clock();
    let rows: string[][] = [];
    try {
      rows = parseUpload(job);
    } catch (err) {
      job.errorMessage = `ClientInputError : ${(err as Error).message}`;
    }
    if (job.failure) {
      job.errorMessage = job.failure.message;
      job.header = rows[0] ?? [];
      job.unprocessed = rows.slice(1).map((cells) => row(job, cells));
    } else if (job.errorMessage === undefined) {
      applyRows(job, rows);
    }
    const delay = deps.settings.bulkLatencyMs + rows.length * deps.settings.bulkMsPerRecord;
    setTimeout(() => {
      job.totalProcessingTime = deps.clock() - started;
      if (job.state === 'InProgress')
        touch(job, job.failure || job.errorMessage !== undefined ? 'Failed' : 'JobComplete');
    }, delay).unref();
  };

  const mustJob = (id: string) => {
    const job = jobs.get(id);
    if (!job) throw new HttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return job;
  };

  const create = async (ctx: Ctx, version: string, userId: string, org: OrgStore) => {
    const body = await readJson(ctx.req);
    const def = org.object(String(body.object ?? ''));
    if (!def) throw new HttpError(400, 'INVALIDENTITY', `sObject type '${String(body.object)}' is not supported.`);
    const operation = String(body.operation ?? '');
    if (!OPERATIONS.has(operation)) throw new HttpError(400, 'INVALIDJOB', `Invalid operation: ${operation}`);
    const ext = body.externalIdFieldName === undefined ? undefined : String(body.externalIdFieldName);
    if (operation === 'upsert') {
      const f = ext === undefined ? undefined : def.fields.find((x) => x.name.toLowerCase() === ext.toLowerCase());
      if (!f || !(f.externalId || f.idLookup || f.name === 'Id')) {
        throw new HttpError(
          400,
          'INVALIDJOB',
          `InvalidJob : Field name provided, ${ext ?? ''} does not match an External ID, Salesforce Id, ` +
            `or indexed field for ${def.name}`,
        );
      }
    }
    const format = jobFormat(body);
    deps.limits.countBulkIngestJob();
    const now = restDateTime(store.now());
    const job: IngestJob = {
      id: newJobId(),
      operation: operation as Operation,
      object: def,
      externalIdFieldName: operation === 'upsert' ? ext : undefined,
      createdById: userId,
      createdDate: now,
      systemModstamp: now,
      state: 'Open',
      apiVersion: version,
      ...format,
      uploads: [],
      failure: deps.faults.takeJobFailure(ctx.method, ctx.url.pathname + ctx.url.search),
      header: [],
      successful: [],
      failed: [],
      unprocessed: [],
      processed: 0,
      failedCount: 0,
      totalProcessingTime: 0,
    };
    jobs.set(job.id, job);
    sendText(ctx.res, 200, jobJson(info(job, false)));
  };

  const upload = async (ctx: Ctx, id: string) => {
    const job = mustJob(id);
    if (job.state !== 'Open')
      throw new HttpError(
        400,
        'INVALIDJOB',
        `Job ${job.id} is not open for data upload: its state is ${stateCode(job.state)}`,
      );
    job.uploads.push(await readBody(ctx.req, deps.maxUploadBytes));
    sendEmpty(ctx.res, 201);
  };

  const patch = async (ctx: Ctx, id: string) => {
    const job = mustJob(id);
    const state = (await readJson(ctx.req)).state;
    if (state === 'UploadComplete') {
      if (job.state !== 'Open')
        throw new HttpError(400, 'INVALIDJOB', `Job ${job.id} is not open: its state is ${stateCode(job.state)}`);
      if (job.uploads.length > 1) {
        // docs/salesforce.md#bulk-api-20-ingest: more than one PUT on a job is refused at close time (the typo is
        // Salesforce's).
        throw new HttpError(
          400,
          'INVALIDJOB',
          `Found multipe contents for job: <${job.id.slice(0, 15)}>, ` +
            "please 'Close' / 'Abort' / 'Delete' the current Job " +
            "then create a new Job and make sure you only do 'PUT' once on a given Job.",
        );
      }
      touch(job, 'UploadComplete');
      setImmediate(() => process(job));
    } else if (state === 'Aborted') {
      if (isTerminal(job.state)) throw new HttpError(400, 'API_ERROR', `Aborting already ${job.state} Job not allowed`);
      // docs/salesforce.md#bulk-api-20-ingest: rows never attempted are listed in unprocessedrecords.
      if (job.state === 'Open' || job.state === 'UploadComplete') abortRows(job);
      touch(job, 'Aborted');
    } else {
      throw new HttpError(400, 'INVALIDJOB', `Invalid state: ${String(state)}`);
    }
    sendText(ctx.res, 200, jobJson(info(job, false)));
  };

  const remove = (ctx: Ctx, id: string) => {
    const job = mustJob(id);
    if (job.state === 'Open' || job.state === 'InProgress')
      throw new HttpError(
        400,
        'API_ERROR',
        'Error encountered when deleting the job because the job is not terminated',
      );
    jobs.delete(id);
    sendEmpty(ctx.res, 204);
  };

  const resultFile = (ctx: Ctx, job: IngestJob, prefix: string[], rows: string[]) => {
    const eol = LINE_ENDINGS[job.lineEnding]!;
    const head = [...prefix, ...job.header].map(quoteCsv).join(DELIMITERS[job.columnDelimiter]!);
    const body = [head, ...rows].join(eol) + eol;
    sendText(ctx.res, 200, body, 'text/csv; charset=UTF-8');
  };

  return {
    /** `/services/data/v{version}/jobs/ingest/...` (rest = segments after `ingest`). */
    async handle(ctx: Ctx, version: string, rest: string[], userId: string, org: OrgStore = store): Promise<void> {
      const [id, sub] = rest;
      const m = ctx.method;
      if (id === undefined && m === 'POST') return create(ctx, version, userId, org);
      if (id === undefined && m === 'GET') {
        const records = [...jobs.values()].map((j) => jobJson(info(j, true)));
        return sendText(ctx.res, 200, `{"done":true,"records":[${records.join(',')}],"nextRecordsUrl":null}`);
      }
      if (id !== undefined && sub === undefined) {
        if (m === 'GET') return sendText(ctx.res, 200, jobJson(info(mustJob(id), true)));
        if (m === 'PATCH') return patch(ctx, id);
        if (m === 'DELETE') return remove(ctx, id);
      }
      if (id !== undefined && sub === 'batches' && m === 'PUT') return upload(ctx, id);
      if (id !== undefined && m === 'GET') {
        const job = mustJob(id);
        if (sub === 'successfulResults') return resultFile(ctx, job, ['sf__Id', 'sf__Created'], job.successful);
        if (sub === 'failedResults') return resultFile(ctx, job, ['sf__Id', 'sf__Error'], job.failed);
        if (sub === 'unprocessedrecords') return resultFile(ctx, job, [], job.unprocessed);
      }
      throw new HttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    },
  };
}

export type BulkIngest = ReturnType<typeof createBulkIngest>;
