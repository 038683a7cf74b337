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
import { normalizeId } from './ids.ts';
import { isStored } from './schema.ts';
import type { FieldDef, FieldValue, ObjectDef, OrgStore, SfRecord } from './types.ts';
import type { ValidationRule, ValidationRules } from './validationRules.ts';

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

/** Salesforce's internal batch size for ingest jobs (docs/salesforce.md#bulk-api-20-ingest). */
const INTERNAL_BATCH = 10_000;

interface RowOutcome {
  id: string;
  created: boolean;
}

/** What a job's header and settings fix for all its rows. */
interface Plan {
  object: ObjectDef;
  operation: Operation;
  createdById: string;
  header: FieldDef[];
  idAt: number;
  extField: FieldDef | undefined;
  extAt: number;
  ownerField: boolean;
  required: FieldDef[];
  unique: FieldDef[];
  rules: ValidationRule[];
  /** Every stored field null: what validation rules see of a new record besides its row's values. */
  blank: Record<string, FieldValue>;
  /** Unique / external id field -> value index (valueIndex). */
  indexes: Map<string, Map<string, string[]>>;
  /** External id values given more than once in the current internal batch (lower case). */
  duplicateKeys: Set<string>;
  hardDeleted?: Set<string>;
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

export function createBulkIngest(deps: BulkDeps & { maxUploadBytes: number; rules: ValidationRules }) {
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

  const fieldOf = (def: ObjectDef, name: string): FieldDef | undefined =>
    def.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());

  /** A field's value as the key of its (case-insensitive) unique or external id index. */
  const keyOf = (v: FieldValue | undefined): string | undefined =>
    v === null || v === undefined || v === '' ? undefined : String(v).toLowerCase();

  /** Value key -> ids of the live records holding it, built on first use per job over one snapshot. */
  const valueIndex = (plan: Plan, field: string): Map<string, string[]> => {
    let index = plan.indexes.get(field);
    if (index) return index;
    index = new Map();
    const snap = store.snapshot(plan.object.name);
    for (let i = 0; i < snap.size; i++) {
      if (snap.slotState(i) !== 'live') continue;
      const rec = snap.at(i);
      const key = keyOf(rec?.[field]);
      if (!rec || key === undefined) continue;
      const ids = index.get(key);
      if (ids) ids.push(rec.Id);
      else index.set(key, [rec.Id]);
    }
    plan.indexes.set(field, index);
    return index;
  };

  /** Moves `id` from its old value to its new one in every index built so far. */
  const reindex = (plan: Plan, id: string, before: SfRecord | undefined, after: SfRecord) => {
    for (const [field, index] of plan.indexes) {
      const was = keyOf(before?.[field]);
      const now = keyOf(after[field]);
      if (was === now && before) continue;
      if (was !== undefined) {
        const left = (index.get(was) ?? []).filter((x) => x !== id);
        if (left.length) index.set(was, left);
        else index.delete(was);
      }
      if (now === undefined) continue;
      const ids = index.get(now);
      if (!ids) index.set(now, [id]);
      else if (!ids.includes(id)) ids.push(id);
    }
  };

  /** Normalised (15-char) ids of records hard-deleted from this object, read once per job on the first miss. */
  const hardDeletedIds = (plan: Plan): Set<string> => {
    if (!plan.hardDeleted) {
      plan.hardDeleted = new Set();
      for (const e of store.deletedLog(plan.object.name)) {
        const id15 = normalizeId(e.id);
        if (id15 && !store.get(e.id)) plan.hardDeleted.add(id15);
      }
    }
    return plan.hardDeleted;
  };

