// gRPC binding of the TxnHost service (proto/txn_host.proto): requests become calls on the
// store's TxnHost, and every failure becomes a typed TxnHostError in the response, so a
// `nyx txn` process can tell a conflict (exit 1 naming the key) from an expired or
// unknown transaction.
import type * as grpc from '@grpc/grpc-js';
import {
  CommitUndeterminedError,
  KeyExistsError,
  TxnAbortedError,
  TxnClosedError,
  WriteConflictError,
  DeadlockError,
} from '../client/txn/txn_errors.js';
import { InvalidArgumentError } from '../client/errors.js';
import type { TxnHostError } from '../proto-gen/nyx/txnhost/TxnHostError.js';
import type { TxnHostHandlers } from '../proto/load.js';
import { TxnHost, TxnHostRefusal } from '../store/txn_host/txn_host.js';

export function txnHostError(e: unknown): TxnHostError {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof TxnHostRefusal) return { code: e.code, message };
  if (e instanceof WriteConflictError) return { code: 'CONFLICT', message, key: e.key };
  if (e instanceof DeadlockError) return { code: 'CONFLICT', message, key: e.key };
  if (e instanceof KeyExistsError) return { code: 'KEY_EXISTS', message, key: e.key };
  if (e instanceof TxnAbortedError) return { code: 'ABORTED', message };
  if (e instanceof CommitUndeterminedError) return { code: 'UNDETERMINED', message };
  if (e instanceof TxnClosedError) return { code: 'UNKNOWN_TXN', message };
  if (e instanceof InvalidArgumentError) return { code: 'INVALID', message };
  return { code: 'INTERNAL', message };
}

/** Unary handler that answers f's result, or {error} when it throws. */
function unary<Req, Res>(
  f: (req: Req) => Promise<Res>,
): (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void {
  return (call, cb) => {
    f(call.request).then(
      (res) => cb(null, res),
      (e: unknown) => cb(null, { error: txnHostError(e) } as Res),
    );
  };
}

export function txnHostHandlers(host: TxnHost): TxnHostHandlers {
  return {
    Begin: unary(async (r) => {
      const { id, startTs, idleTtlMs } = await host.begin(
        { pessimistic: r.pessimistic, asyncCommit: r.asyncCommit, onePC: r.onePc },
        Number(r.idleTtlMs),
      );
      return { txnId: id, startTs: startTs.toString(), idleTtlMs };
    }),
    Get: unary(async (r) => {
      const v = await host.run(r.txnId, (t) => t.get(r.key));
      return v === undefined ? { notFound: true } : { value: v };
    }),
    Put: unary(async (r) => {
      await host.run(r.txnId, (t) => t.put(r.key, r.value));
      return {};
    }),
    Delete: unary(async (r) => {
      await host.run(r.txnId, (t) => t.delete(r.key));
      return {};
    }),
    Scan: unary(async (r) => {
      const pairs = await host.run(r.txnId, (t) =>
        t.scan(r.startKey, r.endKey, {
          limit: r.limit > 0 ? r.limit : undefined,
          keyOnly: r.keyOnly,
        }),
      );
      return { pairs };
    }),
    Commit: unary(async (r) => {
      const ts = await host.run(r.txnId, (t) => t.commit(), true);
      return { commitTs: ts.toString() };
    }),
    Rollback: unary(async (r) => {
      await host.run(r.txnId, (t) => t.rollback(), true);
      return {};
    }),
  };
}
