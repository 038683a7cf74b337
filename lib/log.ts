// The one root logger: pino to stderr (stdout stays clean for --json output), with secrets redacted.
import pino, { type Logger } from 'pino';

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
  pretty?: boolean;
  /** Where to write; defaults to fd 2. Tests pass a stream to capture output. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
  };
  if (opts.destination) return pino(options, opts.destination);
  if (opts.pretty) {
    const transport = pino.transport({
      target: 'pino-pretty',
      options: { destination: 2, colorize: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' },
    });
    return pino(options, transport);
  }
  return pino(options, pino.destination({ fd: 2, sync: true }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
