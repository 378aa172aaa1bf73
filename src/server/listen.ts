// Binding a server's ports with errors a person can act on: "cannot listen on
// 127.0.0.1:20160 (address already in use)" names the address and the reason, instead of
// grpc-js's long sentence or Node's "listen EADDRINUSE: ...".
import * as grpc from '@grpc/grpc-js';
import { formatHostPort } from '../common/address.js';
import type { StatusServer } from './status_server.js';

const REASONS: [RegExp, string][] = [
  [/EADDRINUSE/, 'address already in use'],
  [/EACCES/, 'permission denied'],
  [/EADDRNOTAVAIL/, 'no such local address'],
  [/ENOTFOUND|EAI_AGAIN/, 'host not found'],
];

export function listenError(addr: string, err: Error): Error {
  const why = REASONS.find(
    ([re]) => re.test(err.message) || re.test(String((err as NodeJS.ErrnoException).code)),
  )?.[1];
  return new Error(`cannot listen on ${addr} (${why ?? err.message})`, { cause: err });
}

/** Binds `server` (with TLS when credentials say so); resolves with the bound port. */
export function bindGrpc(
  server: grpc.Server,
  addr: string,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(addr, credentials, (err, port) =>
      err ? reject(listenError(addr, err)) : resolve(port),
    ),
  );
}

/** Starts the HTTP status server; resolves with the bound port. */
export async function listenStatus(
  status: StatusServer,
  host: string,
  port: number,
): Promise<number> {
  try {
    return await status.listen(host, port);
  } catch (e) {
    throw listenError(formatHostPort({ host, port }), e as Error);
  }
}
