// grpc-js writes its own diagnostics to stderr ("E No address added ..."). A server
// process sends them to its structured log instead, so stderr stays for the one-line
// error a failing command prints.
import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';

export function routeGrpcLogs(log: Logger): void {
  const to =
    (level: 'warn' | 'info' | 'debug') =>
    (message?: unknown, ...rest: unknown[]) =>
      log[level]({ source: 'grpc-js' }, format(message, ...rest));
  grpc.setLogger({ error: to('warn'), info: to('info'), debug: to('debug') });
}
