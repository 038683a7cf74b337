// The one root logger: pino to stderr (stdout stays clean for --json output), with secrets redacted. In a terminal,
// compact lines that share the screen with the live progress block; otherwise JSON lines.
import pino, { type Logger } from 'pino';
import { formatCount } from './format.ts';
import { liveRegion, type TerminalStream } from './terminal.ts';

export type { Logger };

/** Paths pino must never print. Tested in test/unit/log.test.ts. */
export const REDACT_PATHS = [
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'privateKey',
  'clientSecret',
  'client_secret',
  'password',
  'assertion',
  'authorization',
  'token',
  // SFSYNC_HASH_KEY (config columns.hash): whoever has it can test guesses against the hashes.
  'hashKey',
  'SFSYNC_HASH_KEY',
  '*.hashKey',
  '*.SFSYNC_HASH_KEY',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.refresh_token',
  '*.privateKey',
  '*.clientSecret',
  '*.client_secret',
  '*.password',
  '*.assertion',
  '*.authorization',
  '*.Authorization',
  '*.token',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

export interface LogOptions {
  level?: string;
  /**
   * stderr is a terminal: records become one compact line each, printed above the live progress block. Only
   * warnings, errors and the line of a finished unit of work are shown, every record with `verbose`.
   */
  pretty?: boolean;
  verbose?: boolean;
  /** Every record (at `level`) is also appended here as a JSON line. */
  file?: string;
  /** Where to write; defaults to fd 2. Tests pass a stream to capture output. */
  destination?: NodeJS.WritableStream;
  /** The terminal of `pretty`; defaults to process.stderr. */
  terminal?: TerminalStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
  };
  if (opts.destination) return pino(options, opts.destination);
  const main: pino.DestinationStream = opts.pretty
    ? terminalDestination(opts.terminal ?? process.stderr, Boolean(opts.verbose))
    : pino.destination({ fd: 2, sync: true });
  if (!opts.file) return pino(options, main);
  const file = pino.destination({ dest: opts.file, mkdir: true, append: true, sync: true });
  return pino(
    options,
    pino.multistream([
      { level: level as pino.Level, stream: main },
      { level: level as pino.Level, stream: file },
    ]),
  );
}

/**
 * Info records a terminal shows without --verbose: each marks a finished unit of work, one line per object (or
 * backfill window, or scheduled run), so a long run's screen stays readable.
 */
const HEADLINES = new Set(['object synced', 'backfill window loaded', 'Ids reconciled', 'scheduled sync finished']);

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const color = (code: number, text: string) => `\x1b[${code}m${text}\x1b[0m`;

function fieldValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? formatCount(value) : String(value);
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value && typeof value === 'object' && 'message' in value) return JSON.stringify((value as Error).message);
  return JSON.stringify(value);
}

/** One pino record (already redacted) as one terminal line: `12:04:05 WARN Account: message key=value ...`. */
export function formatTerminalLine(record: Record<string, unknown>): string {
  const { level, time, msg, object, ...fields } = record;
  const clock = new Date(typeof time === 'number' ? time : Date.now()).toTimeString().slice(0, 8);
  const n = typeof level === 'number' ? level : 30;
  const name = LEVELS[n] ?? String(level);
  const tag = n >= 50 ? color(31, name) : n >= 40 ? color(33, name) : name;
  const who = typeof object === 'string' ? `${object}: ` : '';
  if (msg === 'object synced' && n === 30) {
    const f = fields as Record<string, number | string | undefined>;
    const count = (k: string) => formatCount(Number(f[k] ?? 0));
    const seconds = typeof f.ms === 'number' ? ` (${(f.ms / 1000).toFixed(1)} s)` : '';
    const counts = ['fetched', 'inserted', 'updated', 'deleted'].map(
      (k) => `${count(k)} ${k === 'fetched' ? 'read' : k}`,
    );
    const how = `${f.mode ?? ''} via ${f.via ?? '?'}`;
    return `${color(2, clock)} ${color(32, 'done')} ${who}${how}: ${counts.join(', ')}${seconds}`;
  }
  const rest = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${fieldValue(v)}`)
    .join('');
  return `${color(2, clock)} ${tag} ${who}${String(msg ?? '')}${rest}`;
}

/** pino writes each record here synchronously; the line goes above the progress block, through its region. */
function terminalDestination(stream: TerminalStream, verbose: boolean): pino.DestinationStream {
  const region = liveRegion(stream);
  return {
    write(json: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(json) as Record<string, unknown>;
      } catch {
        region.print(json.trimEnd());
        return;
      }
      const level = typeof record.level === 'number' ? record.level : 30;
      if (verbose || level >= 40 || HEADLINES.has(String(record.msg))) region.print(formatTerminalLine(record));
    },
  };
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
