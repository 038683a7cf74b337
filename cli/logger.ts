// The logger of a command: compact lines above the progress block in a terminal, JSON on stderr otherwise.
import path from 'node:path';
import type { Config } from '../lib/config.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import type { TerminalStream } from '../lib/terminal.ts';

/**
 * Where every record goes besides stderr: the file asked for, else in a terminal (which shows only warnings, errors
 * and finished objects) `<SFSYNC_HOME>/logs/sfsync.log`, so the info records stay at hand; none otherwise.
 */
export function logFileOf(config: Config, stderr: TerminalStream = process.stderr): string | undefined {
  return config.logFile ?? (stderr.isTTY ? path.join(config.home, 'logs', 'sfsync.log') : undefined);
}

export function commandLogger(config: Config, stderr: TerminalStream = process.stderr): Logger {
  return createLogger({
    level: config.logLevel,
    pretty: Boolean(stderr.isTTY),
    verbose: config.verbose,
    file: logFileOf(config, stderr),
  });
}
