// Structured JSON logs (pino) for every process. Child loggers carry the fields that say
// where an event happened: store, region, epoch, start_ts.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(component: string, fields: Record<string, unknown> = {}): Logger {
  const level = process.env.NYX_LOG_LEVEL ?? 'info';
  return pino({
    level,
    base: { component, pid: process.pid, ...fields },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
