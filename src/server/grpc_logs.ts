// grpc-js writes its own diagnostics to stderr ("E No address added ..."). A server
// process sends them to its structured log instead, so stderr stays for the one-line
// error a failing command prints.
import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';

// Diagnostics that only restate a failure the caller reports itself, in words, as its one
// error line ("cannot listen on 127.0.0.1:2379 (address already in use)"): debug level.
const RESTATED = [/^No address added out of total \d+ resolved/];

export function routeGrpcLogs(log: Logger): void {
  const to =
    (level: 'warn' | 'info' | 'debug') =>
    (message?: unknown, ...rest: unknown[]) => {
      const text = format(message, ...rest);
      const at = RESTATED.some((re) => re.test(text)) ? 'debug' : level;
      log[at]({ source: 'grpc-js' }, text);
    };
  grpc.setLogger({ error: to('warn'), info: to('info'), debug: to('debug') });
}