  /**
   * The record an update/delete row names. Salesforce's status codes: blank -> MISSING_ARGUMENT, not an id of this
   * object -> MALFORMED_ID, in the Recycle Bin or hard-deleted -> ENTITY_IS_DELETED, never existed ->
   * INVALID_CROSS_REFERENCE_KEY; StatusCode list:
   * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_concepts_core_data_objects.htm
   */
  const target = (plan: Plan, cell: string, call: string): SfRecord => {
    if (cell === '' || cell === '#N/A')
      throw new RowError('MISSING_ARGUMENT', `Id not specified in ${call === 'delete' ? 'a' : 'an'} ${call} call`);
    const id15 = normalizeId(cell);
    if (!id15?.startsWith(plan.object.keyPrefix))
      throw new RowError('MALFORMED_ID', `${plan.object.label} ID: id value of incorrect type: ${cell}`, 'Id');
    const rec = store.get(cell);
    if (rec?.IsDeleted === true || (!rec && hardDeletedIds(plan).has(id15)))
      throw new RowError('ENTITY_IS_DELETED', 'entity is deleted');
    if (!rec) throw new RowError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
    return rec;
  };

  /**
   * One row's cells -> field values (docs/salesforce.md#bulk-api-20-ingest: `#N/A` sets null; an empty cell leaves the
   * field unchanged, on insert: unset). Refuses cells of fields the operation may not write, and values that do not
   * parse for the field's type ("Failed to deserialize field at col N", columns counted from 0).
   */
  const valuesOf = (plan: Plan, cells: string[], forCreate: boolean) => {
    const values: Record<string, FieldValue> = {};
    const readOnly: string[] = [];
    for (let i = 0; i < plan.header.length; i++) {
      const f = plan.header[i] as FieldDef;
      const cell = cells[i] ?? '';
      if (cell === '' || f.name === 'Id') continue;
      if ((forCreate ? f.createable : f.updateable) === false || f.calculated || !isStored(f)) {
        readOnly.push(f.name);
        continue;
      }
      if (cell === '#N/A') {
        values[f.name] = null;
        continue;
      }
      if (f.type === 'reference' && !normalizeId(cell))
        throw new RowError('MALFORMED_ID', `${f.label}: id value of incorrect type: ${cell}`, f.name);
      try {
        values[f.name] = coerceText(f, cell);
      } catch (err) {
        if (!(err instanceof FieldValueError) || err.code !== 'INVALID_FIELD') throw err;
        throw new RowError('INVALID_FIELD', `Failed to deserialize field at col ${i}. Due to, ${err.message}`, f.name);
      }
    }
    if (readOnly.length)
      throw new RowError(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field ` +
          'and verify that it is read/write for your profile or permission set.',
        readOnly.join(','),
      );
    return values;
  };

  /**
   * Required fields (not nillable, no default) must have a value once the row is applied: on insert every one of
   * them, on update the ones the row sets to `#N/A` (REQUIRED_FIELD_MISSING).
   */
  const checkRequired = (plan: Plan, values: Record<string, FieldValue>, forCreate: boolean) => {
    let missing: FieldDef[] | undefined;
    for (const f of plan.required) {
      if (forCreate ? values[f.name] != null : values[f.name] !== null) continue;
      missing = missing ?? [];
      missing.push(f);
    }
    if (missing)
      throw new RowError(
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missing.map((f) => f.name).join(', ')}]`,
        missing.map((f) => f.name).join(','),
      );
  };

  /** The object's validation rules over the record as it would be saved (validationRules.ts). */
  const checkRules = (plan: Plan, merged: SfRecord) => {
    for (const rule of plan.rules)
      if (rule.violates(merged)) throw new RowError('FIELD_CUSTOM_VALIDATION_EXCEPTION', rule.message, rule.errorField);
  };

  /** Unique fields (e.g. External_Id__c): another live record with the value -> DUPLICATE_VALUE. */
  const checkUnique = (plan: Plan, values: Record<string, FieldValue>, selfId: string | undefined) => {
    for (const f of plan.unique) {
      const key = keyOf(values[f.name]);
      if (key === undefined) continue;
      const other = valueIndex(plan, f.name)
        .get(key)
        ?.find((x) => x !== selfId);
      if (other)
        throw new RowError(
          'DUPLICATE_VALUE',
          `duplicate value found: ${f.name} duplicates value on record with id: ${other}`,
        );
    }
  };

  const createRecord = (plan: Plan, values: Record<string, FieldValue>): RowOutcome => {
    if (plan.ownerField && values.OwnerId == null) values.OwnerId = plan.createdById;
    checkRequired(plan, values, true);
    if (plan.rules.length) checkRules(plan, { ...plan.blank, ...values } as SfRecord);
    checkUnique(plan, values, undefined);
    const rec = store.insert(plan.object.name, values);
    if (plan.indexes.size) reindex(plan, rec.Id, undefined, rec);
    return { id: rec.Id, created: true };
  };

  const changeRecord = (plan: Plan, existing: SfRecord, values: Record<string, FieldValue>): RowOutcome => {
    checkRequired(plan, values, false);
    if (plan.rules.length) checkRules(plan, { ...existing, ...values });
    checkUnique(plan, values, existing.Id);
    const rec = store.update(existing.Id, values);
    if (plan.indexes.size) reindex(plan, rec.Id, existing, rec);
    return { id: rec.Id, created: false };
  };

  /** Applies one row; `out.id` names the record a failure concerns (failedResults' sf__Id). */
  const applyRow = (plan: Plan, cells: string[], out: { id: string }): RowOutcome => {
    const idCell = plan.idAt >= 0 ? (cells[plan.idAt] ?? '') : '';
    switch (plan.operation) {
      case 'insert':
        if (idCell !== '')
          throw new RowError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', 'Id');
        return createRecord(plan, valuesOf(plan, cells, true));
      case 'update': {
        out.id = idCell;
        const rec = target(plan, idCell, 'update');
        out.id = rec.Id;
        return changeRecord(plan, rec, valuesOf(plan, cells, false));
      }
      case 'delete':
      case 'hardDelete': {
        out.id = idCell;
        const rec = target(plan, idCell, 'delete');
        out.id = rec.Id;
        // docs/salesforce.md#bulk-api-20-ingest: delete moves records to the Recycle Bin, hardDelete bypasses it;
        // both leave them in getDeleted's log.
        if (plan.operation === 'delete' && plan.object.undeletable) store.softDelete(rec.Id);
        else {
          store.hardDelete(rec.Id);
          plan.hardDeleted?.add(normalizeId(rec.Id) as string);
        }
        if (plan.indexes.size) reindex(plan, rec.Id, rec, { Id: rec.Id } as SfRecord);
        return { id: rec.Id, created: false };
      }
      case 'upsert': {
        const ext = plan.extField as FieldDef;
        const key = plan.extAt >= 0 ? (cells[plan.extAt] ?? '') : '';
        if (ext.name === 'Id') {
          if (key === '' || key === '#N/A') return createRecord(plan, valuesOf(plan, cells, true));
          out.id = key;
          const rec = target(plan, key, 'upsert');
          out.id = rec.Id;
          return changeRecord(plan, rec, valuesOf(plan, cells, false));
        }
        if (key === '' || key === '#N/A') throw new RowError('MISSING_ARGUMENT', `${ext.name} not specified`);
        if (plan.duplicateKeys.has(key.toLowerCase()))
          throw new RowError('DUPLICATE_VALUE', `Duplicate external id specified: ${key}`, ext.name);
        const matches = valueIndex(plan, ext.name).get(key.toLowerCase()) ?? [];
        if (matches.length > 1)
          throw new RowError(
            'DUPLICATE_EXTERNAL_ID',
            `${ext.label}: more than one record found for external id field: [${matches.join(', ')}]`,
            ext.name,
          );
        const existing = matches[0] === undefined ? undefined : store.get(matches[0]);
        if (existing) {
          out.id = existing.Id;
          return changeRecord(plan, existing, valuesOf(plan, cells, false));
        }
        return createRecord(plan, valuesOf(plan, cells, true));
      }
    }
  };

  /** Header -> plan, or the job-level error Salesforce fails the whole job with for an unknown column. */
  const planJob = (job: IngestJob, names: string[]): Plan | string => {
    const header: FieldDef[] = [];
    for (const n of names) {
      const f = fieldOf(job.object, n);
      if (!f) return `InvalidBatch : Field name not found : ${n}`;
      header.push(f);
    }
    const extField = job.operation === 'upsert' ? fieldOf(job.object, job.externalIdFieldName ?? 'Id') : undefined;
    const writes = job.operation !== 'delete' && job.operation !== 'hardDelete';
    const blank: Record<string, FieldValue> = {};
    for (const f of job.object.fields) if (isStored(f)) blank[f.name] = null;
    return {
      object: job.object,
      operation: job.operation,
      createdById: job.createdById,
      header,
      idAt: header.findIndex((f) => f.name === 'Id'),
      extField,
      extAt: extField ? header.findIndex((f) => f.name === extField.name) : -1,
      ownerField: job.object.fields.some((f) => f.name === 'OwnerId'),
      required: job.object.fields.filter(
        (f) =>
          !f.nillable &&
          f.createable !== false &&
          !f.defaultedOnCreate &&
          !f.calculated &&
          f.type !== 'boolean' &&
          f.type !== 'id' &&
          f.type !== 'reference',
      ),
      unique: writes ? header.filter((f) => f.unique) : [],
      rules: writes ? deps.rules.of(job.object.name) : [],
      blank,
      indexes: new Map(),
      duplicateKeys: new Set(),
    };
  };

  /**
   * One internal batch of rows. Salesforce runs each 10,000-record batch on its own (official page "Understanding
   * Bulk API 2.0 Ingest", api_asynch/datafiles_understanding_bulk2_ingest.htm; docs/salesforce.md#bulk-api-20-ingest),
   * so an external id given twice within one batch fails both rows with DUPLICATE_VALUE "Duplicate external id
   * specified"; across batches the later row updates the record the earlier one wrote.
   */
  const applyBatch = (job: IngestJob, plan: Plan, rows: string[][]) => {
    plan.duplicateKeys = new Set();
    if (plan.extField && plan.extField.name !== 'Id' && plan.extAt >= 0) {
      const seen = new Set<string>();
      for (const cells of rows) {
        const key = (cells[plan.extAt] ?? '').toLowerCase();
        if (key === '' || key === '#n/a') continue;
        if (seen.has(key)) plan.duplicateKeys.add(key);
        else seen.add(key);
      }
    }
    for (const cells of rows) {
      job.processed++;
      const out = { id: '' };
      try {
        const { id, created } = applyRow(plan, cells, out);
        job.successful.push(row(job, [id, String(created), ...cells]));
      } catch (err) {
        const e =
          err instanceof RowError || err instanceof FieldValueError
            ? err
            : new RowError('UNKNOWN_EXCEPTION', (err as Error).message);
        const fields = e instanceof FieldValueError ? e.field : e.fields;
        job.failedCount++;
        job.failed.push(row(job, [out.id, `${e.code}:${e.message}:${fields} --`, ...cells]));
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
    job.uploads = [];
    const [names = [], ...data] = rows;
    job.header = names;
    const finish = () => {
      const delay = deps.settings.bulkLatencyMs + rows.length * deps.settings.bulkMsPerRecord;
      setTimeout(() => {
        job.totalProcessingTime = deps.clock() - started;
        if (job.state === 'InProgress')
          touch(job, job.failure || job.errorMessage !== undefined ? 'Failed' : 'JobComplete');
      }, delay).unref();
    };
    if (job.failure) job.errorMessage = job.failure.message;
    const plan = job.errorMessage === undefined ? planJob(job, names) : undefined;
    if (typeof plan === 'string') job.errorMessage = plan;
    if (plan === undefined || typeof plan === 'string') {
      job.unprocessed = data.map((cells) => row(job, cells));
      return finish();
    }
    // One internal batch per event-loop turn: the server keeps answering polls while a large job runs, and an abort
    // leaves the batches not yet started in unprocessedrecords (docs/salesforce.md#bulk-api-20-ingest).
    let at = 0;
    const step = () => {
      if (job.state !== 'InProgress') {
        job.unprocessed = data.slice(at).map((cells) => row(job, cells));
        return;
      }
      const end = Math.min(at + INTERNAL_BATCH, data.length);
      // One transaction per internal batch: its change events share a transactionKey
      // (docs/salesforce.md#change-event-header).
      const batch = () => applyBatch(job, plan, data.slice(at, end));
      if (store.transaction) store.transaction(batch);
      else batch();
      at = end;
      if (at < data.length) setImmediate(step);
      else finish();
    };
    step();
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
