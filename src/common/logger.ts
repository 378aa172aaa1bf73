// Structured logs (pino) for every process. Child loggers carry the fields that say where
// an event happened: store, region, epoch, start_ts.
//
// Where: stderr by default, or a file (--log-file), never stdout: a command's stdout is
// its output (the ready line, tables, JSON), and a log line in it breaks whoever reads
// it. Format: JSON lines by default (for tools), or text for people (--log-format text,
// formatted here: pino-pretty is not a dependency). Levels are names ("info"), not pino's
// numbers. Writes are synchronous so that a process that exits (a fatal error, a
// failpoint) loses no line.
import fs from 'node:fs';
import path from 'node:path';
import { destination, pino, type Logger } from 'pino';
import { formatLogRecord } from './log_text.js';

export type { Logger };

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  /** json (default) or text. */
  format?: LogFormat;
  /** Append to this file instead of writing to stderr. */
  file?: string;
  /** Default: NYX_LOG_LEVEL, else info. */
  level?: string;
}

export function createLogger(
  component: string,
  fields: Record<string, unknown> = {},
  opts: LogOptions = {},
): Logger {
  const level = opts.level ?? process.env.NYX_LOG_LEVEL ?? 'info';
  if (opts.file) fs.mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
  const dest = opts.file
    ? destination({ dest: opts.file, append: true, sync: true })
    : destination({ fd: 2, sync: true });
  const stream =
    (opts.format ?? 'json') === 'text'
      ? {
          write: (line: string) =>
            dest.write(formatLogRecord(JSON.parse(line) as Record<string, unknown>)),
        }
      : dest;
  return pino(
    {
      level,
      base: { component, pid: process.pid, ...fields },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
